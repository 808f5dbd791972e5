package core

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// InviteInput is an invitation to an organization, optionally with a portal.
type InviteInput struct {
	OrgID      uint64
	Email      string
	Name       string
	Role       Role
	PortalID   uint64    // 0: no portal (the email carries a join link)
	GuestUntil time.Time // guests only: when their access ends
	// SkipExisting makes inviting someone who is already a member (and, with
	// a portal, already has access or an active link) or who has a pending
	// invitation a no-op that reports Skipped, for bulk re-runs.
	SkipExisting bool
	// Replace confirms that an active link of the email for the portal is
	// to be replaced (it stops working). Without it, such an invitation
	// fails with a *ConfirmationError and changes nothing.
	Replace bool
}

// InviteResult says what an invitation did.
type InviteResult struct {
	Invitation Invitation
	Link       *IssuedLink // with a portal: the new magic link
	// Role is the role the person has in the organization once they open
	// the link: the invitation's, or the one a member keeps (a link never
	// changes a member's role).
	Role     Role
	KeptRole bool   // the person is a member already and keeps Role
	Replaced bool   // an active link was replaced
	Skipped  bool   // SkipExisting applied
	Reason   string // why it was skipped
}

// Invite invites an email to an organization with a role. With a portal it
// creates a magic link (replacing an active one) and queues the invitation
// with an Open portal button; without, it queues a join link that is single
// use and expires after 7 days.
func (s *People) Invite(ctx context.Context, a Actor, in InviteInput) (InviteResult, error) {
	email, err := NormalizeEmail(in.Email)
	if err != nil {
		return InviteResult{}, err
	}
	name, err := cleanName("name", in.Name, false)
	if err != nil {
		return InviteResult{}, err
	}
	if in.Role, err = ParseRole(string(in.Role)); err != nil {
		return InviteResult{}, err
	}
	in.Email, in.Name = email, name
	var res InviteResult
	err = s.write(ctx, func(op *operation) error {
		var err error
		res, err = op.invite(a, in)
		return err
	})
	return res, err
}

func (op *operation) invite(a Actor, in InviteInput) (InviteResult, error) {
	org, by, err := op.orgFor(a, in.OrgID)
	if err != nil {
		return InviteResult{}, err
	}
	var portal Portal
	var pp portalPerson // with a portal: what it knows of the email
	if in.PortalID != 0 {
		if portal, err = op.Portal(in.PortalID); err != nil || portal.OrgID != org.ID {
			return InviteResult{}, notFound("portal in "+org.Name, fmt.Sprint(in.PortalID))
		}
		if pp, err = op.person(portal, in.Email); err != nil {
			return InviteResult{}, err
		}
	} else if pp, err = op.orgPerson(org.ID, in.Email); err != nil {
		return InviteResult{}, err
	}
	existing, hasUser, member, isMember := pp.user, pp.hasUser, pp.member, pp.isMember
	// A new member's role must be one the inviter may grant; an existing
	// member keeps their role, so only the link's role is checked.
	if err := mayAssign(by, "", in.Role); err != nil {
		return InviteResult{}, err
	}
	if err := validGuestUntil(in.Role, in.GuestUntil, op.now); err != nil {
		return InviteResult{}, err
	}
	prev, err := op.LatestInvitation(org.ID, in.Email)
	hasPrev := err == nil
	if err != nil && !errors.Is(err, ErrNotFound) {
		return InviteResult{}, err
	}
	if in.SkipExisting {
		if reason := op.alreadyInvited(in, pp, hasPrev, prev); reason != "" {
			return InviteResult{Skipped: true, Reason: reason}, nil
		}
	}
	if in.PortalID == 0 && isMember {
		return InviteResult{}, conflict("%s is already a member of %s (as %s)", in.Email, org.Name, member.Role)
	}
	// Inviting replaces the person's link: the same rule as every other
	// path that touches links. A pending invitation with a console role is
	// the owner's to change as well.
	if err := mayHandleLinks(a, by, pp); err != nil {
		return InviteResult{}, err
	}
	if hasPrev && prev.State == InvitationPending && prev.Role.UsesConsole() && by != RoleOwner {
		return InviteResult{}, forbidden("%s has a pending invitation as %s; only the owner changes it", in.Email, prev.Role)
	}
	if in.PortalID != 0 && pp.hasActive && !in.Replace {
		return InviteResult{}, &ConfirmationError{
			Question: fmt.Sprintf("%s has an active link to %s already.", in.Email, portal.Title),
			Detail:   "Inviting them again replaces it: the current link stops working at once and the browser sessions it opened end.",
		}
	}
	// The name they were invited or signed up by stays when none is given.
	if in.Name == "" {
		switch {
		case hasUser && existing.Name != "":
			in.Name = existing.Name
		case hasPrev:
			in.Name = prev.Name
		}
	}
	if hasPrev && prev.State == InvitationPending && prev.PortalID == in.PortalID {
		if err := op.supersede(prev); err != nil {
			return InviteResult{}, err
		}
	}
	inv := Invitation{OrgID: org.ID, PortalID: in.PortalID, Email: in.Email, Name: in.Name, Role: in.Role,
		GuestUntil: in.GuestUntil, State: InvitationPending, InvitedBy: a.label(), CreatedAt: op.now}
	res := InviteResult{Role: in.Role, Replaced: pp.hasActive}
	if isMember {
		res.Role, res.KeptRole = member.Role, true
	}
	data := map[string]string{"org": org.Name, "by": a.inviter(), "role": string(res.Role)}
	toName := in.Name
	if in.PortalID != 0 {
		il, err := op.issueLink(a, linkSpec{portal: portal, email: in.Email, role: in.Role, guestUntil: in.GuestUntil, invited: true})
		if err != nil {
			return InviteResult{}, err
		}
		inv.LinkID = il.Link.ID
		res.Link = &il
		if err := op.PutInvitation(&inv); err != nil {
			return InviteResult{}, err
		}
		if err := op.portalMail(MailInvitePortal, portal, in.Email, toName, data, il); err != nil {
			return InviteResult{}, err
		}
	} else {
		token, err := NewToken(op.s.rand)
		if err != nil {
			return InviteResult{}, err
		}
		inv.TokenHash = HashSecret(token)
		inv.ExpiresAt = op.now.Add(op.s.opts.JoinTTL)
		if err := op.PutInvitation(&inv); err != nil {
			return InviteResult{}, err
		}
		t := Token{Hash: inv.TokenHash, Kind: TokenJoin, Email: in.Email, InvitationID: inv.ID, CreatedAt: op.now, ExpiresAt: inv.ExpiresAt}
		if err := op.PutToken(t); err != nil {
			return InviteResult{}, err
		}
		data["expires"] = inv.ExpiresAt.Format(time.RFC3339)
		if err := op.queue(Message{OrgID: org.ID, Kind: MailInviteJoin, To: in.Email, ToName: toName, Data: data, LinkPath: "/join/"}, token); err != nil {
			return InviteResult{}, err
		}
	}
	res.Invitation = inv
	detail := "as " + string(in.Role)
	if in.PortalID != 0 {
		detail += ", portal " + portal.Slug
	}
	op.changed(Change{Kind: ChangeMemberChanged, OrgID: org.ID, PortalID: in.PortalID})
	if in.PortalID != 0 {
		return res, op.auditPortal(a, portal, "member.invited", in.Email, detail)
	}
	return res, op.audit(a, org.ID, "member.invited", in.Email, detail)
}

// alreadyInvited says why a bulk re-run should skip this email, or "".
func (op *operation) alreadyInvited(in InviteInput, pp portalPerson, hasPrev bool, prev Invitation) string {
	if in.PortalID == 0 {
		switch {
		case pp.isMember:
			return "already a member"
		case hasPrev && prev.State == InvitationPending && prev.PortalID == 0 && op.now.Before(prev.ExpiresAt):
			return "already invited"
		}
		return ""
	}
	if pp.entitled(op.now) {
		return "already has access"
	}
	return ""
}

// supersede retires a pending invitation; its join token stops working.
func (op *operation) supersede(inv Invitation) error {
	inv.State = InvitationSuperseded
	if err := op.PutInvitation(&inv); err != nil {
		return err
	}
	if len(inv.TokenHash) == 0 {
		return nil
	}
	t, err := op.Token(inv.TokenHash)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if t.UsedAt.IsZero() {
		t.UsedAt = op.now
		return op.PutToken(t)
	}
	return nil
}

// JoinInfo describes a join link for its page.
type JoinInfo struct {
	Org         Org
	Email       string
	Name        string
	Role        Role
	HasAccount  bool // the email has an account already
	HasPassword bool // ... with a password, which joining asks for
	ExpiresAt   time.Time
}

// JoinLink looks a join token up without using it.
func (s *People) JoinLink(ctx context.Context, token string) (JoinInfo, error) {
	var ji JoinInfo
	err := s.read(ctx, func(op *operation) error {
		_, inv, err := op.joinToken(token)
		if err != nil {
			return err
		}
		org, err := op.Org(inv.OrgID)
		if err != nil {
			return err
		}
		ji = JoinInfo{Org: org, Email: inv.Email, Name: inv.Name, Role: inv.Role, ExpiresAt: inv.ExpiresAt}
		if u, err := op.UserByEmail(inv.Email); err == nil {
			ji.HasAccount, ji.HasPassword = true, u.PasswordHash != ""
			if ji.Name == "" {
				ji.Name = u.Name
			}
		}
		return nil
	})
	return ji, err
}

func (op *operation) joinToken(token string) (Token, Invitation, error) {
	if !WellFormedToken(token) {
		return Token{}, Invitation{}, ErrTokenInvalid
	}
	t, err := op.Token(HashSecret(token))
	if errors.Is(err, ErrNotFound) || err == nil && (t.Kind != TokenJoin || !t.UsedAt.IsZero() || !op.now.Before(t.ExpiresAt)) {
		return Token{}, Invitation{}, ErrTokenInvalid
	}
	if err != nil {
		return Token{}, Invitation{}, err
	}
	inv, err := op.Invitation(t.InvitationID)
	if errors.Is(err, ErrNotFound) || err == nil && inv.State != InvitationPending {
		return Token{}, Invitation{}, ErrTokenInvalid
	}
	return t, inv, err
}

// Join accepts an invitation without a portal: it creates the account with
// a name and password (or, for an existing account with a password, checks
// that password), adds the membership and signs the person in. The token
// works once.
func (s *People) Join(ctx context.Context, token, name, password string, v Visitor) (SignIn, error) {
	name, err := cleanName("name", name, false)
	if err != nil {
		return SignIn{}, err
	}
	if err := ValidatePassword(password); err != nil {
		return SignIn{}, err
	}
	// Hash (and check) outside the write transaction: argon2 is slow on purpose.
	var existingHash string
	if err := s.read(ctx, func(op *operation) error {
		t, _, err := op.joinToken(token)
		if err != nil {
			return err
		}
		if u, err := op.UserByEmail(t.Email); err == nil {
			existingHash = u.PasswordHash
		}
		return nil
	}); err != nil {
		return SignIn{}, err
	}
	var newHash string
	if existingHash != "" {
		if ok, err := VerifyPassword(ctx, existingHash, password); err != nil {
			return SignIn{}, err
		} else if !ok {
			return SignIn{}, fmt.Errorf("%w: this email has an account already; enter its password to accept", ErrBadCredentials)
		}
	} else if newHash, err = HashPassword(ctx, password, s.opts.Argon2, s.rand); err != nil {
		return SignIn{}, err
	}
	var si SignIn
	err = s.write(ctx, func(op *operation) error {
		t, inv, err := op.joinToken(token)
		if err != nil {
			return err
		}
		displayName := name
		if displayName == "" {
			displayName = inv.Name
		}
		u, created, err := op.findOrCreateUser(t.Email, displayName)
		if err != nil {
			return err
		}
		if u.PasswordHash != existingHash {
			return conflict("the account changed while you were joining; open the link again")
		}
		if u.Name == "" {
			u.Name = displayName
		}
		if u.PasswordHash == "" {
			// A first password for an account that magic links made: like
			// any password change, it ends the other sessions and is announced.
			u.PasswordHash, u.PasswordChangedAt = newHash, op.now
			if !created {
				if err := op.endSessionsOf(u.ID); err != nil {
					return err
				}
				data := map[string]string{"at": op.now.Format(time.RFC3339), "addr": v.Addr}
				if err := op.queue(Message{Kind: MailPasswordChanged, To: u.Email, ToName: u.Name, Data: data, Lang: v.lang()}, ""); err != nil {
					return err
				}
			}
		}
		if err := op.PutUser(&u); err != nil {
			return err
		}
		if _, err := op.Member(inv.OrgID, u.ID); errors.Is(err, ErrNotFound) {
			if err := op.PutMember(Member{OrgID: inv.OrgID, UserID: u.ID, Role: inv.Role, GuestUntil: inv.GuestUntil, CreatedAt: op.now}); err != nil {
				return err
			}
			if err := op.know(inv.OrgID, u.Email); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
		t.UsedAt = op.now
		if err := op.PutToken(t); err != nil {
			return err
		}
		inv.State, inv.AcceptedAt = InvitationAccepted, op.now
		if err := op.PutInvitation(&inv); err != nil {
			return err
		}
		started, err := op.startSession(u, 0, v)
		if err != nil {
			return err
		}
		si = started
		op.changed(Change{Kind: ChangeMemberChanged, OrgID: inv.OrgID})
		return op.audit(v.actor(u.Email), inv.OrgID, "member.joined", u.Email, "as "+string(inv.Role))
	})
	return si, err
}
