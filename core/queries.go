package core

import (
	"context"
	"errors"
	"fmt"
	"sort"
)

// Orgs lists the organizations the actor may manage, by name.
func (s *Portals) Orgs(ctx context.Context, a Actor) ([]Org, error) {
	var out []Org
	err := s.read(ctx, func(op *operation) error {
		all, err := op.Orgs()
		if err != nil {
			return err
		}
		for _, o := range all {
			if _, ok, err := op.canSee(a, o.ID); err != nil {
				return err
			} else if ok {
				out = append(out, o)
			}
		}
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, err
}

// OrgBySlug finds an organization the actor may manage.
func (s *Portals) OrgBySlug(ctx context.Context, a Actor, slug string) (Org, error) {
	var o Org
	err := s.read(ctx, func(op *operation) error {
		found, err := op.OrgBySlug(slug)
		if err != nil {
			return notFoundAs(err, "organization", clip(slug))
		}
		o, _, err = op.orgFor(a, found.ID)
		if errors.Is(err, ErrNotFound) {
			return notFound("organization", clip(slug))
		}
		return err
	})
	return o, err
}

// PortalBySlug finds a portal the actor may manage, with its project and
// organization. A portal of another organization is not found.
func (s *Portals) PortalBySlug(ctx context.Context, a Actor, slug string) (PortalRef, error) {
	var ref PortalRef
	err := s.read(ctx, func(op *operation) error {
		p, err := op.PortalBySlug(slug)
		if err != nil {
			return notFoundAs(err, "portal", clip(slug))
		}
		if _, _, err := op.portalFor(a, p.ID); err != nil {
			return notFound("portal", clip(slug))
		}
		ref, err = op.portalRef(p)
		return err
	})
	return ref, err
}

// ProjectSummary is one row of the projects screen.
type ProjectSummary struct {
	Project          Project
	Portal           *Portal // nil: the project has no portal
	PeopleWithAccess int     // accounts with access, plus invitees with an active link
	ActiveLinks      int
	PendingRequests  int
	Actions          ProjectActions
}

// Projects lists an organization's projects with their portal's figures.
func (s *Portals) Projects(ctx context.Context, a Actor, orgID uint64) ([]ProjectSummary, error) {
	var out []ProjectSummary
	err := s.read(ctx, func(op *operation) error {
		if _, _, err := op.orgFor(a, orgID); err != nil {
			return err
		}
		projects, err := op.Projects(orgID)
		if err != nil {
			return err
		}
		reqs, err := op.Requests(orgID)
		if err != nil {
			return err
		}
		pending := map[uint64]int{}
		for _, r := range reqs {
			if r.State == RequestPending {
				pending[r.PortalID]++
			}
		}
		for _, proj := range projects {
			sum := ProjectSummary{Project: proj, Actions: ProjectActions{Portal: Allowed}}
			p, err := op.PortalOfProject(proj.ID)
			if errors.Is(err, ErrNotFound) {
				sum.Actions.Portal = Refused(proj.Name + " has no portal yet")
				out = append(out, sum)
				continue
			}
			if err != nil {
				return err
			}
			sum.Portal = &p
			if sum.PeopleWithAccess, sum.ActiveLinks, err = op.portalCounts(p); err != nil {
				return err
			}
			sum.PendingRequests = pending[p.ID]
			out = append(out, sum)
		}
		return nil
	})
	return out, err
}

// Request is one access request of the organization, as Requests shows
// it; another organization's is not found.
func (s *AccessRequests) Request(ctx context.Context, a Actor, orgID, id uint64) (RequestView, error) {
	return readResult(s.engine, ctx, func(op *operation) (RequestView, error) {
		_, by, err := op.orgFor(a, orgID)
		if err != nil {
			return RequestView{}, err
		}
		r, err := op.Tx.Request(id)
		if err != nil {
			return RequestView{}, notFoundAs(err, "access request", fmt.Sprint(id))
		}
		if r.OrgID != orgID {
			return RequestView{}, notFound("access request", fmt.Sprint(id))
		}
		p, err := op.Portal(r.PortalID)
		if err != nil {
			return RequestView{}, err
		}
		note, err := op.noteAddress(orgID, r.Email)
		if err != nil {
			return RequestView{}, err
		}
		return RequestView{Request: r, Portal: p, Note: note, Actions: requestActions(by, r)}, nil
	})
}

// Requests lists an organization's access requests, newest first; only the
// pending ones when pendingOnly.
func (s *AccessRequests) Requests(ctx context.Context, a Actor, orgID uint64, pendingOnly bool) ([]RequestView, error) {
	var out []RequestView
	err := s.read(ctx, func(op *operation) error {
		_, by, err := op.orgFor(a, orgID)
		if err != nil {
			return err
		}
		reqs, err := op.Requests(orgID)
		if err != nil {
			return err
		}
		portals := map[uint64]Portal{}
		for _, r := range reqs {
			if pendingOnly && r.State != RequestPending {
				continue
			}
			p, ok := portals[r.PortalID]
			if !ok {
				if p, err = op.Portal(r.PortalID); err != nil {
					return err
				}
				portals[r.PortalID] = p
			}
			note, err := op.noteAddress(orgID, r.Email)
			if err != nil {
				return err
			}
			out = append(out, RequestView{Request: r, Portal: p, Note: note, Actions: requestActions(by, r)})
		}
		return nil
	})
	return out, err
}
