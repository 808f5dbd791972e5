package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	gossh "golang.org/x/crypto/ssh"

	"latchkey/storage"
	"latchkey/storage/postgres/pgtest"
)

// The real binary copies a demo instance from bbolt into PostgreSQL: not
// while the instance runs; once it is stopped, with a table of checks;
// never into a database that is not empty; and latchkey on the copy opens
// the demo's link. (TestMain, in multinode_test.go, stops the cluster.)
func TestMigrateEndToEnd(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "latchkey")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	signer, _ := gossh.NewSignerFromKey(priv)
	adminKeys := filepath.Join(dir, "admin.pub")
	if err := os.WriteFile(adminKeys, gossh.MarshalAuthorizedKey(signer.PublicKey()), 0o600); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	url := pgtest.NewDatabaseURL(t)
	migrate := func() (int, string, string) {
		t.Helper()
		cmd := exec.Command(bin, "migrate", "--data", data, "--to", url)
		var out, errs bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errs
		err := cmd.Run()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatal(err)
		}
		return cmd.ProcessState.ExitCode(), out.String(), errs.String()
	}

	p := startBinary(t, bin, data, adminKeys)
	token := regexp.MustCompile(`/m/([A-Za-z0-9_-]{43})`).FindStringSubmatch(p.waitLog(t, "website-redesign   http"))[1]
	if code, out, errs := migrate(); code != 1 || !strings.Contains(errs, "in use") || out != "" {
		t.Fatalf("migrate of a running instance: exit %d\n%s%s", code, out, errs)
	}
	p.stop(t)

	code, out, errs := migrate()
	if code != 0 {
		t.Fatalf("migrate: exit %d\n%s%s", code, out, errs)
	}
	counts := map[string]int{}
	for _, m := range regexp.MustCompile(`(?m)^  ([a-z_]+) +([0-9]+) +[0-9a-f]{8} +ok$`).FindAllStringSubmatch(out, -1) {
		counts[m[1]], _ = strconv.Atoi(m[2])
	}
	for _, kind := range append(storage.Kinds(), "key_check") {
		if _, ok := counts[kind]; !ok {
			t.Errorf("no line of %s with its records, checksum and ok", kind)
		}
	}
	for _, kind := range []string{"users", "orgs", "portals", "links", "audit_events", "outbox", "logos", "key_check"} {
		if counts[kind] == 0 {
			t.Errorf("no %s copied", kind)
		}
	}
	if t.Failed() || strings.Contains(out, "MISMATCH") || !strings.Contains(out, "--store '") {
		t.Fatalf("migrate's report:\n%s", out)
	}

	if code, out, errs := migrate(); code != 1 || !strings.Contains(errs, "not empty") {
		t.Fatalf("migrate into the copy: exit %d\n%s%s", code, out, errs)
	}

	// latchkey on the copy, with the same data directory (its key file).
	p = startBinary(t, bin, data, adminKeys, "--store", url)
	resp, err := p.client.Post(p.base+"/m/"+token, "application/x-www-form-urlencoded", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the demo's link on the copy: %s", resp.Status)
	}
	p.stop(t)
}

func TestMigrateRefusesWhatItCannotCopy(t *testing.T) {
	data := t.TempDir()
	for _, c := range []struct {
		name string
		vars map[string]string
		args []string
		code int
		want string
	}{
		{"no target", nil, nil, 2, "migrate needs --to postgres://"},
		{"not PostgreSQL", nil, []string{"--to", "mysql://u:secret@db/x"}, 2, "--to mysql://u:xxxxx@db/x is no PostgreSQL address"},
		{"an argument too many", nil, []string{"--to", "postgres://db/x", "extra"}, 2, "no arguments besides --to"},
		{"a store named", map[string]string{"LATCHKEY_STORE": "postgres://db/y"}, []string{"--to", "postgres://db/x"}, 2, "leave --store"},
		{"no database", nil, []string{"--to", "postgres://db/x"}, 1, "no database at " + filepath.Join(data, dbFile)},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := runCmd(t, c.vars, "", append([]string{"migrate", "--data", data}, c.args...)...)
			if r.code != c.code || !strings.Contains(r.stderr, c.want) || strings.Contains(r.stderr, "secret") {
				t.Fatalf("exit %d, want %d with %q:\n%s", r.code, c.code, c.want, r.stderr)
			}
		})
	}
}
