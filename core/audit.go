package core

import (
	"context"
	"errors"
	"time"
)

// The audit log and the activity it adds up to.

// AuditEntry is an audit event with the slug of the portal it is about
// ("" for events about no portal, or about a portal that no longer exists).
type AuditEntry struct {
	Event
	Portal string
}

// Audit lists audit events newest first. Organization owners and managers
// see their organization's events; instance admins may ask for every event
// (OrgID 0).
func (s *AuditLog) Audit(ctx context.Context, a Actor, q AuditQuery) ([]AuditEntry, error) {
	var out []AuditEntry
	err := s.read(ctx, func(op *operation) error {
		if q.OrgID == 0 {
			if err := mayReadEveryAudit(a); err != nil {
				return err
			}
		}
		if q.OrgID != 0 {
			if _, _, err := op.orgFor(a, q.OrgID); err != nil {
				return err
			}
		}
		events, err := op.Events(q)
		if err != nil {
			return err
		}
		slugs := map[uint64]string{}
		out = make([]AuditEntry, len(events))
		for i, e := range events {
			out[i].Event = e
			if e.PortalID == 0 {
				continue
			}
			slug, ok := slugs[e.PortalID]
			if !ok {
				if p, err := op.Portal(e.PortalID); err == nil {
					slug = p.Slug
				} else if !errors.Is(err, ErrNotFound) {
					return err
				}
				slugs[e.PortalID] = slug
			}
			out[i].Portal = slug
		}
		return nil
	})
	return out, err
}

// DayActivity counts a portal's redemptions and access requests on one day (UTC).
type DayActivity struct {
	Day         time.Time
	Redemptions int
	Requests    int
}

// Activity counts, for each of the last days days (oldest first, today
// last), a portal's link redemptions and access requests, from the audit log.
func (s *AuditLog) Activity(ctx context.Context, a Actor, portalID uint64, days int) ([]DayActivity, error) {
	if days < 1 || days > 366 {
		return nil, invalid("days", "must be between 1 and 366")
	}
	var out []DayActivity
	err := s.read(ctx, func(op *operation) error {
		p, _, err := op.portalFor(a, portalID)
		if err != nil {
			return err
		}
		today := op.now.Truncate(24 * time.Hour)
		first := today.AddDate(0, 0, -(days - 1))
		out = make([]DayActivity, days)
		for i := range out {
			out[i].Day = first.AddDate(0, 0, i)
		}
		before := uint64(0)
		for {
			page, err := op.Events(AuditQuery{OrgID: p.OrgID, BeforeID: before, Limit: 500})
			if err != nil || len(page) == 0 {
				return err
			}
			for _, e := range page {
				if e.At.Before(first) {
					return nil
				}
				if e.PortalID != p.ID {
					continue
				}
				i := int(e.At.Sub(first) / (24 * time.Hour))
				if i < 0 || i >= days {
					continue
				}
				switch e.Action {
				case "link.redeemed":
					out[i].Redemptions++
				case "access.requested":
					out[i].Requests++
				}
			}
			before = page[len(page)-1].ID
		}
	})
	return out, err
}
