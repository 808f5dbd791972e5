package web_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"latchkey/core"
	"latchkey/core/web"
	"latchkey/storage/storetest"
)

func TestLandingOpenPortalAndStayIn(t *testing.T) {
	s := newSite(t)
	c := s.client()
	token := s.links["website-redesign"]
	r := c.get("/m/"+token).must(t, 200, "Open Website Redesign as client@acme.test", `action="/m/`+token+`"`, ">Open portal<", "Northwind Studio")
	for h, want := range map[string]string{
		"Referrer-Policy": "no-referrer", "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
	} {
		if got := r.header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("CSP %q", csp)
	}
	if strings.Contains(r.body, "<script") {
		t.Error("a page carries script")
	}

	open := c.post("/m/"+token, nil)
	if open.status != http.StatusSeeOther || open.header.Get("Location") != "/p/website-redesign" {
		t.Fatalf("Open portal: %d to %q", open.status, open.header.Get("Location"))
	}
	sc := open.header.Get("Set-Cookie")
	for _, attr := range []string{"latchkey_session=", "HttpOnly", "SameSite=Lax", "Path=/"} {
		if !strings.Contains(sc, attr) {
			t.Errorf("cookie %q lacks %s", sc, attr)
		}
	}
	c.get("/p/website-redesign").must(t, 200, "Website Redesign", "the latest designs", "Casey Client (client@acme.test)", "<dd>client</dd>", "Sign out")
	// A day later, the cookie still opens the portal.
	s.Clock.Advance(24 * time.Hour)
	c.get("/p/website-redesign").must(t, 200, "Sign out")
	c.get("/portals").must(t, 200, "Website Redesign", "Brand Guidelines")
}

// GET and HEAD of a link, of any kind, change nothing at all.
func TestLinkGETAndHEADChangeNothing(t *testing.T) {
	s := newSite(t)
	signedIn := s.client()
	signedIn.redeem(s.links["brand-guidelines"])
	il := storetest.Must(s.Svc.GenerateLink(s.Ctx, s.Admin, s.portal("website-redesign").ID, "cfo@acme.test"))
	storetest.Must(0, s.Svc.DeactivateLink(s.Ctx, s.Admin, s.portal("website-redesign").ID, "cfo@acme.test"))
	before := s.Dump()
	for _, c := range []*client{s.client(), signedIn} {
		for _, tok := range []string{s.links["website-redesign"], il.Token, strings.Repeat("Z", core.TokenLen), "x"} {
			c.get("/m/" + tok)
			c.head("/m/" + tok)
		}
	}
	if s.Dump() != before {
		t.Fatal("GET or HEAD of a link changed the database")
	}
}

func TestDeadAndUnknownLinks(t *testing.T) {
	s := newSite(t)
	c := s.client()
	p := s.portal("website-redesign")
	old := s.links["website-redesign"]
	storetest.Must(s.Svc.GenerateLink(s.Ctx, s.Admin, p.ID, "client@acme.test"))
	for _, method := range []string{"GET", "POST"} {
		var r response
		if method == "GET" {
			r = c.get("/m/" + old)
		} else {
			r = c.post("/m/"+old, nil)
		}
		r.must(t, http.StatusGone, "This link is no longer active", `action="/p/website-redesign/access"`, ">Send access link<", "Website Redesign")
		if c.cookie() != nil {
			t.Fatal("a dead link set a cookie")
		}
	}
	for _, tok := range []string{strings.Repeat("A", core.TokenLen), "short", strings.Repeat("é", 30), strings.Repeat("x", 5000), "%00%0d%0a"} {
		c.get("/m/"+tok).must(t, http.StatusNotFound, "only part of it")
		c.post("/m/"+tok, nil).must(t, http.StatusNotFound, "only part of it")
	}
}

func TestGuestWhoseAccessEnded(t *testing.T) {
	s := newSite(t)
	org := storetest.Must(s.Svc.Orgs(s.Ctx, s.Admin))[0]
	res := storetest.Must(s.Svc.Invite(s.Ctx, s.Admin, core.InviteInput{OrgID: org.ID, Email: "guest@x.test", Role: core.RoleGuest,
		GuestUntil: s.Clock.Now().Add(time.Hour), PortalID: s.portal("website-redesign").ID}))
	s.Clock.Advance(2 * time.Hour)
	s.client().post("/m/"+res.Link.Token, nil).must(t, http.StatusForbidden, "Your access has ended", "guest access ended")
}

func TestSpoofedHostNeverChangesLinks(t *testing.T) {
	s := newSite(t)
	c := s.client()
	req, _ := http.NewRequest("GET", s.url+"/m/"+s.links["website-redesign"], nil)
	req.Host = "evil.test"
	req.Header.Set("X-Forwarded-Host", "evil.test")
	r := c.do(req)
	if r.status != 200 || strings.Contains(r.body, "evil.test") {
		t.Fatalf("landing with a spoofed Host: %d, mentions evil.test: %v", r.status, strings.Contains(r.body, "evil.test"))
	}
	form := url.Values{"email": {"client@acme.test"}}
	req, _ = http.NewRequest("POST", s.url+"/p/website-redesign/access", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Host = "evil.test"
	r = c.do(req)
	if r.status != 200 {
		t.Fatalf("access form with a spoofed Host: %d", r.status)
	}
	il := storetest.Must(s.Svc.RevealLink(s.Ctx, s.Admin, s.portal("website-redesign").ID, "client@acme.test"))
	if !strings.HasPrefix(il.URL, s.url+"/m/") {
		t.Fatalf("link URL %s does not use the public URL", il.URL)
	}
	if m := s.LastMail("client@acme.test", core.MailAccessLink); strings.Contains(strings.Join(mapValues(m.Data), " "), "evil") {
		t.Fatalf("mail data mentions the spoofed host: %v", m.Data)
	}
}

func mapValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

func TestCrossOriginPostRefused(t *testing.T) {
	s := newSite(t)
	token := s.links["website-redesign"]
	before := s.Dump()
	for _, hdr := range []map[string]string{
		{"Origin": "http://evil.test"},
		{"Sec-Fetch-Site": "cross-site"},
		{"Origin": "null", "Sec-Fetch-Site": "cross-site"},
	} {
		for _, path := range []string{"/m/" + token, "/p/website-redesign/access", "/login", "/restore", "/logout"} {
			req, _ := http.NewRequest("POST", s.url+path, strings.NewReader("email=client%40acme.test&password=northwind-demo"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for k, v := range hdr {
				req.Header.Set(k, v)
			}
			r := s.client().do(req)
			r.must(t, http.StatusForbidden, "This form came from another site")
			if r.header.Get("Set-Cookie") != "" {
				t.Fatalf("%s from another site set a cookie", path)
			}
		}
	}
	if s.Dump() != before {
		t.Fatal("a cross-origin POST changed the database")
	}
	// The same form from the site itself works.
	s.client().redeem(token).must(t, 200, "Sign out")
}

func TestClosedPortal(t *testing.T) {
	s := newSite(t)
	c := s.client()
	c.get("/p/website-redesign").must(t, http.StatusForbidden, "This portal is closed", ">Send access link<", `name="email"`, `href="/login?portal=website-redesign"`,
		"<title>Website Redesign · Northwind Studio</title>") // the portal's title once

	// No access: an error, a request recorded, the owner emailed.
	c.post("/p/website-redesign/access", url.Values{"email": {" Stranger@Example.com "}}).
		must(t, http.StatusForbidden, "stranger@example.com has no access to Website Redesign", "We let Northwind Studio know")
	n := s.LastMail("owner@northwind.test", core.MailAccessRequest)
	if n.Data["email"] != "stranger@example.com" {
		t.Fatalf("owner notification %+v", n)
	}
	if !s.HasEvent("access.requested", "stranger@example.com") {
		t.Fatal("request not recorded")
	}
	// Access: the page says so and a link is emailed.
	c.post("/p/website-redesign/access", url.Values{"email": {"client@acme.test"}}).
		must(t, http.StatusOK, "We sent you a link", "client@acme.test has access to Website Redesign")
	if tok := s.LastToken("client@acme.test", core.MailAccessLink); tok != s.links["website-redesign"] {
		t.Fatal("the access link mail does not carry the active link")
	}
	// A signed-in person without access sees who they are.
	owner := s.client()
	owner.post("/login", url.Values{"email": {"owner@northwind.test"}, "password": {core.DemoPassword}})
	owner.get("/p/website-redesign").must(t, http.StatusForbidden, "which has no access to this portal", `value="owner@northwind.test"`)

	before := s.Dump()
	for _, bad := range []string{"", "not-an-email", "Ann <ann@x.test>", "a@x.test\r\nBcc: b@x.test", strings.Repeat("a", 300) + "@x.test"} {
		c.post("/p/website-redesign/access", url.Values{"email": {bad}}).must(t, http.StatusBadRequest, `aria-invalid="true"`, "This portal is closed")
	}
	c.post("/p/no-such-portal/access", url.Values{"email": {"a@x.test"}}).must(t, http.StatusNotFound, "No such portal")
	c.get("/p/no-such-portal").must(t, http.StatusNotFound, "No such portal")
	if s.Dump() != before {
		t.Fatal("bad input changed the database")
	}
}

func TestGenericDisclosureAnswersAlike(t *testing.T) {
	s := newSite(t, withCore(storetest.Uniform))
	c := s.client()
	known := c.post("/p/website-redesign/access", url.Values{"email": {"client@acme.test"}})
	unknown := c.post("/p/website-redesign/access", url.Values{"email": {"zz@acme.test"}})
	if known.status != 200 || unknown.status != 200 {
		t.Fatalf("statuses %d and %d, want 200 for both", known.status, unknown.status)
	}
	strip := func(r response) string {
		b := strings.ReplaceAll(strings.ReplaceAll(r.body, "client@acme.test", "EMAIL"), "zz@acme.test", "EMAIL")
		return b
	}
	if strip(known) != strip(unknown) {
		t.Fatalf("pages differ:\n%s\n----\n%s", known.body, unknown.body)
	}
	if len(s.MailsTo("client@acme.test", core.MailAccessLink)) != 1 || len(s.MailsTo("owner@northwind.test", core.MailAccessRequest)) != 2 {
		t.Fatal("generic disclosure must still do the work")
	}
}

func TestEmailAndOpenPortals(t *testing.T) {
	s := newSite(t)
	c := s.client()
	c.get("/p/onboarding").must(t, 200, "Get a link to Onboarding Kit", ">Send access link<")
	c.post("/p/onboarding/access", url.Values{"email": {"new@client.test"}}).must(t, 200, "We sent you a link")
	c.redeem(s.LastToken("new@client.test", core.MailAccessLink)).must(t, 200, "Onboarding Kit", "<dd>client</dd>")

	anon := s.client()
	anon.get("/p/brand-guidelines").must(t, 200, "Brand Guidelines", "Everyone may look", ">Send access link<")
	anon.post("/p/brand-guidelines/access", url.Values{"email": {"bad"}}).must(t, http.StatusBadRequest, "Everyone may look", `aria-invalid="true"`)
}

func TestSwitchingPeopleAsksFirst(t *testing.T) {
	s := newSite(t)
	c := s.client()
	c.post("/login", url.Values{"email": {"owner@northwind.test"}, "password": {core.DemoPassword}})
	ownerCookie := c.cookie()
	if ownerCookie == nil {
		t.Fatal("no session after login")
	}
	c.get("/m/"+s.links["website-redesign"]).must(t, 200, "You are signed in as <strong>owner@northwind.test</strong>", "Continue as client@acme.test", "Stay signed in as owner@northwind.test")
	c.redeem(s.links["website-redesign"]).must(t, 200, "client@acme.test")
	if _, err := s.Svc.Session(s.Ctx, ownerCookie.Value); err == nil {
		t.Fatal("the owner's session survived the switch")
	}
}

func TestLoginLogoutAndPortals(t *testing.T) {
	s := newSite(t)
	c := s.client()
	r := c.get("/portals")
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/login?next=/portals" {
		t.Fatalf("portals without a session: %d %q", r.status, r.header.Get("Location"))
	}
	c.get("/login?portal=website-redesign").must(t, 200, "Sign in", "Website Redesign", `name="next" value="/p/website-redesign"`, "Restore password")
	c.post("/login", url.Values{"email": {"owner@northwind.test"}, "password": {"wrong password"}}).must(t, http.StatusUnauthorized, "not correct")
	c.post("/login", url.Values{"email": {"client@acme.test"}, "password": {"anything"}}).must(t, http.StatusUnauthorized, "not correct")
	c.post("/login", url.Values{"email": {"nope"}, "password": {"x"}}).must(t, http.StatusBadRequest, `aria-invalid="true"`)
	r = c.post("/login", url.Values{"email": {"owner@northwind.test"}, "password": {core.DemoPassword}, "next": {"//evil.test/x"}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/portals" {
		t.Fatalf("login: %d to %q", r.status, r.header.Get("Location"))
	}
	sid := c.cookie().Value
	c.get("/portals").must(t, 200, "Your portals", "no access to any portal")
	// GET /logout changes nothing: it leads to the page with the button.
	if r := c.get("/logout"); r.status != http.StatusSeeOther || r.header.Get("Location") != "/portals" {
		t.Fatalf("GET /logout: %d to %q", r.status, r.header.Get("Location"))
	}
	if _, err := s.Svc.Session(s.Ctx, sid); err != nil {
		t.Fatalf("GET /logout ended the session: %v", err)
	}
	// Signing out on a portal leads back to it (issue 13, point 10), not to
	// a password form that magic-link clients have no use for.
	r = c.post("/logout", url.Values{"portal": {"website-redesign"}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/p/website-redesign?signed_out=1" {
		t.Fatalf("logout: %d to %q", r.status, r.header.Get("Location"))
	}
	c.get("/p/website-redesign?signed_out=1").must(t, http.StatusForbidden, "You are signed out", "Send access link")
	if _, err := s.Svc.Session(s.Ctx, sid); err == nil {
		t.Fatal("logout left the session alive on the server")
	}
	c.get("/login?signed_out=1").must(t, 200, "You are signed out")
	if c.get("/portals").status != http.StatusSeeOther {
		t.Fatal("still signed in after logout")
	}
	if r := c.get("/"); r.status != http.StatusSeeOther || r.header.Get("Location") != "/portals" {
		t.Fatalf("root: %d %q", r.status, r.header.Get("Location"))
	}
}

func TestRestorePasswordThenLogin(t *testing.T) {
	s := newSite(t)
	c := s.client()
	c.get("/restore").must(t, 200, "Restore password", `name="email"`)
	c.post("/restore", url.Values{"email": {"nobody@acme.test"}}).must(t, 200, "If an account exists for nobody@acme.test")
	c.post("/restore", url.Values{"email": {"@@"}}).must(t, http.StatusBadRequest, `aria-invalid="true"`)
	c.post("/restore", url.Values{"email": {"client@acme.test"}}).must(t, 200, "If an account exists for client@acme.test")
	token := s.LastToken("client@acme.test", core.MailPasswordReset)
	c.get("/restore/"+token).must(t, 200, "Set a new password", "client@acme.test", `autocomplete="new-password"`)
	c.post("/restore/"+token, url.Values{"password": {"long enough pw"}, "confirm": {"different"}}).must(t, http.StatusBadRequest, `id="confirm-error">The two passwords are not the same.`)
	c.post("/restore/"+token, url.Values{"password": {"short"}, "confirm": {"short"}}).must(t, http.StatusBadRequest, "at least 8 characters")
	r := c.post("/restore/"+token, url.Values{"password": {"long enough pw"}, "confirm": {"long enough pw"}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/portals" || c.cookie() == nil {
		t.Fatalf("set password: %d %q", r.status, r.header.Get("Location"))
	}
	c.get("/restore/"+token).must(t, http.StatusGone, "expired or was already used", "/restore")
	c.get("/restore/garbage").must(t, http.StatusGone, "expired or was already used")
	fresh := s.client()
	r = fresh.post("/login", url.Values{"email": {"client@acme.test"}, "password": {"long enough pw"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("login with the new password: %d", r.status)
	}
	fresh.get("/portals").must(t, 200, "Website Redesign")
	if len(s.MailsTo("client@acme.test", core.MailPasswordChanged)) != 1 {
		t.Fatal("no password-changed notice queued")
	}
}

func TestJoin(t *testing.T) {
	s := newSite(t)
	org := storetest.Must(s.Svc.Orgs(s.Ctx, s.Admin))[0]
	storetest.Must(s.Svc.Invite(s.Ctx, s.Admin, core.InviteInput{OrgID: org.ID, Email: "new@northwind.test", Name: "Nora", Role: core.RoleMember}))
	token := s.LastToken("new@northwind.test", core.MailInviteJoin)
	c := s.client()
	c.get("/join/"+token).must(t, 200, "Join Northwind Studio", "member", `value="Nora"`)
	c.post("/join/"+token, url.Values{"name": {"Nora"}, "password": {"twelve chars!"}, "confirm": {"twelve chars?"}}).must(t, http.StatusBadRequest, "not the same")
	r := c.post("/join/"+token, url.Values{"name": {"Nora N."}, "password": {"twelve chars!"}, "confirm": {"twelve chars!"}})
	if r.status != http.StatusSeeOther || c.cookie() == nil {
		t.Fatalf("join: %d", r.status)
	}
	if u := s.User("new@northwind.test"); u.Name != "Nora N." {
		t.Fatalf("name %q", u.Name)
	}
	c.get("/join/"+token).must(t, http.StatusGone, "expired or was already used")
	// An existing account joins another organization with its own password.
	other := storetest.Must(s.Svc.CreateOrg(s.Ctx, s.Admin, core.NewOrg{Name: "Other Firm", OwnerEmail: "boss@other.test"}))
	storetest.Must(s.Svc.Invite(s.Ctx, s.Admin, core.InviteInput{OrgID: other.ID, Email: "owner@northwind.test", Role: core.RoleManager}))
	token = s.LastToken("owner@northwind.test", core.MailInviteJoin)
	c = s.client()
	c.get("/join/"+token).must(t, 200, "Join Other Firm", "has an account already", `autocomplete="current-password"`)
	c.post("/join/"+token, url.Values{"password": {"not her password"}}).must(t, http.StatusUnauthorized, "not the password of this account")
	if r := c.post("/join/"+token, url.Values{"password": {core.DemoPassword}}); r.status != http.StatusSeeOther {
		t.Fatalf("join with the existing password: %d %s", r.status, r.body)
	}
	if orgs := storetest.Must(s.Svc.Orgs(s.Ctx, core.UserActor(s.User("owner@northwind.test"), "t"))); len(orgs) != 2 {
		t.Fatalf("owner is in %d organizations, want 2", len(orgs))
	}
}

func TestRateLimits(t *testing.T) {
	s := newSite(t, withLimits(web.Limits{
		PerAddr:    web.Limit{Every: time.Minute, Burst: 3},
		PerEmail:   web.Limit{Every: time.Hour, Burst: 2},
		PerAccount: web.Limit{Every: time.Hour, Burst: 2},
	}), withProxies("127.0.0.1/32"))
	c := s.client()
	c.addr = "198.51.100.1"
	for i := 0; i < 3; i++ {
		c.post("/p/website-redesign/access", url.Values{"email": {"a" + string(rune('a'+i)) + "@x.test"}})
	}
	r := c.post("/p/website-redesign/access", url.Values{"email": {"z@x.test"}}).must(t, http.StatusTooManyRequests, "Too many requests", "try again in a minute")
	if r.header.Get("Retry-After") != "60" {
		t.Fatalf("Retry-After %q", r.header.Get("Retry-After"))
	}
	// Another address is not affected, but the same email is limited across addresses.
	for i, addr := range []string{"198.51.100.2", "198.51.100.3", "198.51.100.4"} {
		c.addr = addr
		r := c.post("/restore", url.Values{"email": {"client@acme.test"}})
		if want := map[bool]int{true: 200, false: 429}[i < 2]; r.status != want {
			t.Fatalf("restore %d from %s: %d, want %d", i, addr, r.status, want)
		}
	}
	// Password guesses are limited per account.
	for i, addr := range []string{"198.51.100.5", "198.51.100.6", "198.51.100.7"} {
		c.addr = addr
		r := c.post("/login", url.Values{"email": {"owner@northwind.test"}, "password": {"guess"}})
		if want := map[bool]int{true: 401, false: 429}[i < 2]; r.status != want {
			t.Fatalf("login %d: %d, want %d", i, r.status, want)
		}
	}
	// Time heals.
	s.Clock.Advance(time.Hour)
	c.addr = "198.51.100.1"
	c.post("/p/website-redesign/access", url.Values{"email": {"z@x.test"}}).must(t, http.StatusForbidden)
	m := s.client().get("/metrics").body
	for _, want := range []string{`latchkey_rate_limited_total{limit="addr"} 1`, `latchkey_rate_limited_total{limit="email"} 1`, `latchkey_rate_limited_total{limit="account"} 1`} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestClientAddressFromTrustedProxiesOnly(t *testing.T) {
	for _, tc := range []struct {
		name    string
		proxies []string
		want    string
	}{
		{"no trusted proxy", nil, "web:127.0.0.1"},
		{"trusted proxy", []string{"127.0.0.1/32"}, "web:198.51.100.9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSite(t, withProxies(tc.proxies...))
			c := s.client()
			c.addr = "10.9.9.9, 198.51.100.9"
			c.post("/p/website-redesign/access", url.Values{"email": {"who@x.test"}})
			for _, ev := range s.Events() {
				if ev.Action == "access.requested" && ev.Target == "who@x.test" {
					if ev.Source != tc.want {
						t.Fatalf("source %q, want %q", ev.Source, tc.want)
					}
					return
				}
			}
			t.Fatal("no audit event")
		})
	}
}

func TestOversizedAndMalformedBodies(t *testing.T) {
	s := newSite(t, noLimits)
	before := s.Dump()
	big := "email=" + strings.Repeat("a", 100<<10)
	for _, path := range []string{"/p/website-redesign/access", "/login", "/m/" + s.links["website-redesign"]} {
		req, _ := http.NewRequest("POST", s.url+path, strings.NewReader(big))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		s.client().do(req).must(t, http.StatusRequestEntityTooLarge, "too much")
		req, _ = http.NewRequest("POST", s.url+path, strings.NewReader("email=%zz"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		s.client().do(req).must(t, http.StatusBadRequest, "could not be read")
	}
	if s.Dump() != before {
		t.Fatal("a bad body changed the database")
	}
}

func TestFriendlyErrorsAndHealth(t *testing.T) {
	s := newSite(t)
	c := s.client()
	c.get("/no/such/page").must(t, http.StatusNotFound, "Page not found", "Go to your portals")
	c.post("/healthz", nil).must(t, http.StatusMethodNotAllowed, "Not allowed here")
	r := c.get("/healthz").must(t, 200, `"status":"ok"`)
	if r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("healthz content type %q", r.header.Get("Content-Type"))
	}
	css := c.get("/static/style.css").must(t, 200, ":focus-visible")
	if !strings.HasPrefix(css.header.Get("Content-Type"), "text/css") {
		t.Fatal("stylesheet content type")
	}
	c.redeem(s.links["website-redesign"])
	m := c.get("/metrics").must(t, 200, `latchkey_http_requests_total{route="POST /m/{token}",status="303"} 1`, `latchkey_link_redemptions_total{result="ok"} 1`, "latchkey_http_request_duration_seconds_bucket")
	_ = m
	// Once storage is gone, health says so and pages fail without leaking why.
	s.Store.Close()
	c.get("/healthz").must(t, http.StatusServiceUnavailable, "unavailable")
	r = c.get("/p/website-redesign").must(t, http.StatusInternalServerError, "Something went wrong", "reference")
	if strings.Contains(r.body, "database") || strings.Contains(r.body, "bolt") {
		t.Fatalf("500 page leaks internals:\n%s", r.body)
	}
}

func TestLogsNeverHoldTokens(t *testing.T) {
	s := newSite(t)
	c := s.client()
	token := s.links["website-redesign"]
	c.get("/m/" + token)
	c.redeem(token)
	c.post("/restore", url.Values{"email": {"client@acme.test"}})
	reset := s.LastToken("client@acme.test", core.MailPasswordReset)
	c.get("/restore/" + reset)
	logs := s.logs.String()
	if !strings.Contains(logs, "path=/m/[token]") {
		t.Fatalf("request log missing:\n%s", logs)
	}
	for _, secret := range []string{token, reset, c.cookie().Value} {
		if strings.Contains(logs, secret) {
			t.Fatal("a secret reached the log")
		}
	}
}

func TestHTTPSCookiesAreHostBound(t *testing.T) {
	env := storetest.New(t, storetest.PublicURL("https://portal.example.com"))
	links := storetest.Must(env.Svc.LoadDemo(env.Ctx))
	srv := storetest.Must(web.New(web.Config{Service: env.Svc, Logger: slog.New(slog.DiscardHandler)}))
	req := httptest.NewRequest("POST", "https://portal.example.com/m/"+storetest.TokenOf(links[0].URL), nil)
	req.Header.Set("Origin", "https://portal.example.com")
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, req)
	sc := rec.Header().Get("Set-Cookie")
	if rec.Code != http.StatusSeeOther || !strings.HasPrefix(sc, "__Host-latchkey_session=") || !strings.Contains(sc, "Secure") || strings.Contains(sc, "Domain") {
		t.Fatalf("https cookie: %d %q", rec.Code, sc)
	}
	if rec.Header().Get("Strict-Transport-Security") == "" {
		t.Fatal("no HSTS with an https public URL")
	}
}

func TestGracefulShutdown(t *testing.T) {
	s := newSite(t)
	s.client().get("/healthz").must(t, 200)
	s.stop()
	if _, err := http.Get(s.url + "/healthz"); err == nil {
		t.Fatal("still serving after shutdown")
	}
}
