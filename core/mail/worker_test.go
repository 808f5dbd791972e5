package mail_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/prometheus/client_golang/prometheus"

	"latchkey/core"
	"latchkey/core/mail"
	"latchkey/storage"
	"latchkey/storage/storetest"
)

const publicURL = "https://portal.example.com"

type mailEnv struct {
	*storetest.Env
	worker *mail.Worker
	portal core.Portal
	org    core.Org
	owner  core.Actor
}

var quiet = slog.New(slog.DiscardHandler)

func newMailEnv(t testing.TB, sender mail.Sender, opts ...storetest.Option) *mailEnv {
	t.Helper()
	e := &mailEnv{Env: storetest.New(t, append([]storetest.Option{storetest.PublicURL(publicURL)}, opts...)...)}
	e.org = storetest.Must(e.Svc.CreateOrg(e.Ctx, e.Admin, core.NewOrg{Name: "Northwind Studio", OwnerEmail: "owner@northwind.test", OwnerName: "Olivia Owner"}))
	e.owner = core.UserActor(e.User("owner@northwind.test"), "test")
	proj := storetest.Must(e.Svc.CreateProject(e.Ctx, e.owner, e.org.ID, "Website Redesign"))
	e.portal = storetest.Must(e.Svc.SetPortal(e.Ctx, e.owner, proj.ID, core.PortalSettings{Slug: "website-redesign", Title: "Website Redesign", Access: core.AccessClosed}))
	if sender != nil {
		e.worker = newWorker(t, e.Env, sender)
	}
	return e
}

func newWorker(t testing.TB, env *storetest.Env, sender mail.Sender) *mail.Worker {
	t.Helper()
	c, err := mail.NewComposer("latchkey <no-reply@portal.example.com>", publicURL)
	if err != nil {
		t.Fatal(err)
	}
	w, err := mail.NewWorker(mail.WorkerConfig{Service: env.Svc, Composer: c, Sender: sender, Logger: quiet,
		Now: env.Clock.Now, Jitter: func() float64 { return 0.5 }}) // jitter factor exactly 1
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func relayTo(r *relayServer) *mail.Relay {
	return mail.NewRelay(mail.RelayConfig{Host: "127.0.0.1", Port: r.port(), DialTimeout: 2 * time.Second, CommandTimeout: 5 * time.Second})
}

func (e *mailEnv) invite(email string) core.InviteResult {
	e.T.Helper()
	return storetest.Must(e.Svc.Invite(e.Ctx, e.owner, core.InviteInput{OrgID: e.org.ID, Email: email, Role: core.RoleClient, PortalID: e.portal.ID}))
}

func (e *mailEnv) round() int {
	e.T.Helper()
	n, err := e.worker.Round(e.Ctx)
	if err != nil {
		e.T.Fatal(err)
	}
	return n
}

func (e *mailEnv) message(to string) core.Message {
	e.T.Helper()
	return e.LastMail(to, core.MailInvitePortal)
}

func TestDeliveredOnceAfterTransientFailures(t *testing.T) {
	srv := newRelayServer(t)
	e := newMailEnv(t, relayTo(srv))
	srv.then(temporary, shutdown)
	res := e.invite("client@acme.test")
	start := e.Clock.Now()
	if e.round() != 1 {
		t.Fatal("the queued invitation was not due")
	}
	m := e.message("client@acme.test")
	if m.State != core.MessageRetrying || m.Attempts != 1 || !m.NextAttemptAt.Equal(start.Add(time.Minute)) || !strings.Contains(m.LastError, "451") {
		t.Fatalf("after a 451: %+v", m)
	}
	if e.round() != 0 {
		t.Fatal("a retrying message was sent before its time")
	}
	e.Clock.Advance(time.Minute)
	e.round()
	if m = e.message("client@acme.test"); m.State != core.MessageRetrying || m.Attempts != 2 || !m.NextAttemptAt.Equal(e.Clock.Now().Add(2*time.Minute)) {
		t.Fatalf("after a 421: %+v", m)
	}
	e.Clock.Advance(2 * time.Minute)
	e.round()
	if m = e.message("client@acme.test"); m.State != core.MessageSent || m.Attempts != 3 || len(m.SealedToken) != 0 {
		t.Fatalf("after acceptance: %+v", m)
	}
	got := srv.messages()
	if len(got) != 1 || got[0].to[0] != "client@acme.test" || got[0].from != "no-reply@portal.example.com" {
		t.Fatalf("server received %d messages", len(got))
	}
	if !contains(got[0].data, publicURL+"/m/"+res.Link.Token) {
		t.Fatal("the delivered invitation lacks the link")
	}
	for _, action := range []string{"mail.retrying", "mail.sent"} {
		if !e.HasEvent(action, "client@acme.test") {
			t.Fatalf("no %s audit event", action)
		}
	}
}

func TestRefusedMessageFailsWithTheReason(t *testing.T) {
	srv := newRelayServer(t)
	e := newMailEnv(t, relayTo(srv))
	srv.then(refuse)
	e.invite("nobody@acme.test")
	e.round()
	m := e.message("nobody@acme.test")
	if m.State != core.MessageFailed || !strings.Contains(m.LastError, "550") || !strings.Contains(m.LastError, "no such mailbox") || len(m.SealedToken) != 0 {
		t.Fatalf("refused: %+v", m)
	}
	e.Clock.Advance(48 * time.Hour)
	if e.round() != 0 {
		t.Fatal("a failed message was tried again")
	}
	if !e.HasEvent("mail.failed", "nobody@acme.test") {
		t.Fatal("no audit event")
	}
}

func TestDroppedConnectionMidDataIsRetried(t *testing.T) {
	srv := newRelayServer(t)
	e := newMailEnv(t, relayTo(srv))
	srv.then(dropData)
	e.invite("client@acme.test")
	e.round()
	if m := e.message("client@acme.test"); m.State != core.MessageRetrying {
		t.Fatalf("after a dropped connection: %+v", m)
	}
	e.Clock.Advance(time.Minute)
	e.round()
	got := srv.messages()
	if m := e.message("client@acme.test"); m.State != core.MessageSent || len(got) != 1 || !strings.HasSuffix(strings.TrimSpace(string(got[0].data)), "--") {
		t.Fatalf("after the retry: %+v, %d messages", m, len(got))
	}
}

func TestRelayDownLosesNothing(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close() // nothing listens there
	e := newMailEnv(t, mail.NewRelay(mail.RelayConfig{Host: "127.0.0.1", Port: port, DialTimeout: time.Second}))
	for _, to := range []string{"a@acme.test", "b@acme.test", "c@acme.test"} {
		e.invite(to)
	}
	queued := e.Clock.Now()
	var waits []time.Duration
	for i := 0; ; i++ {
		if e.round() != 3 {
			t.Fatalf("round %d: not all three were due", i)
		}
		m := e.message("a@acme.test")
		if m.State == core.MessageFailed {
			if !strings.Contains(m.LastError, "gave up after 24 hours") || e.Clock.Now().Sub(queued) < 24*time.Hour {
				t.Fatalf("given up: %+v after %v", m, e.Clock.Now().Sub(queued))
			}
			break
		}
		if m.State != core.MessageRetrying || m.Attempts != i+1 || len(m.SealedToken) == 0 {
			t.Fatalf("round %d: %+v", i, m)
		}
		waits = append(waits, m.NextAttemptAt.Sub(e.Clock.Now()))
		e.Clock.Advance(m.NextAttemptAt.Sub(e.Clock.Now()))
	}
	want := []time.Duration{1, 2, 4, 8, 16, 32, 60, 60, 60}
	for i, w := range want {
		if waits[i] != w*time.Minute {
			t.Fatalf("backoff %v, want %v minutes", waits, want)
		}
	}
	if n := len(e.Messages()); n != 3 {
		t.Fatalf("%d messages in the outbox", n)
	}
}

func TestWorkerWakesWhenMailIsQueued(t *testing.T) {
	srv := newRelayServer(t)
	e := newMailEnv(t, relayTo(srv))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.worker.Run(ctx) }()
	time.Sleep(50 * time.Millisecond) // let it go to sleep with nothing due
	e.invite("client@acme.test")
	deadline := time.Now().Add(10 * time.Second)
	for len(srv.messages()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the worker did not wake for a queued message")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if m := e.message("client@acme.test"); m.State != core.MessageSent {
		t.Fatalf("state %s", m.State)
	}
}

func TestRelayReusesConnections(t *testing.T) {
	for _, tc := range []struct {
		reuse    bool
		sessions int
	}{{true, 1}, {false, 10}} {
		srv := newRelayServer(t)
		r := mail.NewRelay(mail.RelayConfig{Host: "127.0.0.1", Port: srv.port(), NoReuse: !tc.reuse})
		for i := 0; i < 10; i++ {
			env := mail.Envelope{From: "a@x.test", To: []string{"b@x.test"}, Data: []byte("Subject: hi\r\n\r\nhello\r\n")}
			if err := r.Send(context.Background(), env); err != nil {
				t.Fatal(err)
			}
		}
		r.Close()
		if s, n := srv.stats(); s != tc.sessions || n != 10 {
			t.Fatalf("reuse %v: %d sessions for %d messages, want %d sessions", tc.reuse, s, n, tc.sessions)
		}
	}
}

func TestRelayTLSAndAuth(t *testing.T) {
	cert, pool := selfSigned(t)
	srv := newRelayServer(t, withTLS(cert), withAuth("mailer", "s3cret"))
	env := mail.Envelope{From: "a@x.test", To: []string{"b@x.test"}, Data: []byte("Subject: hi\r\n\r\nhello\r\n")}
	cfg := mail.RelayConfig{Host: "127.0.0.1", Port: srv.port(), StartTLS: true, Username: "mailer", Password: "s3cret", TLS: &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}}
	if err := mail.NewRelay(cfg).Send(context.Background(), env); err != nil {
		t.Fatalf("STARTTLS with AUTH: %v", err)
	}
	if !srv.tls || len(srv.messages()) != 1 {
		t.Fatal("the message did not arrive over TLS")
	}
	cfg.Password = "wrong"
	err := mail.NewRelay(cfg).Send(context.Background(), env)
	if err == nil || mail.Permanent(err) || strings.Contains(err.Error(), "wrong") {
		t.Fatalf("bad credentials: %v (must be retried, not fail messages, and not show the password)", err)
	}
	// A relay that offers no STARTTLS is refused rather than spoken to in clear.
	plain := newRelayServer(t)
	err = mail.NewRelay(mail.RelayConfig{Host: "127.0.0.1", Port: plain.port(), StartTLS: true}).Send(context.Background(), env)
	if err == nil || !strings.Contains(err.Error(), "STARTTLS") || len(plain.messages()) != 0 {
		t.Fatalf("relay without STARTTLS: %v", err)
	}
}

func TestParseRelayURL(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    string // RelayConfig.String(), or the error text
		wantErr bool
	}{
		{"smtp://user:pw@mail.example.com:587", "smtp://user@mail.example.com:587", false},
		{"smtps://mail.example.com:465", "smtps://mail.example.com:465", false},
		{"smtp://127.0.0.1:2525?starttls=off", "smtp://127.0.0.1:2525?starttls=off", false},
		{"smtp://u:pw@mail.example.com:587?starttls=off", "only for a relay on this machine", true},
		{"smtps://localhost:465?starttls=off", "makes no sense", true},
		{"http://u:supersecret@h:25", "scheme", true},
		{"smtp://h", "names no port", true},
		{"smtp://h:99999", "not a port", true},
		{"smtp://h:25/x", "no path", true},
		{"smtp://h:25?foo=bar", "unknown option", true},
		{"::nope", "not a URL", true},
	} {
		c, err := mail.ParseRelayURL(tc.in)
		switch {
		case tc.wantErr && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: err %v, want %q", tc.in, err, tc.want)
		case !tc.wantErr && (err != nil || c.String() != tc.want):
			t.Errorf("%s: %v %v, want %s", tc.in, c, err, tc.want)
		case err != nil && strings.Contains(err.Error(), "supersecret"):
			t.Errorf("%s: the error shows the password", tc.in)
		}
	}
}

// The worker process dies after the relay accepted a message and before the
// outbox recorded it: after a restart the message goes out once more, with
// the same Message-ID, and is then recorded. Never more than one duplicate.
func TestCrashAfterAcceptanceSendsOneDuplicate(t *testing.T) {
	if os.Getenv("LATCHKEY_CRASH_HELPER") != "" {
		crashHelper()
		return
	}
	srv := newRelayServer(t)
	dir := t.TempDir()
	seed := openDir(t, dir)
	org := storetest.Must(seed.Svc.CreateOrg(seed.Ctx, seed.Admin, core.NewOrg{Name: "Acme", OwnerEmail: "o@acme.test"}))
	storetest.Must(seed.Svc.Invite(seed.Ctx, seed.Admin, core.InviteInput{OrgID: org.ID, Email: "new@acme.test", Role: core.RoleMember}))
	seed.Store.Close()

	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashAfterAcceptanceSendsOneDuplicate$")
	cmd.Env = append(os.Environ(), "LATCHKEY_CRASH_HELPER=1", "LATCHKEY_CRASH_DIR="+dir, "LATCHKEY_CRASH_RELAY="+srv.port())
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 3 {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	if got := srv.messages(); len(got) != 1 {
		t.Fatalf("before the restart the relay has %d messages", len(got))
	}

	after := openDir(t, dir)
	if m := after.LastMail("new@acme.test", core.MailInviteJoin); m.State != core.MessageQueued {
		t.Fatalf("after the crash the row is %s", m.State)
	}
	w := newWorker(t, after, relayTo(srv))
	if n, err := w.Round(after.Ctx); n != 1 || err != nil {
		t.Fatalf("round after restart: %d, %v", n, err)
	}
	got := srv.messages()
	if len(got) != 2 || messageID(got[0].data) == "" || messageID(got[0].data) != messageID(got[1].data) {
		t.Fatalf("%d deliveries, Message-IDs %q and %q", len(got), messageID(got[0].data), messageID(got[len(got)-1].data))
	}
	if m := after.LastMail("new@acme.test", core.MailInviteJoin); m.State != core.MessageSent {
		t.Fatalf("after the restart the row is %s", m.State)
	}
	if n, _ := w.Round(after.Ctx); n != 0 || len(srv.messages()) != 2 {
		t.Fatal("a third copy went out")
	}
}

// openDir opens a data directory the way latchkey does (durable writes).
func openDir(t testing.TB, dir string) *storetest.Env {
	st, err := storage.Open(filepath.Join(dir, "latchkey.db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	keys, _, err := storage.LoadOrCreateKeys(filepath.Join(dir, "latchkey.key"))
	if err != nil {
		t.Fatal(err)
	}
	svc, err := core.New(core.Config{Store: st, Keys: keys, PublicURL: publicURL, Options: core.Options{Argon2: storetest.FastArgon}})
	if err != nil {
		t.Fatal(err)
	}
	return &storetest.Env{T: t, Ctx: context.Background(), Dir: dir, Store: st, Svc: svc, Clock: storetest.NewClock(time.Now()), Keys: keys, Admin: core.AdminActor("test")}
}

// crashHelper runs in a child process: it delivers the due mail and exits
// the moment the relay has accepted it, before anything is recorded.
func crashHelper() {
	dir, port := os.Getenv("LATCHKEY_CRASH_DIR"), os.Getenv("LATCHKEY_CRASH_RELAY")
	st, err := storage.Open(filepath.Join(dir, "latchkey.db"), storage.Options{})
	if err != nil {
		os.Exit(1)
	}
	keys, _, _ := storage.LoadOrCreateKeys(filepath.Join(dir, "latchkey.key"))
	svc, _ := core.New(core.Config{Store: st, Keys: keys, PublicURL: publicURL, Options: core.Options{Argon2: storetest.FastArgon}})
	c, _ := mail.NewComposer("latchkey <no-reply@portal.example.com>", publicURL)
	relay := mail.NewRelay(mail.RelayConfig{Host: "127.0.0.1", Port: port})
	w, _ := mail.NewWorker(mail.WorkerConfig{Service: svc, Composer: c, Logger: quiet, Sender: senderFunc(func(ctx context.Context, env mail.Envelope) error {
		if err := relay.Send(ctx, env); err != nil {
			os.Exit(2)
		}
		os.Exit(3) // killed between the relay's 250 and marking the row sent
		return nil
	})})
	w.Round(context.Background())
	os.Exit(4)
}

type senderFunc func(context.Context, mail.Envelope) error

func (f senderFunc) Send(ctx context.Context, env mail.Envelope) error { return f(ctx, env) }

func TestWorkerMetrics(t *testing.T) {
	srv := newRelayServer(t)
	e := newMailEnv(t, nil)
	reg := prometheus.NewRegistry()
	c, _ := mail.NewComposer("latchkey <no-reply@portal.example.com>", publicURL)
	w, err := mail.NewWorker(mail.WorkerConfig{Service: e.Svc, Composer: c, Sender: relayTo(srv), Logger: quiet, Registry: reg, Now: e.Clock.Now, Jitter: func() float64 { return 0.5 }})
	if err != nil {
		t.Fatal(err)
	}
	srv.then(temporary, accept, refuse)
	e.invite("a@acme.test")
	e.invite("b@acme.test")
	e.invite("c@acme.test")
	metric := func(name string) float64 {
		mfs, _ := reg.Gather()
		total := 0.0
		for _, mf := range mfs {
			if mf.GetName() != name {
				continue
			}
			for _, m := range mf.GetMetric() {
				switch {
				case m.Counter != nil:
					total += m.Counter.GetValue()
				case m.Gauge != nil:
					total += m.Gauge.GetValue()
				case m.Histogram != nil:
					total += float64(m.Histogram.GetSampleCount())
				}
			}
		}
		return total
	}
	if metric("latchkey_mail_queued") != 3 {
		t.Fatalf("queued %v", metric("latchkey_mail_queued"))
	}
	w.Round(e.Ctx) // parallel: which message meets which answer varies, the totals do not
	if metric("latchkey_mail_sent_total") != 1 || metric("latchkey_mail_retried_total") != 1 || metric("latchkey_mail_failed_total") != 1 || metric("latchkey_mail_delivery_seconds") != 1 {
		t.Fatalf("sent %v retried %v failed %v", metric("latchkey_mail_sent_total"), metric("latchkey_mail_retried_total"), metric("latchkey_mail_failed_total"))
	}
	if metric("latchkey_mail_queued") != 1 {
		t.Fatalf("still queued %v", metric("latchkey_mail_queued"))
	}
}

// Issue 13, point 4: an internationalised domain crosses SMTP as punycode;
// an address whose local part needs SMTPUTF8 fails at once, with the
// reason in the outbox and the audit log, when the relay lacks it (instead
// of 24 hours of retries), and is delivered by a relay that offers it.
func TestInternationalAddressesAndRelaysWithoutSMTPUTF8(t *testing.T) {
	srv := newRelayServer(t) // go-smtp without EnableSMTPUTF8
	e := newMailEnv(t, relayTo(srv))
	e.invite("client@münchen.test")
	e.invite("dörte@münchen.test")
	e.round()
	if m := e.message("client@münchen.test"); m.State != core.MessageSent {
		t.Fatalf("an ASCII local part at an IDN domain: %+v", m)
	}
	got := srv.messages()
	if len(got) != 1 || got[0].to[0] != "client@xn--mnchen-3ya.test" || !contains(got[0].data, "To: \"client@xn--mnchen-3ya.test\"") && !contains(got[0].data, "<client@xn--mnchen-3ya.test>") {
		t.Fatalf("the relay received %+v", got)
	}
	m := e.message("dörte@münchen.test")
	if m.State != core.MessageFailed || m.Attempts != 1 || !strings.Contains(m.LastError, "SMTPUTF8") {
		t.Fatalf("a local part that needs SMTPUTF8, to a relay without it: %+v", m)
	}
	if !e.HasEvent("mail.failed", "dörte@münchen.test") {
		t.Fatal("no mail.failed audit event")
	}
	// A relay that offers SMTPUTF8 takes it.
	utf8 := newRelayServer(t, func(_ *relayServer, s *smtp.Server) { s.EnableSMTPUTF8 = true })
	e2 := newMailEnv(t, relayTo(utf8))
	e2.invite("dörte@münchen.test")
	e2.round()
	if m := e2.message("dörte@münchen.test"); m.State != core.MessageSent {
		t.Fatalf("to a relay with SMTPUTF8: %+v", m)
	}
	if got := utf8.messages(); len(got) != 1 || got[0].to[0] != "dörte@xn--mnchen-3ya.test" {
		t.Fatalf("the SMTPUTF8 relay received %+v", got)
	}
}

// Issue 14: an update posted with email reaches, through a real SMTP
// server, everyone with access to the portal, once each, and nobody else.
func TestPortalUpdateReachesEveryoneWithAccessOverSMTP(t *testing.T) {
	srv := newRelayServer(t)
	e := newMailEnv(t, relayTo(srv))
	res := e.invite("active@acme.test")
	storetest.Must(e.Svc.Redeem(e.Ctx, res.Link.Token, core.Visitor{Addr: "192.0.2.1"}))
	e.invite("invited@acme.test")
	gone := e.invite("gone@acme.test")
	storetest.Must(e.Svc.Redeem(e.Ctx, gone.Link.Token, core.Visitor{Addr: "192.0.2.1"}))
	if err := e.Svc.RemoveAccess(e.Ctx, e.owner, e.portal.ID, "gone@acme.test"); err != nil {
		t.Fatal(err)
	}
	e.round() // the invitations
	before := len(srv.messages())
	storetest.Must(e.Svc.PostUpdate(e.Ctx, e.owner, e.portal.ID, "The designs are up.", true))
	e.round()
	got := map[string]int{}
	for _, m := range srv.messages()[before:] {
		for _, to := range m.to {
			got[to]++
		}
		if !contains(m.data, "The designs are up.") || !contains(m.data, publicURL+"/p/website-redesign") {
			t.Errorf("the update mail lacks its text or the portal's address:\n%s", m.data)
		}
	}
	if len(got) != 2 || got["active@acme.test"] != 1 || got["invited@acme.test"] != 1 {
		t.Fatalf("the update reached %v", got)
	}
}

// Run's rounds overlap (the next is claimed while the last messages of one
// are sent, and recorded while the next is sent): every message is still
// sent once, though a bbolt file's claims return messages still in flight.
func TestOverlappingRoundsSendEachMessageOnce(t *testing.T) {
	srv := newRelayServer(t)
	e := newMailEnv(t, nil)
	c, err := mail.NewComposer("latchkey <no-reply@portal.example.com>", publicURL)
	if err != nil {
		t.Fatal(err)
	}
	const n = 120
	var mu sync.Mutex
	recorded, rounds := 0, 0
	all := make(chan struct{})
	w, err := mail.NewWorker(mail.WorkerConfig{Service: e.Svc, Composer: c, Sender: relayTo(srv), Logger: quiet,
		Now: e.Clock.Now, Batch: 8, Parallel: 2,
		OnRound: func(k int, _ time.Duration) {
			mu.Lock()
			defer mu.Unlock()
			recorded, rounds = recorded+k, rounds+1
			if recorded == n {
				close(all)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		e.invite(fmt.Sprintf("client%03d@acme.test", i))
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	select {
	case <-all:
	case <-time.After(30 * time.Second):
		t.Fatalf("%d of %d messages recorded after 30 s", recorded, n)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	sent := map[string]int{}
	for _, m := range srv.messages() {
		sent[strings.Join(m.to, ",")]++
	}
	for to, k := range sent {
		if k != 1 {
			t.Errorf("%s was sent %d times", to, k)
		}
	}
	if len(sent) != n || rounds != n/8 {
		t.Fatalf("%d recipients sent to in %d rounds, want %d in %d", len(sent), rounds, n, n/8)
	}
	for i := range n {
		if m := e.message(fmt.Sprintf("client%03d@acme.test", i)); m.State != core.MessageSent {
			t.Fatalf("client%03d: state %s", i, m.State)
		}
	}
}
