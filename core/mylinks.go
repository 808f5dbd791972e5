package core

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// maxMyLinks bounds how many portals one "send me my links" email lists.
const maxMyLinks = 20

// SendMyLinks is "Send me my links", offered where a link turned out
// unknown or cut short: one email to the address with a link to every
// portal it may open now (the active link, or a new one where it has
// access but no active link). An address that has none gets no email.
// Both cases do the same work (one commit) and return the same nil, so
// that the page answers alike whether or not the address is known.
func (s *Links) SendMyLinks(ctx context.Context, rawEmail string, v Visitor) error {
	email, err := NormalizeEmail(rawEmail)
	if err != nil {
		return err
	}
	return s.write(ctx, func(op *operation) error {
		a := v.anonymous()
		people, err := op.portalsOf(email)
		if err != nil {
			return err
		}
		if len(people) == 0 {
			return op.audit(a, 0, "links.requested", email, "no portal for this address; nothing sent")
		}
		var tokens []string
		data := map[string]string{"links": strconv.Itoa(len(people))}
		for i, pe := range people {
			il, action, err := op.accessLink(a, pe.portal, email, pe.person)
			if err != nil {
				return err
			}
			tokens = append(tokens, il.Token)
			ref, err := op.portalRef(pe.portal)
			if err != nil {
				return err
			}
			n := strconv.Itoa(i)
			data["portal_"+n], data["slug_"+n], data["org_"+n] = pe.portal.Title, pe.portal.Slug, ref.Org.Name
			if err := op.auditPortal(a, pe.portal, action, email, "portal "+pe.portal.Slug+", requested with Send me my links"); err != nil {
				return err
			}
		}
		name := people[0].person.user.Name
		if err := op.queue(Message{Kind: MailMyLinks, To: email, ToName: name, Data: data, LinkPath: "/m/", Lang: v.lang()}, strings.Join(tokens, " ")); err != nil {
			return err
		}
		return op.audit(a, 0, "links.requested", email, fmt.Sprintf("links to %d portal(s) sent", len(people)))
	})
}

type portalOfPerson struct {
	portal Portal
	person portalPerson
}

// portalsOf lists the portals email may open now, at most maxMyLinks.
func (op *operation) portalsOf(email string) ([]portalOfPerson, error) {
	orgs, err := op.Orgs()
	if err != nil {
		return nil, err
	}
	var out []portalOfPerson
	for _, o := range orgs {
		portals, err := op.Portals(o.ID)
		if err != nil {
			return nil, err
		}
		for _, p := range portals {
			pp, err := op.person(p, email)
			if err != nil {
				return nil, err
			}
			if !pp.entitled(op.now) {
				continue
			}
			out = append(out, portalOfPerson{p, pp})
			if len(out) == maxMyLinks {
				return out, nil
			}
		}
	}
	return out, nil
}

// accessLink is the link a person with access gets when they ask for it:
// their active link, or else a new one (with the role they hold, or as a
// client when a guest's end date has passed on a link never used). The
// person is the actor's own address (proved by reading the mail), so the
// rule on the links of owners and managers does not stand in the way.
func (op *operation) accessLink(a Actor, p Portal, email string, pp portalPerson) (IssuedLink, string, error) {
	if pp.hasActive {
		il, err := op.revealLink(pp.active)
		return il, "link.sent", err
	}
	role, until := pp.roleForNewLink()
	if !until.IsZero() && !op.now.Before(until) {
		role, until = RoleClient, time.Time{}
	}
	il, err := op.issueLink(a, linkSpec{portal: p, email: email, role: role, guestUntil: until})
	return il, "link.generated", err
}
