package core_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"latchkey/core"
)

func TestAPITokensLifeAndAuthority(t *testing.T) {
	e := newEnv(t)
	w := e.world("Acme")
	other := e.world("Other")
	scopes := must(core.ParseScopes("members:read, links:write,members:read"))
	if len(scopes) != 2 || scopes[0] != core.ScopeMembersRead || scopes[1] != core.ScopeLinksWrite {
		t.Fatalf("scopes %v", scopes)
	}
	// Only the owner (or an instance admin) creates tokens.
	_, _, err := e.Svc.CreateAPIToken(e.Ctx, w.managerA, core.NewAPIToken{OrgID: w.org.ID, Name: "crm", Scopes: scopes})
	if !errors.Is(err, core.ErrForbidden) {
		t.Fatalf("a manager created a token: %v", err)
	}
	tok, secret, err := e.Svc.CreateAPIToken(e.Ctx, w.ownerA, core.NewAPIToken{OrgID: w.org.ID, Name: "crm", Scopes: scopes,
		Expires: e.Clock.Now().Add(48 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, "lk_") || len(secret) != 3+43 || strings.Contains(string(tok.Hash), secret) {
		t.Fatalf("secret %q, token %+v", secret, tok)
	}
	// The secret itself is stored nowhere.
	if dump := e.RawDump(); bytes.Contains(dump, []byte(secret)) || bytes.Contains(dump, []byte(secret[3:])) {
		t.Fatal("the token's secret is in the database")
	}
	// A second active token of the same name is refused, and changes nothing.
	if _, _, err := e.Svc.CreateAPIToken(e.Ctx, w.ownerA, core.NewAPIToken{OrgID: w.org.ID, Name: "CRM", Scopes: scopes}); !errors.Is(err, core.ErrConflict) {
		t.Fatalf("a second token named crm: %v", err)
	}
	for _, bad := range []core.NewAPIToken{
		{OrgID: w.org.ID, Name: "", Scopes: scopes},
		{OrgID: w.org.ID, Name: "x", Scopes: nil},
		{OrgID: w.org.ID, Name: "x", Scopes: []core.Scope{"members:delete"}},
		{OrgID: w.org.ID, Name: "x", Scopes: scopes, Expires: e.Clock.Now().Add(-time.Second)},
	} {
		if _, _, err := e.Svc.CreateAPIToken(e.Ctx, w.ownerA, bad); !errors.Is(err, core.ErrInvalid) {
			t.Fatalf("%+v: %v", bad, err)
		}
	}
	if _, err := core.ParseScopes("members:read,admin"); !errors.Is(err, core.ErrInvalid) || !strings.Contains(err.Error(), `"admin" is not a scope`) {
		t.Fatalf("a scope that does not exist: %v", err)
	}
	if list := must(e.Svc.APITokenList(e.Ctx, w.ownerA, w.org.ID)); len(list) != 1 {
		t.Fatalf("tokens after refusals: %+v", list)
	}

	// The token acts as its creator, limited to its organization.
	got, a, err := e.Svc.AuthenticateAPIToken(e.Ctx, secret, "api:127.0.0.1")
	if err != nil || got.ID != tok.ID || a.UserID != w.owner.ID || a.OrgID != w.org.ID || a.Token != "crm" {
		t.Fatalf("authenticate: %+v %+v %v", got, a, err)
	}
	if _, err := e.Svc.PortalMembers(e.Ctx, a, other.closed.ID); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("another organization's portal through the token: %v", err)
	}
	if _, err := e.Svc.Invite(e.Ctx, a, core.InviteInput{OrgID: w.org.ID, Email: "new@client.test", Role: core.RoleClient, PortalID: w.closed.ID}); err != nil {
		t.Fatal(err)
	}
	ev := must(e.Svc.Audit(e.Ctx, w.ownerA, core.AuditQuery{OrgID: w.org.ID, Limit: 1}))
	if len(ev) != 1 || ev[0].Actor != "api:crm by owner@acme.test" {
		t.Fatalf("the audit log names %+v", ev)
	}
	// A token does not make tokens.
	if _, _, err := e.Svc.CreateAPIToken(e.Ctx, a, core.NewAPIToken{OrgID: w.org.ID, Name: "more", Scopes: scopes}); !errors.Is(err, core.ErrForbidden) {
		t.Fatalf("a token created a token: %v", err)
	}
	// Last use is written at most once a minute.
	if l := must(e.Svc.APITokenList(e.Ctx, w.ownerA, w.org.ID)); !l[0].LastUsedAt.Equal(e.Clock.Now()) {
		t.Fatalf("last use %v, want %v", l[0].LastUsedAt, e.Clock.Now())
	}
	first := e.Clock.Now()
	e.Clock.Advance(30 * time.Second)
	must2(e.Svc.AuthenticateAPIToken(e.Ctx, secret, "api:127.0.0.1"))
	if l := must(e.Svc.APITokenList(e.Ctx, w.ownerA, w.org.ID)); !l[0].LastUsedAt.Equal(first) {
		t.Fatalf("last use rewritten after 30 s: %v", l[0].LastUsedAt)
	}

	// Expired at its second; revoked at once.
	e.Clock.Advance(48*time.Hour - 30*time.Second - time.Second)
	if _, _, err := e.Svc.AuthenticateAPIToken(e.Ctx, secret, "x"); err != nil {
		t.Fatalf("a second before it expires: %v", err)
	}
	e.Clock.Advance(time.Second)
	if _, _, err := e.Svc.AuthenticateAPIToken(e.Ctx, secret, "x"); !errors.Is(err, core.ErrUnauthenticated) || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("at its expiry: %v", err)
	}
	tok2, secret2 := must2(e.Svc.CreateAPIToken(e.Ctx, e.Admin, core.NewAPIToken{OrgID: w.org.ID, Name: "crm", Scopes: scopes}))
	_, a2, err := e.Svc.AuthenticateAPIToken(e.Ctx, secret2, "x")
	if err != nil || !a2.Admin || a2.OrgID != w.org.ID {
		t.Fatalf("an admin's token: %+v %v", a2, err)
	}
	if _, err := e.Svc.PortalMembers(e.Ctx, a2, other.closed.ID); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("an admin's token reached another organization: %v", err)
	}
	if _, err := e.Svc.RevokeAPIToken(e.Ctx, other.ownerA, tok2.ID); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("another organization's owner revoked it: %v", err)
	}
	must(e.Svc.RevokeAPIToken(e.Ctx, w.ownerA, tok2.ID))
	if _, _, err := e.Svc.AuthenticateAPIToken(e.Ctx, secret2, "x"); !errors.Is(err, core.ErrUnauthenticated) || !strings.Contains(err.Error(), "revoked") {
		t.Fatalf("after revocation: %v", err)
	}
	if _, err := e.Svc.RevokeAPIToken(e.Ctx, w.ownerA, tok2.ID); !errors.Is(err, core.ErrConflict) {
		t.Fatalf("revoked twice: %v", err)
	}
	for _, s := range []string{"", "lk_", "lk_" + strings.Repeat("A", 43), secret[3:], "Bearer " + secret} {
		if _, _, err := e.Svc.AuthenticateAPIToken(e.Ctx, s, "x"); !errors.Is(err, core.ErrUnauthenticated) {
			t.Fatalf("%q: %v", s, err)
		}
	}
}

func must2[A, B any](a A, b B, err error) (A, B) {
	must(0, err)
	return a, b
}
