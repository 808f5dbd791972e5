package storage

import (
	"errors"
	"fmt"
	"sync"

	bolt "go.etcd.io/bbolt"
)

// GroupCommitter shares commits between concurrent updates of one bbolt
// file. The first update that finds the writer idle commits at once; every
// update that arrives while a commit runs joins the next one, which starts
// the moment the writer is free. Unlike bbolt's Batch there is no timer: a
// lone update is not held back, and updates that arrive spread out (as
// requests over the network do) still share commits, as many as arrived
// during the last one's fsync.
//
// As with Batch, an update may run more than once: when one of a group
// fails, it is run again alone (so its own error, or panic, reaches only
// its caller) and the others are committed without it.
type GroupCommitter struct {
	db      *bolt.DB
	mu      sync.Mutex
	pending []groupCall
	running bool
}

type groupCall struct {
	fn   func(*bolt.Tx) error
	done chan error
}

// errAlone tells a caller that its update failed in a group and must be
// run alone.
var errAlone = errors.New("run alone")

// NewGroupCommitter shares the commits of db.
func NewGroupCommitter(db *bolt.DB) *GroupCommitter { return &GroupCommitter{db: db} }

// Update runs fn in a read-write transaction shared with the updates that
// arrive while the previous commit runs, and returns when that transaction
// is durably committed (or fn's own error).
func (g *GroupCommitter) Update(fn func(*bolt.Tx) error) error {
	done := make(chan error, 1)
	g.mu.Lock()
	g.pending = append(g.pending, groupCall{fn, done})
	if !g.running {
		g.running = true
		go g.commitLoop()
	}
	g.mu.Unlock()
	err := <-done
	if errors.Is(err, errAlone) {
		err = g.db.Update(fn)
	}
	return err
}

// commitLoop commits what is pending until nothing is.
func (g *GroupCommitter) commitLoop() {
	for {
		g.mu.Lock()
		calls := g.pending
		g.pending = nil
		if len(calls) == 0 {
			g.running = false
			g.mu.Unlock()
			return
		}
		g.mu.Unlock()
		for len(calls) > 0 {
			failed := -1
			err := g.db.Update(func(tx *bolt.Tx) error {
				for i, c := range calls {
					if err := callSafely(c.fn, tx); err != nil {
						failed = i
						return err
					}
				}
				return nil
			})
			if failed >= 0 {
				calls[failed].done <- errAlone
				calls = append(calls[:failed], calls[failed+1:]...)
				continue
			}
			for _, c := range calls {
				c.done <- err
			}
			break
		}
	}
}

// callSafely turns fn's panic into an error, so that one update's panic
// does not take the others' commit (or the loop) down; the update then
// runs alone, and panics in its caller.
func callSafely(fn func(*bolt.Tx) error, tx *bolt.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic in update: %v", p)
		}
	}()
	return fn(tx)
}
