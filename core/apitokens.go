package core

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Scope is one thing an API token may do. A token acts with the
// permissions of the person who created it, narrowed by its scopes.
type Scope string

// The scopes of API tokens.
const (
	ScopeProjectsRead  Scope = "projects:read"  // projects and portals, and portal settings changes
	ScopeMembersRead   Scope = "members:read"   // the people of a portal, with their link state
	ScopeMembersWrite  Scope = "members:write"  // invite, change role, remove access
	ScopeLinksWrite    Scope = "links:write"    // generate, deactivate
	ScopeLinksReveal   Scope = "links:reveal"   // read an active link's URL
	ScopeRequestsRead  Scope = "requests:read"  // access requests
	ScopeRequestsWrite Scope = "requests:write" // grant, dismiss
	ScopeEventsRead    Scope = "events:read"    // the audit log
	ScopeWebhooksWrite Scope = "webhooks:write" // register, list and remove webhooks
	ScopePortalsWrite  Scope = "portals:write"  // change a portal's settings
)

// Scopes lists every scope, in the order they are documented.
var Scopes = []Scope{ScopeProjectsRead, ScopePortalsWrite, ScopeMembersRead, ScopeMembersWrite, ScopeLinksWrite,
	ScopeLinksReveal, ScopeRequestsRead, ScopeRequestsWrite, ScopeEventsRead, ScopeWebhooksWrite}

// APITokenPrefix begins every API token's secret.
const APITokenPrefix = "lk_"

// APIToken lets another system drive one organization through the API.
// Only the SHA-256 of its secret is stored.
type APIToken struct {
	ID         uint64    `json:"id"`
	OrgID      uint64    `json:"org_id"`
	Name       string    `json:"name"`
	Scopes     []Scope   `json:"scopes"`
	Hash       []byte    `json:"hash"`
	CreatedBy  uint64    `json:"created_by,omitempty"` // 0: an instance admin
	CreatorTag string    `json:"creator"`              // the creator's email, or "admin"
	CreatedAt  time.Time `json:"created_at"`
	ExpiresAt  time.Time `json:"expires_at,omitzero"` // zero: never
	LastUsedAt time.Time `json:"last_used_at,omitzero"`
	RevokedAt  time.Time `json:"revoked_at,omitzero"`
	RevokedBy  string    `json:"revoked_by,omitempty"`
}

// APITokenStore holds API tokens by id, indexed by the hash of the secret
// and by organization.
type APITokenStore interface {
	APIToken(id uint64) (APIToken, error)
	APITokenByHash(hash []byte) (APIToken, error)
	// PutAPIToken assigns an id to a new token; the hash never changes.
	PutAPIToken(t *APIToken) error
	// APITokens lists an organization's tokens, oldest first.
	APITokens(orgID uint64) ([]APIToken, error)
}

// Active reports whether the token still authenticates at now.
func (t APIToken) Active(now time.Time) bool {
	return t.RevokedAt.IsZero() && (t.ExpiresAt.IsZero() || now.Before(t.ExpiresAt))
}

// State is the token's state as the console and SSH say it: "active",
// "revoked 3 Dec 2026", "expired 3 Dec 2026".
func (t APIToken) State(now time.Time) string {
	switch {
	case !t.RevokedAt.IsZero():
		return "revoked " + t.RevokedAt.Format("2 Jan 2006")
	case !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt):
		return "expired " + t.ExpiresAt.Format("2 Jan 2006")
	}
	return "active"
}

// Has reports whether the token carries the scope.
func (t APIToken) Has(s Scope) bool { return slices.Contains(t.Scopes, s) }

// ParseScopes reads a comma-separated list of scopes ("members:read,
// links:write"); "all" is every scope.
func ParseScopes(s string) ([]Scope, error) {
	if strings.TrimSpace(s) == "all" {
		return slices.Clone(Scopes), nil
	}
	var out []Scope
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if !slices.Contains(Scopes, Scope(part)) {
			return nil, invalid("scope", "%q is not a scope; the scopes are %s, or all", part, scopeList())
		}
		if !slices.Contains(out, Scope(part)) {
			out = append(out, Scope(part))
		}
	}
	if len(out) == 0 {
		return nil, invalid("scope", "give at least one scope: %s, or all", scopeList())
	}
	slices.SortFunc(out, func(a, b Scope) int { return slices.Index(Scopes, a) - slices.Index(Scopes, b) })
	return out, nil
}

func scopeList() string {
	names := make([]string, len(Scopes))
	for i, s := range Scopes {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

// ErrUnauthenticated: no valid API token (missing, unknown, revoked or
// expired).
var ErrUnauthenticated = errors.New("not authenticated")

// APITokens creates, lists and revokes API tokens, and authenticates them.
type APITokens struct{ *engine }

// NewAPIToken is what CreateAPIToken needs.
type NewAPIToken struct {
	OrgID   uint64
	Name    string
	Scopes  []Scope
	Expires time.Time // zero: never; else the token stops at this instant
}

// mayHandleTokens: only the organization's owner (or an instance admin)
// creates, lists and revokes its tokens; a token acts with its creator's
// permissions, so a manager could otherwise mint a token that outlives
// their role in ways the owner cannot see.
func (op *operation) mayHandleTokens(a Actor, orgID uint64) (Org, error) {
	o, by, err := op.orgFor(a, orgID)
	if err != nil {
		return Org{}, err
	}
	if a.Token != "" {
		return Org{}, forbidden("API tokens are created and revoked in the console or over SSH, not with another token")
	}
	if by != RoleOwner {
		return Org{}, forbidden("only the owner creates and revokes API tokens")
	}
	return o, nil
}

// CreateAPIToken makes a token for the organization and returns it with
// its secret, which is shown this once and never stored.
func (s *APITokens) CreateAPIToken(ctx context.Context, a Actor, n NewAPIToken) (APIToken, string, error) {
	var tok APIToken
	var secret string
	name, err := cleanName("name", n.Name, true)
	if err != nil {
		return tok, "", err
	}
	if len(n.Scopes) == 0 {
		return tok, "", invalid("scope", "give at least one scope: %s, or all", scopeList())
	}
	for _, sc := range n.Scopes {
		if !slices.Contains(Scopes, sc) {
			return tok, "", invalid("scope", "%q is not a scope; the scopes are %s", sc, scopeList())
		}
	}
	raw, err := NewToken(s.rand)
	if err != nil {
		return tok, "", err
	}
	secret = APITokenPrefix + raw
	err = s.write(ctx, func(op *operation) error {
		if _, err := op.mayHandleTokens(a, n.OrgID); err != nil {
			return err
		}
		if !n.Expires.IsZero() && !n.Expires.After(op.now) {
			return invalid("expires", "the expiry date has passed; give a day after today")
		}
		existing, err := op.APITokens(n.OrgID)
		if err != nil {
			return err
		}
		for _, t := range existing {
			if t.Active(op.now) && strings.EqualFold(t.Name, name) {
				return &FieldConflict{Field: "name", Reason: fmt.Sprintf("the token %q (id %d) already has this name; choose another, or revoke it first", t.Name, t.ID)}
			}
		}
		tok = APIToken{OrgID: n.OrgID, Name: name, Scopes: slices.Clone(n.Scopes), Hash: HashSecret(secret),
			CreatedBy: a.UserID, CreatorTag: a.label(), CreatedAt: op.now, ExpiresAt: n.Expires}
		if err := op.PutAPIToken(&tok); err != nil {
			return err
		}
		op.changed(Change{Kind: ChangeTokensChanged, OrgID: n.OrgID})
		return op.audit(a, n.OrgID, "token.created", name, fmt.Sprintf("id %d; scopes %s%s", tok.ID, joinScopes(tok.Scopes), expiryDetail(tok)))
	})
	if err != nil {
		return APIToken{}, "", err
	}
	return tok, secret, nil
}

func joinScopes(sc []Scope) string {
	s := make([]string, len(sc))
	for i, x := range sc {
		s[i] = string(x)
	}
	return strings.Join(s, ",")
}

func expiryDetail(t APIToken) string {
	if t.ExpiresAt.IsZero() {
		return ""
	}
	return "; expires " + t.ExpiresAt.Format("2006-01-02 15:04 MST")
}

// APITokenList is the organization's tokens, oldest first (revoked and
// expired ones included, with their state).
func (s *APITokens) APITokenList(ctx context.Context, a Actor, orgID uint64) ([]APIToken, error) {
	var out []APIToken
	err := s.read(ctx, func(op *operation) error {
		if _, err := op.mayHandleTokens(a, orgID); err != nil {
			return err
		}
		var err error
		out, err = op.APITokens(orgID)
		return err
	})
	return out, err
}

// RevokeAPIToken stops a token at once; the API refuses it from the next
// request on.
func (s *APITokens) RevokeAPIToken(ctx context.Context, a Actor, id uint64) (APIToken, error) {
	var tok APIToken
	err := s.write(ctx, func(op *operation) error {
		t, err := op.APIToken(id)
		if err != nil {
			return notFoundAs(err, "API token", fmt.Sprint(id))
		}
		if _, err := op.mayHandleTokens(a, t.OrgID); errors.Is(err, ErrNotFound) {
			return notFound("API token", fmt.Sprint(id))
		} else if err != nil {
			return err
		}
		if !t.RevokedAt.IsZero() {
			return conflict("the token %q was already revoked on %s", t.Name, t.RevokedAt.Format("2 Jan 2006"))
		}
		t.RevokedAt, t.RevokedBy = op.now, a.label()
		if err := op.PutAPIToken(&t); err != nil {
			return err
		}
		tok = t
		op.changed(Change{Kind: ChangeTokensChanged, OrgID: t.OrgID})
		return op.audit(a, t.OrgID, "token.revoked", t.Name, fmt.Sprintf("id %d", t.ID))
	})
	return tok, err
}

// tokenUseEvery is how often a token's last use is written: a busy
// integration must not turn every read into a write.
const tokenUseEvery = time.Minute

// AuthenticateAPIToken finds the token whose secret this is and returns it
// with the actor it acts as: its creator (or an instance admin), limited
// to the token's organization, named "api:NAME by CREATOR" in the log.
// Unknown, revoked and expired tokens are ErrUnauthenticated, at once.
func (s *APITokens) AuthenticateAPIToken(ctx context.Context, secret, source string) (APIToken, Actor, error) {
	if !strings.HasPrefix(secret, APITokenPrefix) || !WellFormedToken(secret[len(APITokenPrefix):]) {
		return APIToken{}, Actor{}, fmt.Errorf("%w: the token is not an API token (they begin with lk_)", ErrUnauthenticated)
	}
	hash := HashSecret(secret)
	now := s.now()
	var t APIToken
	var u User
	err := s.read(ctx, func(op *operation) error {
		var err error
		if t, err = op.APITokenByHash(hash); err != nil || t.CreatedBy == 0 {
			return err
		}
		u, err = op.User(t.CreatedBy)
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return APIToken{}, Actor{}, fmt.Errorf("%w: no such API token", ErrUnauthenticated)
	}
	if err != nil {
		return APIToken{}, Actor{}, err
	}
	if !t.Active(now) {
		return APIToken{}, Actor{}, fmt.Errorf("%w: this API token is %s", ErrUnauthenticated, t.State(now))
	}
	a := Actor{UserID: t.CreatedBy, Email: u.Email, Admin: t.CreatedBy == 0, Token: t.Name, OrgID: t.OrgID, Source: source}
	if now.Sub(t.LastUsedAt) >= tokenUseEvery {
		if err := s.noteTokenUse(ctx, t.ID, now); err != nil {
			return APIToken{}, Actor{}, err
		}
		t.LastUsedAt = now
	}
	return t, a, nil
}

// noteTokenUse records when a token was last used.
func (s *APITokens) noteTokenUse(ctx context.Context, id uint64, at time.Time) error {
	return s.write(ctx, func(op *operation) error {
		t, err := op.APIToken(id)
		if err != nil {
			return err
		}
		if !at.After(t.LastUsedAt) {
			return nil
		}
		t.LastUsedAt = at
		return op.PutAPIToken(&t)
	})
}
