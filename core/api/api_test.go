package api_test

import (
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"latchkey/core"
	"latchkey/storage/storetest"
)

// The API end to end over real HTTP, each request and answer checked
// against the OpenAPI document: projects, a portal changed, an
// invitation, its link redeemed in a browser's way, the redemption in
// the events, the link revealed, replaced and deactivated, access
// removed, requests granted and dismissed.
func TestAPIFlow(t *testing.T) {
	in := newInstance(t)
	tok := in.token()

	var projects struct {
		Items []struct {
			ID     uint64
			Name   string
			Portal *struct{ Slug, Access string }
		}
	}
	in.do("GET", "/projects", tok, nil).json(t, &projects)
	if len(projects.Items) != 4 || projects.Items[0].Portal == nil || projects.Items[0].Portal.Slug != "website-redesign" {
		t.Fatalf("projects: %+v", projects)
	}
	a := in.do("PATCH", "/portals/onboarding", tok, map[string]string{"title": "Onboarding for clients", "link_uses": "5"})
	var portal struct {
		Title string
		Rules struct {
			LinkUses string `json:"link_uses"`
		}
	}
	a.json(t, &portal)
	if a.status != 200 || portal.Title != "Onboarding for clients" || portal.Rules.LinkUses != "5" {
		t.Fatalf("patch: %d %s", a.status, a.body)
	}
	if !in.HasEvent("portal.updated", "onboarding") {
		t.Fatal("the change was not audited")
	}
	for _, e := range in.Events() {
		if e.Action == "portal.updated" && (!strings.HasPrefix(e.Actor, "api:test ") || !strings.HasSuffix(e.Actor, " by owner@northwind.test") || !strings.HasPrefix(e.Source, "api:127.0.0.1")) {
			t.Fatalf("the audit log names %q from %q", e.Actor, e.Source)
		}
	}

	a = in.do("POST", "/portals/website-redesign/members", tok, map[string]any{"email": "Pat@Client.test", "role": "client", "name": "Pat Doe"})
	var invited struct {
		Email string
		Role  string
		Link  struct {
			ID     uint64
			URL    string
			Mailed bool
		}
	}
	a.json(t, &invited)
	if a.status != 201 || invited.Email != "pat@client.test" || !invited.Link.Mailed || !strings.Contains(invited.Link.URL, "/m/") {
		t.Fatalf("invite: %d %s", a.status, a.body)
	}
	if len(in.MailsTo("pat@client.test", core.MailInvitePortal)) != 1 {
		t.Fatal("the invitation was not mailed")
	}
	var member struct{ Access, Link string }
	in.do("GET", "/portals/website-redesign/members/pat@client.test", tok, nil).json(t, &member)
	if member.Access != "invited" || member.Link != "active" {
		t.Fatalf("member after the invitation: %+v", member)
	}

	// The client opens the link as a browser does.
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := browser.PostForm(invited.Link.URL, url.Values{})
	if err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("redeem: %v %v", resp, err)
	}
	resp.Body.Close()
	var events struct {
		Items []struct{ Kind, Target, Portal, Actor string }
	}
	in.do("GET", "/events?kind=link.*&limit=5", tok, nil).json(t, &events)
	if len(events.Items) == 0 || events.Items[0].Kind != "link.redeemed" || events.Items[0].Target != "pat@client.test" || events.Items[0].Portal != "website-redesign" {
		t.Fatalf("events: %+v", events)
	}
	var link struct {
		State string
		Uses  uint64
		URL   string
	}
	in.do("GET", "/portals/website-redesign/members/pat@client.test/link?reveal=true", tok, nil).json(t, &link)
	if link.State != "active" || link.Uses != 1 || link.URL != invited.Link.URL {
		t.Fatalf("link: %+v", link)
	}
	a = in.do("POST", "/portals/website-redesign/members/pat@client.test/link", tok, nil)
	var fresh struct {
		ID  uint64
		URL string
	}
	a.json(t, &fresh)
	if a.status != 201 || fresh.URL == invited.Link.URL || fresh.ID == invited.Link.ID {
		t.Fatalf("generate: %d %s", a.status, a.body)
	}
	if a := in.do("DELETE", "/portals/website-redesign/members/pat@client.test/link", tok, nil); a.status != 204 {
		t.Fatalf("deactivate: %d %s", a.status, a.body)
	}
	link.URL = ""
	in.do("GET", "/portals/website-redesign/members/pat@client.test/link", tok, nil).json(t, &link)
	if link.State != "deactivated" || link.URL != "" {
		t.Fatalf("after deactivate: %+v", link)
	}
	if a := in.do("DELETE", "/portals/website-redesign/members/pat@client.test/link", tok, nil); a.status != 404 && a.status != 409 {
		t.Fatalf("deactivating twice: %d %s", a.status, a.body)
	}
	a = in.do("PATCH", "/portals/website-redesign/members/pat@client.test", tok, map[string]string{"role": "guest", "guest_until": "2099-01-01"})
	var changed struct {
		Role       string
		GuestUntil string `json:"guest_until"`
	}
	a.json(t, &changed)
	if a.status != 200 || changed.Role != "guest" || changed.GuestUntil != "2099-01-01" {
		t.Fatalf("change role: %d %s", a.status, a.body)
	}
	if a := in.do("DELETE", "/portals/website-redesign/members/pat@client.test", tok, nil); a.status != 204 {
		t.Fatalf("remove access: %d %s", a.status, a.body)
	}
	in.do("GET", "/portals/website-redesign/members/pat@client.test", tok, nil).json(t, &member)
	if member.Access != "no" {
		t.Fatalf("after removal: %+v", member)
	}

	var reqs struct {
		Items []struct {
			ID    uint64
			Email string
			State string
		}
	}
	in.do("GET", "/requests", tok, nil).json(t, &reqs)
	if len(reqs.Items) == 0 || reqs.Items[0].Email != "newcomer@acme.test" {
		t.Fatalf("requests: %+v", reqs)
	}
	a = in.do("POST", fmt.Sprintf("/requests/%d/grant", reqs.Items[0].ID), tok, map[string]string{"role": "member"})
	var granted struct {
		Request struct {
			State      string
			ResolvedBy string `json:"resolved_by"`
		}
		Invited struct{ Role string }
	}
	a.json(t, &granted)
	if a.status != 200 || granted.Request.State != "granted" || granted.Invited.Role != "member" || !strings.HasPrefix(granted.Request.ResolvedBy, "api:") {
		t.Fatalf("grant: %d %s", a.status, a.body)
	}
	if a := in.do("POST", fmt.Sprintf("/requests/%d/dismiss", reqs.Items[0].ID), tok, nil); a.status != 409 {
		t.Fatalf("dismissing a granted request: %d %s", a.status, a.body)
	}
	storetest.Must(in.Svc.RequestAccess(in.Ctx, "website-redesign", "stranger@else.test", core.Visitor{Addr: "192.0.2.7"}))
	in.do("GET", "/requests", tok, nil).json(t, &reqs)
	a = in.do("POST", fmt.Sprintf("/requests/%d/dismiss", reqs.Items[0].ID), tok, nil)
	var dismissed struct{ Email, State string }
	a.json(t, &dismissed)
	if a.status != 200 || dismissed.Email != "stranger@else.test" || dismissed.State != "dismissed" {
		t.Fatalf("dismiss: %d %s", a.status, a.body)
	}
	// The document itself is served, without a token.
	if a := in.do("GET", "/openapi.json", "", nil); a.status != 200 || !strings.Contains(string(a.body), `"openapi": "3.1.0"`) {
		t.Fatalf("openapi.json: %d", a.status)
	}
}

// Every endpoint refuses a token without its scope (403 naming it), a
// token of one organization finds nothing of another (404), and missing,
// revoked and expired tokens and cookies get 401 at once.
func TestAPIScopesAndTokens(t *testing.T) {
	in := newInstance(t)
	other := storetest.Must(in.Svc.CreateOrg(in.Ctx, in.Admin, core.NewOrg{Name: "Other Firm", OwnerEmail: "boss@other.test", OwnerName: "Boss"}))
	proj := storetest.Must(in.Svc.CreateProject(in.Ctx, in.Admin, other.ID, "Secret"))
	storetest.Must(in.Svc.SetPortal(in.Ctx, in.Admin, proj.ID, core.PortalSettings{Slug: "secret", Title: "Secret", Access: core.AccessClosed}))
	endpoints := []struct {
		method, path string
		scope        core.Scope
		body         any
	}{
		{"GET", "/projects", core.ScopeProjectsRead, nil},
		{"GET", "/portals/website-redesign", core.ScopeProjectsRead, nil},
		{"PATCH", "/portals/website-redesign", core.ScopePortalsWrite, map[string]string{"title": "X"}},
		{"GET", "/portals/website-redesign/members", core.ScopeMembersRead, nil},
		{"POST", "/portals/website-redesign/members", core.ScopeMembersWrite, map[string]string{"email": "a@b.test", "role": "client"}},
		{"GET", "/portals/website-redesign/members/client@acme.test", core.ScopeMembersRead, nil},
		{"PATCH", "/portals/website-redesign/members/client@acme.test", core.ScopeMembersWrite, map[string]string{"role": "member"}},
		{"DELETE", "/portals/website-redesign/members/client@acme.test", core.ScopeMembersWrite, nil},
		{"GET", "/portals/website-redesign/members/client@acme.test/link", core.ScopeMembersRead, nil},
		{"POST", "/portals/website-redesign/members/client@acme.test/link", core.ScopeLinksWrite, nil},
		{"DELETE", "/portals/website-redesign/members/client@acme.test/link", core.ScopeLinksWrite, nil},
		{"GET", "/requests", core.ScopeRequestsRead, nil},
		{"POST", "/requests/1/grant", core.ScopeRequestsWrite, nil},
		{"POST", "/requests/1/dismiss", core.ScopeRequestsWrite, nil},
		{"GET", "/events", core.ScopeEventsRead, nil},
		{"GET", "/webhooks", core.ScopeWebhooksWrite, nil},
		{"POST", "/webhooks", core.ScopeWebhooksWrite, map[string]any{"url": "https://203.0.113.7/h", "events": []string{"all"}}},
		{"GET", "/webhooks/1", core.ScopeWebhooksWrite, nil},
		{"DELETE", "/webhooks/1", core.ScopeWebhooksWrite, nil},
		{"POST", "/webhooks/1/enable", core.ScopeWebhooksWrite, nil},
		{"GET", "/webhooks/1/deliveries", core.ScopeWebhooksWrite, nil},
	}
	for _, e := range endpoints {
		var others []core.Scope
		for _, s := range core.Scopes {
			if s != e.scope {
				others = append(others, s)
			}
		}
		a := in.do(e.method, e.path, in.token(others...), e.body)
		if p := a.problem(t); a.status != 403 || p.MissingScope != string(e.scope) || !strings.Contains(p.Title, string(e.scope)) {
			t.Errorf("%s %s without %s: %d %s", e.method, e.path, e.scope, a.status, a.body)
		}
	}
	if got := in.do("GET", "/portals/website-redesign/members/client@acme.test/link?reveal=true", in.token(core.ScopeMembersRead), nil); got.status != 403 || got.problem(t).MissingScope != "links:reveal" {
		t.Errorf("reveal without links:reveal: %d %s", got.status, got.body)
	}
	all := in.token()
	for _, path := range []string{"/portals/secret", "/portals/secret/members", "/portals/secret/members/boss@other.test/link"} {
		if a := in.do("GET", path, all, nil); a.status != 404 || a.problem(t).Type != "https://latchkey.dev/problems/not-found" {
			t.Errorf("another organization's %s: %d %s", path, a.status, a.body)
		}
	}
	// Another organization's request, by id.
	storetest.Must(in.Svc.RequestAccess(in.Ctx, "secret", "spy@else.test", core.Visitor{Addr: "192.0.2.9"}))
	var otherReq uint64
	for _, r := range storetest.Must(in.Svc.Requests(in.Ctx, in.Admin, other.ID, true)) {
		otherReq = r.ID
	}
	if a := in.do("POST", fmt.Sprintf("/requests/%d/grant", otherReq), all, nil); a.status != 404 {
		t.Errorf("granting another organization's request: %d %s", a.status, a.body)
	}

	for name, auth := range map[string]string{"none": "", "not a token": "hunter2", "unknown": "lk_" + strings.Repeat("A", 43)} {
		a := in.do("GET", "/projects", auth, nil)
		if a.status != 401 || a.header.Get("WWW-Authenticate") == "" || a.problem(t).Type != "https://latchkey.dev/problems/unauthorized" {
			t.Errorf("%s: %d %s", name, a.status, a.body)
		}
	}
	// A browser's session cookie is not a credential here.
	if a := in.do("GET", "/projects", "", nil, "Cookie", "lk_session=whatever"); a.status != 401 {
		t.Errorf("a cookie: %d", a.status)
	}
	// Revoked: refused from the next request on.
	tok, secret, err := in.Svc.CreateAPIToken(in.Ctx, in.owner, core.NewAPIToken{OrgID: in.org.ID, Name: "soon gone", Scopes: core.Scopes,
		Expires: in.Clock.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if a := in.do("GET", "/projects", secret, nil); a.status != 200 {
		t.Fatalf("a fresh token: %d", a.status)
	}
	in.Clock.Advance(time.Hour)
	if a := in.do("GET", "/projects", secret, nil); a.status != 401 || !strings.Contains(a.problem(t).Title, "expired") {
		t.Errorf("expired: %d %s", a.status, a.body)
	}
	storetest.Must(in.Svc.RevokeAPIToken(in.Ctx, in.owner, tok.ID))
	if a := in.do("GET", "/projects", secret, nil); a.status != 401 || !strings.Contains(a.problem(t).Title, "revoked") {
		t.Errorf("revoked: %d %s", a.status, a.body)
	}
}

// Malformed bodies, unknown fields, wrong types, oversized bodies and
// values core refuses: 400 or 422 with the field named, nothing stored.
func TestAPIBadInputChangesNothing(t *testing.T) {
	in := newInstance(t)
	tok := in.token()
	in.do("GET", "/projects", tok, nil) // the token's first use is recorded
	before := in.Dump()
	for _, tc := range []struct {
		method, path string
		body         any
		status       int
		field        string
	}{
		{"POST", "/portals/website-redesign/members", `{"email": "a@b.test", "role": "client"`, 400, ""},
		{"POST", "/portals/website-redesign/members", `[1, 2]`, 400, ""},
		{"POST", "/portals/website-redesign/members", `{"email": "a@b.test", "role": "client"} {"again": 1}`, 400, ""},
		{"POST", "/portals/website-redesign/members", `{"email": "a@b.test", "role": "client", "admin": true}`, 400, "admin"},
		{"POST", "/portals/website-redesign/members", `{"email": 42, "role": "client"}`, 400, "email"},
		{"POST", "/portals/website-redesign/members", `{"email": "a@b.test", "role": "client", "replace": "yes"}`, 400, "replace"},
		{"POST", "/portals/website-redesign/members", `{"email": "a@b.test", "role": "client", "name": "` + strings.Repeat("x", 70<<10) + `"}`, 400, ""},
		{"POST", "/portals/website-redesign/members", map[string]string{"email": "not an address", "role": "client"}, 422, "email"},
		{"POST", "/portals/website-redesign/members", map[string]string{"email": "a@b.test", "role": "owner"}, 422, "role"},
		{"POST", "/portals/website-redesign/members", map[string]string{"email": "a@b.test", "role": "emperor"}, 422, "role"},
		{"POST", "/portals/website-redesign/members", map[string]string{"email": "", "role": "client"}, 422, "email"},
		{"POST", "/portals/website-redesign/members", map[string]string{"email": "a@b.test", "role": "guest", "guest_until": "tomorrow"}, 422, "guest_until"},
		{"PATCH", "/portals/website-redesign", map[string]string{"link_uses": "many"}, 422, "link_uses"},
		{"PATCH", "/portals/website-redesign", map[string]string{"auto_grant": "acme.test=owner"}, 422, "auto_grant"},
		{"PATCH", "/portals/website-redesign", map[string]string{"access": "secret"}, 422, "access"},
		{"PATCH", "/portals/website-redesign", `{}`, 400, ""},
		{"PATCH", "/portals/website-redesign/members/client@acme.test", map[string]string{"role": "owner"}, 422, "role"},
		{"GET", "/portals/website-redesign/members?limit=0", nil, 400, "limit"},
		{"GET", "/portals/website-redesign/members?cursor=!!", nil, 400, "cursor"},
		{"GET", "/events?since=yesterday", nil, 400, "since"},
		{"GET", "/requests?state=odd", nil, 400, "state"},
	} {
		// Each of these breaks the document on purpose: only the answer is checked against it.
		a := in.do(tc.method, tc.path, tok, tc.body, "X-Test-Malformed", "1")
		p := a.problem(t)
		if a.status != tc.status || p.Status != tc.status {
			t.Errorf("%s %s %.80v: %d, want %d: %s", tc.method, tc.path, tc.body, a.status, tc.status, a.body)
			continue
		}
		if tc.field != "" && (len(p.Errors) != 1 || p.Errors[0].Field != tc.field || p.Errors[0].Reason == "") {
			t.Errorf("%s %s %.80v: errors %+v, want the field %s", tc.method, tc.path, tc.body, p.Errors, tc.field)
		}
	}
	if in.Dump() != before {
		t.Fatal("a refused request changed the database")
	}
}

// A POST retried with its Idempotency-Key gets the first answer and
// changes nothing more, also when the retries race; the same key with
// another body is refused.
func TestAPIIdempotencyKeys(t *testing.T) {
	in := newInstance(t)
	tok := in.token()
	body := map[string]string{"email": "ida@client.test", "role": "client"}
	first := in.do("POST", "/portals/website-redesign/members", tok, body, "Idempotency-Key", "invite-ida-1")
	if first.status != 201 {
		t.Fatalf("first: %d %s", first.status, first.body)
	}
	var wg sync.WaitGroup
	answers := make([]answer, 8)
	for i := range answers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i] = in.do("POST", "/portals/website-redesign/members", tok, body, "Idempotency-Key", "invite-ida-1")
		}()
	}
	wg.Wait()
	for _, a := range answers {
		if a.status != 201 || string(a.body) != string(first.body) || a.header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("retry: %d %s (first %s)", a.status, a.body, first.body)
		}
	}
	if n := len(in.MailsTo("ida@client.test", core.MailInvitePortal)); n != 1 {
		t.Fatalf("%d invitations mailed for one key", n)
	}
	if a := in.do("POST", "/portals/website-redesign/members", tok, map[string]string{"email": "other@client.test", "role": "client"},
		"Idempotency-Key", "invite-ida-1"); a.status != 422 || a.problem(t).Type != "https://latchkey.dev/problems/idempotency-mismatch" {
		t.Fatalf("the key with another body: %d %s", a.status, a.body)
	}
	// Racing first requests with one key: exactly one invitation.
	body2 := map[string]string{"email": "race@client.test", "role": "client"}
	for i := range answers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i] = in.do("POST", "/portals/website-redesign/members", tok, body2, "Idempotency-Key", "race-1")
		}()
	}
	wg.Wait()
	created := 0
	for _, a := range answers {
		switch a.status {
		case 201:
			created++
		case 409:
			if a.problem(t).Type != "https://latchkey.dev/problems/idempotency-pending" {
				t.Fatalf("racing: %s", a.body)
			}
		default:
			t.Fatalf("racing: %d %s", a.status, a.body)
		}
	}
	if n := len(in.MailsTo("race@client.test", core.MailInvitePortal)); created == 0 || n != 1 {
		t.Fatalf("racing first requests: %d answered 201, %d invitations mailed", created, n)
	}
	// A refused request's answer is kept too: its retry is refused the same way.
	bad := map[string]string{"email": "nope", "role": "client"}
	a1 := in.do("POST", "/portals/website-redesign/members", tok, bad, "Idempotency-Key", "bad-1")
	a2 := in.do("POST", "/portals/website-redesign/members", tok, bad, "Idempotency-Key", "bad-1")
	if a1.status != 422 || a2.status != 422 || string(a1.body) != string(a2.body) {
		t.Fatalf("a refused request retried: %d %s / %d %s", a1.status, a1.body, a2.status, a2.body)
	}
	// Keys belong to their token: another token's same key is its own.
	if a := in.do("POST", "/portals/website-redesign/members", in.token(), map[string]string{"email": "kim@client.test", "role": "client"},
		"Idempotency-Key", "invite-ida-1"); a.status != 201 {
		t.Fatalf("another token, the same key: %d %s", a.status, a.body)
	}
}

// Lists are cut into pages with opaque cursors: every item once, none
// twice, never more than the limit.
func TestAPIPagination(t *testing.T) {
	in := newInstance(t)
	tok := in.token()
	ref := storetest.Must(in.Svc.PortalBySlug(in.Ctx, in.Admin, "website-redesign"))
	in.FillMembers(ref.Portal, 250)
	seen := map[string]bool{}
	pages, cursor := 0, ""
	for {
		path := "/portals/website-redesign/members?limit=100"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		var page struct {
			Items      []struct{ Email string }
			NextCursor string `json:"next_cursor"`
		}
		in.do("GET", path, tok, nil).json(t, &page)
		pages++
		if len(page.Items) > 100 {
			t.Fatalf("a page of %d", len(page.Items))
		}
		for _, m := range page.Items {
			if seen[m.Email] {
				t.Fatalf("%s twice", m.Email)
			}
			seen[m.Email] = true
		}
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	all := storetest.Must(in.Svc.PortalMembers(in.Ctx, in.Admin, ref.Portal.ID))
	if len(seen) != len(all) || pages != (len(all)+99)/100 {
		t.Fatalf("%d people in %d pages, want %d", len(seen), pages, len(all))
	}
	in.FillAudit(in.org.ID, 1200)
	var events struct {
		Items      []struct{ ID uint64 }
		NextCursor string `json:"next_cursor"`
	}
	in.do("GET", "/events?limit=500", tok, nil).json(t, &events)
	first := append([]struct{ ID uint64 }(nil), events.Items...)
	in.do("GET", "/events?limit=500&cursor="+events.NextCursor, tok, nil).json(t, &events)
	if len(first) != 500 || len(events.Items) != 500 || events.Items[0].ID >= first[499].ID {
		t.Fatalf("events pages: %d then %d", len(first), len(events.Items))
	}
}

// Each token has its own budget: past it, 429 with Retry-After.
func TestAPIRateLimitPerToken(t *testing.T) {
	in := newInstance(t, withLimit(core.Limit{Every: time.Minute, Burst: 3}))
	tok, other := in.token(), in.token()
	for i := range 3 {
		if a := in.do("GET", "/projects", tok, nil); a.status != 200 {
			t.Fatalf("request %d: %d", i+1, a.status)
		}
	}
	a := in.do("GET", "/projects", tok, nil)
	if p := a.problem(t); a.status != 429 || a.header.Get("Retry-After") != "60" || p.RetryAfter != 60 {
		t.Fatalf("past the budget: %d %s %q", a.status, a.body, a.header.Get("Retry-After"))
	}
	if a := in.do("GET", "/projects", other, nil); a.status != 200 {
		t.Fatalf("another token: %d", a.status)
	}
	in.Clock.Advance(time.Minute)
	if a := in.do("GET", "/projects", tok, nil); a.status != 200 {
		t.Fatalf("after a minute: %d", a.status)
	}
}
