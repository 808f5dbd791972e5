package storage

import (
	"time"

	"latchkey/core"
)

// The store of single-use tokens.

func (x *tx) Token(hash []byte) (core.Token, error) { return get[core.Token](x.b(bTokens), hash) }

func (x *tx) PutToken(t core.Token) error { return put(x.b(bTokens), t.Hash, t) }

func (x *tx) DeleteTokensBefore(t time.Time) (int, error) {
	var dead [][]byte
	err := x.b(bTokens).ForEach(func(k, v []byte) error {
		tok, err := decode[core.Token](v)
		if err != nil {
			return err
		}
		if tok.ExpiresAt.Before(t) {
			dead = append(dead, append([]byte(nil), k...))
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	for _, k := range dead {
		if err := x.b(bTokens).Delete(k); err != nil {
			return 0, err
		}
	}
	return len(dead), nil
}
