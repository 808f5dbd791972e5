package sshd_test

import (
	"context"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"latchkey/core"
	"latchkey/core/coretest"
	"latchkey/tui/sshd"
)

// blockingStore holds every read, once armed, until its context ends, and
// records that it ended.
type blockingStore struct {
	core.Store
	armed     atomic.Bool
	mu        sync.Mutex
	blocked   int     // reads held
	cancelled []error // why each held read returned
}

func (b *blockingStore) View(ctx context.Context, fn func(core.Tx) error) error {
	if !b.armed.Load() {
		return b.Store.View(ctx, fn)
	}
	b.mu.Lock()
	b.blocked++
	b.mu.Unlock()
	<-ctx.Done()
	b.mu.Lock()
	b.cancelled = append(b.cancelled, ctx.Err())
	b.mu.Unlock()
	return ctx.Err()
}

func (b *blockingStore) counts() (blocked, cancelled int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.blocked, len(b.cancelled)
}

// waitUntil polls cond until it holds, failing the test after a deadline.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
	}
}

// TestClosingTheConnectionCancelsAScreensQuery: a screen's query that is
// still running when its SSH connection closes is cancelled, not left to
// run for nobody.
func TestClosingTheConnectionCancelsAScreensQuery(t *testing.T) {
	var store *blockingStore
	in := startInstance(t, func(c *sshd.Config) {
		// The same data and keys, read through a store that can hold reads.
		store = &blockingStore{Store: c.Backup.(core.Store)} // the instance's storage.Store
		svc, err := core.New(core.Config{Store: store, Keys: c.Service.Keys(), PublicURL: "http://127.0.0.1:8080", Clock: c.Clock})
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
	out := &coretest.SyncBuffer{}
	sess.Stdout = out
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the console shows the projects", func() bool { return strings.Contains(out.String(), "/p/website-redesign") })
	store.armed.Store(true)
	io.WriteString(stdin, "5") // the Audit section: its query now waits
	waitUntil(t, "the Audit screen's query is running", func() bool { b, _ := store.counts(); return b > 0 })
	client.Close() // the connection, not just the session
	waitUntil(t, "the query is cancelled", func() bool { b, c := store.counts(); return c == b })
	in.waitIdle()
	waitUntil(t, "the query is cancelled", func() bool { b, c := store.counts(); return c == b })
	store.mu.Lock()
	defer store.mu.Unlock()
	for _, err := range store.cancelled {
		if err != context.Canceled {
			t.Errorf("the query ended with %v, not context.Canceled", err)
		}
	}
}
