package postgres

import (
	"errors"
	"time"

	"latchkey/core"
)

// The store of links and their histories. The partial unique index
// links_one_active holds "at most one active link per (portal, email)";
// PutLink checks it first, so that a conflict leaves the transaction usable.

// linkColumns are a link's columns, as scanLink reads them.
const linkColumns = `id, org_id, portal_id, email, role, guest_until, state, lookup, sealed,
	created_at, created_by, ended_at, ended_by, replaced_by, use_count, last_used_at, invited`

// linkSelect reads linkColumns with the counters as every read returns them:
// the stored ones plus the link's unfolded uses; a query adds its WHERE.
// The uses are counted in one lateral subquery with both aggregates: on
// its own, max(at) was planned as a backward scan of link_events_by_time
// filtered to the link (PostgreSQL's min/max rewrite), which read every
// newer event of every link, and its predicate locks turned concurrent
// redemptions' inserts into serialization failures (two nodes served 0.4
// of one). "IS TRUE" keeps the planner on link_events_by_link, the link's
// own range: with the partial index of every unfolded use
// (link_events_unfolded, the fold's) it would read that whole small
// index, with the same effect.
const linkSelect = `SELECT id, org_id, portal_id, email, role, guest_until, state, lookup, sealed,
	created_at, created_by, ended_at, ended_by, replaced_by,
	use_count + unfolded.uses, greatest(last_used_at, unfolded.last), invited
	FROM links CROSS JOIN LATERAL (SELECT count(*) AS uses, max(at) AS last
		FROM link_events u WHERE u.link_id = links.id AND u.unfolded IS TRUE) unfolded`

func scanLink(r row) (core.Link, error) {
	var l core.Link
	err := r.Scan(&l.ID, &l.OrgID, &l.PortalID, &l.Email, &l.Role, &l.GuestUntil, &l.State, &l.Lookup, &l.Sealed,
		&l.CreatedAt, &l.CreatedBy, &l.EndedAt, &l.EndedBy, &l.ReplacedBy, &l.UseCount, &l.LastUsedAt, &l.Invited)
	if len(l.Sealed) == 0 {
		l.Sealed = nil // as bbolt's codec reads an empty field
	}
	return l, err
}

// linkArgs are the arguments of every column but id, in linkColumns' order
// (the statements write a nil Sealed as empty: the column is NOT NULL).
func linkArgs(l *core.Link) []any {
	return []any{l.OrgID, l.PortalID, l.Email, l.Role, ts(l.GuestUntil), l.State, l.Lookup, l.Sealed,
		ts(l.CreatedAt), l.CreatedBy, ts(l.EndedAt), l.EndedBy, l.ReplacedBy, l.UseCount, ts(l.LastUsedAt), l.Invited}
}

func (x *tx) Link(id uint64) (core.Link, error) {
	return queryOne(x, scanLink, linkSelect+` WHERE id = $1`, id)
}

func (x *tx) LinkByLookup(lookup []byte) (core.Link, error) {
	if lookup == nil {
		return core.Link{}, core.ErrNotFound
	}
	return queryOne(x, scanLink, linkSelect+` WHERE lookup = $1`, lookup)
}

func (x *tx) ActiveLink(portalID uint64, email string) (core.Link, error) {
	return queryOne(x, scanLink, linkSelect+`
		WHERE portal_id = $1 AND email = $2 AND state = 'active'`, portalID, email)
}

func (x *tx) LatestLink(portalID uint64, email string) (core.Link, error) {
	return queryOne(x, scanLink, linkSelect+`
		WHERE portal_id = $1 AND email = $2 ORDER BY id DESC LIMIT 1`, portalID, email)
}

func (x *tx) PutLink(l *core.Link) error {
	if len(l.Lookup) == 0 {
		return errors.New("a link needs its lookup hash")
	}
	if l.State == core.LinkActive {
		// Another link, by lookup as bbolt's index compares them.
		taken, err := x.exists(`SELECT 1 FROM links
			WHERE portal_id = $1 AND email = $2 AND state = 'active' AND lookup <> $3`, l.PortalID, l.Email, l.Lookup)
		if err != nil {
			return err
		}
		if taken {
			return conflict("%s has an active link for this portal already", l.Email)
		}
	}
	dup, err := x.exists(`SELECT 1 FROM links WHERE lookup = $1 AND id <> $2`, l.Lookup, l.ID)
	if err != nil {
		return err
	}
	if dup {
		return conflict("duplicate link token")
	}
	if l.ID == 0 {
		return x.insertID(&l.ID, `INSERT INTO links (org_id, portal_id, email, role, guest_until, state, lookup, sealed,
			created_at, created_by, ended_at, ended_by, replaced_by, use_count, last_used_at, invited)
			VALUES ($1, $2, $3, $4, $5, $6, $7, coalesce($8, ''::bytea), $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id`, linkArgs(l)...)
	}
	_, err = x.exec(`INSERT INTO links (`+linkColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, coalesce($9, ''::bytea), $10, $11, $12, $13, $14, $15, $16, $17)
		ON CONFLICT (id) DO UPDATE SET org_id = EXCLUDED.org_id, portal_id = EXCLUDED.portal_id,
			email = EXCLUDED.email, role = EXCLUDED.role, guest_until = EXCLUDED.guest_until,
			state = EXCLUDED.state, lookup = EXCLUDED.lookup, sealed = EXCLUDED.sealed,
			created_at = EXCLUDED.created_at, created_by = EXCLUDED.created_by, ended_at = EXCLUDED.ended_at,
			ended_by = EXCLUDED.ended_by, replaced_by = EXCLUDED.replaced_by, invited = EXCLUDED.invited`,
		append([]any{l.ID}, linkArgs(l)...)...)
	return err
}

func (x *tx) Links(portalID uint64) ([]core.Link, error) {
	return queryAll(x, scanLink, linkSelect+` WHERE portal_id = $1 ORDER BY id`, portalID)
}

// linkEventColumns are a link event's columns, as scanLinkEvent reads them.
const linkEventColumns = `id, link_id, kind, at, actor, addr, user_agent, method, cookies, detail`

func scanLinkEvent(r row) (core.LinkEvent, error) {
	var e core.LinkEvent
	err := r.Scan(&e.ID, &e.LinkID, &e.Kind, &e.At, &e.Actor, &e.Addr, &e.UserAgent, &e.Method, &e.Cookies, &e.Detail)
	return e, err
}

func (x *tx) PutLinkEvent(e *core.LinkEvent) error {
	if e.ID != 0 {
		return errors.New("link events are append-only")
	}
	return x.insertID(&e.ID, `INSERT INTO link_events (link_id, kind, at, actor, addr, user_agent, method, cookies, detail)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
		e.LinkID, e.Kind, ts(e.At), e.Actor, e.Addr, e.UserAgent, e.Method, e.Cookies, e.Detail)
}

// PutLinkUse appends a use to the link's history, marked unfolded.
func (x *tx) PutLinkUse(e *core.LinkEvent) error {
	if e.ID != 0 {
		return errors.New("link uses are append-only")
	}
	return x.insertID(&e.ID, `INSERT INTO link_events (link_id, kind, at, actor, addr, user_agent, method, cookies, detail, unfolded)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, true) RETURNING id`,
		e.LinkID, e.Kind, ts(e.At), e.Actor, e.Addr, e.UserAgent, e.Method, e.Cookies, e.Detail)
}

// FoldLinkUses folds the oldest unfolded uses in one statement; SKIP
// LOCKED leaves the uses another node is folding to it.
func (x *tx) FoldLinkUses(limit int) (int, error) {
	var n int
	err := x.t.QueryRow(x.ctx, `WITH u AS (
			UPDATE link_events SET unfolded = false WHERE id IN (
				SELECT id FROM link_events WHERE unfolded ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
			RETURNING link_id, at),
		g AS (SELECT link_id, count(*) AS n, max(at) AS last FROM u GROUP BY link_id),
		l AS (UPDATE links SET use_count = links.use_count + g.n, last_used_at = greatest(links.last_used_at, g.last)
			FROM g WHERE links.id = g.link_id RETURNING 1)
		SELECT coalesce(sum(n), 0) FROM g`, limit).Scan(&n)
	return n, err
}

func (x *tx) LinkEvents(linkID uint64) ([]core.LinkEvent, error) {
	return queryAll(x, scanLinkEvent, `SELECT `+linkEventColumns+` FROM link_events WHERE link_id = $1 ORDER BY id`, linkID)
}

func (x *tx) DeleteLinkEventsBefore(t time.Time) (int, error) {
	n, err := x.exec(`DELETE FROM link_events WHERE at < $1 AND NOT unfolded`, ts(t))
	return int(n), err
}
