package postgres

import (
	"latchkey/core"
)

// The store of invitations. An empty TokenHash is written as NULL and so
// reads back nil, as bbolt's omitempty field does.

// invitationColumns are an invitation's columns, as scanInvitation reads them.
const invitationColumns = `id, org_id, portal_id, email, name, role, guest_until, state, link_id, token_hash,
	invited_by, created_at, expires_at, accepted_at`

func scanInvitation(r row) (core.Invitation, error) {
	var inv core.Invitation
	err := r.Scan(&inv.ID, &inv.OrgID, &inv.PortalID, &inv.Email, &inv.Name, &inv.Role, &inv.GuestUntil, &inv.State,
		&inv.LinkID, &inv.TokenHash, &inv.InvitedBy, &inv.CreatedAt, &inv.ExpiresAt, &inv.AcceptedAt)
	return inv, err
}

// invitationArgs are the arguments of every column but id, in
// invitationColumns' order.
func invitationArgs(inv *core.Invitation) []any {
	return []any{inv.OrgID, inv.PortalID, inv.Email, inv.Name, inv.Role, ts(inv.GuestUntil), inv.State,
		inv.LinkID, inv.TokenHash, inv.InvitedBy, ts(inv.CreatedAt), ts(inv.ExpiresAt), ts(inv.AcceptedAt)}
}

func (x *tx) Invitation(id uint64) (core.Invitation, error) {
	return queryOne(x, scanInvitation, `SELECT `+invitationColumns+` FROM invitations WHERE id = $1`, id)
}

// LatestInvitation is the newest invitation of email to the organization.
func (x *tx) LatestInvitation(orgID uint64, email string) (core.Invitation, error) {
	return queryOne(x, scanInvitation, `SELECT `+invitationColumns+` FROM invitations
		WHERE org_id = $1 AND email = $2 ORDER BY id DESC LIMIT 1`, orgID, email)
}

func (x *tx) PutInvitation(inv *core.Invitation) error {
	if inv.ID == 0 {
		return x.insertID(&inv.ID, `INSERT INTO invitations (org_id, portal_id, email, name, role, guest_until, state,
			link_id, token_hash, invited_by, created_at, expires_at, accepted_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULLIF($9, ''::bytea), $10, $11, $12, $13) RETURNING id`,
			invitationArgs(inv)...)
	}
	_, err := x.exec(`INSERT INTO invitations (`+invitationColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULLIF($10, ''::bytea), $11, $12, $13, $14)
		ON CONFLICT (id) DO UPDATE SET org_id = EXCLUDED.org_id, portal_id = EXCLUDED.portal_id,
			email = EXCLUDED.email, name = EXCLUDED.name, role = EXCLUDED.role, guest_until = EXCLUDED.guest_until,
			state = EXCLUDED.state, link_id = EXCLUDED.link_id, token_hash = EXCLUDED.token_hash,
			invited_by = EXCLUDED.invited_by, created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at,
			accepted_at = EXCLUDED.accepted_at`,
		append([]any{inv.ID}, invitationArgs(inv)...)...)
	return err
}

// InvitationsOf lists the invitations of email to the organization, oldest first.
func (x *tx) InvitationsOf(orgID uint64, email string) ([]core.Invitation, error) {
	return queryAll(x, scanInvitation, `SELECT `+invitationColumns+` FROM invitations
		WHERE org_id = $1 AND email = $2 ORDER BY id`, orgID, email)
}

// Invitations lists the organization's invitations, newest first.
func (x *tx) Invitations(orgID uint64) ([]core.Invitation, error) {
	return queryAll(x, scanInvitation, `SELECT `+invitationColumns+` FROM invitations
		WHERE org_id = $1 ORDER BY id DESC`, orgID)
}
