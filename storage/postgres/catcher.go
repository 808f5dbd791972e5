package postgres

import (
	"latchkey/core"
)

// The store of the built-in catcher. Like bbolt, it keeps the sealed form
// only: Raw is neither written nor read back.

const caughtColumns = `id, received_at, from_addr, to_addrs, subject, size, sealed`

func scanCaught(r row) (core.CaughtMail, error) {
	var m core.CaughtMail
	err := r.Scan(&m.ID, &m.ReceivedAt, &m.From, &m.To, &m.Subject, &m.Size, &m.Sealed)
	return m, err
}

func (x *tx) PutCaught(m *core.CaughtMail) error {
	args := []any{ts(m.ReceivedAt), m.From, m.To, m.Subject, m.Size, m.Sealed}
	if m.ID == 0 {
		return x.insertID(&m.ID, `INSERT INTO caught_mails (received_at, from_addr, to_addrs, subject, size, sealed)
			VALUES ($1, $2, coalesce($3, '{}'::text[]), $4, $5, coalesce($6, ''::bytea)) RETURNING id`, args...)
	}
	_, err := x.exec(`INSERT INTO caught_mails (id, received_at, from_addr, to_addrs, subject, size, sealed)
		VALUES ($7, $1, $2, coalesce($3, '{}'::text[]), $4, $5, coalesce($6, ''::bytea))
		ON CONFLICT (id) DO UPDATE SET received_at = EXCLUDED.received_at, from_addr = EXCLUDED.from_addr,
			to_addrs = EXCLUDED.to_addrs, subject = EXCLUDED.subject, size = EXCLUDED.size, sealed = EXCLUDED.sealed`,
		append(args, m.ID)...)
	return err
}

func (x *tx) Caught(id uint64) (core.CaughtMail, error) {
	return queryOne(x, scanCaught, `SELECT `+caughtColumns+` FROM caught_mails WHERE id = $1`, id)
}

func (x *tx) CaughtMails(beforeID uint64, limit int) ([]core.CaughtMail, error) {
	return queryAll(x, scanCaught, `SELECT `+caughtColumns+` FROM caught_mails
		WHERE ($1::bigint = 0 OR id < $1) ORDER BY id DESC LIMIT $2`, beforeID, limitOrAll(limit))
}

// TrimCaught deletes every message older than the keep newest. bbolt
// counts keep ids down from the newest, its ids having no gaps; a
// sequence's have (a transaction run again takes new ones), so the
// messages are counted here.
func (x *tx) TrimCaught(keep int) error {
	if keep < 0 { // bbolt: uint64(keep) is past every id
		return nil
	}
	_, err := x.exec(`DELETE FROM caught_mails
		WHERE id <= (SELECT id FROM caught_mails ORDER BY id DESC OFFSET $1 LIMIT 1)`, keep)
	return err
}
