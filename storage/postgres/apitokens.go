package postgres

import (
	"errors"

	"latchkey/core"
)

// The store of API tokens, by id, with the hash of the secret and the
// organization indexed.

const apiTokenColumns = `id, org_id, name, scopes, hash, created_by, creator, created_at,
	expires_at, last_used_at, revoked_at, revoked_by`

func scanAPIToken(r row) (core.APIToken, error) {
	var t core.APIToken
	var scopes []string
	err := r.Scan(&t.ID, &t.OrgID, &t.Name, &scopes, &t.Hash, &t.CreatedBy, &t.CreatorTag, &t.CreatedAt,
		&t.ExpiresAt, &t.LastUsedAt, &t.RevokedAt, &t.RevokedBy)
	if scopes != nil {
		t.Scopes = make([]core.Scope, len(scopes))
		for i, s := range scopes {
			t.Scopes[i] = core.Scope(s)
		}
	}
	return t, err
}

func (x *tx) APIToken(id uint64) (core.APIToken, error) {
	return queryOne(x, scanAPIToken, `SELECT `+apiTokenColumns+` FROM api_tokens WHERE id = $1`, id)
}

func (x *tx) APITokenByHash(hash []byte) (core.APIToken, error) {
	return queryOne(x, scanAPIToken, `SELECT `+apiTokenColumns+` FROM api_tokens WHERE hash = $1`, hash)
}

func (x *tx) PutAPIToken(t *core.APIToken) error {
	if len(t.Hash) == 0 {
		return errors.New("put api token: key required") // bbolt refuses an empty key in its hash index
	}
	scopes := make([]string, len(t.Scopes))
	for i, s := range t.Scopes {
		scopes[i] = string(s)
	}
	args := []any{t.OrgID, t.Name, scopes, t.Hash, t.CreatedBy, t.CreatorTag, ts(t.CreatedAt),
		ts(t.ExpiresAt), ts(t.LastUsedAt), ts(t.RevokedAt), t.RevokedBy}
	if t.ID == 0 {
		return x.insertID(&t.ID, `INSERT INTO api_tokens (org_id, name, scopes, hash, created_by, creator, created_at,
				expires_at, last_used_at, revoked_at, revoked_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`, args...)
	}
	_, err := x.exec(`INSERT INTO api_tokens (id, org_id, name, scopes, hash, created_by, creator, created_at,
			expires_at, last_used_at, revoked_at, revoked_by)
		VALUES ($12, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
		ON CONFLICT (id) DO UPDATE SET org_id = EXCLUDED.org_id, name = EXCLUDED.name, scopes = EXCLUDED.scopes,
			hash = EXCLUDED.hash, created_by = EXCLUDED.created_by, creator = EXCLUDED.creator,
			created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at,
			last_used_at = EXCLUDED.last_used_at, revoked_at = EXCLUDED.revoked_at, revoked_by = EXCLUDED.revoked_by`,
		append(args, t.ID)...)
	return err
}

// APITokens lists an organization's tokens by id, oldest first.
func (x *tx) APITokens(orgID uint64) ([]core.APIToken, error) {
	return queryAll(x, scanAPIToken, `SELECT `+apiTokenColumns+` FROM api_tokens WHERE org_id = $1 ORDER BY id`, orgID)
}
