package postgres

import (
	"time"

	"latchkey/core"
)

// The store of sessions, by hash. An empty Parent is written as NULL and
// so reads back nil, as bbolt's omitempty field does.

// sessionColumns are a session's columns, as scanSession reads them.
const sessionColumns = `hash, user_id, link_id, parent, created_at, last_seen_at, expires_at, addr, user_agent`

func scanSession(r row) (core.Session, error) {
	var s core.Session
	err := r.Scan(&s.Hash, &s.UserID, &s.LinkID, &s.Parent, &s.CreatedAt, &s.LastSeenAt, &s.ExpiresAt, &s.Addr, &s.UserAgent)
	return s, err
}

func (x *tx) NextSessionID() (uint64, error) {
	b := x.sessionIDs
	if b != nil {
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.next < b.end {
			b.next++
			return b.next - 1, nil
		}
	}
	var start uint64
	if err := x.t.QueryRow(x.ctx, `SELECT nextval('session_ids')`).Scan(&start); err != nil {
		return 0, err
	}
	if b != nil { // start is this block's first id; the block is start … start+63
		b.next, b.end = start+1, start+sessionIDBlock
	}
	return start, nil
}

func (x *tx) Session(hash []byte) (core.Session, error) {
	return queryOne(x, scanSession, `SELECT `+sessionColumns+` FROM sessions WHERE hash = $1`, hash)
}

func (x *tx) PutSession(s core.Session) error {
	_, err := x.exec(`INSERT INTO sessions (`+sessionColumns+`)
		VALUES ($1, $2, $3, NULLIF($4, ''::bytea), $5, $6, $7, $8, $9)
		ON CONFLICT (hash) DO UPDATE SET user_id = EXCLUDED.user_id, link_id = EXCLUDED.link_id,
			parent = EXCLUDED.parent, created_at = EXCLUDED.created_at, last_seen_at = EXCLUDED.last_seen_at,
			expires_at = EXCLUDED.expires_at, addr = EXCLUDED.addr, user_agent = EXCLUDED.user_agent`,
		s.Hash, s.UserID, s.LinkID, s.Parent, ts(s.CreatedAt), ts(s.LastSeenAt), ts(s.ExpiresAt), s.Addr, s.UserAgent)
	return err
}

// DeleteSession removes the session; there being none is no error.
func (x *tx) DeleteSession(hash []byte) error {
	_, err := x.exec(`DELETE FROM sessions WHERE hash = $1`, hash)
	return err
}

// SessionsOfUser lists the user's sessions by hash, the order of bbolt's
// index (user|hash); bytea compares as bytes, as bbolt's keys do.
func (x *tx) SessionsOfUser(userID uint64) ([]core.Session, error) {
	return queryAll(x, scanSession, `SELECT `+sessionColumns+` FROM sessions WHERE user_id = $1 ORDER BY hash`, userID)
}

// DeleteSessionsBefore removes the sessions whose expiry is at or before
// abs or that were last seen at or before idle.
func (x *tx) DeleteSessionsBefore(abs, idle time.Time) (int, error) {
	n, err := x.exec(`DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2`, ts(abs), ts(idle))
	return int(n), err
}
