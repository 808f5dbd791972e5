package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"latchkey/core"
	"latchkey/storage/storetest"
)

// Issue 16, part 3, over real HTTP: the "check your email" page has a
// field for the email's code; typed in the browser that asked it opens the
// portal there, in another browser it says where to type it.
func TestCodeOpensThePortalInTheBrowserThatAsked(t *testing.T) {
	s := newSite(t)
	laptop, phone := s.client(), s.client()
	r := laptop.post("/p/onboarding/access", url.Values{"email": {"new@example.org"}})
	r.must(t, http.StatusOK, `action="/code"`, `autocomplete="one-time-code"`, "six-digit code")
	if sc := r.header.Get("Set-Cookie"); !strings.Contains(sc, "latchkey_code=") || !strings.Contains(sc, "Path=/code") ||
		!strings.Contains(sc, "HttpOnly") || !strings.Contains(sc, "SameSite=Strict") || !strings.Contains(sc, "Max-Age=600") {
		t.Fatalf("code cookie %q", sc)
	}
	code := storetest.Must(s.Svc.OpenMailCode(s.LastMail("new@example.org", core.MailAccessLink)))
	form := url.Values{"code": {code}, "portal": {"onboarding"}}

	phone.post("/code", form).must(t, http.StatusForbidden, "Type the code in the browser where you asked for the link")
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	laptop.post("/code", url.Values{"code": {wrong}, "portal": {"onboarding"}}).must(t, http.StatusForbidden, "That code is not right", `aria-invalid="true"`)
	laptop.post("/code", url.Values{"code": {"12ab"}, "portal": {"onboarding"}}).must(t, http.StatusBadRequest, "six digits")
	open := laptop.post("/code", form)
	if open.status != http.StatusSeeOther || open.header.Get("Location") != "/p/onboarding" {
		t.Fatalf("the right code: %d to %q\n%s", open.status, open.header.Get("Location"), open.body)
	}
	laptop.get("/p/onboarding").must(t, http.StatusOK, "new@example.org", "Sign out")
	laptop.post("/code", form).must(t, http.StatusForbidden) // used once
}

// Under generic disclosure the page and its status are the same for a
// stranger and for someone with access, and a code typed for a request
// fails as a wrong one does.
func TestCodePageRevealsNothingUnderGenericDisclosure(t *testing.T) {
	s := newSite(t)
	p := s.portal("website-redesign")
	storetest.Must(s.Svc.PatchPortal(s.Ctx, s.Admin, p.ID, core.PortalPatch{Disclosure: ptr(core.DisclosureGeneric)}))
	stranger, client := s.client(), s.client()
	a := stranger.post("/p/website-redesign/access", url.Values{"email": {"stranger@example.org"}})
	b := client.post("/p/website-redesign/access", url.Values{"email": {"client@acme.test"}})
	if a.status != b.status || !strings.Contains(a.body, `action="/code"`) || !strings.Contains(b.body, `action="/code"`) {
		t.Fatalf("generic answers differ: %d and %d", a.status, b.status)
	}
	stranger.post("/code", url.Values{"code": {"123456"}, "portal": {"website-redesign"}}).must(t, http.StatusForbidden, "That code is not right")
}

// Issue 16, part 4, over real HTTP: the notice's button shows the request
// and changes nothing, however often it is followed (GET or HEAD); the
// page's POST grants once; the button then says it no longer works.
func TestOwnerGrantsFromTheNoticePage(t *testing.T) {
	s := newSite(t)
	s.client().post("/p/website-redesign/access", url.Values{"email": {"newcomer@example.org"}}).must(t, http.StatusForbidden)
	token := s.LastToken("owner@northwind.test", core.MailAccessRequest)
	phone := s.client()
	before := s.Dump()
	for range 2 {
		phone.get("/requests/"+token+"?do=grant").must(t, http.StatusOK, "newcomer@example.org", "Website Redesign",
			`name="do" value="grant" autofocus`, ">Grant access<", ">Dismiss<", `<option value="member"`)
		phone.head("/requests/" + token)
		s.client().get("/requests/" + token + "?do=dismiss")
	}
	if s.Dump() != before {
		t.Fatal("following the buttons changed the database")
	}
	if r := phone.get("/requests/" + token); strings.Contains(r.body, `<option value="owner"`) {
		t.Fatal("the owner role is offered")
	}
	phone.post("/requests/"+token, url.Values{"do": {"maybe"}}).must(t, http.StatusBadRequest, "Choose Grant access or Dismiss")
	phone.post("/requests/"+token, url.Values{"do": {"grant"}, "role": {"member"}}).must(t, http.StatusOK,
		"Access granted: newcomer@example.org is invited to Website Redesign as member")
	if len(s.MailsTo("newcomer@example.org", core.MailInvitePortal)) != 1 {
		t.Fatal("no invitation was sent")
	}
	found := false
	for _, e := range s.Events() {
		found = found || e.Action == "request.granted" && strings.Contains(e.Detail, "granted from email")
	}
	if !found {
		t.Fatal("the audit log does not say the grant came from email")
	}
	phone.get("/requests/"+token).must(t, http.StatusGone, "granted already, by owner@northwind.test")
	phone.post("/requests/"+token, url.Values{"do": {"dismiss"}}).must(t, http.StatusGone)
	s.client().get("/requests/"+strings.Repeat("A", core.TokenLen)).must(t, http.StatusGone, "This button no longer works")
}
