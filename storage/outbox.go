package storage

import (
	"encoding/binary"
	"time"

	"latchkey/core"
)

// The store of outbox.

func dueKey(m *core.Message) []byte {
	ns := m.NextAttemptAt.UnixNano()
	if ns < 0 || m.NextAttemptAt.IsZero() { // due since forever
		ns = 0
	}
	return cat(u64(uint64(ns)), u64(m.ID))
}

func (x *tx) Message(id uint64) (core.Message, error) {
	m, err := get[core.Message](x.b(bOutbox), u64(id))
	if err == nil {
		x.noteDue(&m)
	}
	return m, err
}

// noteDue remembers m's place in the due index, so that writing it back
// in the same transaction (the worker reads each message it records) need
// not read it again to find the entry it replaces. A read-only
// transaction (the console listing every pending message) writes nothing
// back and remembers nothing.
func (x *tx) noteDue(m *core.Message) {
	if !x.t.Writable() {
		return
	}
	if x.dueOf == nil {
		x.dueOf = map[uint64][]byte{}
	}
	var k []byte
	if m.Pending() {
		k = dueKey(m)
	}
	x.dueOf[m.ID] = k
}

func (x *tx) PutMessage(m *core.Message) error {
	due := x.b(bOutboxDue)
	if m.ID != 0 {
		old, known := x.dueOf[m.ID]
		if !known {
			if o, err := get[core.Message](x.b(bOutbox), u64(m.ID)); err == nil && o.Pending() {
				old = dueKey(&o)
			}
		}
		if old != nil {
			if err := due.Delete(old); err != nil {
				return err
			}
		}
	}
	if err := nextID(x.b(bOutbox), &m.ID); err != nil {
		return err
	}
	if m.Pending() {
		if err := due.Put(dueKey(m), nil); err != nil {
			return err
		}
	}
	x.noteDue(m)
	return put(x.b(bOutbox), u64(m.ID), m)
}

func (x *tx) DueMessages(now time.Time, limit int) ([]core.Message, error) {
	return x.dueMessages(now, limit, nil)
}

// dueMessages is DueMessages without the messages in held, which it skips
// by their index keys: it reads only what it returns.
func (x *tx) dueMessages(now time.Time, limit int, held map[uint64]struct{}) ([]core.Message, error) {
	var out []core.Message
	c := x.b(bOutboxDue).Cursor()
	for k, _ := c.First(); k != nil && (limit <= 0 || len(out) < limit); k, _ = c.Next() {
		if int64(binary.BigEndian.Uint64(k[:8])) > now.UnixNano() {
			break
		}
		id := idBytes(k)
		if _, skip := held[id]; skip {
			continue
		}
		m, err := x.Message(id)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

func (x *tx) NextDue() (time.Time, error) {
	k, _ := x.b(bOutboxDue).Cursor().First()
	if k == nil {
		return time.Time{}, nil
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(k[:8]))).UTC(), nil
}

func (x *tx) Messages(beforeID uint64, limit int) ([]core.Message, error) {
	return newestBefore[core.Message](x.b(bOutbox), beforeID, limit)
}

// ClaimDueMessages lists the due messages its worker does not hold: one
// process holds the file, and its one worker knows what it is still
// delivering, so nothing needs a lease.
func (x *tx) ClaimDueMessages(now, _ time.Time, limit int, held map[uint64]struct{}) ([]core.Message, error) {
	return x.dueMessages(now, limit, held)
}
