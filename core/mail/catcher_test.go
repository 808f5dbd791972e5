package mail_test

import (
	"bytes"
	"context"
	"fmt"
	"latchkey/core/mail/message"
	"net"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"latchkey/core"
	"latchkey/core/coretest"
	"latchkey/core/mail"
)

// startCatcher runs the catcher on 127.0.0.1 and returns its port.
func startCatcher(t testing.TB, env *coretest.Env) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mail.NewCatcher(env.Svc, quiet).Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("catcher: %v", err)
		}
	})
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

// The default path: the worker delivers to the catcher over real SMTP,
// and the caught invitation carries a link that opens the portal.
func TestWorkerDeliversToTheCatcher(t *testing.T) {
	e := newMailEnv(t, nil)
	port := startCatcher(t, e.Env)
	e.worker = newWorker(t, e.Env, mail.NewRelay(mail.RelayConfig{Host: "127.0.0.1", Port: port}))
	res := e.invite("client@acme.test")
	e.round()
	caught := coretest.Must(e.Svc.CaughtMails(e.Ctx, e.Admin, 0, 10))
	if len(caught) != 1 || caught[0].To[0] != "client@acme.test" || caught[0].Subject != "Northwind Studio invited you to Website Redesign" {
		t.Fatalf("caught %+v", caught)
	}
	full := coretest.Must(e.Svc.CaughtMail(e.Ctx, e.Admin, caught[0].ID))
	p, err := message.Parse(full.Raw)
	if err != nil {
		t.Fatal(err)
	}
	link := publicURL + "/m/" + res.Link.Token
	if !strings.Contains(p.Text, link) {
		t.Fatalf("the caught text lacks the link:\n%s", p.Text)
	}
	if _, err := e.Svc.Redeem(e.Ctx, coretest.TokenOf(link), core.Visitor{Addr: "127.0.0.1"}); err != nil {
		t.Fatalf("the caught link does not open the portal: %v", err)
	}
	// The catcher keeps mail sealed: a copy of the database holds no link.
	if bytes.Contains(e.RawDump(), []byte(res.Link.Token)) {
		t.Fatal("the catcher stored a live link in clear")
	}
	if _, err := e.Svc.CaughtMails(e.Ctx, e.owner, 0, 10); err == nil {
		t.Fatal("an owner read the instance's catcher")
	}
}

// Any SMTP client can send to the catcher: here a bare conversation, as swaks would have it.
func TestCatcherTakesAnyClient(t *testing.T) {
	e := coretest.New(t)
	port := startCatcher(t, e)
	c, err := textproto.Dial("tcp", "127.0.0.1:"+port)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	expect := func(code int) {
		t.Helper()
		if _, _, err := c.ReadResponse(code); err != nil {
			t.Fatal(err)
		}
	}
	expect(220)
	for _, step := range []struct {
		cmd  string
		code int
	}{{"EHLO swaks.test", 250}, {"MAIL FROM:<me@swaks.test>", 250}, {"RCPT TO:<you@example.test>", 250}, {"DATA", 354}} {
		c.PrintfLine("%s", step.cmd)
		expect(step.code)
	}
	c.PrintfLine("Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\nFrom: me@swaks.test\r\n\r\nhello from swaks\r\n.")
	expect(250)
	c.PrintfLine("QUIT")
	expect(221)
	caught := coretest.Must(e.Svc.CaughtMails(e.Ctx, e.Admin, 0, 1))
	if len(caught) != 1 || caught[0].Subject != "Grüße" || caught[0].From != "me@swaks.test" {
		t.Fatalf("caught %+v", caught)
	}
	p, _ := message.Parse(coretest.Must(e.Svc.CaughtMail(e.Ctx, e.Admin, caught[0].ID)).Raw)
	if strings.TrimSpace(p.Text) != "hello from swaks" {
		t.Fatalf("text %q", p.Text)
	}
}

func TestCatcherKeepsTheLastThousand(t *testing.T) {
	e := coretest.New(t)
	port := startCatcher(t, e)
	r := mail.NewRelay(mail.RelayConfig{Host: "127.0.0.1", Port: port})
	defer r.Close()
	for i := 0; i < core.MaxCaught+3; i++ {
		env := mail.Envelope{From: "a@x.test", To: []string{"b@x.test"}, Data: []byte(fmt.Sprintf("Subject: message %d\r\n\r\nbody\r\n", i))}
		if err := r.Send(context.Background(), env); err != nil {
			t.Fatal(err)
		}
	}
	all := coretest.Must(e.Svc.CaughtMails(e.Ctx, e.Admin, 0, 0))
	if len(all) != core.MaxCaught || all[0].Subject != fmt.Sprintf("message %d", core.MaxCaught+2) || all[len(all)-1].Subject != "message 3" {
		t.Fatalf("%d kept, newest %q, oldest %q", len(all), all[0].Subject, all[len(all)-1].Subject)
	}
	if n := e.Count("caught"); n != core.MaxCaught {
		t.Fatalf("%d stored", n)
	}
}

// BenchmarkDeliverToCatcher queues 10,000 invitations and measures the
// worker delivering them to the built-in catcher, reusing connections and
// with one connection per message. Run once:
//
//	go test ./core/mail -run '^$' -bench DeliverToCatcher -benchtime 1x
func BenchmarkDeliverToCatcher(b *testing.B) {
	const n = 10000
	for _, reuse := range []bool{true, false} {
		b.Run(map[bool]string{true: "reuse", false: "connection-per-message"}[reuse], func(b *testing.B) {
			for b.Loop() {
				e := newMailEnv(b, nil, coretest.GroupCommit)
				port := startCatcher(b, e.Env)
				e.worker = newWorker(b, e.Env, mail.NewRelay(mail.RelayConfig{Host: "127.0.0.1", Port: port, NoReuse: !reuse, Pool: mail.LocalPool}))
				for i := 0; i < n; i += 500 {
					fill(b, e, i, 500)
				}
				start := time.Now()
				for sent := 0; sent < n; {
					k, err := e.worker.Round(e.Ctx)
					if err != nil || k == 0 {
						b.Fatalf("round: %d, %v", k, err)
					}
					sent += k
				}
				rate := float64(n) / time.Since(start).Seconds()
				b.ReportMetric(rate, "msgs/s")
			}
		})
	}
}

// fill queues k invitations in one go.
func fill(tb testing.TB, e *mailEnv, from, k int) {
	for i := from; i < from+k; i++ {
		e.invite(fmt.Sprintf("c%d@acme.test", i))
	}
}
