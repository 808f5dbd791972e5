package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sync"
	"time"

	"github.com/emersion/go-smtp"

	"latchkey/core"
	"latchkey/core/mail"
	"latchkey/storage"
)

// mailDelivery: 10,000 queued invitations delivered to the built-in catcher
// (durable, as latchkey runs), against a raw go-smtp client on one reused
// connection to a go-smtp server that discards.
func mailDelivery(ctx context.Context, c *benchConfig, _, _ *dataDir, add func(row)) error {
	const n = 10000
	dir := filepath.Join(c.dir, "mail")
	st, err := storage.Open(filepath.Join(dir+".db"), storage.Options{GroupCommit: true})
	if err != nil {
		return err
	}
	defer st.Close()
	keys, _, err := storage.LoadOrCreateKeys(dir + ".key")
	if err != nil {
		return err
	}
	quiet := slog.New(slog.DiscardHandler)
	svc, err := core.New(core.Config{Store: st, Keys: keys, PublicURL: "http://127.0.0.1:8080", Logger: quiet})
	if err != nil {
		return err
	}
	if _, err := svc.LoadDemo(ctx); err != nil {
		return err
	}
	admin := core.AdminActor("bench")
	org, _ := svc.Orgs(ctx, admin)
	ref, err := svc.PortalBySlug(ctx, admin, "website-redesign")
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	errc := make(chan error, 32)
	for g := 0; g < 32; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := g; i < n; i += 32 {
				if _, err := svc.Invite(ctx, admin, core.InviteInput{OrgID: org[0].ID, Email: fmt.Sprintf("m%d@acme.test", i), Role: core.RoleClient, PortalID: ref.Portal.ID}); err != nil {
					errc <- err
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		return err
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	cctx, stopCatcher := context.WithCancel(ctx)
	defer stopCatcher()
	go mail.NewCatcher(svc, quiet).Serve(cctx, ln)
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	relay := mail.NewRelay(mail.RelayConfig{Host: host, Port: port, Pool: mail.LocalPool}) // as latchkey delivers to its catcher
	defer relay.Close()
	composer, err := mail.NewComposer("latchkey <no-reply@localhost>", "http://127.0.0.1:8080")
	if err != nil {
		return err
	}
	worker, err := mail.NewWorker(mail.WorkerConfig{Service: svc, Composer: composer, Sender: relay, Logger: quiet})
	if err != nil {
		return err
	}
	pending, _, _ := svc.PendingMail(ctx)
	stopProfile := func() {}
	if c.profile != "" { // delivery runs in this process: profile it here
		if stopProfile, err = profileSelf(filepath.Join(c.profile, "mail.pprof")); err != nil {
			return err
		}
		defer stopProfile() // when delivery fails; stopping twice is harmless
	}
	t0 := time.Now()
	cpu0, _ := cpuSeconds(os.Getpid())
	for {
		k, err := worker.Round(ctx)
		if err != nil {
			return err
		}
		if k == 0 {
			break
		}
	}
	elapsed := time.Since(t0)
	stopProfile() // the delivery only, not the baseline after it
	if cpu1, ok := cpuSeconds(os.Getpid()); ok && pending > 0 {
		say("mail delivery: %.0f msgs/s; CPU per message %.0f µs (%.2f cores busy)", float64(pending)/elapsed.Seconds(), (cpu1-cpu0)/float64(pending)*1e6, (cpu1-cpu0)/elapsed.Seconds())
	}
	if left, _, _ := svc.PendingMail(ctx); left != 0 {
		return fmt.Errorf("%d messages undelivered", left)
	}
	measured := float64(pending) / elapsed.Seconds()

	// One rendered invitation, sent n times by a bare client.
	msgs, _ := svc.Outbox(ctx, admin, 0, 1)
	sample := []byte("Subject: x\r\n\r\n" + string(bytes.Repeat([]byte("x"), 3500)) + "\r\n")
	if len(msgs) == 1 {
		if env, err := composer.Compose(msgs[0], "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"); err == nil {
			sample = env.Data
		}
	}
	c0, _ := cpuSeconds(os.Getpid())
	t1 := time.Now()
	baseline, err := rawSMTP(n, sample)
	if c1, ok := cpuSeconds(os.Getpid()); ok && err == nil {
		say("raw go-smtp client: %.0f msgs/s; CPU per message %.0f µs (%.2f cores busy)", baseline, (c1-c0)/float64(n)*1e6, (c1-c0)/time.Since(t1).Seconds())
	}
	if err != nil {
		return err
	}
	ratio := measured / baseline
	add(row{Scenario: "10,000 invitations queued and delivered to the catcher, msgs/s", Measured: measured, Baseline: baseline, Ratio: ratio, Target: ">= 0.60", Met: ratio >= 0.60})
	return nil
}

// rawSMTP sends n copies of msg on one connection to a discarding server.
func rawSMTP(n int, msg []byte) (float64, error) {
	s := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return discard{}, nil }))
	s.Domain = "discard"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	go s.Serve(ln)
	defer s.Close()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		return 0, err
	}
	client := smtp.NewClient(conn)
	defer client.Close()
	if err := client.Hello("bench"); err != nil {
		return 0, err
	}
	t0 := time.Now()
	for i := 0; i < n; i++ {
		if err := client.SendMail("a@x.test", []string{"b@x.test"}, bytes.NewReader(msg)); err != nil {
			return 0, err
		}
	}
	return float64(n) / time.Since(t0).Seconds(), nil
}

type discard struct{}

func (discard) Reset()                               {}
func (discard) Logout() error                        { return nil }
func (discard) Mail(string, *smtp.MailOptions) error { return nil }
func (discard) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (discard) Data(r io.Reader) error               { _, err := io.Copy(io.Discard, r); return err }

// profileSelf records this process's CPU profile into file until stop.
func profileSelf(file string) (stop func(), err error) {
	f, err := os.Create(file)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			pprof.StopCPUProfile()
			f.Close()
			say("profile of this process: %s", file)
		})
	}, nil
}
