package storage

import (
	"time"

	"latchkey/core"
)

// The store of single-use tokens.

func (x *tx) Token(hash []byte) (core.Token, error) { return get[core.Token](x.b(bTokens), hash) }

func (x *tx) PutToken(t core.Token) error { return put(x.b(bTokens), t.Hash, t) }

func (x *tx) DeleteTokensBefore(t time.Time) (int, error) {
	return deleteWhere(x.b(bTokens), func(tok core.Token) bool { return tok.ExpiresAt.Before(t) }, x.b(bTokens).Delete)
}
