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
	// GrantedByRule: a closed portal's grant rule granted the address's
	// request at once (OutcomeLinkSent).
	GrantedByRule bool
}

// RequestAccess is the Send-access-link form of a portal. For a closed
// portal: an email with access gets a link for quick access (its active link,
// or a new one); any other email is recorded as an access request and the
// owner is notified. For an email or open portal, any valid email gets a link
// that makes its owner a client with access on first use.
func (s *AccessRequests) RequestAccess(ctx context.Context, slug, rawEmail string, v Visitor) (AccessResult, error) {
	email, err := NormalizeEmail(rawEmail)
	if err != nil {
		return AccessResult{}, err
	}
	// Unknown slugs fail before the shared commit; a stranger's request is
	// counted against the portal's limit here, once (an update's function
	// may run more than once).
	var throttled *RateLimitError
	if err := s.read(ctx, func(op *operation) error {
		p, err := op.PortalBySlug(slug)
		if err != nil {
			return notFoundAs(err, "portal", clip(slug))
		}
		pp, err := op.person(p, email)
		if err != nil {
			return err
		}
		if accessOutcome(p, pp, op.now) == OutcomeRequested {
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
	err = s.write(ctx, func(op *operation) error {
		p, err := op.PortalBySlug(slug)
		if err != nil {
			return notFoundAs(err, "portal", clip(slug))
		}
		res = AccessResult{Generic: s.EffectiveDisclosure(p) == DisclosureGeneric}
		if res.PortalRef, err = op.portalRef(p); err != nil {
			return err
		}
		pp, err := op.person(p, email)
		if err != nil {
			return err
		}
		a := v.anonymous()
		res.Outcome = accessOutcome(p, pp, op.now)
		if g, ok, err := op.grantRuleFor(p, pp); err != nil {
			return err
		} else if ok && res.Outcome == OutcomeRequested {
			res.Outcome, res.FirstUse, res.GrantedByRule = OutcomeLinkSent, true, true
			return op.grantByRule(p, email, pp, g, v)
		}
		switch {
		case res.Outcome == OutcomeRequested:
			if res.Notified, err = op.recordRequest(a, p, email, v); err != nil {
				return err
			}
			return op.decoyCode(res, v, p, email)
		case !pp.entitled(op.now):
			pp.isMember, pp.anyLink = false, false // a stranger to an email or open portal: a client link
		}
		res.FirstUse = !pp.hasAccess
		return op.sendAccessLink(a, p, email, pp, v)
	})
	return res, err
}

// decoyCode gives the browser that asked a code nobody can open when the
// page says the same for every outcome (generic disclosure), so that a code
// typed there fails the way a wrong one does, and tells nothing.
func (op *operation) decoyCode(res AccessResult, v Visitor, p Portal, email string) error {
	if !res.Generic || v.Browser == "" {
		return nil
	}
	_, err := op.issueCode(v, p.ID, email, 0)
	return err
}

// accessOutcome is what the Send-access-link form does for the person: a
// link for someone with access, and for anyone at an email or open portal
// (but a guest whose access ended, who does not come back as a client);
// a request for everyone else.
func accessOutcome(p Portal, pp portalPerson, now time.Time) AccessOutcome {
	endedGuest := pp.isMember && pp.member.Expired(now)
	switch {
	case pp.entitled(now):
		return OutcomeLinkSent
	case p.Access == AccessOpen && !endedGuest:
		return OutcomeLinkSent
	case p.Access == AccessEmail && !endedGuest && p.Rules.DomainAllowed(pp.email):
		return OutcomeLinkSent // an address at a domain the portal does not allow asks the owner, as at a closed portal
	}
	return OutcomeRequested
}

// grantRuleFor is the closed portal's grant rule for the person, if one
// applies: their address is at its domain, they are not a guest whose
// access ended, a person did not end their last link (someone whose
// access was removed, or whose link was deactivated before they had
// access, waits for the owner who decided that), and the address is plain
// and like none the organization knows (one that is not waits for the
// owner, who is shown why).
func (op *operation) grantRuleFor(p Portal, pp portalPerson) (DomainGrant, bool, error) {
	if p.Access != AccessClosed || pp.isMember && pp.member.Expired(op.now) {
		return DomainGrant{}, false, nil
	}
	if pp.anyLink && pp.lastLink.State != LinkActive {
		return DomainGrant{}, false, nil
	}
	g, ok := p.Rules.autoGrant(pp.email)
	if !ok {
		return DomainGrant{}, false, nil
	}
	note, err := op.noteAddress(p.OrgID, pp.email)
	if err != nil || note.Suspicious() {
		return DomainGrant{}, false, err
	}
	return g, true, nil
}

// ruleActor is a portal's grant rule acting: the system, with the
// authority of the owner who set the rule, named by the rule in the log.
func ruleActor(g DomainGrant) Actor {
	return Actor{Admin: true, Rule: g.Domain + "=" + string(g.Role), Source: "system"}
}

// grantByRule grants a request to a closed portal by its grant rule: the
// request is recorded as granted, the address gets a link with the rule's
// role (which lapses as an invitation's does if never opened), and the
// owner is told it was granted by rule (at most once per NotifyEvery for
// the address, as requests are).
func (op *operation) grantByRule(p Portal, email string, pp portalPerson, g DomainGrant, v Visitor) error {
	a := ruleActor(g)
	r, err := op.LatestRequest(p.ID, email)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	lastNotified := r.NotifiedAt
	if err != nil || r.State != RequestPending {
		r = Request{OrgID: p.OrgID, PortalID: p.ID, Email: email, CreatedAt: op.now, NotifiedAt: lastNotified}
	}
	r.Count++
	r.LastAt, r.Addr = op.now, v.Addr
	r.State, r.ResolvedAt, r.ResolvedBy = RequestGranted, op.now, a.label()
	notify := r.NotifiedAt.IsZero() || !op.now.Before(r.NotifiedAt.Add(op.s.opts.NotifyEvery))
	if notify {
		r.NotifiedAt = op.now
	}
	if err := op.PutRequest(&r); err != nil {
		return err
	}
	il, err := op.issueLink(a, linkSpec{portal: p, email: email, role: g.Role, invited: true})
	if err != nil {
		return err
	}
	if err := op.mailLink(p, email, pp.user.Name, il, v); err != nil {
		return err
	}
	detail := fmt.Sprintf("portal %s, request %d, as %s by the rule %s", p.Slug, r.ID, g.Role, a.Rule)
	if notify {
		owner, err := op.owner(p.OrgID)
		if err != nil {
			return err
		}
		ou, err := op.User(owner.UserID)
		if err != nil {
			return err
		}
		data := map[string]string{"email": email, "role": string(g.Role), "rule": a.Rule, "at": op.now.Format(time.RFC3339), "addr": v.Addr}
		if err := op.portalMailTo(MailAccessGranted, p, ou.Email, ou.Name, data, "", "", 0); err != nil {
			return err
		}
		detail += ", owner notified"
	}
	op.changed(Change{Kind: ChangeAccessRequest, OrgID: p.OrgID, PortalID: p.ID})
	return op.auditPortal(a, p, "request.granted", email, detail)
}

// throttledRequest answers a stranger's request over the portal's limit:
// nothing is recorded and nobody is mailed. Under generic disclosure the
// answer is the neutral one as always (and the work a commit, as always);
// otherwise it is the limit's error.
func (s *engine) throttledRequest(ctx context.Context, slug, email string, v Visitor, limit *RateLimitError) (AccessResult, error) {
	var res AccessResult
	err := s.write(ctx, func(op *operation) error {
		p, err := op.PortalBySlug(slug)
		if err != nil {
			return notFoundAs(err, "portal", clip(slug))
		}
		res = AccessResult{Generic: s.EffectiveDisclosure(p) == DisclosureGeneric, Outcome: OutcomeRequested}
		if res.PortalRef, err = op.portalRef(p); err != nil {
			return err
		}
		if err := op.decoyCode(res, v, p, email); err != nil {
			return err
		}
		return op.auditPortal(v.anonymous(), p, "access.throttled", email, "portal "+p.Slug+": over the limit of access requests; not recorded, nobody notified")
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
func (op *operation) sendAccessLink(a Actor, p Portal, email string, pp portalPerson, v Visitor) error {
	il, action, err := op.accessLink(a, p, email, pp)
	if err != nil {
		return err
	}
	if err := op.mailLink(p, email, pp.user.Name, il, v); err != nil {
		return err
	}
	return op.auditPortal(a, p, action, email, "portal "+p.Slug+", requested with Send access link")
}

// mailLink queues the access-link email of a link the form gave: with a
// code for the browser that asked, in the language of its page.
func (op *operation) mailLink(p Portal, email, name string, il IssuedLink, v Visitor) error {
	var data map[string]string
	if v.Browser != "" { // the email carries a code for the browser that asked
		code, err := op.issueCode(v, p.ID, email, il.Link.ID)
		if err != nil {
			return err
		}
		data = op.sealMailCode(code)
	}
	if l := v.lang(); l != "" { // written in the language of the page it was asked from
		p.Language = l
	}
	return op.portalMail(MailAccessLink, p, email, name, data, il)
}

// recordRequest records (or counts again) a pending access request and
// tells the owner: unless they were told of this (portal, email) in the
// last NotifyEvery, in a notice of its own when the portal's last notice
// is NotifyPortalEvery old, else in the summary due at the end of that
// quiet period. It reports whether the owner is (or will be) told.
func (op *operation) recordRequest(a Actor, p Portal, email string, v Visitor) (notified bool, err error) {
	r, err := op.LatestRequest(p.ID, email)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return false, err
	}
	lastNotified := r.NotifiedAt
	if err != nil || r.State != RequestPending {
		r = Request{OrgID: p.OrgID, PortalID: p.ID, Email: email, State: RequestPending, CreatedAt: op.now, NotifiedAt: lastNotified}
	}
	r.Count++
	r.LastAt, r.Addr = op.now, v.Addr
	notify := r.NotifiedAt.IsZero() || !op.now.Before(r.NotifiedAt.Add(op.s.opts.NotifyEvery))
	if notify {
		r.NotifiedAt = op.now
	}
	if err := op.PutRequest(&r); err != nil {
		return false, err
	}
	how := ""
	if notify {
		if how, err = op.noticeRequest(p, r, v); err != nil {
			return false, err
		}
	}
	op.changed(Change{Kind: ChangeAccessRequest, OrgID: p.OrgID, PortalID: p.ID})
	detail := fmt.Sprintf("portal %s, request %d, asked %d time(s)", p.Slug, r.ID, r.Count)
	if how != "" {
		detail += ", " + how
	}
	return notify, op.auditPortal(a, p, "access.requested", email, detail)
}

// digestShown is how many addresses a summary lists by name.
const digestShown = 10

// noticeRequest tells the owner of a new request: at once when the
// portal's last notice is old enough, otherwise in the summary due at the
// end of the quiet period (queued, or grown by one). It says which.
func (op *operation) noticeRequest(p Portal, r Request, v Visitor) (string, error) {
	n, err := op.Notices(p.ID)
	switch {
	case errors.Is(err, ErrNotFound):
		n = PortalNotices{PortalID: p.ID}
	case err != nil:
		return "", err
	}
	if n.DigestID != 0 { // a summary not yet due takes the request
		m, err := op.Message(n.DigestID)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return "", err
		}
		if err == nil && m.State == MessageQueued && m.Attempts == 0 && op.now.Before(m.NextAttemptAt) {
			count, _ := strconv.Atoi(m.Data["count"])
			m.Data["count"] = strconv.Itoa(count + 1)
			if count < digestShown {
				m.Data["emails"] = strings.TrimPrefix(m.Data["emails"]+"\n"+r.Email, "\n")
			}
			m.Data["last_at"] = op.now.Format(time.RFC3339)
			return "owner told in the summary due " + m.NextAttemptAt.Format(time.RFC3339), op.PutMessage(&m)
		}
		n.DigestID = 0
	}
	owner, err := op.owner(p.OrgID)
	if err != nil {
		return "", err
	}
	ou, err := op.User(owner.UserID)
	if err != nil {
		return "", err
	}
	if n.LastSentAt.IsZero() || !op.now.Before(n.LastSentAt.Add(op.s.opts.NotifyPortalEvery)) {
		note, err := op.noteAddress(p.OrgID, r.Email)
		if err != nil {
			return "", err
		}
		data := map[string]string{"email": r.Email, "request_id": fmt.Sprint(r.ID), "at": op.now.Format(time.RFC3339), "addr": v.Addr,
			"ascii": note.ASCII, "looks_like": note.LooksLike}
		secret, err := op.newRequestAction(r, ou.ID) // the notice's Grant access and Dismiss buttons
		if err != nil {
			return "", err
		}
		if err := op.portalMailTo(MailAccessRequest, p, ou.Email, ou.Name, data, "/requests/", secret, 0); err != nil {
			return "", err
		}
		n.LastSentAt = op.now
		return "owner notified", op.PutNotices(n)
	}
	due := n.LastSentAt.Add(op.s.opts.NotifyPortalEvery)
	data := map[string]string{"count": "1", "emails": r.Email, "first_at": op.now.Format(time.RFC3339), "last_at": op.now.Format(time.RFC3339),
		"since": n.LastSentAt.Format(time.RFC3339)}
	org, err := op.Org(p.OrgID)
	if err != nil {
		return "", err
	}
	data["org"], data["portal"], data["slug"] = org.Name, p.Title, p.Slug
	m := Message{OrgID: p.OrgID, Kind: MailAccessDigest, To: ou.Email, ToName: ou.Name, Data: data, Lang: p.LanguageIn(org)}
	id, err := op.queueAt(m, "", due)
	if err != nil {
		return "", err
	}
	n.DigestID, n.LastSentAt = id, due
	return "owner told in the summary due " + due.Format(time.RFC3339), op.PutNotices(n)
}

// RequestView is an access request with its portal, for lists, and what an
// owner should know of its address before granting it.
type RequestView struct {
	Request
	Portal  Portal
	Note    AddressNote
	Actions RequestActions // what the actor who listed it may do
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
func (s *AccessRequests) GrantRequest(ctx context.Context, a Actor, in GrantInput) (InviteResult, error) {
	return writeResult(s.engine, ctx, func(op *operation) (InviteResult, error) { return op.grantRequest(a, in, "") })
}

// grantRequest grants a pending request; how, if any, is added to the
// audit's detail ("granted from email").
func (op *operation) grantRequest(a Actor, in GrantInput, how string) (InviteResult, error) {
	if in.Role == "" {
		in.Role = RoleClient
	}
	role, err := ParseRole(string(in.Role))
	if err != nil {
		return InviteResult{}, err
	}
	r, err := op.pendingRequestFor(a, in.RequestID)
	if err != nil {
		return InviteResult{}, err
	}
	if !in.Confirmed {
		note, err := op.noteAddress(r.OrgID, r.Email)
		if err != nil {
			return InviteResult{}, err
		}
		if note.Suspicious() {
			return InviteResult{}, &ConfirmationError{
				Question: fmt.Sprintf("Grant access to %s?", r.Email),
				Detail:   "This address is " + note.Warning() + ". Grant it only if you know who it is.",
			}
		}
	}
	res, err := op.invite(a, InviteInput{OrgID: r.OrgID, Email: r.Email, Role: role, PortalID: r.PortalID, Replace: true})
	if err != nil {
		return InviteResult{}, err
	}
	detail := "as " + string(role)
	if how != "" {
		detail += ", " + how
	}
	return res, op.resolveRequest(a, r, RequestGranted, detail)
}

// DismissRequest closes a pending access request without granting it.
func (s *AccessRequests) DismissRequest(ctx context.Context, a Actor, requestID uint64) error {
	return s.write(ctx, func(op *operation) error { return op.dismissRequest(a, requestID, "") })
}

func (op *operation) dismissRequest(a Actor, requestID uint64, how string) error {
	r, err := op.pendingRequestFor(a, requestID)
	if err != nil {
		return err
	}
	return op.resolveRequest(a, r, RequestDismissed, how)
}

func (op *operation) pendingRequestFor(a Actor, id uint64) (Request, error) {
	r, err := op.Request(id)
	if err != nil {
		return Request{}, notFoundAs(err, "access request", fmt.Sprint(id))
	}
	if _, ok, err := op.canSee(a, r.OrgID); err != nil {
		return Request{}, err
	} else if !ok {
		return Request{}, notFound("access request", fmt.Sprint(id))
	}
	if err := requestOpen(r); err != nil {
		return Request{}, err
	}
	return r, nil
}

func (op *operation) resolveRequest(a Actor, r Request, state RequestState, detail string) error {
	r.State, r.ResolvedAt, r.ResolvedBy = state, op.now, a.label()
	if err := op.PutRequest(&r); err != nil {
		return err
	}
	op.changed(Change{Kind: ChangeAccessRequest, OrgID: r.OrgID, PortalID: r.PortalID})
	p, err := op.Portal(r.PortalID)
	if err != nil {
		return err
	}
	d := "portal " + p.Slug
	if detail != "" {
		d += ", " + detail
	}
	return op.auditPortal(a, p, "request."+string(state), r.Email, d)
}
