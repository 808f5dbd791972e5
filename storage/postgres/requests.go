package postgres

import (
	"latchkey/core"
)

// The store of access requests.

// requestColumns are a request's columns, as scanRequest reads them.
const requestColumns = `id, org_id, portal_id, email, state, count, created_at, last_at, notified_at, addr,
	resolved_at, resolved_by`

func scanRequest(r row) (core.Request, error) {
	var q core.Request
	err := r.Scan(&q.ID, &q.OrgID, &q.PortalID, &q.Email, &q.State, &q.Count, &q.CreatedAt, &q.LastAt, &q.NotifiedAt,
		&q.Addr, &q.ResolvedAt, &q.ResolvedBy)
	return q, err
}

// requestArgs are the arguments of every column but id, in requestColumns' order.
func requestArgs(q *core.Request) []any {
	return []any{q.OrgID, q.PortalID, q.Email, q.State, q.Count, ts(q.CreatedAt), ts(q.LastAt), ts(q.NotifiedAt),
		q.Addr, ts(q.ResolvedAt), q.ResolvedBy}
}

func (x *tx) Request(id uint64) (core.Request, error) {
	return queryOne(x, scanRequest, `SELECT `+requestColumns+` FROM requests WHERE id = $1`, id)
}

// LatestRequest is the newest request for (portal, email).
func (x *tx) LatestRequest(portalID uint64, email string) (core.Request, error) {
	return queryOne(x, scanRequest, `SELECT `+requestColumns+` FROM requests
		WHERE portal_id = $1 AND email = $2 ORDER BY id DESC LIMIT 1`, portalID, email)
}

func (x *tx) PutRequest(q *core.Request) error {
	if q.ID == 0 {
		return x.insertID(&q.ID, `INSERT INTO requests (org_id, portal_id, email, state, count, created_at, last_at,
			notified_at, addr, resolved_at, resolved_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`, requestArgs(q)...)
	}
	_, err := x.exec(`INSERT INTO requests (`+requestColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
		ON CONFLICT (id) DO UPDATE SET org_id = EXCLUDED.org_id, portal_id = EXCLUDED.portal_id,
			email = EXCLUDED.email, state = EXCLUDED.state, count = EXCLUDED.count, created_at = EXCLUDED.created_at,
			last_at = EXCLUDED.last_at, notified_at = EXCLUDED.notified_at, addr = EXCLUDED.addr,
			resolved_at = EXCLUDED.resolved_at, resolved_by = EXCLUDED.resolved_by`,
		append([]any{q.ID}, requestArgs(q)...)...)
	return err
}

// Requests lists the organization's requests, newest first.
func (x *tx) Requests(orgID uint64) ([]core.Request, error) {
	return queryAll(x, scanRequest, `SELECT `+requestColumns+` FROM requests WHERE org_id = $1 ORDER BY id DESC`, orgID)
}
