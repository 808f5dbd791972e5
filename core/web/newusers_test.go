package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"latchkey/core"
	"latchkey/storage/storetest"
)

// Issue 13, point 2: the access form refuses addresses with invisible,
// format or text-direction characters, and undeliverable ones, with the
// field's error and a 400; nothing is stored and nobody is mailed.
func TestAccessFormRefusesHiddenAndUndeliverableAddresses(t *testing.T) {
	s := newSite(t)
	c := s.client()
	before := s.Dump()
	for _, bad := range []string{"cli\u200bent@acme.test", "\u202etset.emca@tneilc", "client\u200f@acme.test", "cli\u00adent@acme.test",
		"\ufeffclient@acme.test", "client@ac\u200bme.test", "a@b", "a@[192.0.2.1]", "a@192.0.2.1"} {
		r := c.post("/p/website-redesign/access", url.Values{"email": {bad}}).must(t, http.StatusBadRequest, `aria-invalid="true"`, `id="email-error"`)
		if !strings.Contains(r.body, "address") {
			t.Errorf("%q: the field's error does not say what is wrong:\n%s", bad, r.body)
		}
	}
	if s.Dump() != before {
		t.Fatal("a refused address changed the database")
	}
}

// Issue 13, point 10: an unknown or cut-short link leads somewhere: "Send
// me my links", which answers alike whether or not the address is known
// and mails a known one a link to every portal it opens.
func TestUnknownLinkOffersSendMeMyLinks(t *testing.T) {
	s := newSite(t)
	c := s.client()
	cut := s.links["website-redesign"][:30]
	r := c.get("/m/"+cut).must(t, http.StatusNotFound, "We could not find this link", `action="/links"`, "Send me my links")
	if strings.Contains(r.body, "no longer active") {
		t.Fatal("an unknown link is called no longer active")
	}
	known := c.post("/links", url.Values{"email": {"client@acme.test"}}).must(t, http.StatusOK, "Check your email")
	unknown := c.post("/links", url.Values{"email": {"nobody@acme.test"}}).must(t, http.StatusOK, "Check your email")
	strip := func(body string) string {
		return strings.NewReplacer("client@acme.test", "EMAIL", "nobody@acme.test", "EMAIL").Replace(body)
	}
	if strip(known.body) != strip(unknown.body) {
		t.Fatalf("the answers differ:\n%s\n----\n%s", known.body, unknown.body)
	}
	mails := s.MailsTo("client@acme.test", core.MailMyLinks)
	if len(mails) != 1 || mails[0].Data["links"] != "2" || len(s.MailsTo("nobody@acme.test", core.MailMyLinks)) != 0 {
		t.Fatalf("my-links mails: %+v", mails)
	}
	// The mail carries the working links: the active link of each portal.
	token, err := s.Svc.OpenSealedMail(mails[0])
	if err != nil || !strings.Contains(token, s.links["website-redesign"]) || !strings.Contains(token, s.links["brand-guidelines"]) {
		t.Fatalf("the links mailed are not the active ones (%v)", err)
	}
	c.post("/links", url.Values{"email": {"not an address"}}).must(t, http.StatusBadRequest, `aria-invalid="true"`)
	// Rate-limited per email like every form that sends mail.
	var last response
	for range 5 {
		last = c.post("/links", url.Values{"email": {"client@acme.test"}})
	}
	if last.status != http.StatusTooManyRequests {
		t.Fatalf("five my-links requests for one address in a row: %d", last.status)
	}
}

// Issue 13, point 10: the 429 page keeps the portal, says when to try
// again and that a link sent before still works, and leads back; there is
// no giant status code.
func TestTooManyRequestsKeepsThePortalAndLeadsBack(t *testing.T) {
	s := newSite(t)
	c := s.client()
	var r response
	for i := range 5 {
		r = c.post("/p/website-redesign/access", url.Values{"email": {"client@acme.test"}})
		if i < 3 && r.status != http.StatusOK {
			t.Fatalf("request %d: %d", i, r.status)
		}
	}
	r.must(t, http.StatusTooManyRequests, "Website Redesign", "Northwind Studio", "try again in", "still works", `href="/p/website-redesign"`, "Back to Website Redesign")
	if strings.Contains(r.body, `class="code" aria-hidden="true">429`) || r.header.Get("Retry-After") == "" {
		t.Fatalf("the 429 page:\n%s", r.body)
	}
}

// Issue 13, point 10: pages of no portal do not read "Sign in" in their
// header; the wording slips are gone.
func TestPagesWithoutAPortalAndWordingSlips(t *testing.T) {
	s := newSite(t)
	c := s.client()
	for _, path := range []string{"/no-such-page", "/links", "/m/" + strings.Repeat("x", 43)} {
		r := c.get(path)
		head := r.body[strings.Index(r.body, `<header`):strings.Index(r.body, `</header>`)]
		if strings.Contains(head, "Sign in") {
			t.Errorf("%s: the header reads Sign in:\n%s", path, head)
		}
	}
	// A link the visitor asked for does not say they were invited.
	must := func(err error) {
		if err != nil {
			t.Helper()
			t.Fatal(err)
		}
	}
	_, err := s.Svc.RequestAccess(s.Ctx, "onboarding", "new@acme.test", core.Visitor{Addr: "192.0.2.9"})
	must(err)
	tok := s.LastToken("new@acme.test", core.MailAccessLink)
	r := c.get("/m/"+tok).must(t, http.StatusOK, "You asked for a link to the")
	if strings.Contains(r.body, "invited you") {
		t.Fatal("a requested link's page says invited you")
	}
	// Before its first use, a link does not claim that its address has access.
	c.post("/p/onboarding/access", url.Values{"email": {"fresh@acme.test"}}).must(t, http.StatusOK, "We emailed fresh@acme.test a link")
	// The join page reads "as a guest".
	org := storetest.Must(s.Svc.Orgs(s.Ctx, s.Admin))[0]
	_, err = s.Svc.Invite(s.Ctx, s.Admin, core.InviteInput{OrgID: org.ID, Email: "guest@acme.test", Role: core.RoleGuest})
	must(err)
	c.get("/join/"+s.LastToken("guest@acme.test", core.MailInviteJoin)).must(t, http.StatusOK, "invited as a <strong>guest</strong>")
}

// Issue 13, point 11: a flood of strangers at one portal is answered 429
// with when to retry once the portal's limit is spent, from any address.
func TestStrangersFloodingAPortalAreLimited(t *testing.T) {
	s := newSite(t, withProxies("127.0.0.1/32"))
	c := s.client()
	limited := 0
	for i := range 60 {
		c.addr = fmt.Sprintf("198.51.100.%d", 1+i)
		r := c.post("/p/website-redesign/access", url.Values{"email": {fmt.Sprintf("stranger%02d@example.com", i)}})
		if r.status == http.StatusTooManyRequests {
			limited++
			if !strings.Contains(r.body, "try again in") || r.header.Get("Retry-After") == "" {
				t.Fatalf("429 without when to retry:\n%s", r.body)
			}
		}
	}
	if limited == 0 {
		t.Fatal("60 strangers from 60 addresses filed 60 requests to one portal")
	}
	if n := len(s.MailsTo("owner@northwind.test", core.MailAccessRequest)); n > 2 {
		t.Fatalf("the owner got %d notices within minutes", n)
	}
}

// Issue 13, point 10: in chromium, a cut-short link leads to Send me my
// links, and signing out of a portal leads back to it.
func TestBrowserDeadEndsLeadSomewhere(t *testing.T) {
	s := newSite(t)
	b := newBrowser(t)
	b.expect(b.open(s.url+"/m/"+s.links["website-redesign"][:20]), 404, "We could not find this link")
	b.do(chromedp.SendKeys(chromedp.CSS("#email"), "client@acme.test"))
	b.expect(b.submit(`form[action="/links"] button[type=submit]`), 200, "Check your email")
	if len(s.MailsTo("client@acme.test", core.MailMyLinks)) != 1 {
		t.Fatal("no my-links mail")
	}
	b.expect(b.open(s.url+"/m/"+s.links["website-redesign"]), 200, "Open portal")
	b.expect(b.submit(`button[type=submit]`), 200, "Sign out")
	b.expect(b.submit(`header form button`), 403, "You are signed out", "This portal is closed", "Send access link")
	if loc := b.location(); loc != s.url+"/p/website-redesign?signed_out=1" {
		b.fail("signed out to %s", loc)
	}
}
