package postgres

import (
	"encoding/json"
	"fmt"
	"time"

	"latchkey/core"
)

// The store of the mail outbox.

const messageColumns = `id, org_id, kind, to_addr, to_name, data, link_path, link_id, lang, sealed_token,
	state, attempts, next_attempt_at, last_error, created_at, sent_at`

// pendingMessage is the predicate of the messages_due index, as literals,
// so that the planner matches the index whatever the plan.
const pendingMessage = `state IN ('` + string(core.MessageQueued) + `', '` + string(core.MessageRetrying) + `')`

func scanMessage(r row) (core.Message, error) {
	var m core.Message
	var data []byte
	err := r.Scan(&m.ID, &m.OrgID, &m.Kind, &m.To, &m.ToName, &data, &m.LinkPath, &m.LinkID, &m.Lang, &m.SealedToken,
		&m.State, &m.Attempts, &m.NextAttemptAt, &m.LastError, &m.CreatedAt, &m.SentAt)
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(data, &m.Data); err != nil {
		return m, fmt.Errorf("decode message %d's data: %w", m.ID, err)
	}
	// bbolt's JSON omits an empty map and an empty token: they read back nil.
	if len(m.Data) == 0 {
		m.Data = nil
	}
	if len(m.SealedToken) == 0 {
		m.SealedToken = nil
	}
	return m, nil
}

func (x *tx) Message(id uint64) (core.Message, error) {
	return queryOne(x, scanMessage, `SELECT `+messageColumns+` FROM messages WHERE id = $1`, id)
}

func (x *tx) PutMessage(m *core.Message) error {
	data := []byte(`{}`)
	if len(m.Data) > 0 {
		var err error
		if data, err = json.Marshal(m.Data); err != nil {
			return fmt.Errorf("encode message data: %w", err)
		}
	}
	args := []any{m.OrgID, m.Kind, m.To, m.ToName, string(data), m.LinkPath, m.LinkID, m.Lang, m.SealedToken,
		m.State, m.Attempts, ts(m.NextAttemptAt), m.LastError, ts(m.CreatedAt), ts(m.SentAt)}
	if m.ID == 0 {
		return x.insertID(&m.ID, `INSERT INTO messages (org_id, kind, to_addr, to_name, data, link_path, link_id, lang,
				sealed_token, state, attempts, next_attempt_at, last_error, created_at, sent_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id`, args...)
	}
	_, err := x.exec(`INSERT INTO messages (id, org_id, kind, to_addr, to_name, data, link_path, link_id, lang,
			sealed_token, state, attempts, next_attempt_at, last_error, created_at, sent_at)
		VALUES ($16, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
		ON CONFLICT (id) DO UPDATE SET org_id = EXCLUDED.org_id, kind = EXCLUDED.kind, to_addr = EXCLUDED.to_addr,
			to_name = EXCLUDED.to_name, data = EXCLUDED.data, link_path = EXCLUDED.link_path,
			link_id = EXCLUDED.link_id, lang = EXCLUDED.lang, sealed_token = EXCLUDED.sealed_token,
			state = EXCLUDED.state, attempts = EXCLUDED.attempts, next_attempt_at = EXCLUDED.next_attempt_at,
			last_error = EXCLUDED.last_error, created_at = EXCLUDED.created_at, sent_at = EXCLUDED.sent_at`,
		append(args, m.ID)...)
	return err
}

// DueMessages orders by next attempt, then id, as bbolt's due index does
// (which files every time before 1970, the zero time included, at 1970,
// and so orders those by id alone).
func (x *tx) DueMessages(now time.Time, limit int) ([]core.Message, error) {
	return queryAll(x, scanMessage, `SELECT `+messageColumns+` FROM messages
		WHERE `+pendingMessage+` AND next_attempt_at <= $1
		ORDER BY next_attempt_at, id LIMIT $2`, ts(now), limitOrAll(limit))
}

func (x *tx) NextDue() (time.Time, error) {
	var next *time.Time
	// A message another node has leased is due to this one when the lease
	// ends, not before: the worker would otherwise spin on it.
	if err := x.t.QueryRow(x.ctx, `SELECT min(greatest(next_attempt_at, leased_until)) FROM messages WHERE `+pendingMessage).Scan(&next); err != nil {
		return time.Time{}, err
	}
	return dueSince(next), nil
}

func (x *tx) Messages(beforeID uint64, limit int) ([]core.Message, error) {
	return queryAll(x, scanMessage, `SELECT `+messageColumns+` FROM messages
		WHERE ($1::bigint = 0 OR id < $1) ORDER BY id DESC LIMIT $2`, beforeID, limitOrAll(limit))
}

// dueSince is the earliest next attempt as bbolt's due indexes tell it
// (the outbox's and the webhook deliveries'): zero when nothing is pending,
// 1970, their first key, for an earlier time or none set.
func dueSince(next *time.Time) time.Time {
	switch epoch := time.Unix(0, 0).UTC(); {
	case next == nil:
		return time.Time{}
	case next.Before(epoch):
		return epoch
	}
	return *next
}
