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
	return get[core.Message](x.b(bOutbox), u64(id))
}

func (x *tx) PutMessage(m *core.Message) error {
	due := x.b(bOutboxDue)
	if m.ID != 0 {
		if old, err := x.Message(m.ID); err == nil && old.Pending() {
			if err := due.Delete(dueKey(&old)); err != nil {
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
	return put(x.b(bOutbox), u64(m.ID), m)
}

func (x *tx) DueMessages(now time.Time, limit int) ([]core.Message, error) {
	var out []core.Message
	c := x.b(bOutboxDue).Cursor()
	for k, _ := c.First(); k != nil && (limit <= 0 || len(out) < limit); k, _ = c.Next() {
		if int64(binary.BigEndian.Uint64(k[:8])) > now.UnixNano() {
			break
		}
		m, err := x.Message(idBytes(k))
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

// ClaimDueMessages lists the due messages: one process holds the file, and
// its one worker leaves out of a claim the messages it is still
// delivering, so nothing needs a lease.
func (x *tx) ClaimDueMessages(now, _ time.Time, limit int) ([]core.Message, error) {
	return x.DueMessages(now, limit)
}
