package core

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// Idempotency keys: a client that retries a request with the same key
// gets the first answer and changes nothing more. The key is claimed in
// the same transaction as the first change the request makes, so a
// request that committed a change can never run again under its key, even
// when the process dies before its answer was stored.

// IdempotencyTTL is how long a key and its answer are kept.
const IdempotencyTTL = 24 * time.Hour

// IdempotencyRecord is a claimed key and, once the request finished, its
// answer.
type IdempotencyRecord struct {
	Key         string    `json:"key"`         // scope|key, as Idempotency.StoreKey
	Fingerprint []byte    `json:"fingerprint"` // of the request: method, path, body
	CreatedAt   time.Time `json:"created_at"`
	Status      int       `json:"status,omitempty"` // 0: claimed, answer not stored yet
	ContentType string    `json:"content_type,omitempty"`
	Body        []byte    `json:"body,omitempty"`
}

// IdempotencyStore holds idempotency records by key.
type IdempotencyStore interface {
	IdempotencyRecord(key string) (IdempotencyRecord, error)
	PutIdempotencyRecord(r IdempotencyRecord) error
	// DeleteIdempotencyBefore removes the records created before t; it
	// returns how many.
	DeleteIdempotencyBefore(t time.Time) (int, error)
}

// Idempotency is one request's key: Scope keeps the keys of different
// clients apart (an API token's id), Fingerprint tells a retry from a
// different request that reuses the key.
type Idempotency struct {
	Scope, Key  string
	Fingerprint []byte
	claimed     atomic.Bool
}

// StoreKey is the key's record key.
func (k *Idempotency) StoreKey() string { return k.Scope + "|" + k.Key }

// ErrIdempotencyReplay: the key was claimed by an earlier request (see
// ReplayError).
var ErrIdempotencyReplay = errors.New("idempotency key already used")

// ReplayError carries the earlier request's record. It matches
// ErrIdempotencyReplay.
type ReplayError struct{ Record IdempotencyRecord }

func (e *ReplayError) Error() string {
	return fmt.Sprintf("%v: a request with this Idempotency-Key was made at %s", ErrIdempotencyReplay, e.Record.CreatedAt.Format(time.RFC3339))
}

// Is makes errors.Is(err, ErrIdempotencyReplay) true.
func (e *ReplayError) Is(target error) bool { return target == ErrIdempotencyReplay }

type idemCtxKey struct{}

// WithIdempotency makes the first write of every operation run with ctx
// claim the key in its transaction; a write that finds the key claimed
// changes nothing and fails with a *ReplayError.
func WithIdempotency(ctx context.Context, k *Idempotency) context.Context {
	return context.WithValue(ctx, idemCtxKey{}, k)
}

func idempotencyOf(ctx context.Context) *Idempotency {
	k, _ := ctx.Value(idemCtxKey{}).(*Idempotency)
	return k
}

// claim records the key in the transaction, or fails with the record
// that holds it. A key the same request claimed before (an operation of
// several transactions) is left alone.
func (op *operation) claim(k *Idempotency) error {
	if k == nil || k.claimed.Load() {
		return nil
	}
	r, err := op.IdempotencyRecord(k.StoreKey())
	switch {
	case err == nil && !op.now.After(r.CreatedAt.Add(IdempotencyTTL)):
		return &ReplayError{Record: r}
	case err != nil && !errors.Is(err, ErrNotFound):
		return err
	}
	return op.PutIdempotencyRecord(IdempotencyRecord{Key: k.StoreKey(), Fingerprint: k.Fingerprint, CreatedAt: op.now})
}

// IdempotentAnswer is the stored record of the key, if a request claimed
// it in the last IdempotencyTTL (ErrNotFound otherwise).
func (s *engine) IdempotentAnswer(ctx context.Context, k *Idempotency) (IdempotencyRecord, error) {
	var r IdempotencyRecord
	err := s.read(ctx, func(op *operation) error {
		var err error
		r, err = op.IdempotencyRecord(k.StoreKey())
		if err == nil && op.now.After(r.CreatedAt.Add(IdempotencyTTL)) {
			return ErrNotFound
		}
		return err
	})
	if err == nil && len(r.Body) > 0 {
		// Answers may carry secrets (a new webhook's, a revealed link):
		// they are kept sealed.
		body, oerr := s.keys.Open(r.Body, sealIdempotency)
		if oerr != nil {
			return IdempotencyRecord{}, oerr
		}
		r.Body = []byte(body)
	}
	return r, err
}

// SameRequest reports whether the record was made by a request with this
// fingerprint.
func (r IdempotencyRecord) SameRequest(k *Idempotency) bool {
	return bytes.Equal(r.Fingerprint, k.Fingerprint)
}

// StoreIdempotentAnswer keeps the answer to the request that holds the key
// (claiming it now when the request changed nothing), so that a retry
// gets it.
func (s *engine) StoreIdempotentAnswer(ctx context.Context, k *Idempotency, status int, contentType string, body []byte) error {
	return s.store.Update(ctx, func(tx Tx) error {
		r, err := tx.IdempotencyRecord(k.StoreKey())
		if errors.Is(err, ErrNotFound) {
			r = IdempotencyRecord{Key: k.StoreKey(), Fingerprint: k.Fingerprint, CreatedAt: s.now()}
		} else if err != nil {
			return err
		}
		if r.Status != 0 {
			return nil // a concurrent request with the key answered first
		}
		r.Status, r.ContentType, r.Body = status, contentType, nil
		if len(body) > 0 {
			r.Body = s.keys.Seal(string(body), sealIdempotency)
		}
		return tx.PutIdempotencyRecord(r)
	})
}
