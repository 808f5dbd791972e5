package postgres

import (
	"errors"
	"time"

	"latchkey/core"
)

// The store of the API's idempotency keys (scope|key → record).

const idempotencyColumns = `key, fingerprint, created_at, status, content_type, body`

func scanIdempotency(r row) (core.IdempotencyRecord, error) {
	var rec core.IdempotencyRecord
	err := r.Scan(&rec.Key, &rec.Fingerprint, &rec.CreatedAt, &rec.Status, &rec.ContentType, &rec.Body)
	if len(rec.Body) == 0 { // bbolt's JSON omits an empty body: it reads back nil
		rec.Body = nil
	}
	return rec, err
}

func (x *tx) IdempotencyRecord(key string) (core.IdempotencyRecord, error) {
	return queryOne(x, scanIdempotency, `SELECT `+idempotencyColumns+` FROM idempotency WHERE key = $1`, key)
}

func (x *tx) PutIdempotencyRecord(r core.IdempotencyRecord) error {
	if r.Key == "" {
		return errors.New("put idempotency record: key required") // bbolt refuses an empty key
	}
	_, err := x.exec(`INSERT INTO idempotency (`+idempotencyColumns+`)
		VALUES ($1, coalesce($2, ''::bytea), $3, $4, $5, $6)
		ON CONFLICT (key) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, created_at = EXCLUDED.created_at,
			status = EXCLUDED.status, content_type = EXCLUDED.content_type, body = EXCLUDED.body`,
		r.Key, r.Fingerprint, ts(r.CreatedAt), r.Status, r.ContentType, r.Body)
	return err
}

func (x *tx) DeleteIdempotencyBefore(t time.Time) (int, error) {
	n, err := x.exec(`DELETE FROM idempotency WHERE created_at < $1`, ts(t))
	return int(n), err
}
