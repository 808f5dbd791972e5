package storage

import (
	"slices"
	"time"

	"latchkey/core"
)

// API tokens: id → token, with the hash of the secret and the
// organization as indexes.
var (
	bAPITokens     = []byte("api_tokens")         // id → APIToken
	bAPITokensHash = []byte("api_tokens_by_hash") // SHA-256 of the secret → id
	bAPITokensOrg  = []byte("api_tokens_by_org")  // org|id
)

var _ core.APITokenStore = (*tx)(nil)

type aPITokenRecord struct {
	ID         uint64       `json:"id"`
	OrgID      uint64       `json:"org_id"`
	Name       string       `json:"name"`
	Scopes     []core.Scope `json:"scopes"`
	Hash       []byte       `json:"hash"`
	CreatedBy  uint64       `json:"created_by,omitempty"`
	CreatorTag string       `json:"creator"`
	CreatedAt  time.Time    `json:"created_at"`
	ExpiresAt  time.Time    `json:"expires_at,omitzero"`
	LastUsedAt time.Time    `json:"last_used_at,omitzero"`
	RevokedAt  time.Time    `json:"revoked_at,omitzero"`
	RevokedBy  string       `json:"revoked_by,omitempty"`
}

// APIToken is read through the catalog cache: every API call reads its
// token. The scopes are copied, so no caller shares the cached slice.
func (x *tx) APIToken(id uint64) (core.APIToken, error) {
	t, err := cached(x, tokensOf, bAPITokens, id)
	t.Scopes = slices.Clone(t.Scopes)
	return t, err
}

func (x *tx) APITokenByHash(hash []byte) (core.APIToken, error) {
	id := x.b(bAPITokensHash).Get(hash)
	if id == nil {
		return core.APIToken{}, core.ErrNotFound
	}
	return x.APIToken(idBytes(id))
}

func (x *tx) PutAPIToken(t *core.APIToken) error {
	x.catalogWritten()
	b := x.b(bAPITokens)
	if err := nextID(b, &t.ID); err != nil {
		return err
	}
	id := u64(t.ID)
	if err := x.b(bAPITokensHash).Put(t.Hash, id); err != nil {
		return err
	}
	if err := x.b(bAPITokensOrg).Put(cat(u64(t.OrgID), id), nil); err != nil {
		return err
	}
	return put(b, id, t)
}

func (x *tx) APITokens(orgID uint64) ([]core.APIToken, error) {
	return listByPrefix[core.APIToken](x, bAPITokensOrg, bAPITokens, u64(orgID), false, 0)
}
