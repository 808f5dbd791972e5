package storage

import (
	"time"

	"latchkey/core"
)

// bIdempotency holds the API's idempotency keys: scope|key → record. They
// live a day, so pruning reads the whole bucket.
var bIdempotency = []byte("idempotency")

var _ core.IdempotencyStore = (*tx)(nil)

type idempotencyRecord struct {
	Key         string    `json:"key"`
	Fingerprint []byte    `json:"fingerprint"`
	CreatedAt   time.Time `json:"created_at"`
	Status      int       `json:"status,omitempty"`
	ContentType string    `json:"content_type,omitempty"`
	Body        []byte    `json:"body,omitempty"`
}

func (x *tx) IdempotencyRecord(key string) (core.IdempotencyRecord, error) {
	return get[core.IdempotencyRecord](x.b(bIdempotency), []byte(key))
}

func (x *tx) PutIdempotencyRecord(r core.IdempotencyRecord) error {
	return put(x.b(bIdempotency), []byte(r.Key), r)
}

func (x *tx) DeleteIdempotencyBefore(t time.Time) (int, error) {
	b := x.b(bIdempotency)
	var old [][]byte
	err := b.ForEach(func(k, v []byte) error {
		r, err := decode[core.IdempotencyRecord](v)
		if err != nil {
			return err
		}
		if r.CreatedAt.Before(t) {
			old = append(old, append([]byte(nil), k...))
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	for _, k := range old {
		if err := b.Delete(k); err != nil {
			return 0, err
		}
	}
	return len(old), nil
}
