package storage

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"latchkey/core"
)

// Link uses: each redemption appends id → link|record to link_uses, under
// the bucket's increasing sequence, and writes nothing else of the link. A
// fold (FoldLinkUses, in the background) adds the oldest uses to their
// links' stored counters, moves them into the links' histories and deletes
// them, all in one transaction: so a use is either in link_uses or in its
// link's counters, never both, whatever moment a crash picks.
//
// Reads count the uses still in link_uses: every link a transaction reads
// gets its unfolded uses added. To find them without a scan, the store
// keeps in memory the ids of every link's unfolded uses (useIndex), and
// checks each one against the transaction's own snapshot, so that an id the
// snapshot does not hold (a use of a later commit, or of one that rolled
// back) counts for nothing. Ids of folded uses leave memory only once no
// read that began before the fold is still open: such a read sees the use
// in link_uses and not in the counters, and must still find it.
var bLinkUses = []byte("link_uses")

// useRef is a use as memory holds it.
type useRef struct{ id uint64 }

// useIndex is the ids of the unfolded uses of each link, and the reads
// open, by the fold generation they began in.
type useIndex struct {
	mu     sync.Mutex
	byLink map[uint64][]useRef
	gen    uint64         // folds committed so far
	open   map[uint64]int // open reads by the generation they began in
	// retired are folded uses (by link) to drop once no read older than
	// their fold's generation is open.
	retired []retiredUse
}

type retiredUse struct {
	gen, link, id uint64
}

func newUseIndex() *useIndex {
	return &useIndex{byLink: map[uint64][]useRef{}, open: map[uint64]int{}}
}

// load fills memory from link_uses, at open.
func (u *useIndex) load(db *bolt.DB) error {
	return db.View(func(t *bolt.Tx) error {
		b := t.Bucket(bLinkUses)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			if len(k) != 8 || len(v) < 8 {
				return fmt.Errorf("link use %x: malformed", k)
			}
			u.add(binary.BigEndian.Uint64(v[:8]), binary.BigEndian.Uint64(k))
			return nil
		})
	})
}

// add notes a use of link, before its transaction commits: a read whose
// snapshot holds the use must find it in memory.
func (u *useIndex) add(link, id uint64) {
	u.mu.Lock()
	defer u.mu.Unlock()
	refs := u.byLink[link]
	for _, r := range refs {
		if r.id == id { // the same update run again (a shared commit's retry)
			return
		}
	}
	u.byLink[link] = append(refs, useRef{id})
}

// of copies a link's use ids.
func (u *useIndex) of(link uint64) []useRef {
	u.mu.Lock()
	defer u.mu.Unlock()
	return slices.Clone(u.byLink[link])
}

// enter registers a read before its snapshot begins; leave, when it ends.
func (u *useIndex) enter() uint64 {
	u.mu.Lock()
	g := u.gen
	u.open[g]++
	u.mu.Unlock()
	return g
}

func (u *useIndex) leave(g uint64) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.open[g]--; u.open[g] == 0 {
		delete(u.open, g)
		u.prune()
	}
}

// folded runs after a fold's commit: the uses leave memory once the reads
// that began before it are done.
func (u *useIndex) folded(uses []retiredUse) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.gen++
	for _, r := range uses {
		r.gen = u.gen
		u.retired = append(u.retired, r)
	}
	u.prune()
}

// prune drops the retired uses that no open read can still need: those
// retired in a generation after the oldest open read's.
func (u *useIndex) prune() {
	oldest := u.gen
	for g := range u.open {
		oldest = min(oldest, g)
	}
	keep := u.retired[:0]
	for _, r := range u.retired {
		if r.gen > oldest {
			keep = append(keep, r)
			continue
		}
		refs := u.byLink[r.link]
		if i := slices.IndexFunc(refs, func(x useRef) bool { return x.id == r.id }); i >= 0 {
			refs = slices.Delete(refs, i, i+1)
		}
		if len(refs) == 0 {
			delete(u.byLink, r.link)
		} else {
			u.byLink[r.link] = refs
		}
	}
	u.retired = keep
}

// useValue is a use as stored: its link's id, then the event's record.
func useValue(e core.LinkEvent) ([]byte, error) {
	raw, err := json.Marshal(linkEventToRecord(e))
	if err != nil {
		return nil, err
	}
	return append(u64(e.LinkID), raw...), nil
}

func decodeUse(k, v []byte) (core.LinkEvent, error) {
	if len(v) < 8 {
		return core.LinkEvent{}, fmt.Errorf("link use %x: malformed", k)
	}
	r, err := decode[linkEventRecord](v[8:])
	if err != nil {
		return core.LinkEvent{}, err
	}
	e := r.core()
	e.ID = binary.BigEndian.Uint64(k)
	return e, nil
}

func (x *tx) PutLinkUse(e *core.LinkEvent) error {
	if e.ID != 0 {
		return fmt.Errorf("link uses are append-only")
	}
	// The id is the history's: a use keeps it when it is folded into the
	// history, and sorts among the link's other events as it happened.
	b := x.b(bLinkUses)
	if err := nextID(x.b(bLinkEvents), &e.ID); err != nil {
		return err
	}
	v, err := useValue(*e)
	if err != nil {
		return err
	}
	x.uses.add(e.LinkID, e.ID)
	return b.Put(u64(e.ID), v)
}

// linkUses are the link's uses that the transaction holds unfolded.
func (x *tx) linkUses(linkID uint64) ([]core.LinkEvent, error) {
	refs := x.uses.of(linkID)
	if len(refs) == 0 {
		return nil, nil
	}
	b := x.b(bLinkUses)
	if b == nil {
		return nil, nil
	}
	var out []core.LinkEvent
	for _, r := range refs {
		k := u64(r.id)
		v := b.Get(k)
		if len(v) < 8 || binary.BigEndian.Uint64(v[:8]) != linkID {
			continue // not in this snapshot (or another link's, under an id a rollback freed)
		}
		e, err := decodeUse(k, v)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// withUses adds the link's unfolded uses to its counters.
func (x *tx) withUses(l core.Link) (core.Link, error) {
	uses, err := x.linkUses(l.ID)
	for _, e := range uses {
		countUse(&l, e.At)
	}
	return l, err
}

// countUse adds one use at to a link's counters.
func countUse(l *core.Link, at time.Time) {
	l.UseCount++
	if at.After(l.LastUsedAt) {
		l.LastUsedAt = at
	}
}

func (x *tx) FoldLinkUses(limit int) (int, error) {
	b := x.b(bLinkUses)
	var uses []core.LinkEvent
	var raws [][]byte // each use's record, which the history stores as it is
	c := b.Cursor()
	for k, v := c.First(); k != nil && len(uses) < limit; k, v = c.Next() {
		e, err := decodeUse(k, v)
		if err != nil {
			return 0, err
		}
		uses = append(uses, e)
		raws = append(raws, v[8:])
	}
	if len(uses) == 0 {
		return 0, nil
	}
	byLink := map[uint64][]int{} // link → indexes into uses
	var order []uint64
	for i, e := range uses {
		if _, ok := byLink[e.LinkID]; !ok {
			order = append(order, e.LinkID)
		}
		byLink[e.LinkID] = append(byLink[e.LinkID], i)
	}
	retired := make([]retiredUse, 0, len(uses))
	for _, id := range order {
		lookup := x.b(bLinksID).Get(u64(id))
		if raw := x.b(bLinks).Get(lookup); raw != nil {
			l, err := DecodeLink(raw)
			if err != nil {
				return 0, err
			}
			for _, i := range byLink[id] {
				countUse(&l, uses[i].At)
			}
			if err := x.b(bLinks).Put(l.Lookup, EncodeLink(&l)); err != nil {
				return 0, err
			}
		}
		for _, i := range byLink[id] {
			e := uses[i]
			if err := x.b(bLinkEventsTime).Put(linkEventTimeKey(e.At, e.LinkID, e.ID), nil); err != nil {
				return 0, err
			}
			// A copy: the value is the database's, and b.Delete below reuses its page.
			if err := x.b(bLinkEvents).Put(cat(u64(e.LinkID), u64(e.ID)), bytes.Clone(raws[i])); err != nil {
				return 0, err
			}
			if err := b.Delete(u64(e.ID)); err != nil {
				return 0, err
			}
			retired = append(retired, retiredUse{link: id, id: e.ID})
		}
	}
	uses0 := x.uses
	x.t.OnCommit(func() { uses0.folded(retired) })
	return len(uses), nil
}

// historyWithUses merges a link's history with its unfolded uses, by id
// (one sequence hands out both).
func historyWithUses(history, uses []core.LinkEvent) []core.LinkEvent {
	if len(uses) == 0 {
		return history
	}
	out := append(history, uses...)
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// FoldLinkUses folds every unfolded link use, in transactions of limit
// uses, and returns how many it folded (latchkey migrate, before it copies).
func (s *Store) FoldLinkUses(ctx context.Context) (int, error) {
	total := 0
	for {
		var n int
		if err := s.Update(ctx, func(t core.Tx) error {
			var err error
			n, err = t.FoldLinkUses(2000)
			return err
		}); err != nil {
			return total, err
		}
		total += n
		if n < 2000 {
			return total, nil
		}
	}
}
