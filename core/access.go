package core

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// AccessOutcome is what the Send-access-link form did.
type AccessOutcome int

// Outcomes of the Send-access-link form.
const (
	// OutcomeLinkSent: the email has access (or the portal admits anyone who
	// proves an email); a link for quick access was queued to it.
	OutcomeLinkSent AccessOutcome = iota + 1
	// OutcomeRequested: the email has no access to the closed portal; an
	// access request was recorded and the owner notified (at most once per
	// (portal, email) per day).
	OutcomeRequested
)

// AccessResult is the outcome of the Send-access-link form and how the page
// must present it.
type AccessResult struct {
	PortalRef
	Outcome AccessOutcome
	// Generic: the portal's disclosure is generic, so the page shows one
	// neutral message, with one status, for every outcome.
	Generic bool
	// Notified: the owner was emailed (OutcomeRequested only).
	Notified bool
	// FirstUse: the link sent gives access on its first use; the address
	// has none yet (an invitee, or a stranger at an email or open portal).
	FirstUse bool
}

// RequestAccess is the Send-access-link form of a portal. For a closed
// portal: an email with access gets a link for quick access (its active link,
// or a new one); any other email is recorded as an access request and the
// owner is notified. For an email or open portal, any valid email gets a link
// that makes its owner a client with access on first use.
func (s *Service) RequestAccess(ctx context.Context, slug, rawEmail string, v Visitor) (AccessResult, error) {
	email, err := NormalizeEmail(rawEmail)
	if err != nil {
		return AccessResult{}, err
	}
	// Unknown slugs fail before the shared commit; a stranger's request is
	// counted against the portal's limit here, once (an update's function
	// may run more than once).
	var throttled *RateLimitError
	if err := s.view(ctx, func(w *txw) error {
		p, err := w.PortalBySlug(slug)
		if err != nil {
			return notFoundAs(err, "portal", clip(slug))
		}
		pp, err := w.person(p, email)
		if err != nil {
			return err
		}
		if accessOutcome(p, pp, w.now) == OutcomeRequested {
			if ok, wait := s.requests.Allow(fmt.Sprint(p.ID)); !ok {
				throttled = &RateLimitError{What: "access requests to this portal", Retry: wait}
			}
		}
		return nil
	}); err != nil {
		return AccessResult{}, err
	}
	if throttled != nil {
		return s.throttledRequest(ctx, slug, email, v, throttled)
	}
	var res AccessResult
	err = s.update(ctx, func(w *txw) error {
		p, err := w.PortalBySlug(slug)
		if err != nil {
			return notFoundAs(err, "portal", clip(slug))
		}
		res = AccessResult{Generic: s.EffectiveDisclosure(p) == DisclosureGeneric}
		if res.PortalRef, err = w.portalRef(p); err != nil {
			return err
		}
		pp, err := w.person(p, email)
		if err != nil {
			return err
		}
		a := v.anonymous()
		res.Outcome = accessOutcome(p, pp, w.now)
		switch {
		case res.Outcome == OutcomeRequested:
			res.Notified, err = w.recordRequest(a, p, email, v)
			return err
		case !pp.entitled(w.now):
			pp.isMember, pp.anyLink = false, false // a stranger to an email or open portal: a client link
		}
		res.FirstUse = !pp.hasAccess
		return w.sendAccessLink(a, p, email, pp)
	})
	return res, err
}

// accessOutcome is what the Send-access-link form does for the person: a
// link for someone with access, and for anyone at an email or open portal
// (but a guest whose access ended, who does not come back as a client);
// a request for everyone else.
func accessOutcome(p Portal, pp portalPerson, now time.Time) AccessOutcome {
	switch {
	case pp.entitled(now):
		return OutcomeLinkSent
	case (p.Access == AccessEmail || p.Access == AccessOpen) && !(pp.isMember && pp.member.Expired(now)):
		return OutcomeLinkSent
	}
	return OutcomeRequested
}

// throttledRequest answers a stranger's request over the portal's limit:
// nothing is recorded and nobody is mailed. Under generic disclosure the
// answer is the neutral one as always (and the work a commit, as always);
// otherwise it is the limit's error.
func (s *Service) throttledRequest(ctx context.Context, slug, email string, v Visitor, limit *RateLimitError) (AccessResult, error) {
	var res AccessResult
	err := s.update(ctx, func(w *txw) error {
		p, err := w.PortalBySlug(slug)
		if err != nil {
			return notFoundAs(err, "portal", clip(slug))
		}
		res = AccessResult{Generic: s.EffectiveDisclosure(p) == DisclosureGeneric, Outcome: OutcomeRequested}
		if res.PortalRef, err = w.portalRef(p); err != nil {
			return err
		}
		return w.auditPortal(v.anonymous(), p, "access.throttled", email, "portal "+p.Slug+": over the limit of access requests; not recorded, nobody notified")
	})
	if err != nil {
		return AccessResult{}, err
	}
	if !res.Generic {
		return res, limit
	}
	return res, nil
}

// sendAccessLink queues a link for quick access: the active link if there
// is one, else a new one.
func (w *txw) sendAccessLink(a Actor, p Portal, email string, pp portalPerson) error {
	il, action, err := w.accessLink(a, p, email, pp)
	if err != nil {
		return err
	}
	if err := w.portalMail(MailAccessLink, p, email, pp.user.Name, nil, il); err != nil {
		return err
	}
	return w.auditPortal(a, p, action, email, "portal "+p.Slug+", requested with Send access link")
}

// recordRequest records (or counts again) a pending access request and
// tells the owner: unless they were told of this (portal, email) in the
// last NotifyEvery, in a notice of its own when the portal's last notice
// is NotifyPortalEvery old, else in the summary due at the end of that
// quiet period. It reports whether the owner is (or will be) told.
func (w *txw) recordRequest(a Actor, p Portal, email string, v Visitor) (notified bool, err error) {
	r, err := w.LatestRequest(p.ID, email)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return false, err
	}
	lastNotified := r.NotifiedAt
	if err != nil || r.State != RequestPending {
		r = Request{OrgID: p.OrgID, PortalID: p.ID, Email: email, State: RequestPending, CreatedAt: w.now, NotifiedAt: lastNotified}
	}
	r.Count++
	r.LastAt, r.Addr = w.now, v.Addr
	notify := r.NotifiedAt.IsZero() || !w.now.Before(r.NotifiedAt.Add(w.s.opts.NotifyEvery))
	if notify {
		r.NotifiedAt = w.now
	}
	if err := w.PutRequest(&r); err != nil {
		return false, err
	}
	how := ""
	if notify {
		if how, err = w.noticeRequest(p, r, v); err != nil {
			return false, err
		}
	}
	w.changed(Change{Kind: ChangeAccessRequest, OrgID: p.OrgID, PortalID: p.ID})
	detail := fmt.Sprintf("portal %s, request %d, asked %d time(s)", p.Slug, r.ID, r.Count)
	if how != "" {
		detail += ", " + how
	}
	return notify, w.auditPortal(a, p, "access.requested", email, detail)
}

// digestShown is how many addresses a summary lists by name.
const digestShown = 10

// noticeRequest tells the owner of a new request: at once when the
// portal's last notice is old enough, otherwise in the summary due at the
// end of the quiet period (queued, or grown by one). It says which.
func (w *txw) noticeRequest(p Portal, r Request, v Visitor) (string, error) {
	n, err := w.Notices(p.ID)
	switch {
	case errors.Is(err, ErrNotFound):
		n = PortalNotices{PortalID: p.ID}
	case err != nil:
		return "", err
	}
	if n.DigestID != 0 { // a summary not yet due takes the request
		m, err := w.Message(n.DigestID)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return "", err
		}
		if err == nil && m.State == MessageQueued && m.Attempts == 0 && w.now.Before(m.NextAttemptAt) {
			count, _ := strconv.Atoi(m.Data["count"])
			m.Data["count"] = strconv.Itoa(count + 1)
			if count < digestShown {
				m.Data["emails"] = strings.TrimPrefix(m.Data["emails"]+"\n"+r.Email, "\n")
			}
			m.Data["last_at"] = w.now.Format(time.RFC3339)
			return "owner told in the summary due " + m.NextAttemptAt.Format(time.RFC3339), w.PutMessage(&m)
		}
		n.DigestID = 0
	}
	owner, err := w.owner(p.OrgID)
	if err != nil {
		return "", err
	}
	ou, err := w.User(owner.UserID)
	if err != nil {
		return "", err
	}
	if n.LastSentAt.IsZero() || !w.now.Before(n.LastSentAt.Add(w.s.opts.NotifyPortalEvery)) {
		note, err := w.noteAddress(p.OrgID, r.Email)
		if err != nil {
			return "", err
		}
		data := map[string]string{"email": r.Email, "request_id": fmt.Sprint(r.ID), "at": w.now.Format(time.RFC3339), "addr": v.Addr,
			"ascii": note.ASCII, "looks_like": note.LooksLike}
		if err := w.portalMail(MailAccessRequest, p, ou.Email, ou.Name, data, IssuedLink{}); err != nil {
			return "", err
		}
		n.LastSentAt = w.now
		return "owner notified", w.PutNotices(n)
	}
	due := n.LastSentAt.Add(w.s.opts.NotifyPortalEvery)
	data := map[string]string{"count": "1", "emails": r.Email, "first_at": w.now.Format(time.RFC3339), "last_at": w.now.Format(time.RFC3339),
		"since": n.LastSentAt.Format(time.RFC3339)}
	org, err := w.Org(p.OrgID)
	if err != nil {
		return "", err
	}
	data["org"], data["portal"], data["slug"] = org.Name, p.Title, p.Slug
	m := Message{OrgID: p.OrgID, Kind: MailAccessDigest, To: ou.Email, ToName: ou.Name, Data: data}
	id, err := w.queueAt(m, "", due)
	if err != nil {
		return "", err
	}
	n.DigestID, n.LastSentAt = id, due
	return "owner told in the summary due " + due.Format(time.RFC3339), w.PutNotices(n)
}

// RequestView is an access request with its portal, for lists, and what an
// owner should know of its address before granting it.
type RequestView struct {
	Request
	Portal Portal
	Note   AddressNote
}

// GrantInput grants a pending access request.
type GrantInput struct {
	RequestID uint64
	Role      Role // empty: client
	// Confirmed: the actor was shown the address's warning (not plain
	// ASCII, or like an address the organization knows) and grants anyway.
	// Without it, such a grant fails with a *ConfirmationError.
	Confirmed bool
}

// GrantRequest grants a pending access request; it works like an invitation
// with the portal.
func (s *Service) GrantRequest(ctx context.Context, a Actor, in GrantInput) (InviteResult, error) {
	if in.Role == "" {
		in.Role = RoleClient
	}
	role, err := ParseRole(string(in.Role))
	if err != nil {
		return InviteResult{}, err
	}
	var res InviteResult
	err = s.update(ctx, func(w *txw) error {
		r, err := w.pendingRequestFor(a, in.RequestID)
		if err != nil {
			return err
		}
		if !in.Confirmed {
			note, err := w.noteAddress(r.OrgID, r.Email)
			if err != nil {
				return err
			}
			if note.Suspicious() {
				return &ConfirmationError{
					Question: fmt.Sprintf("Grant access to %s?", r.Email),
					Detail:   "This address is " + note.Warning() + ". Grant it only if you know who it is.",
				}
			}
		}
		if res, err = w.invite(a, InviteInput{OrgID: r.OrgID, Email: r.Email, Role: role, PortalID: r.PortalID, Replace: true}); err != nil {
			return err
		}
		return w.resolveRequest(a, r, RequestGranted, "as "+string(role))
	})
	return res, err
}

// DismissRequest closes a pending access request without granting it.
func (s *Service) DismissRequest(ctx context.Context, a Actor, requestID uint64) error {
	return s.update(ctx, func(w *txw) error {
		r, err := w.pendingRequestFor(a, requestID)
		if err != nil {
			return err
		}
		return w.resolveRequest(a, r, RequestDismissed, "")
	})
}

func (w *txw) pendingRequestFor(a Actor, id uint64) (Request, error) {
	r, err := w.Request(id)
	if err != nil {
		return Request{}, notFoundAs(err, "access request", fmt.Sprint(id))
	}
	if ok, err := w.canSee(a, r.OrgID); err != nil {
		return Request{}, err
	} else if !ok {
		return Request{}, notFound("access request", fmt.Sprint(id))
	}
	if _, err := w.manage(a, r.OrgID); err != nil {
		return Request{}, err
	}
	if r.State != RequestPending {
		return Request{}, conflict("access request %d was %s already", id, r.State)
	}
	return r, nil
}

func (w *txw) resolveRequest(a Actor, r Request, state RequestState, detail string) error {
	r.State, r.ResolvedAt, r.ResolvedBy = state, w.now, a.label()
	if err := w.PutRequest(&r); err != nil {
		return err
	}
	w.changed(Change{Kind: ChangeAccessRequest, OrgID: r.OrgID, PortalID: r.PortalID})
	p, err := w.Portal(r.PortalID)
	if err != nil {
		return err
	}
	d := "portal " + p.Slug
	if detail != "" {
		d += ", " + detail
	}
	return w.auditPortal(a, p, "request."+string(state), r.Email, d)
}
