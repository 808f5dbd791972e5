package core

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// HostCodeTTL is how long a code that hands a session to a portal's own
// host stays valid.
const HostCodeTTL = 60 * time.Second

// Gate is what latchkey needs to decide one request to a portal that fronts
// an upstream: the portal, who is asking, and whether they may.
type Gate struct {
	PortalRef
	User    *User // nil: nobody signed in (or the session is not valid)
	Role    Role  // the user's role in the organization, "" if none
	Session Session
	// Allowed: the request may pass, as this user (with access) or as an
	// anonymous visitor of an open portal.
	Allowed bool
	// HasAccess: the signed-in user has access (not only an open portal).
	HasAccess bool
}

// GateBySlug decides a request to /p/{slug}/… with the session id of its
// cookie (or ""); GateByHost one to a portal's own host. Both read only.
func (s *Portals) GateBySlug(ctx context.Context, slug, sessionID string) (Gate, error) {
	return s.gate(ctx, "slug:"+slug, sessionID, func(op *operation) (Portal, error) {
		p, err := op.PortalBySlug(slug)
		return p, notFoundAs(err, "portal", clip(slug))
	})
}

// GateByHost is GateBySlug for a request whose Host is a portal's own.
func (s *Portals) GateByHost(ctx context.Context, host, sessionID string) (Gate, error) {
	return s.gate(ctx, "host:"+strings.ToLower(host), sessionID, func(op *operation) (Portal, error) {
		p, err := op.PortalByHost(strings.ToLower(host))
		return p, notFoundAs(err, "portal with the host", clip(host))
	})
}

func (s *engine) gate(ctx context.Context, key, sessionID string, find func(*operation) (Portal, error)) (Gate, error) {
	key += "\x00" + sessionID
	gen, now := s.gates.generation(), s.now()
	if g, ok := s.gates.get(key, gen, now); ok {
		return g, nil
	}
	until := now.Add(TouchEvery) // a decision changes with the clock too: kept at most until then
	g, err := readResult(s, ctx, func(op *operation) (Gate, error) {
		p, err := find(op)
		if err != nil {
			return Gate{}, err
		}
		g := Gate{}
		if g.PortalRef, err = op.portalRef(p); err != nil {
			return Gate{}, err
		}
		if sessionID != "" {
			si, err := op.session(sessionID)
			switch {
			case err == nil:
				g.User, g.Session = &si.User, si.Session
				if g.Role, g.HasAccess, err = op.userAccess(p, si.User); err != nil {
					return Gate{}, err
				}
				for _, t := range []time.Time{si.Session.ExpiresAt, si.Session.LastSeenAt.Add(s.opts.SessionIdle)} {
					if t.Before(until) {
						until = t
					}
				}
				if m, err := op.Member(p.OrgID, si.User.ID); err == nil && !m.GuestUntil.IsZero() && m.GuestUntil.Before(until) {
					until = m.GuestUntil
				}
				if !si.until.IsZero() && si.until.Before(until) { // the rules of the link that opened it
					until = si.until
				}
			case !errors.Is(err, ErrNoSession):
				return Gate{}, err
			}
		}
		g.Allowed = mayView(p, g.HasAccess)
		return g, nil
	})
	if err == nil {
		s.gates.put(key, g, gen, until)
	}
	return g, err
}

// gateCache keeps gate decisions until the next commit, whatever it
// wrote: a decision is the one the latest committed state gives, as if it
// were read again, without reading it again on every proxied request. (A
// session seen as ended is never kept: its next request reads again.) It
// knows only this process's commits: with several nodes on one database,
// every node must invalidate it on the others' commits too.
type gateCache struct {
	mu  sync.Mutex
	gen uint64
	m   map[string]gateEntry
}

type gateEntry struct {
	g     Gate
	gen   uint64
	until time.Time // the clock may change the decision then (a session's or guest's end)
}

// maxGates bounds the cache; past it, it starts afresh.
const maxGates = 50_000

func newGateCache() *gateCache { return &gateCache{m: map[string]gateEntry{}} }

func (c *gateCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

func (c *gateCache) get(key string, gen uint64, now time.Time) (Gate, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	return e.g, ok && e.gen == gen && now.Before(e.until)
}

func (c *gateCache) put(key string, g Gate, gen uint64, until time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return // a commit happened while it was read
	}
	if len(c.m) >= maxGates {
		c.m = map[string]gateEntry{}
	}
	c.m[key] = gateEntry{g, gen, until}
}

// invalidate runs after every commit.
func (c *gateCache) invalidate() {
	c.mu.Lock()
	c.gen++
	if len(c.m) > 0 {
		c.m = map[string]gateEntry{}
	}
	c.mu.Unlock()
}

// IsPortalHost reports whether host is some portal's own host name.
func (s *Portals) IsPortalHost(ctx context.Context, host string) (bool, error) {
	return readResult(s.engine, ctx, func(op *operation) (bool, error) {
		_, err := op.PortalByHost(strings.ToLower(host))
		if errors.Is(err, ErrNotFound) {
			return false, nil
		}
		return err == nil, err
	})
}

// HandOver makes a single-use code (valid HostCodeTTL) that hands the
// session to the portal's own host, where ExchangeHostCode trades it for a
// session of that host. The session must be valid and have access to the
// portal (or the portal be open). ret is the path to land on there.
func (s *Portals) HandOver(ctx context.Context, sessionID string, portalID uint64, ret string) (string, error) {
	code, err := NewToken(s.rand)
	if err != nil {
		return "", err
	}
	err = s.write(ctx, func(op *operation) error {
		si, err := op.session(sessionID)
		if err != nil {
			return err
		}
		p, err := op.Portal(portalID)
		if err != nil {
			return notFoundAs(err, "portal", fmt.Sprint(portalID))
		}
		if p.Host == "" {
			return invalid("portal", "%s has no host of its own", p.Title)
		}
		_, ok, err := op.userAccess(p, si.User)
		if err != nil {
			return err
		}
		if !ok && p.Access != AccessOpen {
			return ErrNoAccess
		}
		return op.PutToken(Token{Hash: HashSecret(code), Kind: TokenHostCode, UserID: si.User.ID, SessionHash: si.Session.Hash,
			PortalID: p.ID, Return: ret, CreatedAt: op.now, ExpiresAt: op.now.Add(HostCodeTTL)})
	})
	return code, err
}

// ExchangeHostCode trades a code from HandOver, on the portal's own host,
// for a session of that host: a new session, handed over from the first
// (signing out of either ends both; ending the link that opened the first
// ends it too). The code works once; it fails with ErrTokenInvalid when it
// is unknown, used, expired, for another host, or its session ended.
func (s *Portals) ExchangeHostCode(ctx context.Context, code, host string, v Visitor) (SignIn, string, error) {
	if !WellFormedToken(code) {
		return SignIn{}, "", ErrTokenInvalid
	}
	var si SignIn
	var ret string
	err := s.write(ctx, func(op *operation) error {
		t, err := op.Token(HashSecret(code))
		if errors.Is(err, ErrNotFound) || err == nil && (t.Kind != TokenHostCode || !t.UsedAt.IsZero() || !op.now.Before(t.ExpiresAt)) {
			return ErrTokenInvalid
		}
		if err != nil {
			return err
		}
		p, err := op.Portal(t.PortalID)
		if errors.Is(err, ErrNotFound) || err == nil && !strings.EqualFold(p.Host, host) {
			return ErrTokenInvalid
		}
		if err != nil {
			return err
		}
		parent, err := op.Session(t.SessionHash)
		if errors.Is(err, ErrNotFound) || err == nil && !op.s.sessionValid(parent, op.now) {
			return ErrTokenInvalid
		}
		if err != nil {
			return err
		}
		u, err := op.User(parent.UserID)
		if err != nil {
			return notFoundAs(err, "user", fmt.Sprint(parent.UserID))
		}
		t.UsedAt = op.now
		if err := op.PutToken(t); err != nil {
			return err
		}
		if si, err = op.startSession(u, parent.LinkID, v); err != nil {
			return err
		}
		// The handed-over session ends when its parent would.
		key, _ := SessionKey(si.SessionID)
		child, err := op.Session(key)
		if err != nil {
			return err
		}
		child.Parent, child.ExpiresAt = parent.Hash, parent.ExpiresAt
		if err := op.PutSession(child); err != nil {
			return err
		}
		si.ExpiresAt, ret = parent.ExpiresAt, t.Return
		return op.auditPortal(v.actor(u.Email), p, "session.handed_over", u.Email, "to the portal's host "+p.Host)
	})
	return si, ret, err
}
