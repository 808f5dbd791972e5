package storage

import (
	"bytes"
	"errors"

	"latchkey/core"
)

// The store of audit log.

func (x *tx) AppendEvent(e *core.Event) error {
	if e.ID != 0 {
		return errors.New("audit events are append-only")
	}
	if err := nextID(x.b(bAudit), &e.ID); err != nil {
		return err
	}
	if e.OrgID != 0 {
		if err := x.b(bAuditOrg).Put(cat(u64(e.OrgID), u64(e.ID)), nil); err != nil {
			return err
		}
	}
	return put(x.b(bAudit), u64(e.ID), e)
}

func (x *tx) Events(q core.AuditQuery) ([]core.Event, error) {
	var out []core.Event
	keep := func(id uint64) bool { return q.BeforeID == 0 || id < q.BeforeID }
	more := func() bool { return q.Limit == 0 || len(out) < q.Limit }
	if q.OrgID == 0 {
		return newestBefore[core.Event](x.b(bAudit), q.BeforeID, q.Limit)
	}
	c := x.b(bAuditOrg).Cursor()
	prefix := u64(q.OrgID)
	var k []byte
	if q.BeforeID == 0 {
		k, _ = seekLast(c, prefix)
	} else {
		k, _ = seekBefore(c, cat(prefix, u64(q.BeforeID)))
	}
	for ; k != nil && bytes.HasPrefix(k, prefix) && more(); k, _ = c.Prev() {
		id := idBytes(k)
		if !keep(id) {
			continue
		}
		e, err := get[core.Event](x.b(bAudit), u64(id))
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}
