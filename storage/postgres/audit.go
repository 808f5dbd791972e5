package postgres

import (
	"errors"
	"math"

	"latchkey/core"
)

// The audit log: append-only.

// eventColumns are an audit event's columns, as scanEvent reads them.
const eventColumns = `id, at, org_id, portal_id, actor, source, action, target, detail`

func scanEvent(r row) (core.Event, error) {
	var e core.Event
	err := r.Scan(&e.ID, &e.At, &e.OrgID, &e.PortalID, &e.Actor, &e.Source, &e.Action, &e.Target, &e.Detail)
	return e, err
}

func (x *tx) AppendEvent(e *core.Event) error {
	if e.ID != 0 {
		return errors.New("audit events are append-only")
	}
	return x.insertID(&e.ID, `INSERT INTO events (at, org_id, portal_id, actor, source, action, target, detail)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
		ts(e.At), e.OrgID, e.PortalID, e.Actor, e.Source, e.Action, e.Target, e.Detail)
}

// Events lists events newest first: of one organization (or of all when
// q.OrgID is 0), below q.BeforeID when it is not 0, at most q.Limit (0: all).
func (x *tx) Events(q core.AuditQuery) ([]core.Event, error) {
	before := q.BeforeID
	if before == 0 || before > math.MaxInt64 {
		before = math.MaxInt64 // every id: ids are bigint
	}
	if q.OrgID == 0 {
		return queryAll(x, scanEvent, `SELECT `+eventColumns+` FROM events
			WHERE id < $1 ORDER BY id DESC LIMIT $2`, before, limitOrAll(q.Limit))
	}
	if q.Limit < 0 {
		return nil, nil // as bbolt's walk of one organization's index, which stops at once
	}
	return queryAll(x, scanEvent, `SELECT `+eventColumns+` FROM events
		WHERE org_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3`, q.OrgID, before, limitOrAll(q.Limit))
}
