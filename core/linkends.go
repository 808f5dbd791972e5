package core

import (
	"errors"
	"fmt"
	"time"
)

// The links as core reads them: a link that its portal's rules have
// stopped (accessrules.go) reads as LinkExpired, so that every path that
// asks whether a link is active (the landing page, the redemption, a code
// typed in a browser, the form's "send me my link", the console's rows)
// takes the same decision. The state is computed, never stored: the
// stored record stays active and keeps its place in the index of active
// links, until a new link for the same (portal, email) replaces it.

// LinkExpired is the state of a link its portal's rules have stopped. It
// is never stored.
const LinkExpired LinkState = "expired"

// ruled is the link as its portal's rules have it now.
func (op *operation) ruled(l Link) (Link, error) {
	if l.State != LinkActive {
		return l, nil
	}
	p, err := op.Portal(l.PortalID)
	if err != nil {
		return l, err
	}
	return ruledBy(p, l, op.now), nil
}

// ruledBy is the link as the portal's rules have it at now.
func ruledBy(p Portal, l Link, now time.Time) Link {
	if end, ok := p.Rules.LinkEnd(l, now); ok {
		l.State, l.EndedAt, l.EndedBy = LinkExpired, end.At, "the portal's rules: "+end.String()
	}
	return l
}

// Link reads a link by id, as the rules have it.
func (op *operation) Link(id uint64) (Link, error) {
	l, err := op.Tx.Link(id)
	if err != nil {
		return l, err
	}
	return op.ruled(l)
}

// LinkByLookup reads a link by its token's lookup hash, as the rules have it.
func (op *operation) LinkByLookup(lookup []byte) (Link, error) {
	l, err := op.Tx.LinkByLookup(lookup)
	if err != nil {
		return l, err
	}
	return op.ruled(l)
}

// ActiveLink is the active link for (portal, email): ErrNotFound when
// there is none or the rules have stopped it (op.Tx.ActiveLink is the one
// stored as active, for replacing it).
func (op *operation) ActiveLink(portalID uint64, email string) (Link, error) {
	l, err := op.Tx.ActiveLink(portalID, email)
	if err != nil {
		return l, err
	}
	if l, err = op.ruled(l); err == nil && l.State != LinkActive {
		return Link{}, fmt.Errorf("active link of %s: %w", email, ErrNotFound)
	}
	return l, err
}

// LatestLink is the newest link for (portal, email), as the rules have it.
func (op *operation) LatestLink(portalID uint64, email string) (Link, error) {
	l, err := op.Tx.LatestLink(portalID, email)
	if err != nil {
		return l, err
	}
	return op.ruled(l)
}

// Links lists a portal's links, as its rules have them.
func (op *operation) Links(portalID uint64) ([]Link, error) {
	links, err := op.Tx.Links(portalID)
	if err != nil {
		return nil, err
	}
	p, err := op.Portal(portalID)
	if err != nil {
		return nil, err
	}
	for i := range links {
		links[i] = ruledBy(p, links[i], op.now)
	}
	return links, nil
}

// PutLink stores a link; one read as expired is stored as it was (its
// stopping is the rules', computed again on every read).
func (op *operation) PutLink(l *Link) error {
	if l.State == LinkExpired {
		return errors.New("store link: expired is computed from the portal's rules, never stored")
	}
	return op.Tx.PutLink(l)
}

// linkSession decides a session a link opened: it ends when the link's
// rules stop the link (but for a use cap, see LinkEnd.endsSessions) and
// when the link's holder is a guest whose end date has passed. It also
// says until when that decision holds (zero: no end in sight).
func (op *operation) linkSession(s Session) (ok bool, until time.Time, err error) {
	if s.LinkID == 0 {
		return true, time.Time{}, nil
	}
	l, err := op.Tx.Link(s.LinkID)
	if errors.Is(err, ErrNotFound) {
		return true, time.Time{}, nil
	}
	if err != nil {
		return false, time.Time{}, err
	}
	p, err := op.Portal(l.PortalID)
	if errors.Is(err, ErrNotFound) {
		return true, time.Time{}, nil
	}
	if err != nil {
		return false, time.Time{}, err
	}
	if end, stopped := p.Rules.LinkEnd(l, op.now); stopped && end.endsSessions() {
		return false, time.Time{}, nil
	}
	if l.State == LinkActive {
		until, _ = p.Rules.linkEndsAt(l)
	}
	m, err := op.Member(l.OrgID, s.UserID)
	switch {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		return false, time.Time{}, err
	case m.Expired(op.now):
		return false, time.Time{}, nil
	case m.Role == RoleGuest && !m.GuestUntil.IsZero() && (until.IsZero() || m.GuestUntil.Before(until)):
		until = m.GuestUntil
	}
	return true, until, nil
}
