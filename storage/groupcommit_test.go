package storage

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// groupDB is a durable bbolt file with one bucket, and a committer on it.
func groupDB(t *testing.T) (*bolt.DB, *GroupCommitter) {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "g.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("b")); return err }); err != nil {
		t.Fatal(err)
	}
	return db, NewGroupCommitter(db)
}

// waitPending waits until n updates wait for the next commit.
func waitPending(t *testing.T, g *GroupCommitter, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		g.mu.Lock()
		got := len(g.pending)
		g.mu.Unlock()
		if got == n {
			return
		}
	}
	t.Fatalf("%d updates never waited together", n)
}

// Updates that arrive while a commit runs share the next one, and a lone
// update commits at once: the first of 100 commits alone, the 99 that
// came during its commit in one more transaction; every write is there.
func TestGroupCommitSharesTheNextCommit(t *testing.T) {
	db, g := groupDB(t)
	var mu sync.Mutex
	txs := map[int]int{} // transaction id → updates in it
	put := func(i int) func(*bolt.Tx) error {
		return func(tx *bolt.Tx) error {
			mu.Lock()
			txs[tx.ID()]++
			mu.Unlock()
			return tx.Bucket([]byte("b")).Put(fmt.Appendf(nil, "k%03d", i), []byte("v"))
		}
	}
	started, release := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	wg.Go(func() {
		errs <- g.Update(func(tx *bolt.Tx) error { close(started); <-release; return put(0)(tx) })
	})
	<-started            // the first is taken at once, not held for company
	defer close(release) // never leave the writer held
	for i := 1; i < 100; i++ {
		wg.Go(func() { errs <- g.Update(put(i)) })
	}
	waitPending(t, g, 99)
	release <- struct{}{}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(txs) != 2 {
		t.Fatalf("100 updates in %d transactions, want 2: %v", len(txs), txs)
	}
	db.View(func(tx *bolt.Tx) error {
		if n := tx.Bucket([]byte("b")).Stats().KeyN; n != 100 {
			t.Errorf("%d writes committed, want 100", n)
		}
		return nil
	})
}

// One update of a group that fails, or panics, gets its own error (or
// panic) alone and writes nothing; the others of its group are committed.
func TestGroupCommitKeepsAFailureToItsCaller(t *testing.T) {
	db, g := groupDB(t)
	started, release := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { g.Update(func(*bolt.Tx) error { close(started); <-release; return nil }) })
	<-started
	defer close(release)
	refused := errors.New("refused")
	results := make([]any, 6)
	for i := range 6 {
		wg.Go(func() {
			defer func() {
				if p := recover(); p != nil {
					results[i] = p
				}
			}()
			results[i] = g.Update(func(tx *bolt.Tx) error {
				if err := tx.Bucket([]byte("b")).Put(fmt.Appendf(nil, "k%d", i), []byte("v")); err != nil {
					return err
				}
				switch i {
				case 2:
					return refused
				case 4:
					panic("a bad update")
				}
				return nil
			})
		})
	}
	waitPending(t, g, 6)
	release <- struct{}{}
	wg.Wait()
	for i, r := range results {
		want := any(nil)
		switch i {
		case 2:
			want = refused
		case 4:
			want = "a bad update"
		}
		if err, ok := r.(error); ok && want != nil && errors.Is(err, want.(error)) {
			continue
		}
		if r != want {
			t.Errorf("update %d: %v, want %v", i, r, want)
		}
	}
	db.View(func(tx *bolt.Tx) error {
		for i := range 6 {
			got := tx.Bucket([]byte("b")).Get(fmt.Appendf(nil, "k%d", i)) != nil
			if got != (i != 2 && i != 4) {
				t.Errorf("k%d committed: %v", i, got)
			}
		}
		return nil
	})
}
