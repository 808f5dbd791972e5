package core

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// IssuedLink is a freshly created (or revealed) magic link with its token.
type IssuedLink struct {
	Link  Link
	Token string
	URL   string
}

// linkSpec is what a new link grants.
type linkSpec struct {
	portal     Portal
	email      string
	role       Role
	guestUntil time.Time
	invited    bool // an invitation's link (see AccessRules.InviteLifetime)
}

// issueLink creates an active link for (portal, email), replacing the active
// one if there is one: the old link stops working and its sessions end.
func (op *operation) issueLink(a Actor, spec linkSpec) (IssuedLink, error) {
	token, err := NewToken(op.s.rand)
	if err != nil {
		return IssuedLink{}, err
	}
	old, err := op.Tx.ActiveLink(spec.portal.ID, spec.email) // one the rules stopped too: it holds the place
	replacing := err == nil
	if err != nil && !errors.Is(err, ErrNotFound) {
		return IssuedLink{}, err
	}
	if replacing {
		if err := op.endLink(&old, LinkReplaced, a); err != nil {
			return IssuedLink{}, err
		}
	}
	l := Link{
		OrgID: spec.portal.OrgID, PortalID: spec.portal.ID, Email: spec.email,
		Role: spec.role, GuestUntil: spec.guestUntil, State: LinkActive,
		Lookup: op.s.keys.Lookup(token), Sealed: op.s.keys.Seal(token, sealLink),
		CreatedAt: op.now, CreatedBy: a.label(), Invited: spec.invited,
	}
	if err := op.PutLink(&l); err != nil {
		return IssuedLink{}, err
	}
	if err := op.linkEvent(LinkEvent{LinkID: l.ID, Kind: LinkEventCreated, Actor: a.label(), Detail: "as " + string(l.Role)}); err != nil {
		return IssuedLink{}, err
	}
	if err := op.know(l.OrgID, l.Email); err != nil {
		return IssuedLink{}, err
	}
	detail := "portal " + spec.portal.Slug
	if replacing {
		detail += fmt.Sprintf(", replacing link %d", old.ID)
	}
	if err := op.emit(l.OrgID, EventLinkCreated, webhookData{Portal: spec.portal.Slug, Email: l.Email, Actor: a.label(),
		Action: "link.created", Detail: detail, LinkID: l.ID, Role: l.Role}); err != nil {
		return IssuedLink{}, err
	}
	if replacing {
		old.ReplacedBy = l.ID
		if err := op.PutLink(&old); err != nil {
			return IssuedLink{}, err
		}
	}
	op.changed(Change{Kind: ChangeLinkChanged, OrgID: l.OrgID, PortalID: l.PortalID})
	return IssuedLink{Link: l, Token: token, URL: op.s.LinkURL(token)}, nil
}

// endLink deactivates or replaces a link and ends the sessions it opened.
func (op *operation) endLink(l *Link, state LinkState, a Actor) error {
	l.State, l.EndedAt, l.EndedBy = state, op.now, a.label()
	if err := op.PutLink(l); err != nil {
		return err
	}
	kind := LinkEventDeactivated
	if state == LinkReplaced {
		kind = LinkEventReplaced
	}
	if err := op.linkEvent(LinkEvent{LinkID: l.ID, Kind: kind, Actor: a.label()}); err != nil {
		return err
	}
	op.changed(Change{Kind: ChangeLinkChanged, OrgID: l.OrgID, PortalID: l.PortalID})
	// A link's sessions belong to the account of its email: redeeming is
	// the only way a link opens one, and it opens it there.
	u, err := op.UserByEmail(l.Email)
	if errors.Is(err, ErrNotFound) { // never redeemed: no sessions
		return nil
	}
	if err != nil {
		return err
	}
	sessions, err := op.SessionsOfUser(u.ID)
	if err != nil {
		return err
	}
	for _, s := range sessions {
		if s.LinkID != l.ID {
			continue
		}
		if err := op.DeleteSession(s.Hash); err != nil {
			return err
		}
	}
	return nil
}

// revealLink opens an active link's sealed token.
func (op *operation) revealLink(l Link) (IssuedLink, error) {
	token, err := op.s.keys.Open(l.Sealed, sealLink)
	if err != nil {
		return IssuedLink{}, err
	}
	return IssuedLink{Link: l, Token: token, URL: op.s.LinkURL(token)}, nil
}

// revokeAccess removes a person's access to a portal, deactivates their
// active link there and ends every session of theirs (sessions belong to a
// person, not a portal; they sign in again for the portals they keep).
// userID is 0 for an invitee without an account.
func (op *operation) revokeAccess(a Actor, p Portal, email string, userID uint64) error {
	if userID != 0 {
		if err := op.DeleteAccess(p.ID, userID); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		if err := op.endSessionsOf(userID); err != nil {
			return err
		}
	}
	// The link stored as active, one the rules stopped too: lifting the
	// rule must not bring back the link of someone whose access was removed.
	l, err := op.Tx.ActiveLink(p.ID, email)
	switch {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		return err
	default:
		if err := op.endLink(&l, LinkDeactivated, a); err != nil {
			return err
		}
	}
	op.changed(Change{Kind: ChangeAccessChanged, OrgID: p.OrgID, PortalID: p.ID})
	return nil
}

// portalPerson is what a portal knows of one email: account, membership,
// access and links.
type portalPerson struct {
	email     string
	user      User
	hasUser   bool
	member    Member
	isMember  bool
	hasAccess bool
	active    Link
	hasActive bool
	anyLink   bool
	lastLink  Link
}

// orgPerson is what an organization knows of one email: account and
// membership (person without a portal).
func (op *operation) orgPerson(orgID uint64, email string) (portalPerson, error) {
	pp := portalPerson{email: email}
	u, err := op.UserByEmail(email)
	switch {
	case err == nil:
		pp.user, pp.hasUser = u, true
		m, err := op.Member(orgID, u.ID)
		if err == nil {
			pp.member, pp.isMember = m, true
		} else if !errors.Is(err, ErrNotFound) {
			return pp, err
		}
	case !errors.Is(err, ErrNotFound):
		return pp, err
	}
	return pp, nil
}

func (op *operation) person(p Portal, email string) (portalPerson, error) {
	pp, err := op.orgPerson(p.OrgID, email)
	if err != nil {
		return pp, err
	}
	if pp.hasUser {
		u := pp.user
		if _, err := op.Access(p.ID, u.ID); err == nil {
			pp.hasAccess = true
		} else if !errors.Is(err, ErrNotFound) {
			return pp, err
		}
	}
	l, err := op.ActiveLink(p.ID, email)
	if err == nil {
		pp.active, pp.hasActive, pp.anyLink, pp.lastLink = l, true, true, l
	} else if !errors.Is(err, ErrNotFound) {
		return pp, err
	}
	if !pp.anyLink {
		l, err := op.LatestLink(p.ID, email)
		if err == nil {
			pp.anyLink, pp.lastLink = true, l
		} else if !errors.Is(err, ErrNotFound) {
			return pp, err
		}
	}
	return pp, nil
}

// entitled reports whether the person may open the portal right now: an
// account with access (a guest before their end date), or an active link.
func (pp portalPerson) entitled(now time.Time) bool {
	if pp.isMember {
		if pp.member.Expired(now) {
			return false
		}
		return pp.hasAccess || pp.hasActive
	}
	// Not a member (yet): only an active link entitles, and a guest link
	// only before its end date.
	if !pp.hasActive {
		return pp.hasAccess
	}
	l := pp.active
	return l.Role != RoleGuest || l.GuestUntil.IsZero() || now.Before(l.GuestUntil)
}

// holderRole is the role the person holds here: their membership's, or
// for an invitee who is not a member yet, their latest link's.
func (pp portalPerson) holderRole() Role {
	switch {
	case pp.isMember:
		return pp.member.Role
	case pp.anyLink:
		return pp.lastLink.Role
	}
	return ""
}

// roleForNewLink is the role a new link for this person carries: their
// current role in the organization, else their last link's, else client.
func (pp portalPerson) roleForNewLink() (Role, time.Time) {
	switch {
	case pp.isMember:
		return pp.member.Role, pp.member.GuestUntil
	case pp.anyLink:
		return pp.lastLink.Role, pp.lastLink.GuestUntil
	}
	return RoleClient, time.Time{}
}

// linkTarget resolves the portal and person an owner or manager acts on,
// and the role the actor acts with. The links of owners and managers are
// theirs or the owner's to handle: a manager could otherwise copy the
// owner's link and sign in as the owner.
func (op *operation) linkTarget(a Actor, portalID uint64, rawEmail string) (Portal, string, portalPerson, Role, error) {
	email, err := NormalizeEmail(rawEmail)
	if err != nil {
		return Portal{}, "", portalPerson{}, "", err
	}
	p, by, err := op.portalFor(a, portalID)
	if err != nil {
		return Portal{}, "", portalPerson{}, "", err
	}
	pp, err := op.person(p, email)
	if err != nil {
		return Portal{}, "", portalPerson{}, "", err
	}
	if err := mayHandleLinks(a, by, pp); err != nil {
		return Portal{}, "", portalPerson{}, "", err
	}
	return p, email, pp, by, nil
}

// activeLinkTarget is linkTarget for a person who must have an active link.
func (op *operation) activeLinkTarget(a Actor, portalID uint64, rawEmail string) (Portal, string, portalPerson, error) {
	p, email, pp, _, err := op.linkTarget(a, portalID, rawEmail)
	if err == nil {
		err = needsActiveLink(pp)
	}
	return p, email, pp, err
}

func (op *operation) portalMail(kind MailKind, p Portal, to, toName string, data map[string]string, il IssuedLink) error {
	return op.portalMailTo(kind, p, to, toName, data, "/m/", il.Token, il.Link.ID)
}

// portalMailTo queues a mail about a portal whose button leads to
// linkPath+secret (no button without a secret).
func (op *operation) portalMailTo(kind MailKind, p Portal, to, toName string, data map[string]string, linkPath, secret string, linkID uint64) error {
	org, err := op.Org(p.OrgID)
	if err != nil {
		return err
	}
	d := map[string]string{"org": org.Name, "portal": p.Title, "slug": p.Slug}
	for k, v := range data {
		d[k] = v
	}
	m := Message{OrgID: p.OrgID, Kind: kind, To: to, ToName: toName, Data: d, LinkID: linkID, Lang: p.LanguageIn(org)}
	if secret != "" {
		m.LinkPath = linkPath
	}
	return op.queue(m, secret)
}

// GenerateLink creates a new magic link for someone who has access to the
// portal or had a link there: any active link is replaced (it stops working
// at once and its sessions end). The link is emailed; the result carries it
// for the clipboard.
func (s *Links) GenerateLink(ctx context.Context, a Actor, portalID uint64, email string) (IssuedLink, error) {
	var il IssuedLink
	err := s.write(ctx, func(op *operation) error {
		p, email, pp, by, err := op.linkTarget(a, portalID, email)
		if err != nil {
			return err
		}
		if err := mayGenerate(by, pp, op.now); err != nil {
			return err
		}
		role, until := pp.roleForNewLink()
		issued, err := op.issueLink(a, linkSpec{portal: p, email: email, role: role, guestUntil: until})
		if err != nil {
			return err
		}
		if err := op.portalMail(MailNewLink, p, email, pp.user.Name, map[string]string{"by": a.inviter()}, issued); err != nil {
			return err
		}
		action := "link.generated"
		if pp.hasActive {
			action = "link.rotated"
		}
		il = issued
		return op.auditPortal(a, p, action, email, "portal "+p.Slug)
	})
	return il, err
}

// DeactivateLink ends the person's active link: it stops working at once and
// the sessions opened through it end. Their portal access stays.
func (s *Links) DeactivateLink(ctx context.Context, a Actor, portalID uint64, email string) error {
	return s.write(ctx, func(op *operation) error {
		p, email, pp, err := op.activeLinkTarget(a, portalID, email)
		if err != nil {
			return err
		}
		if err := op.endLink(&pp.active, LinkDeactivated, a); err != nil {
			return err
		}
		return op.auditPortal(a, p, "link.deactivated", email, "portal "+p.Slug)
	})
}

// RevealLink returns the person's active link again, for copying. Each
// reveal is audited.
func (s *Links) RevealLink(ctx context.Context, a Actor, portalID uint64, email string) (IssuedLink, error) {
	var il IssuedLink
	err := s.write(ctx, func(op *operation) error {
		p, email, pp, err := op.activeLinkTarget(a, portalID, email)
		if err != nil {
			return err
		}
		revealed, err := op.revealLink(pp.active)
		if err != nil {
			return err
		}
		il = revealed
		return op.auditPortal(a, p, "link.copied", email, "portal "+p.Slug)
	})
	return il, err
}

// ResendLink emails the person's active link again.
func (s *Links) ResendLink(ctx context.Context, a Actor, portalID uint64, email string) error {
	return s.write(ctx, func(op *operation) error {
		p, email, pp, err := op.activeLinkTarget(a, portalID, email)
		if err != nil {
			return err
		}
		il, err := op.revealLink(pp.active)
		if err != nil {
			return err
		}
		if err := op.portalMail(MailNewLink, p, email, pp.user.Name, map[string]string{"by": a.inviter()}, il); err != nil {
			return err
		}
		return op.auditPortal(a, p, "link.resent", email, "portal "+p.Slug)
	})
}

// RemoveAccess takes away a person's access to the portal; their active
// link is deactivated and the sessions it opened end.
func (s *People) RemoveAccess(ctx context.Context, a Actor, portalID uint64, email string) error {
	return s.write(ctx, func(op *operation) error {
		p, email, pp, _, err := op.linkTarget(a, portalID, email)
		if err != nil {
			return err
		}
		if err := hasAccessToRemove(pp); err != nil {
			return err
		}
		if err := op.revokeAccess(a, p, email, pp.user.ID); err != nil {
			return err
		}
		return op.auditPortal(a, p, "access.removed", email, "portal "+p.Slug)
	})
}
