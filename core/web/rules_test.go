package web_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"latchkey/core"
	"latchkey/storage/storetest"
)

// Issue 17 at the door: a portal's rules stop a link at the landing page and
// at the redemption, end the sessions it opened before the upstream sees
// another request, and a use cap stops the link without signing anyone out.
func TestAccessRulesAtTheDoor(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "app %s for %s", r.URL.Path, r.Header.Get("X-Latchkey-Email"))
	}))
	t.Cleanup(up.Close)
	s := newSite(t)
	s.setPortal("website-redesign", core.PortalPatch{Upstream: ptr(up.URL),
		Rules: core.RulesPatch{LinkLifetime: ptr("30d"), LinkUses: ptr("2")}})
	// A new link, so that the demo's earlier uses do not count against the cap.
	token := storetest.Must(s.Svc.GenerateLink(s.Ctx, s.Admin, s.portal("website-redesign").ID, "client@acme.test")).Token

	first, second, third := s.client(), s.client(), s.client()
	for _, c := range []*client{first, second} {
		c.redeem(token)
		c.get("/p/website-redesign/reports").must(t, 200, "app /reports for client@acme.test")
	}
	// The third use is refused, before anything changes; the two browsers
	// it opened stay in.
	before := s.Dump()
	third.get("/m/"+token).must(t, http.StatusGone, "This link is no longer active", ">Send access link<")
	third.post("/m/"+token, nil).must(t, http.StatusGone, "This link is no longer active")
	if third.cookie() != nil || s.Dump() != before {
		t.Fatal("a link past its use cap signed a browser in or changed the database")
	}
	first.get("/p/website-redesign/reports").must(t, 200, "app /reports")

	// Thirty days after it was made, the link is dead and so are the
	// sessions it opened: the upstream sees no more requests from them.
	s.Clock.Advance(30*24*time.Hour + time.Second)
	for _, c := range []*client{first, second} {
		r := c.get("/p/website-redesign/reports")
		if r.status == 200 || strings.Contains(r.body, "app /reports") {
			t.Fatalf("an expired link's session still reaches the upstream: %d %s", r.status, r.body)
		}
	}
	s.client().get("/m/"+token).must(t, http.StatusGone, "This link is no longer active")

	// A fresh link from the owner opens the portal again, under the same rules.
	fresh := storetest.Must(s.Svc.GenerateLink(s.Ctx, s.Admin, s.portal("website-redesign").ID, "client@acme.test"))
	first.redeem(fresh.Token)
	first.get("/p/website-redesign/reports").must(t, 200, "app /reports for client@acme.test")
}

// A guest's end date holds at the gate: the session a guest opened before
// the date reaches the upstream no more once it has passed.
func TestGuestEndAtTheGate(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "app %s", r.URL.Path)
	}))
	t.Cleanup(up.Close)
	s := newSite(t)
	s.setPortal("website-redesign", core.PortalPatch{Upstream: ptr(up.URL)})
	org := storetest.Must(s.Svc.Orgs(s.Ctx, s.Admin))[0]
	res := storetest.Must(s.Svc.Invite(s.Ctx, s.Admin, core.InviteInput{OrgID: org.ID, Email: "guest@x.test", Role: core.RoleGuest,
		GuestUntil: s.Clock.Now().Add(time.Hour), PortalID: s.portal("website-redesign").ID}))
	c := s.client()
	c.redeem(res.Link.Token)
	c.get("/p/website-redesign/plan").must(t, 200, "app /plan")
	s.Clock.Advance(61 * time.Minute)
	if r := c.get("/p/website-redesign/plan"); r.status == 200 || strings.Contains(r.body, "app /plan") {
		t.Fatalf("an ended guest's session still reaches the upstream: %d %s", r.status, r.body)
	}
}

// The access form under the domain rules: at an email portal an address
// outside the allowed domains gets the closed-portal answer and the owner
// hears of it; at a closed portal a grant rule lets a matching address in at
// once, with a link that opens the portal as the rule's role.
func TestDomainRulesAtTheForm(t *testing.T) {
	s := newSite(t)
	s.setPortal("onboarding", core.PortalPatch{Rules: core.RulesPatch{AllowDomains: ptr("*.acme.test, client.test")}})
	c := s.client()
	c.post("/p/onboarding/access", url.Values{"email": {"new@client.test"}}).must(t, 200, "We sent you a link")
	c.post("/p/onboarding/access", url.Values{"email": {"pat@eu.acme.test"}}).must(t, 200, "We sent you a link")
	c.post("/p/onboarding/access", url.Values{"email": {"pat@acme.test"}}).must(t, http.StatusForbidden, "pat@acme.test has no access to Onboarding Kit")
	if len(s.MailsTo("pat@acme.test", core.MailAccessLink)) != 0 || s.LastMail("owner@northwind.test", core.MailAccessRequest).Data["email"] != "pat@acme.test" {
		t.Fatal("an address outside the allowed domains got a link, or the owner was not told")
	}

	s.setPortal("website-redesign", core.PortalPatch{Rules: core.RulesPatch{AutoGrant: ptr("acme.test=member")}})
	c.post("/p/website-redesign/access", url.Values{"email": {"dana@acme.test"}}).must(t, 200, "We sent you a link")
	granted := s.LastMail("owner@northwind.test", core.MailAccessGranted)
	if granted.Data["email"] != "dana@acme.test" {
		t.Fatalf("the owner's notice of a grant by rule: %+v", granted)
	}
	s.client().redeem(s.LastToken("dana@acme.test", core.MailAccessLink)).must(t, 200, "Website Redesign", "<dd>member</dd>")
	c.post("/p/website-redesign/access", url.Values{"email": {"eve@evil.test"}}).must(t, http.StatusForbidden, "eve@evil.test has no access")
	if len(s.MailsTo("eve@evil.test", core.MailAccessLink)) != 0 {
		t.Fatal("an address no rule grants got a link")
	}
}
