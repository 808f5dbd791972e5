package postgres

import (
	"time"

	"latchkey/core"
)

// The store of single-use tokens, by hash. Token.Return is the column
// return_to. An empty optional hash (session_hash, code_mac) is written as
// NULL and so reads back nil, as bbolt's omitempty field does.

// tokenColumns are a token's columns, as scanToken reads them.
const tokenColumns = `hash, kind, email, user_id, invitation_id, session_hash, portal_id, return_to,
	link_id, code_mac, tries, request_id, created_at, expires_at, used_at`

func scanToken(r row) (core.Token, error) {
	var t core.Token
	err := r.Scan(&t.Hash, &t.Kind, &t.Email, &t.UserID, &t.InvitationID, &t.SessionHash, &t.PortalID, &t.Return,
		&t.LinkID, &t.CodeMAC, &t.Tries, &t.RequestID, &t.CreatedAt, &t.ExpiresAt, &t.UsedAt)
	return t, err
}

func (x *tx) Token(hash []byte) (core.Token, error) {
	return queryOne(x, scanToken, `SELECT `+tokenColumns+` FROM tokens WHERE hash = $1`, hash)
}

func (x *tx) PutToken(t core.Token) error {
	_, err := x.exec(`INSERT INTO tokens (`+tokenColumns+`)
		VALUES ($1, $2, $3, $4, $5, NULLIF($6, ''::bytea), $7, $8, $9, NULLIF($10, ''::bytea), $11, $12, $13, $14, $15)
		ON CONFLICT (hash) DO UPDATE SET kind = EXCLUDED.kind, email = EXCLUDED.email, user_id = EXCLUDED.user_id,
			invitation_id = EXCLUDED.invitation_id, session_hash = EXCLUDED.session_hash,
			portal_id = EXCLUDED.portal_id, return_to = EXCLUDED.return_to, link_id = EXCLUDED.link_id,
			code_mac = EXCLUDED.code_mac, tries = EXCLUDED.tries, request_id = EXCLUDED.request_id,
			created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at, used_at = EXCLUDED.used_at`,
		t.Hash, t.Kind, t.Email, t.UserID, t.InvitationID, t.SessionHash, t.PortalID, t.Return,
		t.LinkID, t.CodeMAC, t.Tries, t.RequestID, ts(t.CreatedAt), ts(t.ExpiresAt), ts(t.UsedAt))
	return err
}

// DeleteTokensBefore removes the tokens that expired strictly before t.
func (x *tx) DeleteTokensBefore(t time.Time) (int, error) {
	n, err := x.exec(`DELETE FROM tokens WHERE expires_at < $1`, ts(t))
	return int(n), err
}
