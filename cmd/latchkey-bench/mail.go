package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-smtp"
	bolt "go.etcd.io/bbolt"

	"latchkey/core"
	"latchkey/core/mail"
	"latchkey/storage"
)

// mailDelivery: 10,000 queued invitations delivered by the worker to a
// relay (a go-smtp server on 127.0.0.1 that discards, as a production
// instance delivers to its provider's relay), against a raw go-smtp client
// on one reused connection to the same kind of server; then the catcher's
// own cost: messages stored per second by the built-in catcher against a
// raw go-smtp server writing each message to a bbolt Batch, both durable
// and fed on 16 connections.
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

	sink, err := startDiscardRelay()
	if err != nil {
		return err
	}
	defer sink.stop()
	host, port, _ := net.SplitHostPort(sink.addr)
	relay := mail.NewRelay(mail.RelayConfig{Host: host, Port: port}) // the default pool, as for a provider's relay
	defer relay.Close()
	composer, err := mail.NewComposer("latchkey <no-reply@localhost>", "http://127.0.0.1:8080")
	if err != nil {
		return err
	}
	pending, _, _ := svc.PendingMail(ctx)
	var recorded atomic.Int64
	allRecorded := make(chan struct{})
	worker, err := mail.NewWorker(mail.WorkerConfig{Service: svc, Composer: composer, Sender: relay, Logger: quiet,
		OnRound: func(n int, _ time.Duration) {
			if recorded.Add(int64(n)) == int64(pending) {
				close(allRecorded)
			}
		}})
	if err != nil {
		return err
	}
	stopProfile := func() {}
	if c.profile != "" { // delivery runs in this process: profile it here
		if stopProfile, err = profileSelf(filepath.Join(c.profile, "mail.pprof")); err != nil {
			return err
		}
		defer stopProfile() // when delivery fails; stopping twice is harmless
	}
	t0 := time.Now()
	cpu0, _ := cpuSeconds(os.Getpid())
	// The worker as latchkey runs it (its rounds overlap), until every
	// message is recorded delivered.
	wctx, stopWorker := context.WithCancel(ctx)
	workerDone := make(chan error, 1)
	go func() { workerDone <- worker.Run(wctx) }()
	select {
	case <-allRecorded:
	case <-time.After(5 * time.Minute):
		stopWorker()
		<-workerDone
		return fmt.Errorf("mail: %d of %d messages recorded after 5 minutes", recorded.Load(), pending)
	}
	elapsed := time.Since(t0)
	stopWorker()
	if err := <-workerDone; err != nil {
		return err
	}
	stopProfile() // the delivery only, not the baseline after it
	if cpu1, ok := cpuSeconds(os.Getpid()); ok && pending > 0 {
		say("mail delivery: %.0f msgs/s; CPU per message %.0f µs (%.2f cores busy)", float64(pending)/elapsed.Seconds(), (cpu1-cpu0)/float64(pending)*1e6, (cpu1-cpu0)/elapsed.Seconds())
	}
	if left, _, _ := svc.PendingMail(ctx); left != 0 {
		return fmt.Errorf("%d messages undelivered", left)
	}
	if got := sink.count.Load(); got < int64(pending) {
		return fmt.Errorf("the relay received %d messages of %d", got, pending)
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
	add(row{Scenario: "10,000 invitations queued and delivered to a relay, msgs/s", Measured: measured, Baseline: baseline, Ratio: ratio, Target: ">= 0.60", Met: ratio >= 0.60})

	// The catcher's own cost.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	cctx, stopCatcher := context.WithCancel(ctx)
	defer stopCatcher()
	go mail.NewCatcher(svc, quiet).Serve(cctx, ln)
	newest := func() uint64 {
		if m, err := svc.CaughtMails(ctx, admin, 0, 1); err == nil && len(m) == 1 {
			return m[0].ID
		}
		return 0
	}
	caught0 := newest()
	c0, _ = cpuSeconds(os.Getpid())
	stored, err := sendAll(ln.Addr().String(), n, catcherConns, sample)
	if err != nil {
		return fmt.Errorf("send to the catcher: %w", err)
	}
	if c1, ok := cpuSeconds(os.Getpid()); ok {
		say("catcher: %.0f msgs/s stored; CPU per message %.0f µs", stored, (c1-c0)/float64(n)*1e6)
	}
	if got := newest() - caught0; got != n {
		return fmt.Errorf("the catcher stored %d of the %d messages sent", got, n)
	}
	batchRate, err := rawSMTPToBolt(filepath.Join(c.dir, "catcher-baseline.db"), n, sample)
	if err != nil {
		return err
	}
	ratio = stored / batchRate
	add(row{Scenario: "catcher: messages stored per second (durable)", Measured: stored, Baseline: batchRate, Ratio: ratio, Target: ">= 0.60", Met: ratio >= 0.60})
	return nil
}

// catcherConns is how many connections feed the catcher and its baseline:
// bbolt's Batch groups the writes of concurrent callers, and waits for
// more (up to 10 ms) when there are none.
const catcherConns = 16

// discardRelay is a go-smtp server on 127.0.0.1 that counts and discards.
type discardRelay struct {
	addr  string
	count *atomic.Int64
	stop  func()
}

func startDiscardRelay() (discardRelay, error) {
	count := &atomic.Int64{}
	s := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return discard{count}, nil }))
	s.Domain = "discard"
	s.AllowInsecureAuth = true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return discardRelay{}, err
	}
	go s.Serve(ln)
	return discardRelay{addr: ln.Addr().String(), count: count, stop: func() { s.Close() }}, nil
}

// sendAll sends n copies of msg to addr on conns connections at once (the
// worker's pool to a relay is a few of them) and returns the messages per
// second.
func sendAll(addr string, n, conns int, msg []byte) (float64, error) {
	errs := make(chan error, conns)
	t0 := time.Now()
	for c := 0; c < conns; c++ {
		go func(c int) {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				errs <- err
				return
			}
			client := smtp.NewClient(conn)
			defer client.Close()
			if err := client.Hello("bench"); err != nil {
				errs <- err
				return
			}
			for i := c; i < n; i += conns {
				if err := client.SendMail("a@x.test", []string{fmt.Sprintf("b%d@x.test", i)}, bytes.NewReader(msg)); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}(c)
	}
	for c := 0; c < conns; c++ {
		if err := <-errs; err != nil {
			return 0, err
		}
	}
	return float64(n) / time.Since(t0).Seconds(), nil
}

// rawSMTPToBolt is the catcher's baseline: a go-smtp server that writes
// each message durably to a bbolt file through db.Batch, fed n messages on
// catcherConns connections.
func rawSMTPToBolt(path string, n int, msg []byte) (float64, error) {
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		return 0, err
	}
	defer os.Remove(path)
	defer db.Close()
	s := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &boltSession{db: db}, nil }))
	s.Domain = "bolt"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	go s.Serve(ln)
	defer s.Close()
	return sendAll(ln.Addr().String(), n, catcherConns, msg)
}

type boltSession struct {
	db       *bolt.DB
	from, to string
}

func (b *boltSession) Reset()        {}
func (b *boltSession) Logout() error { return nil }
func (b *boltSession) Mail(from string, _ *smtp.MailOptions) error {
	b.from = from
	return nil
}
func (b *boltSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	b.to = to
	return nil
}
func (b *boltSession) Data(r io.Reader) error {
	body, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	return b.db.Batch(func(tx *bolt.Tx) error {
		bk, err := tx.CreateBucketIfNotExists([]byte("caught"))
		if err != nil {
			return err
		}
		id, _ := bk.NextSequence()
		return bk.Put(binary.BigEndian.AppendUint64(nil, id), append([]byte(b.from+"\n"+b.to+"\n"), body...))
	})
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

// discard is a session that counts its messages (when count is set).
type discard struct{ count *atomic.Int64 }

func (discard) Reset()                               {}
func (discard) Logout() error                        { return nil }
func (discard) Mail(string, *smtp.MailOptions) error { return nil }
func (discard) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (d discard) Data(r io.Reader) error {
	_, err := io.Copy(io.Discard, r)
	if d.count != nil {
		d.count.Add(1)
	}
	return err
}

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
