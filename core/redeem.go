package core

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// PortalRef is a portal with its project and organization, as pages show it.
type PortalRef struct {
	Org     Org
	Project Project
	Portal  Portal
}

func (op *operation) portalRef(p Portal) (PortalRef, error) {
	org, err := op.Org(p.OrgID)
	if err != nil {
		return PortalRef{}, err
	}
	proj, err := op.Project(p.ProjectID)
	if err != nil {
		return PortalRef{}, err
	}
	return PortalRef{Org: org, Project: proj, Portal: p}, nil
}

// Landing is what the landing page of a magic link shows.
type Landing struct {
	PortalRef
	Email    string
	State    LinkState
	SignedIn *User // the person the browser's session belongs to, if any
	// Requested: the link was asked for with Send access link (or Send me
	// my links), not made by an invitation or by the organization.
	Requested bool
	// Used: the link was opened (Open portal pressed) at least once.
	Used bool
	// LinkID is the link's, for its history (NoteView).
	LinkID uint64
}

func (op *operation) linkByToken(token string) (Link, error) {
	if !WellFormedToken(token) {
		return Link{}, ErrLinkUnknown
	}
	l, err := op.LinkByLookup(op.s.keys.Lookup(token))
	if errors.Is(err, ErrNotFound) {
		return Link{}, ErrLinkUnknown
	}
	return l, err
}

// Landing looks a magic link up without changing anything. For an unknown
// or malformed token it fails with ErrLinkUnknown; for a deactivated or
// replaced link it returns the link's portal together with ErrLinkInactive,
// so that the page can offer that portal's Send-access-link form. A valid
// session id (optional) fills in who the browser is signed in as.
func (s *Links) Landing(ctx context.Context, token, sessionID string) (Landing, error) {
	var l Landing
	err := s.read(ctx, func(op *operation) error {
		if sessionID != "" {
			if si, err := op.session(sessionID); err == nil {
				l.SignedIn = &si.User
			}
		}
		link, err := op.linkByToken(token)
		if err != nil {
			return err
		}
		p, err := op.Portal(link.PortalID)
		if err != nil {
			return err
		}
		if l.PortalRef, err = op.portalRef(p); err != nil {
			return err
		}
		l.Email, l.State, l.LinkID = link.Email, link.State, link.ID
		l.Requested, l.Used = link.CreatedBy == visitorLabel, link.UseCount > 0
		if link.State != LinkActive {
			return ErrLinkInactive
		}
		return nil
	})
	return l, err
}

// Redemption is the result of pressing Open portal.
type Redemption struct {
	PortalRef
	SignIn
	Created bool // the account was created by this redemption
}

// Redeem opens a portal with a magic link, in one transaction: the account
// is created if there is none; a person who is not yet a member joins with
// the link's role (a member keeps the role they have); they get access to
// the portal and a new session; the link's use is counted.
func (s *Links) Redeem(ctx context.Context, token string, v Visitor) (Redemption, error) {
	// Refuse unknown and dead links in a read transaction first: a failing
	// function in a shared commit makes every other one in it run again.
	if err := s.read(ctx, func(op *operation) error {
		link, err := op.linkByToken(token)
		if err == nil && link.State != LinkActive {
			err = ErrLinkInactive
		}
		return err
	}); err != nil {
		return Redemption{}, err
	}
	return writeResult(s.engine, ctx, func(op *operation) (Redemption, error) { return op.redeem(token, v, true) })
}

func (op *operation) redeem(token string, v Visitor, withSession bool) (Redemption, error) {
	link, err := op.linkByToken(token)
	if err != nil {
		return Redemption{}, err
	}
	return op.redeemLink(link, v, withSession)
}

// redeemLink is a redemption of the link, however it was proved: its token,
// or the code of its email typed in the browser that asked for it.
func (op *operation) redeemLink(link Link, v Visitor, withSession bool) (Redemption, error) {
	if link.State != LinkActive {
		return Redemption{}, ErrLinkInactive
	}
	p, err := op.Portal(link.PortalID)
	if err != nil {
		return Redemption{}, err
	}
	ref, err := op.portalRef(p)
	if err != nil {
		return Redemption{}, err
	}
	a := v.actor(link.Email)
	name := ""
	if inv, err := op.LatestInvitation(link.OrgID, link.Email); err == nil && inv.PortalID == link.PortalID {
		name = inv.Name // the invitation may predate a rotation of its link
		if inv.State == InvitationPending {
			inv.State, inv.AcceptedAt = InvitationAccepted, op.now
			if err := op.PutInvitation(&inv); err != nil {
				return Redemption{}, err
			}
		}
	}
	u, created, err := op.findOrCreateUser(link.Email, name)
	if err != nil {
		return Redemption{}, err
	}
	m, err := op.Member(link.OrgID, u.ID)
	switch {
	case errors.Is(err, ErrNotFound):
		m = Member{OrgID: link.OrgID, UserID: u.ID, Role: link.Role, GuestUntil: link.GuestUntil, CreatedAt: op.now}
		if m.Expired(op.now) {
			return Redemption{}, guestEnded(m)
		}
		if err := op.PutMember(m); err != nil {
			return Redemption{}, err
		}
		if err := op.audit(a, link.OrgID, "member.joined", link.Email, "as "+string(m.Role)+" through a magic link"); err != nil {
			return Redemption{}, err
		}
	case err != nil:
		return Redemption{}, err
	case m.Expired(op.now):
		return Redemption{}, guestEnded(m)
	}
	if _, err := op.Access(p.ID, u.ID); errors.Is(err, ErrNotFound) {
		if err := op.PutAccess(Access{PortalID: p.ID, UserID: u.ID, GrantedAt: op.now, Via: "link"}); err != nil {
			return Redemption{}, err
		}
	} else if err != nil {
		return Redemption{}, err
	}
	// The use is appended, not written into the link: the link's counters,
	// as every read returns them, include it at once (LinkStore).
	use := LinkEvent{LinkID: link.ID, Kind: LinkEventRedeemed, At: op.now, Addr: v.Addr, UserAgent: clipTo(v.UserAgent, 200), Method: "POST"}
	if err := op.PutLinkUse(&use); err != nil {
		return Redemption{}, err
	}
	op.s.folds.note(op.s)
	link.UseCount++
	r := Redemption{PortalRef: ref, Created: created}
	if withSession {
		if r.SignIn, err = op.startSession(u, link.ID, v); err != nil {
			return Redemption{}, err
		}
	} else {
		r.SignIn.User = u
	}
	op.changed(Change{Kind: ChangeLinkRedeemed, OrgID: link.OrgID, PortalID: p.ID})
	return r, op.auditPortal(a, p, "link.redeemed", link.Email, fmt.Sprintf("portal %s, use %d", p.Slug, link.UseCount))
}

func guestEnded(m Member) error {
	return fmt.Errorf("%w: your guest access ended on %s", ErrNoAccess, m.GuestUntil.Format(time.DateOnly))
}

// PortalView is what /p/{slug} needs: the portal and, when a valid session
// came with the request, who is signed in and whether they have access.
type PortalView struct {
	PortalRef
	User *User // nil: nobody signed in
	Role Role  // the user's role in the organization, "" if none
	// HasAccess: the signed-in user is a member with access (and, as a
	// guest, before their end date). Open portals may be viewed without it.
	HasAccess bool
	// MayView: the visitor sees the portal (with access, or open to all).
	MayView bool
	Session Session
	// Content is the built-in page's content, for a portal without an
	// upstream that the visitor may see (with access, or open to all).
	Content PortalContent
}

// OpenPortal looks a portal up by slug for a visitor with an optional
// session id. It changes nothing.
func (s *Portals) OpenPortal(ctx context.Context, slug, sessionID string) (PortalView, error) {
	var pv PortalView
	err := s.read(ctx, func(op *operation) error {
		p, err := op.PortalBySlug(slug)
		if err != nil {
			return notFoundAs(err, "portal", clip(slug))
		}
		if pv.PortalRef, err = op.portalRef(p); err != nil {
			return err
		}
		if sessionID != "" {
			si, err := op.session(sessionID)
			switch {
			case err == nil:
				pv.User, pv.Session = &si.User, si.Session
				if pv.Role, pv.HasAccess, err = op.userAccess(p, si.User); err != nil {
					return err
				}
			case !errors.Is(err, ErrNoSession):
				return err
			}
		}
		pv.MayView = mayView(p, pv.HasAccess)
		if p.Upstream == "" && pv.MayView {
			pv.Content, err = op.content(p)
		}
		return err
	})
	return pv, err
}

// userAccess reports a user's role in the portal's organization and whether
// they may open the portal now.
func (op *operation) userAccess(p Portal, u User) (Role, bool, error) {
	m, err := op.Member(p.OrgID, u.ID)
	if errors.Is(err, ErrNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	if m.Expired(op.now) {
		return m.Role, false, nil
	}
	if _, err := op.Access(p.ID, u.ID); errors.Is(err, ErrNotFound) {
		return m.Role, false, nil
	} else if err != nil {
		return "", false, err
	}
	return m.Role, true, nil
}

// MyPortal is one portal a signed-in user may open.
type MyPortal struct {
	PortalRef
	Role Role
}

// UserPortals lists the portals the user may open now.
func (s *Portals) UserPortals(ctx context.Context, userID uint64) ([]MyPortal, error) {
	var out []MyPortal
	err := s.read(ctx, func(op *operation) error {
		u, err := op.User(userID)
		if err != nil {
			return err
		}
		acc, err := op.AccessOf(userID)
		if err != nil {
			return err
		}
		for _, a := range acc {
			p, err := op.Portal(a.PortalID)
			if err != nil {
				continue
			}
			role, ok, err := op.userAccess(p, u)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			ref, err := op.portalRef(p)
			if err != nil {
				return err
			}
			out = append(out, MyPortal{PortalRef: ref, Role: role})
		}
		return nil
	})
	return out, err
}
