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
func (s *Service) CreateOrg(ctx context.Context, a Actor, in NewOrg) (Org, error) {
	return updated(s, ctx, func(w *txw) (Org, error) { return w.createOrg(a, in) })
}

func (w *txw) createOrg(a Actor, in NewOrg) (Org, error) {
	if !a.Admin {
		return Org{}, forbidden("only an instance admin creates organizations")
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
	if _, err := w.OrgBySlug(slug); err == nil {
		return Org{}, conflict("an organization with the slug %q exists already", slug)
	} else if !errors.Is(err, ErrNotFound) {
		return Org{}, err
	}
	org := Org{Slug: slug, Name: name, CreatedAt: w.now}
	if err := w.PutOrg(&org); err != nil {
		return Org{}, err
	}
	owner, _, err := w.findOrCreateUser(email, ownerName)
	if err != nil {
		return Org{}, err
	}
	if err := w.PutMember(Member{OrgID: org.ID, UserID: owner.ID, Role: RoleOwner, CreatedAt: w.now}); err != nil {
		return Org{}, err
	}
	if err := w.know(org.ID, owner.Email); err != nil {
		return Org{}, err
	}
	w.changed(Change{Kind: ChangeProjectChanged, OrgID: org.ID})
	return org, w.audit(a, org.ID, "org.created", name, "owner "+email)
}

// findOrCreateUser returns the account for email, creating it (without a
// password) when there is none; created reports which.
func (w *txw) findOrCreateUser(email, name string) (u User, created bool, err error) {
	u, err = w.UserByEmail(email)
	if err == nil {
		return u, false, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return User{}, false, err
	}
	u = User{Email: email, Name: name, CreatedAt: w.now}
	if err := w.PutUser(&u); err != nil {
		return User{}, false, err
	}
	return u, true, nil
}

// CreateProject adds a project to an organization.
func (s *Service) CreateProject(ctx context.Context, a Actor, orgID uint64, name string) (Project, error) {
	return updated(s, ctx, func(w *txw) (Project, error) { return w.createProject(a, orgID, name) })
}

func (w *txw) createProject(a Actor, orgID uint64, name string) (Project, error) {
	name, err := cleanName("project name", name, true)
	if err != nil {
		return Project{}, err
	}
	if _, err := w.orgFor(a, orgID); err != nil {
		return Project{}, err
	}
	if _, err := w.manage(a, orgID); err != nil {
		return Project{}, err
	}
	if err := w.uniqueProjectName(orgID, 0, name); err != nil {
		return Project{}, err
	}
	p := Project{OrgID: orgID, Name: name, CreatedAt: w.now}
	if err := w.PutProject(&p); err != nil {
		return Project{}, err
	}
	w.changed(Change{Kind: ChangeProjectChanged, OrgID: orgID})
	return p, w.audit(a, orgID, "project.created", name, "")
}

// RenameProject changes a project's name.
func (s *Service) RenameProject(ctx context.Context, a Actor, projectID uint64, name string) (Project, error) {
	name, err := cleanName("project name", name, true)
	if err != nil {
		return Project{}, err
	}
	var p Project
	err = s.update(ctx, func(w *txw) error {
		var err error
		if p, err = w.projectFor(a, projectID); err != nil {
			return err
		}
		if err := w.uniqueProjectName(p.OrgID, p.ID, name); err != nil {
			return err
		}
		old := p.Name
		p.Name = name
		if err := w.PutProject(&p); err != nil {
			return err
		}
		w.changed(Change{Kind: ChangeProjectChanged, OrgID: p.OrgID})
		return w.audit(a, p.OrgID, "project.renamed", name, "was "+old)
	})
	return p, err
}

// uniqueProjectName refuses a name that another project of the
// organization (other than self) has, in any letter case: the console and
// the SSH commands list projects by name.
func (w *txw) uniqueProjectName(orgID, self uint64, name string) error {
	projects, err := w.Projects(orgID)
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

func (w *txw) projectFor(a Actor, projectID uint64) (Project, error) {
	p, err := w.Project(projectID)
	if err != nil {
		return Project{}, notFoundAs(err, "project", fmt.Sprint(projectID))
	}
	if _, err := w.orgFor(a, p.OrgID); err != nil {
		return Project{}, notFound("project", fmt.Sprint(projectID))
	}
	return p, nil
}

// ChangeRole sets a member's role; a guest may get an access end date.
func (s *Service) ChangeRole(ctx context.Context, a Actor, orgID, userID uint64, role Role, guestUntil time.Time) error {
	role, err := ParseRole(string(role))
	if err != nil {
		return err
	}
	return s.update(ctx, func(w *txw) error {
		if _, err := w.orgFor(a, orgID); err != nil {
			return err
		}
		by, err := w.manage(a, orgID)
		if err != nil {
			return err
		}
		m, u, err := w.memberWithUser(orgID, userID)
		if err != nil {
			return err
		}
		if err := mayAssign(by, m.Role, role); err != nil {
			return err
		}
		if err := validGuestUntil(role, guestUntil, w.now); err != nil {
			return err
		}
		if m.Role == role && m.GuestUntil.Equal(guestUntil) {
			return nil
		}
		old := m.Role
		m.Role, m.GuestUntil = role, guestUntil
		if err := w.PutMember(m); err != nil {
			return err
		}
		detail := fmt.Sprintf("%s → %s", old, role)
		if !guestUntil.IsZero() {
			detail += ", access until " + guestUntil.Format(time.DateOnly)
		}
		w.changed(Change{Kind: ChangeMemberChanged, OrgID: orgID})
		return w.audit(a, orgID, "member.role_changed", u.Email, detail)
	})
}

func (w *txw) memberWithUser(orgID, userID uint64) (Member, User, error) {
	m, err := w.Member(orgID, userID)
	if err != nil {
		return Member{}, User{}, notFoundAs(err, "member", fmt.Sprint(userID))
	}
	u, err := w.User(userID)
	if err != nil {
		return Member{}, User{}, notFoundAs(err, "user", fmt.Sprint(userID))
	}
	return m, u, nil
}

// TransferOwnership makes another member the owner; the old owner becomes a
// manager. Only the owner (or an instance admin) transfers ownership, so an
// organization always has exactly one owner.
func (s *Service) TransferOwnership(ctx context.Context, a Actor, orgID, userID uint64) error {
	return s.update(ctx, func(w *txw) error {
		if _, err := w.orgFor(a, orgID); err != nil {
			return err
		}
		by, err := w.manage(a, orgID)
		if err != nil {
			return err
		}
		if by != RoleOwner {
			return forbidden("only the owner transfers ownership")
		}
		next, u, err := w.memberWithUser(orgID, userID)
		if err != nil {
			return err
		}
		if next.Role == RoleOwner {
			return nil
		}
		owner, err := w.owner(orgID)
		if err != nil {
			return err
		}
		owner.Role = RoleManager
		next.Role, next.GuestUntil = RoleOwner, time.Time{}
		if err := w.PutMember(owner); err != nil {
			return err
		}
		if err := w.PutMember(next); err != nil {
			return err
		}
		w.changed(Change{Kind: ChangeMemberChanged, OrgID: orgID})
		return w.audit(a, orgID, "owner.transferred", u.Email, "")
	})
}

// owner is the organization's owner membership.
func (w *txw) owner(orgID uint64) (Member, error) {
	m, err := w.OrgOwner(orgID)
	if errors.Is(err, ErrNotFound) {
		return Member{}, fmt.Errorf("organization %d has no owner", orgID)
	}
	return m, err
}

// RemoveMember takes a person out of an organization: their membership,
// their access to its portals, their active links there and the sessions
// those links opened all end. The owner cannot be removed (transfer first).
func (s *Service) RemoveMember(ctx context.Context, a Actor, orgID, userID uint64) error {
	return s.update(ctx, func(w *txw) error {
		if _, err := w.orgFor(a, orgID); err != nil {
			return err
		}
		by, err := w.manage(a, orgID)
		if err != nil {
			return err
		}
		m, u, err := w.memberWithUser(orgID, userID)
		if err != nil {
			return err
		}
		if m.Role == RoleOwner {
			return forbidden("the owner cannot be removed; transfer ownership first")
		}
		if err := mayAssign(by, m.Role, RoleClient); err != nil {
			return err
		}
		portals, err := w.Portals(orgID)
		if err != nil {
			return err
		}
		for _, p := range portals {
			if err := w.revokeAccess(a, p, u.Email, u.ID); err != nil {
				return err
			}
		}
		// A pending invitation (and its join link) would bring them back.
		invs, err := w.InvitationsOf(orgID, u.Email)
		if err != nil {
			return err
		}
		for _, inv := range invs {
			if inv.State == InvitationPending {
				if err := w.supersede(inv); err != nil {
					return err
				}
			}
		}
		if err := w.endSessionsOf(userID); err != nil {
			return err
		}
		if err := w.DeleteMember(orgID, userID); err != nil {
			return err
		}
		w.changed(Change{Kind: ChangeMemberChanged, OrgID: orgID})
		return w.audit(a, orgID, "member.removed", u.Email, "was "+string(m.Role))
	})
}

// AddPortalAccess gives an existing member of the organization access to a
// portal, without a link or an email.
func (s *Service) AddPortalAccess(ctx context.Context, a Actor, portalID, userID uint64) error {
	return s.update(ctx, func(w *txw) error { return w.addPortalAccess(a, portalID, userID) })
}

func (w *txw) addPortalAccess(a Actor, portalID, userID uint64) error {
	p, err := w.portalFor(a, portalID)
	if err != nil {
		return err
	}
	if _, err := w.manage(a, p.OrgID); err != nil {
		return err
	}
	_, u, err := w.memberWithUser(p.OrgID, userID)
	if err != nil {
		return err
	}
	if _, err := w.Access(portalID, userID); err == nil {
		return nil
	} else if !errors.Is(err, ErrNotFound) {
		return err
	}
	if err := w.PutAccess(Access{PortalID: portalID, UserID: userID, GrantedAt: w.now, Via: "console"}); err != nil {
		return err
	}
	w.changed(Change{Kind: ChangeAccessChanged, OrgID: p.OrgID, PortalID: p.ID})
	return w.auditPortal(a, p, "access.granted", u.Email, "portal "+p.Slug)
}
