package storage

import (
	"encoding/binary"

	"latchkey/core"
)

// The store of the built-in catcher.

func (x *tx) PutCaught(m *core.CaughtMail) error {
	if err := nextID(x.b(bCaught), &m.ID); err != nil {
		return err
	}
	return put(x.b(bCaught), u64(m.ID), m)
}

func (x *tx) Caught(id uint64) (core.CaughtMail, error) {
	return get[core.CaughtMail](x.b(bCaught), u64(id))
}

func (x *tx) CaughtMails(beforeID uint64, limit int) ([]core.CaughtMail, error) {
	return newestBefore[core.CaughtMail](x.b(bCaught), beforeID, limit)
}

func (x *tx) TrimCaught(keep int) error {
	// Ids grow by one per message, so everything at or below newest-keep goes.
	b := x.b(bCaught)
	c := b.Cursor()
	last, _ := c.Last()
	if last == nil || binary.BigEndian.Uint64(last) <= uint64(keep) {
		return nil
	}
	cutoff := binary.BigEndian.Uint64(last) - uint64(keep)
	var old [][]byte
	for k, _ := c.First(); k != nil && binary.BigEndian.Uint64(k) <= cutoff; k, _ = c.Next() {
		old = append(old, append([]byte(nil), k...))
	}
	for _, k := range old {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}
