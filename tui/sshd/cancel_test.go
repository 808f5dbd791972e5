package sshd_test

import (
	"context"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"latchkey/core"
	"latchkey/storage/storetest"
	"latchkey/tui/sshd"

	gossh "golang.org/x/crypto/ssh"
)

// stallingStore is the real store, but once armed every read waits for its
// context to end, and records that it ended: a query that would never
// finish on its own.
type stallingStore struct {
	core.Store
	armed     atomic.Bool
	stalled   chan struct{} // closed when a read starts to wait
	cancelled chan struct{} // closed when a waiting read's context ends
	once      sync.Once
	onceDone  sync.Once
}

func (s *stallingStore) View(ctx context.Context, fn func(core.Tx) error) error {
	if !s.armed.Load() {
		return s.Store.View(ctx, fn)
	}
	s.once.Do(func() { close(s.stalled) })
	<-ctx.Done()
	s.onceDone.Do(func() { close(s.cancelled) })
	return ctx.Err()
}

// Issue 15, part 3: a screen's long query is cancelled when its SSH
// session closes; before, it ran on context.Background() and outlived the
// connection.
func TestClosingTheSessionCancelsTheScreensQuery(t *testing.T) {
	st := &stallingStore{stalled: make(chan struct{}), cancelled: make(chan struct{})}
	var svc *core.Service
	in := startInstance(t, func(c *sshd.Config) {
		st.Store = c.Backup.(core.Store)
		env := c.Service
		var err error
		svc, err = core.New(core.Config{Store: st, Keys: env.Keys(), PublicURL: env.PublicURL(), Clock: c.Clock,
			Options: core.Options{Argon2: storetest.FastArgon}})
		if err != nil {
			t.Fatal(err)
		}
		c.Service = svc
	})
	client, err := in.dial(in.mia)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	sess, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.RequestPty("xterm-256color", 30, 100, gossh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	stdin, _ := sess.StdinPipe()
	out := &storetest.SyncBuffer{}
	sess.Stdout = out
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(out.String(), "Website Redesign"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the console never showed its projects:\n%q", out.String())
		}
	}
	st.armed.Store(true)
	io.WriteString(stdin, "5") // the audit log: a read of the store
	select {
	case <-st.stalled:
	case <-time.After(10 * time.Second):
		t.Fatal("the audit screen never read the store")
	}
	client.Close() // the client goes away, with its connection
	select {
	case <-st.cancelled:
	case <-time.After(10 * time.Second):
		t.Fatal("the screen's query was not cancelled when its session closed")
	}
}
