package sshd_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/prometheus/client_golang/prometheus"
	gossh "golang.org/x/crypto/ssh"

	"latchkey/core"
	"latchkey/storage"
	"latchkey/storage/storetest"
	"latchkey/tui/sshd"
)

// instance is the demo data, a second organization, and the SSH server on 127.0.0.1.
type instance struct {
	t      testing.TB
	env    *storetest.Env
	addr   string
	stop   func()
	admin  gossh.Signer // --admin-keys
	mia    gossh.Signer // manager of Northwind
	other  gossh.Signer // manager of Other Firm only
	links  map[string]string
	otherP core.Portal
	srv    *sshd.Server
	reg    *prometheus.Registry
}

func newKey(t testing.TB) (gossh.Signer, string) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s, strings.TrimSpace(string(gossh.MarshalAuthorizedKey(s.PublicKey())))
}

func startInstance(t testing.TB, opts ...func(*sshd.Config)) *instance {
	t.Helper()
	// Link uses stay unfolded (FoldLater): every command shows the
	// counters as reads add the uses up.
	env := storetest.New(t, storetest.PublicURL("http://127.0.0.1:8080"), storetest.FoldLater)
	demo := storetest.Must(env.Svc.LoadDemo(env.Ctx))
	in := &instance{t: t, env: env, links: map[string]string{}}
	for _, l := range demo {
		in.links[l.Portal] = storetest.TokenOf(l.URL)
	}
	var miaLine, otherLine string
	in.admin, _ = newKey(t)
	in.mia, miaLine = newKey(t)
	in.other, otherLine = newKey(t)
	storetest.Must(env.Svc.AddSSHKey(env.Ctx, env.Admin, "mia@northwind.test", miaLine))
	other := storetest.Must(env.Svc.CreateOrg(env.Ctx, env.Admin, core.NewOrg{Name: "Other Firm", OwnerEmail: "boss@other.test"}))
	proj := storetest.Must(env.Svc.CreateProject(env.Ctx, env.Admin, other.ID, "Secret Project"))
	in.otherP = storetest.Must(env.Svc.SetPortal(env.Ctx, env.Admin, proj.ID, core.PortalSettings{Slug: "secret", Title: "Secret", Access: core.AccessClosed}))
	storetest.Must(env.Svc.AddSSHKey(env.Ctx, env.Admin, "boss@other.test", otherLine))

	cfg := sshd.Config{Service: env.Svc, Backup: env.Bolt(), HostKeyPath: filepath.Join(t.TempDir(), "host_key"),
		AdminKeys: map[string]bool{core.Fingerprint(in.admin.PublicKey()): true}, CatcherOn: true,
		Logger: slog.New(slog.DiscardHandler), Registry: prometheus.NewRegistry(), // the default limits,
		Clock: env.Clock} // on the test's clock: buckets refill only when a test moves it
	for _, o := range opts {
		o(&cfg)
	}
	srv, err := sshd.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	in.srv = srv
	in.reg, _ = cfg.Registry.(*prometheus.Registry)
	if st, err := os.Stat(cfg.HostKeyPath); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("host key: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	in.addr = ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	var once sync.Once
	in.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("serve: %v", err)
			}
		})
	}
	t.Cleanup(in.stop)
	return in
}

func (in *instance) dial(key gossh.Signer) (*gossh.Client, error) {
	return gossh.Dial("tcp", in.addr, &gossh.ClientConfig{User: "anyone", Auth: []gossh.AuthMethod{gossh.PublicKeys(key)},
		HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 5 * time.Second})
}

type result struct {
	code           int
	stdout, stderr string
}

// run runs one command without a terminal.
func (in *instance) run(key gossh.Signer, cmd string) result {
	in.t.Helper()
	return in.runWith(key, cmd, "")
}

// runWith runs one command with stdin as its standard input.
func (in *instance) runWith(key gossh.Signer, cmd, stdin string) result {
	in.t.Helper()
	c, err := in.dial(key)
	if err != nil {
		in.t.Fatalf("dial: %v", err)
	}
	defer c.Close()
	s, err := c.NewSession()
	if err != nil {
		in.t.Fatal(err)
	}
	defer s.Close()
	var out, errb bytes.Buffer
	s.Stdout, s.Stderr, s.Stdin = &out, &errb, strings.NewReader(stdin)
	err = s.Run(cmd)
	r := result{stdout: out.String(), stderr: errb.String()}
	var ee *gossh.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitStatus()
	case err != nil:
		in.t.Fatalf("run %q: %v", cmd, err)
	}
	return r
}

func TestUnknownAndClientKeysAreRefused(t *testing.T) {
	in := startInstance(t)
	stranger, _ := newKey(t)
	if _, err := in.dial(stranger); err == nil || !strings.Contains(err.Error(), "unable to authenticate") {
		t.Fatalf("unknown key: %v", err)
	}
	// Once its keys are refused, a client trying keyboard-interactive (as
	// OpenSSH does) is told how to get in; an accepted key sees no banner.
	var shown []string
	cfg := func(key gossh.Signer) *gossh.ClientConfig {
		return &gossh.ClientConfig{User: "anyone", HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 5 * time.Second,
			BannerCallback: func(m string) error { shown = append(shown, m); return nil },
			Auth: []gossh.AuthMethod{gossh.PublicKeys(key), gossh.KeyboardInteractive(func(string, string, []string, []bool) ([]string, error) {
				return nil, nil
			})}}
	}
	if _, err := gossh.Dial("tcp", in.addr, cfg(stranger)); err == nil || len(shown) != 1 || !strings.Contains(shown[0], "latchkey keys add") {
		t.Fatalf("unknown key with keyboard-interactive: %v, banners %q", err, shown)
	}
	shown = nil
	c, err := gossh.Dial("tcp", in.addr, cfg(in.mia))
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if len(shown) != 0 {
		t.Fatalf("an accepted key was shown %q", shown)
	}
	// A manager demoted to client keeps the key but loses the console.
	org := storetest.Must(in.env.Svc.Orgs(in.env.Ctx, in.env.Admin))[0]
	mia := in.env.User("mia@northwind.test")
	storetest.Must(0, in.env.Svc.ChangeRole(in.env.Ctx, in.env.Admin, org.ID, mia.ID, core.RoleClient, time.Time{}))
	if _, err := in.dial(in.mia); err == nil {
		t.Fatal("a client's key opened the console")
	}
}

func TestAManagerSeesOnlyTheirOrganization(t *testing.T) {
	in := startInstance(t)
	r := in.run(in.mia, "projects")
	if r.code != 0 || !strings.Contains(r.stdout, "Website Redesign\twebsite-redesign\tclosed") || strings.Contains(r.stdout, "Secret") {
		t.Fatalf("mia's projects: %+v", r)
	}
	for _, cmd := range []string{"members secret", "link show secret boss@other.test", "invite x@other.test --role client --portal secret", "projects --org other-firm", "requests --org other-firm"} {
		r := in.run(in.mia, cmd)
		if r.code == 0 || !strings.Contains(r.stderr, "no ") || strings.Contains(r.stdout, "Secret") {
			t.Fatalf("%s as Northwind's manager: %+v", cmd, r)
		}
	}
	r = in.run(in.other, "projects")
	if r.code != 0 || !strings.Contains(r.stdout, "Secret Project") || strings.Contains(r.stdout, "Website") {
		t.Fatalf("Other Firm's projects: %+v", r)
	}
	// The console of each shows their organization only.
	screen := in.console(in.mia, "Website Redesign")
	if strings.Contains(screen, "Secret") {
		t.Fatal("Northwind's manager sees Other Firm in the console")
	}
	screen = in.console(in.other, "Secret Project")
	if strings.Contains(screen, "Website Redesign") {
		t.Fatal("Other Firm's manager sees Northwind in the console")
	}
	// An instance admin manages several organizations and must name one.
	if r := in.run(in.admin, "projects"); r.code != 2 || !strings.Contains(r.stderr, "--org") {
		t.Fatalf("admin without --org: %+v", r)
	}
	if r := in.run(in.admin, "projects --org other-firm"); r.code != 0 || !strings.Contains(r.stdout, "Secret Project") {
		t.Fatalf("admin with --org: %+v", r)
	}
}

// openConsole opens a session with a terminal and waits until it shows want.
// The connection closes when the test ends.
func (in *instance) openConsole(key gossh.Signer, want string) (*gossh.Session, io.Writer, *storetest.SyncBuffer) {
	in.t.Helper()
	c, err := in.dial(key)
	if err != nil {
		in.t.Fatal(err)
	}
	in.t.Cleanup(func() { c.Close() })
	s, err := c.NewSession()
	if err != nil {
		in.t.Fatal(err)
	}
	if err := s.RequestPty("xterm-256color", 30, 100, gossh.TerminalModes{}); err != nil {
		in.t.Fatal(err)
	}
	stdin, _ := s.StdinPipe()
	out := &storetest.SyncBuffer{}
	s.Stdout = out
	if err := s.Shell(); err != nil {
		in.t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(out.String(), want); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			in.t.Fatalf("the console never showed %q:\n%q", want, out.String())
		}
	}
	return s, stdin, out
}

// console opens a session with a terminal, waits for want, and quits.
func (in *instance) console(key gossh.Signer, want string) string {
	in.t.Helper()
	s, stdin, out := in.openConsole(key, want)
	io.WriteString(stdin, "q")
	done := make(chan error, 1)
	go func() { done <- s.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		in.t.Fatal("the console did not quit")
	}
	return out.String()
}

func TestConsoleOverSSHRendersProjects(t *testing.T) {
	in := startInstance(t)
	screen := ansi.Strip(in.console(in.mia, "/p/website-redesign"))
	for _, want := range []string{"Northwind Studio", "mia@northwind.test · ssh", "Projects", "Invite", "Requests"} {
		if !strings.Contains(screen, want) {
			t.Fatalf("the console lacks %q", want)
		}
	}
}

func TestCommands(t *testing.T) {
	in := startInstance(t)
	for _, tc := range []struct {
		cmd    string
		code   int
		stdout string // substring of stdout (code 0) or of stderr
	}{
		{"help", 0, "link generate|deactivate|show SLUG EMAIL"},
		{"projects", 0, "Onboarding Kit\tonboarding\temail\t0\t0\t0"},
		{"projects extra", 2, "takes no arguments"},
		{"members website-redesign", 0, "client@acme.test\tCasey Client\tclient\tyes\tactive"},
		{"members", 2, "usage: members SLUG"},
		{"members no-such-portal", 1, `no portal "no-such-portal"`},
		{"invite new@acme.test --role client --portal website-redesign", 0, "invited\tnew@acme.test\tclient\twebsite-redesign"},
		{"invite joiner@northwind.test --role member", 0, "invited\tjoiner@northwind.test\tmember\t-"},
		{"invite not-an-email --role client", 1, "is not an email address"},
		{"invite a@acme.test --role king", 2, `"king" is not a role`},
		{"invite a@acme.test", 2, "needs --role"},
		{"invite a@acme.test --role client --portal nope", 1, `no portal "nope"`},
		{"invite g@acme.test --role guest --until someday", 2, "not a date"},
		{"invite m@acme.test --role manager", 1, "only the owner grants"},
		{"invite a@acme.test --role client --bogus", 2, "unknown flag --bogus"},
		{"invite a@acme.test --role", 2, "--role needs a value"},
		{"link show website-redesign client@acme.test", 0, "http://127.0.0.1:8080/m/" + in.links["website-redesign"]},
		{"link show website-redesign bad-email", 1, "not an email address"},
		{"link show nope client@acme.test", 1, `no portal "nope"`},
		{"link frob website-redesign client@acme.test", 2, "the verbs are"},
		{"link show website-redesign", 2, "usage: link"},
		{"link show website-redesign cfo@acme.test", 1, "no active link"},
		{"requests", 0, "1\tnewcomer@acme.test\twebsite-redesign\t1\t"},
		{"requests dismiss x", 2, "not a request id"},
		{"requests grant 99", 1, `no access request "99"`},
		{"requests grant 1 --role boss", 2, "not a role"},
		{"requests grant 1", 0, "granted\t1\tnewcomer@acme.test"},
		{"requests grant 1", 1, "was granted already"},
		{"backup", 1, "only an instance admin"},
		{"frobnicate", 2, `unknown command "frobnicate"`},
		{"", 2, "no command"},
	} {
		t.Run(tc.cmd, func(t *testing.T) {
			r := in.run(in.mia, tc.cmd)
			got := r.stdout
			if tc.code != 0 {
				got = r.stderr
				if strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 || !strings.HasPrefix(r.stderr, "latchkey: ") {
					t.Fatalf("the error is not one line: %q", r.stderr)
				}
			}
			if r.code != tc.code || !strings.Contains(got, tc.stdout) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit %d and %q", r.code, r.stdout, r.stderr, tc.code, tc.stdout)
			}
		})
	}
	// Changes through SSH are audited with the key's fingerprint.
	src := "ssh:" + core.Fingerprint(in.mia.PublicKey())
	found := false
	for _, ev := range in.env.Events() {
		if ev.Action == "member.invited" && ev.Target == "new@acme.test" {
			found = ev.Source == src && ev.Actor == "mia@northwind.test"
		}
	}
	if !found {
		t.Fatal("the invitation's audit event does not name the key")
	}
}

func TestLinkCommandsAndJSON(t *testing.T) {
	in := startInstance(t)
	old := in.links["website-redesign"]
	r := in.run(in.mia, "link generate website-redesign client@acme.test --json")
	var rows []struct{ Email, Portal, State, URL string }
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &rows) != nil || len(rows) != 1 || !strings.HasPrefix(rows[0].URL, "http://127.0.0.1:8080/m/") {
		t.Fatalf("generate --json: %+v", r)
	}
	if _, err := in.env.Svc.Redeem(in.env.Ctx, old, core.Visitor{Addr: "127.0.0.1"}); err == nil {
		t.Fatal("the old link still works")
	}
	if r := in.run(in.mia, "link show website-redesign client@acme.test"); strings.TrimSpace(r.stdout) != rows[0].URL {
		t.Fatalf("show after generate: %q", r.stdout)
	}
	if r := in.run(in.mia, "link deactivate website-redesign client@acme.test"); r.code != 0 || !strings.HasPrefix(r.stdout, "deactivated\tclient@acme.test") {
		t.Fatalf("deactivate: %+v", r)
	}
	var projects []map[string]any
	if r := in.run(in.mia, "projects --json"); json.Unmarshal([]byte(r.stdout), &projects) != nil || len(projects) != 4 || projects[0]["portal"] != "website-redesign" {
		t.Fatalf("projects --json: %+v", r)
	}
	var none []any
	if r := in.run(in.other, "requests --json"); r.code != 0 || json.Unmarshal([]byte(r.stdout), &none) != nil || len(none) != 0 {
		t.Fatalf("empty --json: %+v", r)
	}
}

func TestBackupStreamsTheDatabase(t *testing.T) {
	in := startInstance(t)
	r := in.run(in.admin, "backup")
	if r.code != 0 || len(r.stdout) < 4096 {
		t.Fatalf("backup: exit %d, %d bytes, %q", r.code, len(r.stdout), r.stderr)
	}
	path := filepath.Join(t.TempDir(), "copy.db")
	os.WriteFile(path, []byte(r.stdout), 0o600)
	copyDB, err := storage.Open(path, storage.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer copyDB.Close()
	if err := copyDB.Check(); err != nil {
		t.Fatal(err)
	}
	var live, copied bytes.Buffer
	dump := func(st *storage.Store, b *bytes.Buffer) {
		st.Walk(func(bucket string, k, v []byte) error { b.WriteString(bucket); b.Write(k); b.Write(v); return nil })
	}
	dump(in.env.Bolt(), &live)
	dump(copyDB, &copied)
	if !bytes.Equal(live.Bytes(), copied.Bytes()) {
		t.Fatal("the copy holds other data")
	}
}

// openSessions reads latchkey_ssh_sessions_open from the registry.
func (in *instance) openSessions() float64 {
	in.t.Helper()
	families, err := in.reg.Gather()
	if err != nil {
		in.t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == "latchkey_ssh_sessions_open" {
			return f.GetMetric()[0].GetGauge().GetValue()
		}
	}
	in.t.Fatal("no latchkey_ssh_sessions_open metric")
	return 0
}

// waitIdle waits until the server has finished every session.
func (in *instance) waitIdle() {
	in.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); in.srv.Sessions() > 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			in.t.Fatalf("%d sessions still open", in.srv.Sessions())
		}
	}
}

func TestOpenSessionsAreCounted(t *testing.T) {
	in := startInstance(t)
	if n := in.openSessions(); n != 0 {
		t.Fatalf("%v sessions open before any", n)
	}
	s, stdin, _ := in.openConsole(in.mia, "Projects")
	if n := in.openSessions(); n != 1 {
		t.Fatalf("%v sessions open with one console", n)
	}
	if r := in.run(in.mia, "projects"); r.code != 0 {
		t.Fatalf("projects: %+v", r)
	}
	io.WriteString(stdin, "q")
	s.Wait()
	in.waitIdle()
	if n := in.openSessions(); n != 0 {
		t.Fatalf("%v sessions open after the console quit", n)
	}
}

// When latchkey stops, an open console is told and its session ends.
func TestShutdownEndsConsoles(t *testing.T) {
	in := startInstance(t)
	s, _, out := in.openConsole(in.mia, "Projects")
	go in.stop()
	done := make(chan error, 1)
	go func() { done <- s.Wait() }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		t.Fatal("the session did not end")
	}
	if !strings.Contains(out.String(), "latchkey is stopping") {
		t.Fatalf("no notice; the session ended with %q", tail(out.String()))
	}
}

func tail(s string) string {
	if len(s) > 200 {
		return s[len(s)-200:]
	}
	return s
}

// A flag the command line got wrong is named as the user typed it.
func TestFlagErrorsShowTheFlagAsTyped(t *testing.T) {
	in := startInstance(t)
	for _, tc := range []struct{ cmd, want string }{
		{"invite a@acme.test --role client --bogus", "invite: unknown flag --bogus (see: help)\n"},
		{"invite a@acme.test --role client -bogus", "invite: unknown flag -bogus (see: help)\n"},
		{"invite a@acme.test --role client --bogus=1", "invite: unknown flag --bogus (see: help)\n"},
		{"invite a@acme.test --role", "invite: --role needs a value (see: help)\n"},
		{"projects -org", "projects: -org needs a value (see: help)\n"},
		{"projects --json=maybe", `projects: --json takes no value (got "maybe") (see: help)` + "\n"},
	} {
		t.Run(tc.cmd, func(t *testing.T) {
			if r := in.run(in.mia, tc.cmd); r.code != 2 || r.stderr != "latchkey: "+tc.want {
				t.Fatalf("exit %d, stderr %q; want exit 2 and %q", r.code, r.stderr, "latchkey: "+tc.want)
			}
		})
	}
	// --help after a command is no mistake: it shows the help.
	if r := in.run(in.mia, "invite --help"); r.code != 0 || !strings.Contains(r.stdout, "invite EMAIL --role ROLE") {
		t.Fatalf("invite --help: %+v", r)
	}
}

// A bad --role lists only the roles one can invite with, and --role owner
// says how the owner changes; nothing is invited or granted.
func TestRoleErrorsListOnlyTheRolesOneCanInviteWith(t *testing.T) {
	in := startInstance(t)
	for _, tc := range []struct {
		cmd  string
		code int
		want string
	}{
		{"invite a@acme.test --role king", 2, `latchkey: --role "king" is not a role; invite with manager, member, guest or client` + "\n"},
		{"requests grant 1 --role boss", 2, `latchkey: --role "boss" is not a role; invite with manager, member, guest or client` + "\n"},
		{"invite a@acme.test --role owner --portal website-redesign", 1, "latchkey: --role owner: the owner changes only by transferring ownership; invite with manager, member, guest or client\n"},
		{"requests grant 1 --role Owner", 1, "latchkey: --role owner: the owner changes only by transferring ownership; invite with manager, member, guest or client\n"},
	} {
		for _, key := range []gossh.Signer{in.mia, in.admin} { // a manager, and an admin who acts as an owner
			if r := in.run(key, tc.cmd); r.code != tc.code || r.stderr != tc.want {
				t.Errorf("%s: exit %d, stderr %q; want exit %d and %q", tc.cmd, r.code, r.stderr, tc.code, tc.want)
			}
		}
	}
	if in.env.HasEvent("member.invited", "a@acme.test") {
		t.Fatal("a@acme.test was invited")
	}
	if r := in.run(in.mia, "requests"); !strings.HasPrefix(r.stdout, "1\tnewcomer@acme.test") {
		t.Fatalf("the request was resolved: %+v", r)
	}
}

// Every command's output ends with a newline, and an error is one line on
// standard error, whatever was typed; refusals by a limit too.
func TestEveryCommandsOutputEndsWithANewline(t *testing.T) {
	in := startInstance(t, func(c *sshd.Config) {
		c.Limits = &sshd.Limits{PerKey: sshd.Limit{Every: time.Hour, Burst: 60}}
	})
	cmds := []string{"help", "invite --help", "projects", "projects --json", "members website-redesign", "members website-redesign --json",
		"requests", "requests --json", "link show website-redesign client@acme.test", "link show website-redesign client@acme.test --json",
		"invite n1@acme.test --role client --portal website-redesign", "invite n2@acme.test --role guest --until 2999-01-01 --json",
		"link generate website-redesign client@acme.test", "link deactivate website-redesign client@acme.test", "requests dismiss 1",
		"", "frobnicate", "projects x", "members", "members nope", "invite", "invite a@acme.test", "invite a@acme.test --role king",
		"invite x --role client", "invite a@acme.test --role client --portal nope --json", "link", "link show nope a@acme.test",
		"requests grant 99", "requests dismiss x", "backup", "projects --org nope", "invite a@acme.test --role client '--x\ny'",
		"members '\nwebsite-redesign\n'", "link show 'web\r\nsite' a@acme.test", "invite 'a@acme.test\nb@acme.test' --role client"}
	for _, cmd := range cmds {
		r := in.run(in.mia, cmd)
		if r.stdout != "" && !strings.HasSuffix(r.stdout, "\n") {
			t.Errorf("%q: stdout does not end with a newline: %q", cmd, r.stdout)
		}
		if r.code == 0 && r.stderr != "" || r.code != 0 && (strings.Count(r.stderr, "\n") != 1 || !strings.HasSuffix(r.stderr, "\n") || strings.Contains(r.stderr, "\r") || !strings.HasPrefix(r.stderr, "latchkey: ")) {
			t.Errorf("%q: exit %d, stderr %q: want nothing, or one line for an error", cmd, r.code, r.stderr)
		}
	}
	for range 60 - len(cmds) { // spend the rest of the key's budget
		in.run(in.mia, "projects")
	}
	if r := in.run(in.mia, "projects"); r.code != 1 || strings.Count(r.stderr, "\n") != 1 || !strings.HasSuffix(r.stderr, "\n") {
		t.Errorf("a refusal: exit %d, stderr %q", r.code, r.stderr)
	}
}
