package web_test

import (
	"testing"

	"github.com/chromedp/chromedp"

	"latchkey/core"
	"latchkey/storage/storetest"
)

// Issue 16 in chromium: the code of the email, typed in the browser that
// asked for the link, opens the portal there; typed in another browser it
// is refused with where to type it.
func TestBrowserCodeForTheOtherDevice(t *testing.T) {
	s := newSite(t)
	laptop, phone := newBrowser(t), newBrowser(t)
	laptop.expect(laptop.open(s.url+"/p/onboarding"), 200)
	laptop.do(chromedp.SendKeys(chromedp.CSS("#email"), "new@example.org"))
	laptop.expect(laptop.submit(`form[action$="/access"] button[type=submit]`), 200, "Check your email", "six-digit code")
	code := storetest.Must(s.Svc.OpenMailCode(s.LastMail("new@example.org", core.MailAccessLink)))

	// The phone has the email, not the laptop's cookie: its page for the
	// code is the same, and the code is refused there.
	phone.expect(phone.open(s.url+"/p/onboarding"), 200)
	phone.do(chromedp.SendKeys(chromedp.CSS("#email"), "someone@example.org"))
	phone.expect(phone.submit(`form[action$="/access"] button[type=submit]`), 200, "six-digit code")
	phone.do(chromedp.SendKeys(chromedp.CSS("#code"), code))
	phone.expect(phone.submit(`form.code button[type=submit]`), 403, "That code is not right", "in the browser where you asked for the link")

	laptop.do(chromedp.SendKeys(chromedp.CSS("#code"), code[:3]+" "+code[3:]))
	laptop.expect(laptop.submit(`form.code button[type=submit]`), 200, "Signed in as new@example.org")
	if loc := laptop.location(); loc != s.url+"/p/onboarding" {
		laptop.fail("landed on %s", loc)
	}
}

// The owner's Grant access button: following it (a mail scanner, or the
// owner looking) changes nothing; only the page's button grants.
func TestBrowserGrantFromTheEmail(t *testing.T) {
	s := newSite(t)
	s.client().post("/p/website-redesign/access", map[string][]string{"email": {"newcomer@example.org"}})
	token := s.LastToken("owner@northwind.test", core.MailAccessRequest)
	b := newBrowser(t)
	before := s.Dump()
	b.expect(b.open(s.url+"/requests/"+token+"?do=grant"), 200, "Access request", "newcomer@example.org asked for access to Website Redesign")
	if s.Dump() != before {
		b.fail("opening the button's page changed the database")
	}
	b.do(chromedp.SetValue(chromedp.CSS("#role"), "member"))
	b.expect(b.submit(`button[value=grant]`), 200, "Access granted: newcomer@example.org is invited to Website Redesign as member")
	if len(s.MailsTo("newcomer@example.org", core.MailInvitePortal)) != 1 {
		t.Fatal("no invitation sent")
	}
	b.expect(b.open(s.url+"/requests/"+token+"?do=grant"), 410, "granted already")
}
