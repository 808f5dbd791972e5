package core_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"latchkey/core"
	"latchkey/storage/storetest"
)

// TestDumpHoldsNoSecrets: after every flow has run, no bucket holds a link
// token, session id, reset or join token, or password, raw or encoded.
func TestDumpHoldsNoSecrets(t *testing.T) {
	e := newEnv(t)
	w := e.world("Acme")
	var secrets []string
	res := must(e.Svc.Invite(e.Ctx, w.ownerA, core.InviteInput{OrgID: w.org.ID, Email: "c@x.test", Role: core.RoleClient, PortalID: w.closed.ID}))
	secrets = append(secrets, res.Link.Token)
	secrets = append(secrets, must(e.Svc.Redeem(e.Ctx, res.Link.Token, visitor)).SessionID)
	secrets = append(secrets, must(e.Svc.GenerateLink(e.Ctx, w.ownerA, w.closed.ID, "c@x.test")).Token)
	must(0, e.Svc.RequestRestore(e.Ctx, "c@x.test", visitor))
	reset := e.LastToken("c@x.test", core.MailPasswordReset)
	const password = "the secret password 42"
	si := must(e.Svc.CompleteRestore(e.Ctx, reset, password, visitor))
	secrets = append(secrets, reset, si.SessionID, password)
	secrets = append(secrets, must(e.Svc.Login(e.Ctx, "c@x.test", password, visitor)).SessionID)
	must(e.Svc.Invite(e.Ctx, w.ownerA, core.InviteInput{OrgID: w.org.ID, Email: "j@x.test", Role: core.RoleMember}))
	secrets = append(secrets, e.LastToken("j@x.test", core.MailInviteJoin))
	must(e.Svc.RequestAccess(e.Ctx, w.email.Slug, "e@x.test", visitor))
	secrets = append(secrets, e.LastToken("e@x.test", core.MailAccessLink))

	dump := e.RawDump()
	if len(dump) < 10000 {
		t.Fatalf("dump is only %d bytes: nothing was written?", len(dump))
	}
	for _, s := range secrets {
		forms := [][]byte{[]byte(s), []byte(base64.StdEncoding.EncodeToString([]byte(s)))}
		if raw, err := base64.RawURLEncoding.DecodeString(s); err == nil && len(raw) == 32 {
			forms = append(forms, raw, []byte(base64.StdEncoding.EncodeToString(raw)))
		}
		for _, f := range forms {
			if bytes.Contains(dump, f) {
				t.Fatalf("the database holds a secret (%q…) in clear", s[:6])
			}
		}
	}
}

// TestBadInputChangesNothing: every kind of bad input gets a typed error
// with a sentence a person understands, and the database stays byte-for-byte
// the same.
func TestBadInputChangesNothing(t *testing.T) {
	e := newEnv(t)
	w := e.world("Acme")
	e.clientWithLink(w, w.closed, "c@x.test")
	long := strings.Repeat("x", 10<<10)
	nul := "ann\x00@x.test"
	before := e.Dump()
	for _, tc := range []struct {
		name    string
		do      func() error
		want    error
		mention string // the error names the field or thing
	}{
		{"malformed email", func() error {
			_, err := e.Svc.Invite(e.Ctx, w.ownerA, core.InviteInput{OrgID: w.org.ID, Email: "not-an-email", Role: core.RoleClient})
			return err
		}, core.ErrInvalid, "email"},
		{"display name email", func() error {
			_, err := e.Svc.Invite(e.Ctx, w.ownerA, core.InviteInput{OrgID: w.org.ID, Email: "Ann <ann@x.test>", Role: core.RoleClient})
			return err
		}, core.ErrInvalid, "display name"},
		{"email with CR LF", func() error {
			_, err := e.Svc.RequestAccess(e.Ctx, w.closed.Slug, "ann@x.test\r\nBcc: all@x.test", visitor)
			return err
		}, core.ErrInvalid, "control character"},
		{"email with NUL", func() error { _, err := e.Svc.RequestAccess(e.Ctx, w.closed.Slug, nul, visitor); return err }, core.ErrInvalid, "email"},
		{"10 KB email", func() error { _, err := e.Svc.RequestAccess(e.Ctx, w.closed.Slug, long+"@x.test", visitor); return err }, core.ErrInvalid, "longer than"},
		{"empty email", func() error { return e.Svc.RequestRestore(e.Ctx, "   ", visitor) }, core.ErrInvalid, "required"},
		{"unknown slug", func() error { _, err := e.Svc.RequestAccess(e.Ctx, "no-such-portal", "a@x.test", visitor); return err }, core.ErrNotFound, "no-such-portal"},
		{"10 KB slug", func() error { _, err := e.Svc.RequestAccess(e.Ctx, long, "a@x.test", visitor); return err }, core.ErrNotFound, "portal"},
		{"wrong role name", func() error {
			_, err := e.Svc.Invite(e.Ctx, w.ownerA, core.InviteInput{OrgID: w.org.ID, Email: "a@x.test", Role: "admin"})
			return err
		}, core.ErrInvalid, "not a role"},
		{"empty role", func() error {
			_, err := e.Svc.Invite(e.Ctx, w.ownerA, core.InviteInput{OrgID: w.org.ID, Email: "a@x.test"})
			return err
		}, core.ErrInvalid, "role"},
		{"empty project name", func() error { _, err := e.Svc.CreateProject(e.Ctx, w.ownerA, w.org.ID, "  "); return err }, core.ErrInvalid, "must not be empty"},
		{"10 KB project name", func() error { _, err := e.Svc.CreateProject(e.Ctx, w.ownerA, w.org.ID, long); return err }, core.ErrInvalid, "longer than"},
		{"taken project name", func() error { _, err := e.Svc.CreateProject(e.Ctx, w.ownerA, w.org.ID, "  Closed "); return err }, core.ErrConflict, `"closed"`},
		{"rename to a taken project name", func() error {
			_, err := e.Svc.RenameProject(e.Ctx, w.ownerA, w.closed.ProjectID, "OPEN")
			return err
		}, core.ErrConflict, `"open" exists already`},
		{"right-to-left override in a name", func() error {
			_, err := e.Svc.Invite(e.Ctx, w.ownerA, core.InviteInput{OrgID: w.org.ID, Email: "a@x.test", Name: "\u202Emoc.elpmaxe@nimda", Role: core.RoleClient})
			return err
		}, core.ErrInvalid, "text-direction"},
		{"zero-width space in a project name", func() error {
			_, err := e.Svc.CreateProject(e.Ctx, w.ownerA, w.org.ID, "clo\u200Bsed")
			return err
		}, core.ErrInvalid, "invisible"},
		{"NUL in a name", func() error {
			_, err := e.Svc.Invite(e.Ctx, w.ownerA, core.InviteInput{OrgID: w.org.ID, Email: "a@x.test", Name: "A\x00B", Role: core.RoleClient})
			return err
		}, core.ErrInvalid, "name"},
		{"empty organization name", func() error {
			_, err := e.Svc.CreateOrg(e.Ctx, e.Admin, core.NewOrg{Name: "", OwnerEmail: "o@x.test"})
			return err
		}, core.ErrInvalid, "name"},
		{"bad slug", func() error {
			_, err := e.Svc.SetPortal(e.Ctx, w.ownerA, w.closed.ProjectID, core.PortalSettings{Slug: "Bad Slug!", Title: "T", Access: core.AccessClosed})
			return err
		}, core.ErrInvalid, "address"},
		{"taken slug", func() error {
			_, err := e.Svc.SetPortal(e.Ctx, w.ownerA, w.closed.ProjectID, core.PortalSettings{Slug: w.open.Slug, Title: "T", Access: core.AccessClosed})
			return err
		}, core.ErrConflict, "taken"},
		{"bad access level", func() error {
			_, err := e.Svc.SetPortal(e.Ctx, w.ownerA, w.closed.ProjectID, core.PortalSettings{Slug: "ok-slug", Title: "T", Access: "secret"})
			return err
		}, core.ErrInvalid, "access level"},
		{"10 KB welcome text", func() error {
			_, err := e.Svc.SetPortal(e.Ctx, w.ownerA, w.closed.ProjectID, core.PortalSettings{Slug: "ok-slug", Title: "T", Access: core.AccessClosed, Welcome: long})
			return err
		}, core.ErrInvalid, "welcome"},
		{"garbage token", func() error { _, err := e.Svc.Redeem(e.Ctx, "garbage", visitor); return err }, core.ErrLinkUnknown, "not valid"},
		{"10 KB token", func() error { _, err := e.Svc.Redeem(e.Ctx, long, visitor); return err }, core.ErrLinkUnknown, "not valid"},
		{"well-formed unknown token", func() error {
			_, err := e.Svc.Redeem(e.Ctx, strings.Repeat("A", core.TokenLen), visitor)
			return err
		}, core.ErrLinkUnknown, "not valid"},
		{"NUL token", func() error {
			_, err := e.Svc.Redeem(e.Ctx, strings.Repeat("\x00", core.TokenLen), visitor)
			return err
		}, core.ErrLinkUnknown, "not valid"},
		{"garbage join token", func() error { _, err := e.Svc.Join(e.Ctx, "nope", "", "long enough pw", visitor); return err }, core.ErrTokenInvalid, "expired"},
		{"short password", func() error { _, err := e.Svc.CompleteRestore(e.Ctx, "x", "short", visitor); return err }, core.ErrInvalid, "at least 8"},
		{"10 KB password", func() error { _, err := e.Svc.CompleteRestore(e.Ctx, "x", long, visitor); return err }, core.ErrInvalid, "at most 256"},
		{"unknown member", func() error {
			return e.Svc.ChangeRole(e.Ctx, w.ownerA, w.org.ID, 99999, core.RoleClient, time.Time{})
		}, core.ErrNotFound, "member"},
		{"unknown request", func() error { return e.Svc.DismissRequest(e.Ctx, w.ownerA, 4242) }, core.ErrNotFound, "access request"},
		{"bad ssh key", func() error { _, err := e.Svc.AddSSHKey(e.Ctx, e.Admin, w.owner.Email, "ssh-rsa nonsense"); return err }, core.ErrInvalid, "not an SSH public key"},
		{"unknown session", func() error { _, err := e.Svc.Session(e.Ctx, strings.Repeat("B", core.TokenLen)); return err }, core.ErrNoSession, "not signed in"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.do()
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if msg := err.Error(); !strings.Contains(msg, tc.mention) || len(msg) > 300 {
				t.Fatalf("message %q should mention %q in a short sentence", msg, tc.mention)
			}
		})
	}
	if after := e.Dump(); after != before {
		t.Fatal("bad input changed the database")
	}
}

func TestNormalizeEmail(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"ann@example.com", "ann@example.com"},
		{"  Ann.Lee+portal@Example.COM\t", "ann.lee+portal@example.com"},
		{"o'brien@x.test", "o'brien@x.test"},
	} {
		if got, err := core.NormalizeEmail(tc.in); err != nil || got != tc.want {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{"", "ann", "@x.test", "ann@", "ann@@x.test", "Ann <ann@x.test>", "<ann@x.test>", "ann@x.test (Ann)",
		"ann@x.test\n", "an\rn@x.test", "ann\x00@x.test", `"ann lee"@x.test`, "ann@x.test, bob@x.test", strings.Repeat("a", 250) + "@x.test", "ann@x.test\xff"} {
		if got, err := core.NormalizeEmail(in); !errors.Is(err, core.ErrInvalid) {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want ErrInvalid", in, got, err)
		}
	}
}

func TestCrypto(t *testing.T) {
	k1, _ := core.NewKeys(bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32), bytes.Repeat([]byte{5}, 32))
	k2, _ := core.NewKeys(bytes.Repeat([]byte{3}, 32), bytes.Repeat([]byte{4}, 32), bytes.Repeat([]byte{6}, 32))
	tok, err := core.NewToken(strings.NewReader(strings.Repeat("r", 32)))
	if err != nil || len(tok) != core.TokenLen || !core.WellFormedToken(tok) {
		t.Fatalf("token %q %v", tok, err)
	}
	if bytes.Equal(k1.Lookup(tok), k2.Lookup(tok)) || len(k1.Lookup(tok)) != 32 {
		t.Fatal("lookup does not depend on the key")
	}
	sealed := k1.Seal(tok, "link")
	if got, err := k1.Open(sealed, "link"); err != nil || got != tok {
		t.Fatalf("open: %q %v", got, err)
	}
	if _, err := k2.Open(sealed, "link"); err == nil {
		t.Fatal("opened with the wrong key")
	}
	if _, err := k1.Open(sealed, "mail"); err == nil {
		t.Fatal("opened for another purpose")
	}
	for _, bad := range []string{"", "short", tok + "A", strings.Repeat("=", 43), strings.Repeat("A", 42) + "B"} {
		if core.WellFormedToken(bad) {
			t.Errorf("WellFormedToken(%q) = true", bad)
		}
	}
	h, err := core.HashPassword(context.Background(), "correct horse", storetest.FastArgon, strings.NewReader(strings.Repeat("s", 16)))
	if err != nil || !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("hash %q %v", h, err)
	}
	verify := func(hash, pw string) bool {
		ok, err := core.VerifyPassword(context.Background(), hash, pw)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !verify(h, "correct horse") || verify(h, "correct horsE") || verify("garbage", "x") {
		t.Fatal("VerifyPassword")
	}
}

func TestDemo(t *testing.T) {
	e := newEnv(t)
	links, err := e.Svc.LoadDemo(e.Ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(links) != 2 || links[0].Email != "client@acme.test" || links[0].Portal != "website-redesign" || links[1].Portal != "brand-guidelines" {
		t.Fatalf("demo links %+v", links)
	}
	dump := e.RawDump()
	for _, l := range links {
		tok := l.URL[strings.LastIndexByte(l.URL, '/')+1:]
		if _, err := e.Svc.Landing(e.Ctx, tok, ""); err != nil {
			t.Fatalf("demo link %s: %v", l.URL, err)
		}
		if bytes.Contains(dump, []byte(tok)) {
			t.Fatal("a demo token is stored in clear")
		}
	}
	orgs := must(e.Svc.Orgs(e.Ctx, e.Admin))
	if len(orgs) != 1 || orgs[0].Name != "Northwind Studio" {
		t.Fatalf("orgs %+v", orgs)
	}
	org := orgs[0]
	roles := map[string]core.Role{}
	for _, m := range must(e.Svc.Members(e.Ctx, e.Admin, org.ID)) {
		roles[m.User.Email+" "+m.User.Name] = m.Member.Role
	}
	want := map[string]core.Role{
		"owner@northwind.test Olivia Owner": core.RoleOwner, "mia@northwind.test Mia Manager": core.RoleManager,
		"sam@northwind.test Sam Member": core.RoleMember, "client@acme.test Casey Client": core.RoleClient, "cfo@acme.test Chris CFO": core.RoleClient,
	}
	if len(roles) != len(want) {
		t.Fatalf("members %v", roles)
	}
	for k, r := range want {
		if roles[k] != r {
			t.Fatalf("member %s is %s, want %s (all: %v)", k, roles[k], r, roles)
		}
	}
	if _, err := e.Svc.Login(e.Ctx, "owner@northwind.test", core.DemoPassword, visitor); err != nil {
		t.Fatalf("owner login: %v", err)
	}
	type row struct {
		portal, access string
		people         map[string]core.LinkState
	}
	wantProjects := map[string]row{
		"Website Redesign": {"website-redesign", "closed", map[string]core.LinkState{"client@acme.test": core.LinkActive, "cfo@acme.test": core.LinkDeactivated, "sam@northwind.test": ""}},
		"Brand Guidelines": {"brand-guidelines", "open", map[string]core.LinkState{"client@acme.test": core.LinkActive}},
		"Onboarding Kit":   {"onboarding", "email", map[string]core.LinkState{}},
		"Internal Ops":     {},
	}
	projects := must(e.Svc.Projects(e.Ctx, e.Admin, org.ID))
	if len(projects) != len(wantProjects) {
		t.Fatalf("%d projects", len(projects))
	}
	for _, p := range projects {
		wr, ok := wantProjects[p.Project.Name]
		if !ok {
			t.Fatalf("unexpected project %s", p.Project.Name)
		}
		if wr.portal == "" {
			if p.Portal != nil {
				t.Fatalf("%s has a portal", p.Project.Name)
			}
			continue
		}
		if p.Portal == nil || p.Portal.Slug != wr.portal || string(p.Portal.Access) != wr.access {
			t.Fatalf("%s portal %+v", p.Project.Name, p.Portal)
		}
		people := must(e.Svc.PortalMembers(e.Ctx, e.Admin, p.Portal.ID))
		if len(people) != len(wr.people) {
			t.Fatalf("%s people %+v", p.Project.Name, people)
		}
		for _, pm := range people {
			st, ok := wr.people[pm.Email]
			if !ok || !pm.HasAccess || pm.LinkState != st {
				t.Fatalf("%s: %s has access %v link %q", p.Project.Name, pm.Email, pm.HasAccess, pm.LinkState)
			}
		}
	}
	reqs := must(e.Svc.Requests(e.Ctx, e.Admin, org.ID, true))
	if len(reqs) != 1 || reqs[0].Email != "newcomer@acme.test" || reqs[0].Portal.Slug != "website-redesign" {
		t.Fatalf("requests %+v", reqs)
	}
	if evs := must(e.Svc.Audit(e.Ctx, e.Admin, core.AuditQuery{OrgID: org.ID})); len(evs) < 5 {
		t.Fatalf("%d audit events", len(evs))
	}
	if _, err := e.Svc.LoadDemo(e.Ctx); !errors.Is(err, core.ErrNotEmpty) {
		t.Fatalf("second load: %v", err)
	}
}
