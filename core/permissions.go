package core

import (
	"errors"
	"fmt"
)

// manage checks that a may manage the organization (instance admin, or its
// owner or a manager) and returns the role a acts with.
func (op *operation) manage(a Actor, orgID uint64) (Role, error) {
	if a.OrgID != 0 && a.OrgID != orgID {
		return "", forbidden("this API token belongs to another organization")
	}
	if a.Admin {
		return RoleOwner, nil
	}
	if a.UserID == 0 {
		return "", forbidden("sign in as an owner or manager first")
	}
	m, err := op.Member(orgID, a.UserID)
	if errors.Is(err, ErrNotFound) {
		return "", forbidden("you are not an owner or manager of this organization")
	}
	if err != nil {
		return "", err
	}
	if !m.Role.UsesConsole() {
		return "", forbidden("only owners and managers manage an organization; you are a %s", m.Role)
	}
	return m.Role, nil
}

// canSee reports whether a may manage the organization, without saying why
// not, and the role a acts with there.
func (op *operation) canSee(a Actor, orgID uint64) (Role, bool, error) {
	by, err := op.manage(a, orgID)
	if errors.Is(err, ErrForbidden) {
		return "", false, nil
	}
	return by, err == nil, err
}

// mayAssign says whether someone acting as by may change a role from one to
// another (from is "" for a new member). The owner changes only by transfer;
// only the owner grants or takes away the manager role.
func mayAssign(by, from, to Role) error {
	if to == RoleOwner || from == RoleOwner {
		return forbidden("the owner changes only by transferring ownership")
	}
	if by != RoleOwner && (to == RoleManager || from == RoleManager) {
		return forbidden("only the owner grants or removes the manager role")
	}
	return nil
}

// mayHandleLinks is the one check before anything creates, replaces,
// reveals, mails or ends a person's magic links (generate, rotate, copy,
// resend, deactivate, remove access, invite, bulk invite, grant): the
// links of owners and managers, and of invitees whose link carries one of
// those roles, are theirs or the owner's (or an instance admin's) to
// handle. A manager could otherwise copy or replace the owner's link and
// sign in as the owner. by is the role the actor acts with.
func mayHandleLinks(a Actor, by Role, pp portalPerson) error {
	if by == RoleOwner || pp.hasUser && pp.user.ID == a.UserID && a.UserID != 0 {
		return nil
	}
	if pp.holderRole().UsesConsole() {
		return forbidden("only the owner handles the links of owners and managers")
	}
	return nil
}

// portalFor finds a portal the actor may manage, and the role the actor
// acts with in its organization. A portal of an organization the actor
// cannot manage is reported as not found, so that nobody learns another
// organization's slugs.
func (op *operation) portalFor(a Actor, portalID uint64) (Portal, Role, error) {
	p, err := op.Portal(portalID)
	if err != nil {
		return Portal{}, "", notFoundAs(err, "portal", fmt.Sprint(portalID))
	}
	by, ok, err := op.canSee(a, p.OrgID)
	if err != nil {
		return Portal{}, "", err
	}
	if !ok {
		return Portal{}, "", notFound("portal", fmt.Sprint(portalID))
	}
	return p, by, nil
}

// orgFor finds an organization the actor may manage, and the role the
// actor acts with there; others are not found.
func (op *operation) orgFor(a Actor, orgID uint64) (Org, Role, error) {
	o, err := op.Org(orgID)
	if err != nil {
		return Org{}, "", notFoundAs(err, "organization", fmt.Sprint(orgID))
	}
	by, ok, err := op.canSee(a, orgID)
	if err != nil {
		return Org{}, "", err
	}
	if !ok {
		return Org{}, "", notFound("organization", fmt.Sprint(orgID))
	}
	return o, by, nil
}
