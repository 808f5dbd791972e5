package core

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// NewOrg describes an organization to create.
type NewOrg struct {
	Name       string
	Slug       string // empty: derived from Name
	OwnerEmail string
	OwnerName  string
}

// CreateOrg creates an organization and its owner's account (when the owner
// has none yet). Only an instance admin creates organizations.
func (s *Portals) CreateOrg(ctx context.Context, a Actor, in NewOrg) (Org, error) {
	return writeResult(s.engine, ctx, func(op *operation) (Org, error) { return op.createOrg(a, in) })
}

func (op *operation) createOrg(a Actor, in NewOrg) (Org, error) {
	if err := mayCreateOrg(a); err != nil {
		return Org{}, err
	}
	name, err := cleanName("name", in.Name, true)
	if err != nil {
		return Org{}, err
	}
	slug := in.Slug
	if slug == "" {
		slug = Slugify(name)
	}
	if slug, err = ValidateSlug(slug); err != nil {
		return Org{}, err
	}
	email, err := NormalizeEmail(in.OwnerEmail)
	if err != nil {
		return Org{}, err
	}
	ownerName, err := cleanName("owner name", in.OwnerName, false)
	if err != nil {
		return Org{}, err
	}
	if _, err := op.OrgBySlug(slug); err == nil {
		return Org{}, conflict("an organization with the slug %q exists already", slug)
	} else if !errors.Is(err, ErrNotFound) {
		return Org{}, err
	}
	org := Org{Slug: slug, Name: name, CreatedAt: op.now}
	if err := op.PutOrg(&org); err != nil {
		return Org{}, err
	}
	owner, _, err := op.findOrCreateUser(email, ownerName)
	if err != nil {
		return Org{}, err
	}
	if err := op.PutMember(Member{OrgID: org.ID, UserID: owner.ID, Role: RoleOwner, CreatedAt: op.now}); err != nil {
		return Org{}, err
	}
	if err := op.know(org.ID, owner.Email); err != nil {
		return Org{}, err
	}
	op.changed(Change{Kind: ChangeProjectChanged, OrgID: org.ID})
	return org, op.audit(a, org.ID, "org.created", name, "owner "+email)
}

// findOrCreateUser returns the account for email, creating it (without a
// password) when there is none; created reports which.
func (op *operation) findOrCreateUser(email, name string) (u User, created bool, err error) {
	u, err = op.UserByEmail(email)
	if err == nil {
		return u, false, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return User{}, false, err
	}
	u = User{Email: email, Name: name, CreatedAt: op.now}
	if err := op.PutUser(&u); err != nil {
		return User{}, false, err
	}
	return u, true, nil
}

// CreateProject adds a project to an organization.
func (s *Portals) CreateProject(ctx context.Context, a Actor, orgID uint64, name string) (Project, error) {
	return writeResult(s.engine, ctx, func(op *operation) (Project, error) { return op.createProject(a, orgID, name) })
}

func (op *operation) createProject(a Actor, orgID uint64, name string) (Project, error) {
	name, err := cleanName("project name", name, true)
	if err != nil {
		return Project{}, err
	}
	if _, _, err := op.orgFor(a, orgID); err != nil {
		return Project{}, err
	}
	if err := op.uniqueProjectName(orgID, 0, name); err != nil {
		return Project{}, err
	}
	p := Project{OrgID: orgID, Name: name, CreatedAt: op.now}
	if err := op.PutProject(&p); err != nil {
		return Project{}, err
	}
	op.changed(Change{Kind: ChangeProjectChanged, OrgID: orgID})
	return p, op.audit(a, orgID, "project.created", name, "")
}

// RenameProject changes a project's name.
func (s *Portals) RenameProject(ctx context.Context, a Actor, projectID uint64, name string) (Project, error) {
	name, err := cleanName("project name", name, true)
	if err != nil {
		return Project{}, err
	}
	var p Project
	err = s.write(ctx, func(op *operation) error {
		var err error
		if p, err = op.projectFor(a, projectID); err != nil {
			return err
		}
		if err := op.uniqueProjectName(p.OrgID, p.ID, name); err != nil {
			return err
		}
		old := p.Name
		p.Name = name
		if err := op.PutProject(&p); err != nil {
			return err
		}
		op.changed(Change{Kind: ChangeProjectChanged, OrgID: p.OrgID})
		return op.audit(a, p.OrgID, "project.renamed", name, "was "+old)
	})
	return p, err
}

// uniqueProjectName refuses a name that another project of the
// organization (other than self) has, in any letter case: the console and
// the SSH commands list projects by name.
func (op *operation) uniqueProjectName(orgID, self uint64, name string) error {
	projects, err := op.Projects(orgID)
	if err != nil {
		return err
	}
	for _, p := range projects {
		if p.ID != self && strings.EqualFold(p.Name, name) {
			return conflict("a project named %q exists already in this organization", p.Name)
		}
	}
	return nil
}

func (op *operation) projectFor(a Actor, projectID uint64) (Project, error) {
	p, err := op.Project(projectID)
	if err != nil {
		return Project{}, notFoundAs(err, "project", fmt.Sprint(projectID))
	}
	if _, _, err := op.orgFor(a, p.OrgID); err != nil {
		return Project{}, notFound("project", fmt.Sprint(projectID))
	}
	return p, nil
}

// ChangeRole sets a member's role; a guest may get an access end date.
func (s *People) ChangeRole(ctx context.Context, a Actor, orgID, userID uint64, role Role, guestUntil time.Time) error {
	role, err := ParseRole(string(role))
	if err != nil {
		return err
	}
	return s.write(ctx, func(op *operation) error {
		by, m, u, err := op.memberTarget(a, orgID, userID)
		if err != nil {
			return err
		}
		pp := portalPerson{email: u.Email, user: u, hasUser: true, member: m, isMember: true}
		if err := mayChangeRole(a, by, pp); err != nil {
			return err
		}
		if err := mayAssign(by, m.Role, role); err != nil {
			return err
		}
		if err := validGuestUntil(role, guestUntil, op.now); err != nil {
			return err
		}
		if m.Role == role && m.GuestUntil.Equal(guestUntil) {
			return nil
		}
		old := m.Role
		m.Role, m.GuestUntil = role, guestUntil
		if err := op.PutMember(m); err != nil {
			return err
		}
		detail := fmt.Sprintf("%s → %s", old, role)
		if !guestUntil.IsZero() {
			detail += ", access until " + guestUntil.Format(time.DateOnly)
		}
		op.changed(Change{Kind: ChangeMemberChanged, OrgID: orgID})
		return op.audit(a, orgID, "member.role_changed", u.Email, detail)
	})
}

// memberTarget is the preamble of an operation on a member: the role the
// actor acts with in the organization, and the member with their account.
func (op *operation) memberTarget(a Actor, orgID, userID uint64) (Role, Member, User, error) {
	_, by, err := op.orgFor(a, orgID)
	if err != nil {
		return "", Member{}, User{}, err
	}
	m, u, err := op.memberWithUser(orgID, userID)
	return by, m, u, err
}

func (op *operation) memberWithUser(orgID, userID uint64) (Member, User, error) {
	m, err := op.Member(orgID, userID)
	if err != nil {
		return Member{}, User{}, notFoundAs(err, "member", fmt.Sprint(userID))
	}
	u, err := op.User(userID)
	if err != nil {
		return Member{}, User{}, notFoundAs(err, "user", fmt.Sprint(userID))
	}
	return m, u, nil
}

// TransferOwnership makes another member the owner; the old owner becomes a
// manager. Only the owner (or an instance admin) transfers ownership, so an
// organization always has exactly one owner.
func (s *People) TransferOwnership(ctx context.Context, a Actor, orgID, userID uint64) error {
	return s.write(ctx, func(op *operation) error {
		_, by, err := op.orgFor(a, orgID)
		if err != nil {
			return err
		}
		if by != RoleOwner {
			return forbidden("only the owner transfers ownership")
		}
		next, u, err := op.memberWithUser(orgID, userID)
		if err != nil {
			return err
		}
		if next.Role == RoleOwner {
			return nil
		}
		owner, err := op.owner(orgID)
		if err != nil {
			return err
		}
		owner.Role = RoleManager
		next.Role, next.GuestUntil = RoleOwner, time.Time{}
		if err := op.PutMember(owner); err != nil {
			return err
		}
		if err := op.PutMember(next); err != nil {
			return err
		}
		op.changed(Change{Kind: ChangeMemberChanged, OrgID: orgID})
		return op.audit(a, orgID, "owner.transferred", u.Email, "")
	})
}

// owner is the organization's owner membership.
func (op *operation) owner(orgID uint64) (Member, error) {
	m, err := op.OrgOwner(orgID)
	if errors.Is(err, ErrNotFound) {
		return Member{}, fmt.Errorf("organization %d has no owner", orgID)
	}
	return m, err
}

// RemoveMember takes a person out of an organization: their membership,
// their access to its portals, their active links there and the sessions
// those links opened all end. The owner cannot be removed (transfer first).
func (s *People) RemoveMember(ctx context.Context, a Actor, orgID, userID uint64) error {
	return s.write(ctx, func(op *operation) error {
		by, m, u, err := op.memberTarget(a, orgID, userID)
		if err != nil {
			return err
		}
		if m.Role == RoleOwner {
			return forbidden("the owner cannot be removed; transfer ownership first")
		}
		if err := mayAssign(by, m.Role, RoleClient); err != nil {
			return err
		}
		portals, err := op.Portals(orgID)
		if err != nil {
			return err
		}
		for _, p := range portals {
			if err := op.revokeAccess(a, p, u.Email, u.ID); err != nil {
				return err
			}
		}
		// A pending invitation (and its join link) would bring them back.
		invs, err := op.InvitationsOf(orgID, u.Email)
		if err != nil {
			return err
		}
		for _, inv := range invs {
			if inv.State == InvitationPending {
				if err := op.supersede(inv); err != nil {
					return err
				}
			}
		}
		if err := op.endSessionsOf(userID); err != nil {
			return err
		}
		if err := op.DeleteMember(orgID, userID); err != nil {
			return err
		}
		op.changed(Change{Kind: ChangeMemberChanged, OrgID: orgID})
		return op.audit(a, orgID, "member.removed", u.Email, "was "+string(m.Role))
	})
}

// AddPortalAccess gives an existing member of the organization access to a
// portal, without a link or an email.
func (s *People) AddPortalAccess(ctx context.Context, a Actor, portalID, userID uint64) error {
	return s.write(ctx, func(op *operation) error { return op.addPortalAccess(a, portalID, userID) })
}

func (op *operation) addPortalAccess(a Actor, portalID, userID uint64) error {
	p, _, err := op.portalFor(a, portalID)
	if err != nil {
		return err
	}
	_, u, err := op.memberWithUser(p.OrgID, userID)
	if err != nil {
		return err
	}
	if _, err := op.Access(portalID, userID); err == nil {
		return nil
	} else if !errors.Is(err, ErrNotFound) {
		return err
	}
	if err := op.PutAccess(Access{PortalID: portalID, UserID: userID, GrantedAt: op.now, Via: "console"}); err != nil {
		return err
	}
	op.changed(Change{Kind: ChangeAccessChanged, OrgID: p.OrgID, PortalID: p.ID})
	return op.auditPortal(a, p, "access.granted", u.Email, "portal "+p.Slug)
}
