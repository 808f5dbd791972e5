package storage

import (
	"latchkey/core"
)

// The store of invitations.

func (x *tx) Invitation(id uint64) (core.Invitation, error) {
	return get[core.Invitation](x.b(bInvitations), u64(id))
}

func (x *tx) LatestInvitation(orgID uint64, email string) (core.Invitation, error) {
	return getByIndex[core.Invitation](x, bInvitationsLatest, bInvitations, cat(u64(orgID), []byte(email)))
}

func (x *tx) PutInvitation(inv *core.Invitation) error {
	isNew := inv.ID == 0
	if err := nextID(x.b(bInvitations), &inv.ID); err != nil {
		return err
	}
	if isNew {
		if err := x.b(bInvitationsLatest).Put(cat(u64(inv.OrgID), []byte(inv.Email)), u64(inv.ID)); err != nil {
			return err
		}
		if err := x.b(bInvitationsOrg).Put(cat(u64(inv.OrgID), u64(inv.ID)), nil); err != nil {
			return err
		}
		if err := x.b(bInvitationsEmail).Put(cat(orgEmail(inv.OrgID, inv.Email), u64(inv.ID)), nil); err != nil {
			return err
		}
	}
	return put(x.b(bInvitations), u64(inv.ID), inv)
}

// orgEmail is the prefix org|email|0: the NUL ends the email (emails hold no
// control characters), so one email's prefix never matches a longer one's.
func orgEmail(orgID uint64, email string) []byte { return cat(u64(orgID), []byte(email), []byte{0}) }

func (x *tx) InvitationsOf(orgID uint64, email string) ([]core.Invitation, error) {
	return listByPrefix[core.Invitation](x, bInvitationsEmail, bInvitations, orgEmail(orgID, email), false, 0)
}

func (x *tx) Invitations(orgID uint64) ([]core.Invitation, error) {
	return listByPrefix[core.Invitation](x, bInvitationsOrg, bInvitations, u64(orgID), true, 0)
}
