package core

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Limits of a portal's built-in content.
const (
	MaxResources     = 50
	MaxNoteLen       = 300
	MaxUpdateLen     = 2000
	UpdatesShown     = 20 // on the portal page
	maxUpdatesListed = 200
)

// ResourceInput is a titled link to add to a portal.
type ResourceInput struct {
	Title string
	URL   string
	Note  string
}

func (in ResourceInput) clean() (ResourceInput, error) {
	var err error
	if in.Title, err = cleanName("title", in.Title, true); err != nil {
		return in, err
	}
	if in.URL, err = ParseResourceURL(in.URL); err != nil {
		return in, err
	}
	if in.Note, err = cleanName("note", in.Note, false); err != nil {
		return in, err
	}
	if n := len([]rune(in.Note)); n > MaxNoteLen {
		return in, invalid("note", "is longer than %d characters", MaxNoteLen)
	}
	return in, nil
}

// Resources lists a portal's resources in their order.
func (s *Portals) Resources(ctx context.Context, a Actor, portalID uint64) ([]Resource, error) {
	return readResult(s.engine, ctx, func(op *operation) ([]Resource, error) {
		if _, _, err := op.portalFor(a, portalID); err != nil {
			return nil, err
		}
		return op.Resources(portalID)
	})
}

// AddResource adds a titled link at the end of a portal's resources.
func (s *Portals) AddResource(ctx context.Context, a Actor, portalID uint64, in ResourceInput) (Resource, error) {
	in, err := in.clean()
	if err != nil {
		return Resource{}, err
	}
	return writeResult(s.engine, ctx, func(op *operation) (Resource, error) {
		p, err := op.managedPortal(a, portalID)
		if err != nil {
			return Resource{}, err
		}
		list, err := op.Resources(p.ID)
		if err != nil {
			return Resource{}, err
		}
		if len(list) >= MaxResources {
			return Resource{}, conflict("%s has %d resources, the most a portal lists; remove one first", p.Title, MaxResources)
		}
		r := Resource{PortalID: p.ID, Position: len(list) + 1, Title: in.Title, URL: in.URL, Note: in.Note, CreatedAt: op.now, CreatedBy: a.label()}
		if err := op.PutResource(&r); err != nil {
			return Resource{}, err
		}
		op.changed(Change{Kind: ChangeProjectChanged, OrgID: p.OrgID, PortalID: p.ID})
		return r, op.auditPortal(a, p, "resource.added", r.Title, fmt.Sprintf("portal %s, resource %d at position %d: %s", p.Slug, r.ID, r.Position, r.URL))
	})
}

// RemoveResource takes a resource off a portal; the others close up.
func (s *Portals) RemoveResource(ctx context.Context, a Actor, portalID, resourceID uint64) error {
	return s.write(ctx, func(op *operation) error {
		p, r, err := op.resourceOf(a, portalID, resourceID)
		if err != nil {
			return err
		}
		if err := op.DeleteResource(r.ID); err != nil {
			return err
		}
		list, err := op.Resources(p.ID)
		if err != nil {
			return err
		}
		if err := op.renumber(list); err != nil {
			return err
		}
		op.changed(Change{Kind: ChangeProjectChanged, OrgID: p.OrgID, PortalID: p.ID})
		return op.auditPortal(a, p, "resource.removed", r.Title, fmt.Sprintf("portal %s, resource %d: %s", p.Slug, r.ID, r.URL))
	})
}

// MoveResource puts a resource at position (1 is first; past the end is
// last); the others keep their order.
func (s *Portals) MoveResource(ctx context.Context, a Actor, portalID, resourceID uint64, position int) error {
	if position < 1 {
		return invalid("position", "%d is not a position; the first is 1", position)
	}
	return s.write(ctx, func(op *operation) error {
		p, r, err := op.resourceOf(a, portalID, resourceID)
		if err != nil {
			return err
		}
		list, err := op.Resources(p.ID)
		if err != nil {
			return err
		}
		var rest []Resource
		for _, x := range list {
			if x.ID != r.ID {
				rest = append(rest, x)
			}
		}
		at := min(position, len(list)) - 1
		moved := append(append(append([]Resource{}, rest[:at]...), r), rest[at:]...)
		if err := op.renumber(moved); err != nil {
			return err
		}
		op.changed(Change{Kind: ChangeProjectChanged, OrgID: p.OrgID, PortalID: p.ID})
		return op.auditPortal(a, p, "resource.moved", r.Title, fmt.Sprintf("portal %s, resource %d to position %d", p.Slug, r.ID, at+1))
	})
}

// renumber gives resources the positions 1, 2, … in the order given,
// writing only those that change.
func (op *operation) renumber(list []Resource) error {
	for i := range list {
		if list[i].Position == i+1 {
			continue
		}
		list[i].Position = i + 1
		if err := op.PutResource(&list[i]); err != nil {
			return err
		}
	}
	return nil
}

func (op *operation) resourceOf(a Actor, portalID, resourceID uint64) (Portal, Resource, error) {
	p, err := op.managedPortal(a, portalID)
	if err != nil {
		return Portal{}, Resource{}, err
	}
	r, err := op.Resource(resourceID)
	if errors.Is(err, ErrNotFound) || err == nil && r.PortalID != p.ID {
		return Portal{}, Resource{}, notFound("resource of "+p.Title+" with the id", fmt.Sprint(resourceID))
	}
	return p, r, err
}

// managedPortal is a portal the actor may change.
func (op *operation) managedPortal(a Actor, portalID uint64) (Portal, error) {
	p, _, err := op.portalFor(a, portalID)
	if err != nil {
		return Portal{}, err
	}
	return p, nil
}

// PostUpdate posts a short dated update on a portal; with email, it is
// mailed (through the outbox) to everyone who may open the portal now, one
// message each, and to nobody whose access ended.
func (s *Portals) PostUpdate(ctx context.Context, a Actor, portalID uint64, body string, email bool) (Update, error) {
	body, err := cleanText("update", body, MaxUpdateLen)
	if err != nil {
		return Update{}, err
	}
	if body == "" {
		return Update{}, invalid("update", "is empty; write what is new")
	}
	return writeResult(s.engine, ctx, func(op *operation) (Update, error) {
		p, err := op.managedPortal(a, portalID)
		if err != nil {
			return Update{}, err
		}
		u := Update{PortalID: p.ID, Body: body, AuthorID: a.UserID, Author: a.label(), CreatedAt: op.now}
		if a.UserID != 0 {
			if au, err := op.User(a.UserID); err == nil {
				u.Author = au.DisplayName()
			}
		}
		var recipients []PortalMember
		if email {
			people, err := op.portalPeople(p, nil)
			if err != nil {
				return Update{}, err
			}
			for _, pm := range people {
				if pm.AccessWord() == AccessYes || pm.AccessWord() == AccessInvited {
					recipients = append(recipients, pm)
				}
			}
			u.Emailed = len(recipients)
		}
		if err := op.PutUpdate(&u); err != nil {
			return Update{}, err
		}
		data := map[string]string{"author": u.Author, "body": u.Body, "at": u.CreatedAt.Format(time.RFC3339)}
		for _, pm := range recipients {
			if err := op.portalMail(MailPortalUpdate, p, pm.Email, pm.Name, data, IssuedLink{}); err != nil {
				return Update{}, err
			}
		}
		op.changed(Change{Kind: ChangeProjectChanged, OrgID: p.OrgID, PortalID: p.ID})
		detail := fmt.Sprintf("portal %s, update %d: %s", p.Slug, u.ID, clip(strings.Join(strings.Fields(u.Body), " ")))
		if email {
			detail += fmt.Sprintf("; emailed to %d people", u.Emailed)
		}
		return u, op.auditPortal(a, p, "update.posted", p.Slug, detail)
	})
}

// Updates lists a portal's updates newest first.
func (s *Portals) Updates(ctx context.Context, a Actor, portalID uint64) ([]Update, error) {
	return readResult(s.engine, ctx, func(op *operation) ([]Update, error) {
		if _, _, err := op.portalFor(a, portalID); err != nil {
			return nil, err
		}
		return op.Updates(portalID, maxUpdatesListed)
	})
}

// PortalContent is what a portal's built-in page shows besides its welcome
// text.
type PortalContent struct {
	Resources []Resource
	Updates   []Update // newest first, at most UpdatesShown
	Contact   *User    // the person clients write to, if set
}

func (op *operation) content(p Portal) (PortalContent, error) {
	var c PortalContent
	var err error
	if c.Resources, err = op.Resources(p.ID); err != nil {
		return c, err
	}
	if c.Updates, err = op.Updates(p.ID, UpdatesShown); err != nil {
		return c, err
	}
	if p.ContactID != 0 {
		u, err := op.User(p.ContactID)
		switch {
		case err == nil:
			if m, err := op.Member(p.OrgID, u.ID); err == nil && m.Role != RoleClient && m.Role != RoleGuest {
				c.Contact = &u // a contact who left the organization is shown no more
			}
		case !errors.Is(err, ErrNotFound):
			return c, err
		}
	}
	return c, nil
}
