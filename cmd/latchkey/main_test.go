package main

import (
	"bytes"
	"context"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"
	"time"

	"latchkey/storage/storetest"
)

type result struct {
	code           int
	stdout, stderr string
}

func runCmd(t *testing.T, vars map[string]string, stdin string, args ...string) result {
	t.Helper()
	return runCtx(context.Background(), vars, stdin, args...)
}

func runCtx(ctx context.Context, vars map[string]string, stdin string, args ...string) result {
	var out, errb storetest.SyncBuffer
	code := run(ctx, args, env{
		stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb,
		lookup: func(k string) (string, bool) { v, ok := vars[k]; return v, ok },
	})
	return result{code, out.String(), errb.String()}
}

// serveUntilHealthy starts latchkey with args on free ports, waits for
// /healthz, and returns its base URL and a stop function that waits for a
// clean exit.
func serveUntilHealthy(t *testing.T, args ...string) (string, func() result) {
	t.Helper()
	port := freePort(t)
	base := "http://127.0.0.1:" + port
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan result, 1)
	go func() {
		done <- runCtx(ctx, nil, "", append([]string{"serve", "--http", "127.0.0.1:" + port, "--public-url", base, "--ssh", "off", "--smtp-catcher", "127.0.0.1:" + freePort(t)}, args...)...)
	}()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		select {
		case r := <-done:
			t.Fatalf("latchkey exited early: %+v", r)
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatal("latchkey did not become healthy")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return base, func() result {
		cancel()
		select {
		case r := <-done:
			return r
		case <-time.After(20 * time.Second):
			pprof.Lookup("goroutine").WriteTo(os.Stderr, 1)
			t.Fatal("latchkey did not stop")
			return result{}
		}
	}
}

// freePort picks a free port below Linux's ephemeral range (32768 and up),
// where no outgoing connection and no listener on port 0 is ever given one:
// a port the tests reuse across restarts of latchkey (the crash test kills
// and restarts it 20 times) is then not taken in between by the local end of
// some other test's connection, as a port picked with ":0" was once.
func freePort(t *testing.T) string {
	t.Helper()
	for range 100 {
		port := strconv.Itoa(20000 + mrand.IntN(12000))
		if ln, err := net.Listen("tcp", "127.0.0.1:"+port); err == nil {
			ln.Close()
			return port
		}
	}
	t.Fatal("no free port between 20000 and 32000")
	return ""
}

const ownerKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOBIXr28IKmVOC4aN1aoLtRWZCLgwZY8FQl/Q2j1v0/p olivia@laptop"

func TestHelpAndVersion(t *testing.T) {
	r := runCmd(t, nil, "", "--help")
	if r.code != 0 || !strings.Contains(r.stderr, "latchkey keys add EMAIL KEYFILE") || !strings.Contains(r.stderr, "-public-url") || !strings.Contains(r.stderr, "LATCHKEY_<NAME>") {
		t.Fatalf("help: %+v", r)
	}
	if r := runCmd(t, nil, "", "version"); r.code != 0 || !strings.HasPrefix(r.stdout, "latchkey ") {
		t.Fatalf("version: %+v", r)
	}
	if r := runCmd(t, nil, "", "frobnicate"); r.code != 2 || !strings.Contains(r.stderr, `unknown command "frobnicate"`) {
		t.Fatalf("unknown command: %+v", r)
	}
	if r := runCmd(t, nil, "", "--no-such-flag"); r.code != 2 || !strings.Contains(r.stderr, "no-such-flag") {
		t.Fatalf("unknown flag: %+v", r)
	}
}

func TestConfigValidation(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		vars map[string]string
		args []string
		want []string
	}{
		{"bad addresses", nil, []string{"--data", dir, "--http", "nohost", "--ssh", "1.2.3.4:99999"}, []string{`--http: "nohost" is not host:port`, "--ssh:"}},
		{"bad public url", nil, []string{"--data", dir, "--public-url", "ftp://x.test"}, []string{"--public-url", "http:// or https://"}},
		{"public url with path", nil, []string{"--data", dir, "--public-url", "https://x.test/portal?a=b"}, []string{"scheme and host only"}},
		{"bad relay", nil, []string{"--data", dir, "--smtp-relay", "http://u:secretpw@h:25"}, []string{"--smtp-relay", "smtp://"}},
		{"relay without port", nil, []string{"--data", dir, "--smtp-relay", "smtp://u:secretpw@h"}, []string{"names no port"}},
		{"no mail route", nil, []string{"--data", dir, "--smtp-catcher", "off"}, []string{"only mail route"}},
		{"bad from", nil, []string{"--data", dir, "--mail-from", "nobody"}, []string{"--mail-from"}},
		{"bad admin keys", nil, []string{"--data", dir, "--admin-keys", "ssh-ed25519 garbage"}, []string{"--admin-keys", "key 1"}},
		{"missing admin key file", nil, []string{"--data", dir, "--admin-keys", "/no/such/file"}, []string{"--admin-keys", "readable file"}},
		{"sessions", nil, []string{"--data", dir, "--session-idle", "48h", "--session-lifetime", "24h"}, []string{"--session-lifetime"}},
		{"bad env value", map[string]string{"LATCHKEY_DEMO": "maybe"}, []string{"--data", dir}, []string{"LATCHKEY_DEMO"}},
		{"env is validated", map[string]string{"LATCHKEY_HTTP": "nope"}, []string{"--data", dir}, []string{`--http: "nope"`}},
		{"store not PostgreSQL", nil, []string{"--data", dir, "--store", "mysql://u:secretpw@h/db"}, []string{"--store", "is not a PostgreSQL address"}},
		{"store from env", map[string]string{"LATCHKEY_STORE": "db.internal"}, []string{"--data", dir}, []string{"--store", "db.internal"}},
		{"backups on PostgreSQL", nil, []string{"--data", dir, "--store", "postgres://h/db", "--backup-dir", dir}, []string{"--backup-dir", "pg_dump"}},
		{"short lease", nil, []string{"--data", dir, "--outbox-lease", "10ms"}, []string{"--outbox-lease", "at least 1s"}},
		{"--to without migrate", nil, []string{"--data", dir, "--to", "postgres://h/db", "serve"}, []string{"--to is for migrate"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCmd(t, tc.vars, "", tc.args...)
			if r.code != 2 {
				t.Fatalf("exit %d, want 2; stderr %s", r.code, r.stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stderr, w) {
					t.Fatalf("stderr %q lacks %q", r.stderr, w)
				}
			}
			if strings.Contains(r.stderr, "secretpw") {
				t.Fatal("a relay password was printed")
			}
		})
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatal("an invalid configuration wrote to the data directory")
	}
}

func TestEnvAndFlagPrecedence(t *testing.T) {
	var c config
	fs := newFlagSet("t", &c, &bytes.Buffer{})
	pos, err := parseInterleaved(fs, []string{"keys", "--http", "127.0.0.1:9000", "add", "a@x.test"})
	if err != nil || strings.Join(pos, " ") != "keys add a@x.test" {
		t.Fatalf("positional %v, %v", pos, err)
	}
	given := map[string]bool{"http": true}
	vars := map[string]string{"LATCHKEY_HTTP": "127.0.0.1:1", "LATCHKEY_PUBLIC_URL": "https://portal.example.com/", "LATCHKEY_UNIFORM_RESPONSES": "true"}
	if err := applyEnv(fs, given, func(k string) (string, bool) { v, ok := vars[k]; return v, ok }); err != nil {
		t.Fatal(err)
	}
	if err := c.validate(); err != nil {
		t.Fatal(err)
	}
	if c.HTTP != "127.0.0.1:9000" || c.PublicURL != "https://portal.example.com" || !c.UniformResponses {
		t.Fatalf("config %+v", c)
	}
	c2 := config{}
	fs2 := newFlagSet("t", &c2, &bytes.Buffer{})
	fs2.Parse([]string{"--http", "0.0.0.0:8443"})
	c2.validate()
	if c2.PublicURL != "http://0.0.0.0:8443" {
		t.Fatalf("default public URL %q", c2.PublicURL)
	}
}

func TestDemoKeysAndBackup(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	base, stop := serveUntilHealthy(t, "--data", data, "--demo")
	resp, err := http.Get(base + "/p/website-redesign")
	if err != nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("closed demo portal: %v %v", resp, err)
	}
	resp.Body.Close()
	r := stop()
	if r.code != 0 {
		t.Fatalf("first start: %+v", r)
	}
	for _, want := range []string{"Northwind Studio", "owner@northwind.test", base + "/m/", "client@acme.test", "Portal listener on " + base} {
		if !strings.Contains(r.stderr, want) {
			t.Fatalf("first start should print %q on stderr:\n%s", want, r.stderr)
		}
	}
	st, err := os.Stat(filepath.Join(data, keyFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v", err)
	}
	// A second start does not load the demo again.
	_, stop = serveUntilHealthy(t, "--data", data, "--demo")
	if r := stop(); r.code != 0 || strings.Contains(r.stderr, "/m/") {
		t.Fatalf("second start: %+v", r)
	}

	keyPath := filepath.Join(dir, "olivia.pub")
	os.WriteFile(keyPath, []byte(ownerKey+"\n"), 0o644)
	if r := runCmd(t, nil, "", "keys", "add", "owner@northwind.test", keyPath, "--data", data); r.code != 0 || !strings.Contains(r.stdout, "SHA256:") {
		t.Fatalf("keys add: %+v", r)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"keys", "add", "mia@northwind.test", "-"}, 1, "another account"},
		{[]string{"keys", "add", "sam@northwind.test", keyPath}, 1, "not an owner or manager"},
		{[]string{"keys", "add", "nobody@northwind.test", keyPath}, 1, "no account"},
		{[]string{"keys", "add", "not-an-email", keyPath}, 1, "email"},
		{[]string{"keys", "add", "owner@northwind.test", filepath.Join(dir, "missing.pub")}, 1, "read key"},
		{[]string{"keys", "add", "owner@northwind.test"}, 2, "EMAIL and KEYFILE"},
		{[]string{"keys", "list"}, 2, "usage"},
		{[]string{"backup"}, 2, "FILE"},
	} {
		r := runCmd(t, nil, ownerKey, append(tc.args, "--data", data)...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, r.code, r.stderr, tc.code, tc.want)
		}
	}

	copyPath := filepath.Join(dir, "copy.db")
	if r := runCmd(t, nil, "", "backup", copyPath, "--data", data); r.code != 0 || !strings.Contains(r.stdout, "Wrote") {
		t.Fatalf("backup: %+v", r)
	}
	// The copy is a working data directory together with the key file.
	restored := filepath.Join(dir, "restored")
	os.MkdirAll(restored, 0o700)
	b, _ := os.ReadFile(copyPath)
	os.WriteFile(filepath.Join(restored, dbFile), b, 0o600)
	k, _ := os.ReadFile(filepath.Join(data, keyFile))
	os.WriteFile(filepath.Join(restored, keyFile), k, 0o600)
	base, stop = serveUntilHealthy(t, "--data", restored)
	resp, err = http.Get(base + "/p/website-redesign")
	if err != nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("restored instance: %v %v", resp, err)
	}
	resp.Body.Close()
	if r := stop(); r.code != 0 {
		t.Fatalf("restored instance: %+v", r)
	}
	// Without its key file the database refuses to start rather than mint new keys.
	os.Remove(filepath.Join(restored, keyFile))
	if r := runCmd(t, nil, "", "--data", restored); r.code != 1 || !strings.Contains(r.stderr, "key file") {
		t.Fatalf("missing key file: %+v", r)
	}
	if _, err := os.Stat(filepath.Join(restored, keyFile)); err == nil {
		t.Fatal("a new key file was created for an existing database")
	}
}

func TestAdminKeys(t *testing.T) {
	keys, err := parseAdminKeys(ownerKey + " , " + ownerKey)
	if err != nil || len(keys) != 2 || !strings.HasPrefix(keys[0].Fingerprint, "SHA256:") || keys[0].Comment != "olivia@laptop" {
		t.Fatalf("%+v %v", keys, err)
	}
	f := filepath.Join(t.TempDir(), "admins")
	os.WriteFile(f, []byte("# admins\n"+ownerKey+"\n\n"), 0o600)
	if keys, err := parseAdminKeys(f); err != nil || len(keys) != 1 {
		t.Fatalf("file: %+v %v", keys, err)
	}
}

// The console's hint for adding an SSH key names this instance's SSH port
// and the public URL's host.
func TestSSHLogin(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	for _, tc := range []struct {
		url  string
		ln   net.Listener
		want string
	}{
		{"https://portal.example.com", ln, "ssh -p " + port + " portal.example.com"},
		{"http://127.0.0.1:8080", ln, "ssh -p " + port + " 127.0.0.1"},
		{"https://portal.example.com", nil, ""},
	} {
		if got := sshLogin(tc.url, tc.ln); got != tc.want {
			t.Errorf("sshLogin(%q) = %q, want %q", tc.url, got, tc.want)
		}
	}
}

// Started with no terminal for input (a service manager gives /dev/null),
// latchkey serves instead of opening a console it cannot show.
func TestNoConsoleWithoutATerminal(t *testing.T) {
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()
	if isTerminal(devNull) || isTerminal(strings.NewReader("")) {
		t.Fatal("/dev/null or a reader taken for a terminal")
	}
	port := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan result, 1)
	go func() {
		var out, errb storetest.SyncBuffer
		code := run(ctx, []string{"--data", t.TempDir(), "--http", "127.0.0.1:" + port, "--ssh", "off", "--smtp-catcher", "off",
			"--smtp-relay", "smtp://127.0.0.1:" + freePort(t)}, env{stdin: devNull, stdout: &out, stderr: &errb, lookup: func(string) (string, bool) { return "", false }})
		done <- result{code, out.String(), errb.String()}
	}()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		select {
		case r := <-done:
			t.Fatalf("latchkey exited without a terminal: %+v", r)
		default:
		}
		if resp, err := http.Get("http://127.0.0.1:" + port + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("latchkey did not become healthy")
		}
	}
	cancel()
	if r := <-done; r.code != 0 {
		t.Fatalf("stopping: %+v", r)
	}
}

// The console's first line says where mail goes: the catcher's page only
// when mail goes there.
func TestConsoleNoticeNamesWhereMailGoes(t *testing.T) {
	const url = "http://127.0.0.1:8080/_mail"
	for _, c := range []struct {
		relayed, demo, viewer bool
		want                  string
	}{
		{false, true, true, "Demo loaded. Open the clients' emails (and their magic links) at " + url},
		{false, false, true, "Mail goes to the built-in catcher: " + url},
		{true, true, true, "Demo loaded. Its emails go to the relay smtp://relay.test:587."},
		{true, false, true, ""},
		{false, false, false, ""},
	} {
		if got := consoleNotice(c.relayed, "smtp://relay.test:587", c.demo, c.viewer, url); got != c.want {
			t.Errorf("relayed %v demo %v viewer %v: %q, want %q", c.relayed, c.demo, c.viewer, got, c.want)
		}
	}
}

// latchkey backup on PostgreSQL makes no file and says how PostgreSQL backs
// up, without the password.
func TestBackupOnPostgreSQLNamesPgDump(t *testing.T) {
	dir := t.TempDir()
	dest := filepath.Join(dir, "copy.db")
	r := runCmd(t, nil, "", "backup", dest, "--data", dir, "--store", "postgres://latchkey:secretpw@db.internal:5432/latchkey")
	if r.code != 1 || !strings.Contains(r.stderr, "pg_dump --format=custom --file latchkey.dump 'postgres://latchkey:xxxxx@db.internal:5432/latchkey'") ||
		strings.Contains(r.stderr, "secretpw") {
		t.Fatalf("exit %d:\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(dest); !os.IsNotExist(err) {
		t.Fatalf("a backup file was written: %v", err)
	}
}

// Each request is logged in slog's text format by the listener's own
// formatter, the link's token redacted; at --log-level warn, not at all.
func TestRequestLines(t *testing.T) {
	for _, level := range []string{"info", "warn"} {
		dir := t.TempDir()
		base, stop := serveUntilHealthy(t, "--data", dir, "--log-level", level)
		token := strings.Repeat("A", 43)
		resp, err := http.Get(base + "/m/" + token)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		r := stop()
		line := ""
		for _, l := range strings.Split(r.stderr, "\n") {
			if strings.Contains(l, "msg=request") && strings.Contains(l, "/m/") {
				line = l
			}
		}
		switch {
		case strings.Contains(r.stderr, token):
			t.Fatalf("the token is in the log:\n%s", r.stderr)
		case level == "warn" && line != "":
			t.Fatalf("a request line at warn: %s", line)
		case level == "info" && !regexp.MustCompile(`^time=\S+ level=INFO msg=request component=web method=GET path=/m/\[token\] route="GET /m/\{token\}" status=404 duration=\S+ client=127\.0\.0\.1 request=[0-9a-f]{12}$`).MatchString(line):
			t.Fatalf("request line %q in:\n%s", line, r.stderr)
		}
	}
}
