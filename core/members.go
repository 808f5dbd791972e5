package core

import (
	"context"
	"errors"
	"sort"
	"time"
)

// The people of a portal and of an organization, as the console and the SSH
// commands list them, each with the actions the actor may take.

// PortalMember is one row of a portal project's members screen: an account
// with access, or an email that has (or had) a link there. The link fields
// describe the current link: the active one, or the latest.
type PortalMember struct {
	Email      string
	Name       string
	UserID     uint64 // 0: no account yet (invited, link not used)
	Role       Role   // the membership's role; for an invitee, the link's
	IsMember   bool
	GuestUntil time.Time
	Expired    bool // a guest whose end date has passed
	HasAccess  bool
	AccessAt   time.Time
	LinkState  LinkState // "" when the email never had a link here
	LinkAt     time.Time // when the current link was created
	LastUsedAt time.Time // the current link's last redemption
	UseCount   uint64    // the current link's redemptions
	// LinkEnded is why the portal's rules stopped the current link ("used 5
	// of 5", "expired 3 Dec 2026"); "" when they did not.
	LinkEnded string
	Note      AddressNote
	Actions   MemberActions // what the actor who listed them may do
}

// The words every adapter (console, SSH text and JSON, README) uses for a
// person's access and link.
const (
	AccessYes     = "yes"     // an account with access
	AccessInvited = "invited" // an active link not opened yet: access on first use
	AccessEnded   = "ended"   // a guest past their end date
	AccessNo      = "no"

	LinkNone        = "none"
	LinkWordActive  = "active"
	LinkWordEnded   = "deactivated" // deactivated, or replaced without a successor
	LinkWordExpired = "expired"     // stopped by the portal's rules (LinkEnded says which)
)

// AccessWord is the person's access to the portal in the shared words.
func (pm PortalMember) AccessWord() string {
	switch {
	case pm.Expired:
		return AccessEnded
	case pm.HasAccess:
		return AccessYes
	case pm.LinkState == LinkActive:
		return AccessInvited
	}
	return AccessNo
}

// LinkWord is the state of the person's current link in the shared words.
func (pm PortalMember) LinkWord() string { return LinkStateWord(pm.LinkState) }

// LinkStateWord is a link's state in the shared words ("" is none).
func LinkStateWord(s LinkState) string {
	switch s {
	case "":
		return LinkNone
	case LinkActive:
		return LinkWordActive
	case LinkExpired:
		return LinkWordExpired
	}
	return LinkWordEnded
}

// LinkText is the current link's state as the console and the SSH
// commands show it: why the rules stopped it, else its word.
func (pm PortalMember) LinkText() string {
	if pm.LinkEnded != "" {
		return pm.LinkEnded
	}
	return pm.LinkWord()
}

// AccessText is the person's access as the console and the SSH commands
// show it: a guest's with the day it ended ("ended 1 Dec 2026").
func (pm PortalMember) AccessText() string {
	if pm.Expired && !pm.GuestUntil.IsZero() {
		return AccessEnded + " " + pm.GuestUntil.Format("2 Jan 2006")
	}
	return pm.AccessWord()
}

// RoleIn is the role a acts with in the organization: owner for an instance
// admin; an error when a may not manage it.
func (s *People) RoleIn(ctx context.Context, a Actor, orgID uint64) (Role, error) {
	return readResult(s.engine, ctx, func(op *operation) (Role, error) { return op.manage(a, orgID) })
}

// PortalMembers lists everyone with access to a portal or a link for it, by email.
func (s *People) PortalMembers(ctx context.Context, a Actor, portalID uint64) ([]PortalMember, error) {
	var out []PortalMember
	err := s.read(ctx, func(op *operation) error {
		p, by, err := op.portalFor(a, portalID)
		if err != nil {
			return err
		}
		out, err = op.portalPeople(p, func(pp portalPerson) MemberActions { return memberActions(a, by, pp, op.now) })
		return err
	})
	return out, err
}

// portalCounts is what the projects screen shows of portalPeople: how many
// people have access or an active link (their latest), and how many have
// such a link; without looking up each one's account and membership.
func (op *operation) portalCounts(p Portal) (people, active int, err error) {
	counted := map[string]bool{}
	acc, err := op.AccessList(p.ID)
	if err != nil {
		return 0, 0, err
	}
	for _, a := range acc {
		u, err := op.User(a.UserID)
		if err != nil {
			return 0, 0, err
		}
		counted[u.Email] = true
	}
	links, err := op.Links(p.ID)
	if err != nil {
		return 0, 0, err
	}
	latest := map[string]LinkState{}
	for _, l := range links { // oldest first: the last one seen per email is the latest
		latest[l.Email] = l.State
	}
	for email, state := range latest {
		if state == LinkActive {
			active++
			counted[email] = true
		}
	}
	return len(counted), active, nil
}

// With actions, each row carries the actions it returns for that person.
func (op *operation) portalPeople(p Portal, actions func(portalPerson) MemberActions) ([]PortalMember, error) {
	byEmail := map[string]*PortalMember{}
	people := map[string]*portalPerson{} // what the rules see of each row
	get := func(email string) *PortalMember {
		pm := byEmail[email]
		if pm == nil {
			pm = &PortalMember{Email: email}
			byEmail[email] = pm
			people[email] = &portalPerson{email: email}
		}
		return pm
	}
	acc, err := op.AccessList(p.ID)
	if err != nil {
		return nil, err
	}
	for _, a := range acc {
		u, err := op.User(a.UserID)
		if err != nil {
			return nil, err
		}
		pm := get(u.Email)
		pm.HasAccess, pm.AccessAt = true, a.GrantedAt
		people[u.Email].hasAccess = true
	}
	links, err := op.Tx.Links(p.ID)
	if err != nil {
		return nil, err
	}
	for _, l := range links { // oldest first: the last one seen per email is the latest
		pm := get(l.Email)
		op.linkFields(p, pm, people[l.Email], l)
	}
	out := make([]PortalMember, 0, len(byEmail))
	for email, pm := range byEmail {
		if err := op.finishMember(p, pm, people[email], actions); err != nil {
			return nil, err
		}
		out = append(out, *pm)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Email < out[j].Email })
	return out, nil
}

// linkFields sets what a portal member row shows of their latest link.
func (op *operation) linkFields(p Portal, pm *PortalMember, pp *portalPerson, l Link) {
	pm.LinkEnded = ""
	if end, stopped := p.Rules.LinkEnd(l, op.now); stopped {
		pm.LinkEnded = end.String()
	}
	l = ruledBy(p, l, op.now)
	pm.LinkState, pm.LinkAt, pm.Role, pm.GuestUntil = l.State, l.CreatedAt, l.Role, l.GuestUntil
	pm.UseCount, pm.LastUsedAt = l.UseCount, l.LastUsedAt
	pp.anyLink, pp.lastLink = true, l
	if l.State == LinkActive {
		pp.active, pp.hasActive = l, true
	}
}

// finishMember completes a portal member row from the person's account,
// membership or invitation, and the actions on them.
func (op *operation) finishMember(p Portal, pm *PortalMember, pp *portalPerson, actions func(portalPerson) MemberActions) error {
	email := pm.Email
	u, err := op.UserByEmail(email)
	if err == nil {
		pm.UserID, pm.Name = u.ID, u.Name
		pp.user, pp.hasUser = u, true
		if m, err := op.Member(p.OrgID, u.ID); err == nil {
			pm.IsMember, pm.Role, pm.GuestUntil, pm.Expired = true, m.Role, m.GuestUntil, m.Expired(op.now)
			pp.member, pp.isMember = m, true
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
	} else if errors.Is(err, ErrNotFound) { // no account yet: the name they were invited by
		if inv, err := op.LatestInvitation(p.OrgID, email); err == nil {
			pm.Name = inv.Name
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
	} else {
		return err
	}
	if pm.Note, err = op.noteAddress(p.OrgID, email); err != nil {
		return err
	}
	if actions != nil {
		pm.Actions = actions(*pp)
	}
	return nil
}

// PortalMember is one row of PortalMembers: the person with this email,
// or a not-found error when they have neither access nor a link there.
func (s *People) PortalMember(ctx context.Context, a Actor, portalID uint64, rawEmail string) (PortalMember, error) {
	email, err := NormalizeEmail(rawEmail)
	if err != nil {
		return PortalMember{}, err
	}
	return readResult(s.engine, ctx, func(op *operation) (PortalMember, error) {
		p, by, err := op.portalFor(a, portalID)
		if err != nil {
			return PortalMember{}, err
		}
		pm, pp := &PortalMember{Email: email}, &portalPerson{email: email}
		if u, err := op.UserByEmail(email); err == nil {
			if acc, err := op.Access(p.ID, u.ID); err == nil {
				pm.HasAccess, pm.AccessAt, pp.hasAccess = true, acc.GrantedAt, true
			} else if !errors.Is(err, ErrNotFound) {
				return PortalMember{}, err
			}
		} else if !errors.Is(err, ErrNotFound) {
			return PortalMember{}, err
		}
		if l, err := op.LatestLink(p.ID, email); err == nil {
			op.linkFields(p, pm, pp, l)
		} else if !errors.Is(err, ErrNotFound) {
			return PortalMember{}, err
		}
		if !pm.HasAccess && !pp.anyLink {
			return PortalMember{}, notFound("person in portal "+p.Slug, email)
		}
		err = op.finishMember(p, pm, pp, func(pp portalPerson) MemberActions { return memberActions(a, by, pp, op.now) })
		return *pm, err
	})
}

// OrgMember is a member of an organization with their account.
type OrgMember struct {
	User    User
	Member  Member
	Keys    []SSHKey
	Actions OrgMemberActions // what the actor who listed them may do
}

// Members lists an organization's members, owner first, then by email.
func (s *People) Members(ctx context.Context, a Actor, orgID uint64) ([]OrgMember, error) {
	var out []OrgMember
	err := s.read(ctx, func(op *operation) error {
		if _, _, err := op.orgFor(a, orgID); err != nil {
			return err
		}
		ms, err := op.Members(orgID)
		if err != nil {
			return err
		}
		for _, m := range ms {
			u, err := op.User(m.UserID)
			if err != nil {
				return err
			}
			om := OrgMember{User: u, Member: m}
			if m.Role.UsesConsole() {
				if om.Keys, err = op.SSHKeysOf(u.ID); err != nil {
					return err
				}
				keys := op.mayManageKeys(a, u)
				if keys != nil && !errors.Is(keys, ErrForbidden) {
					return keys
				}
				om.Actions.ManageKeys = decide(keys)
			} else {
				om.Actions.ManageKeys = Refused("only owners and managers have SSH keys")
			}
			out = append(out, om)
		}
		return nil
	})
	sort.Slice(out, func(i, j int) bool {
		ri, rj := roleRank(out[i].Member.Role), roleRank(out[j].Member.Role)
		if ri != rj {
			return ri < rj
		}
		return out[i].User.Email < out[j].User.Email
	})
	return out, err
}

func roleRank(r Role) int {
	for i, known := range Roles {
		if r == known {
			return i
		}
	}
	return len(Roles)
}
