package core_test

import (
	"errors"
	"testing"

	"latchkey/core"
)

// codeOf asks for an access link from a browser and returns the code its
// email carries.
func codeOf(t *testing.T, e *env, slug, email string, v core.Visitor) string {
	t.Helper()
	must(e.Svc.RequestAccess(e.Ctx, slug, email, v))
	code, err := e.Svc.OpenMailCode(e.LastMail(email, core.MailAccessLink))
	if err != nil || len(code) != 6 {
		t.Fatalf("code %q, %v", code, err)
	}
	return code
}

// Issue 16, part 3: the code of an access-link email opens the portal in
// the browser that asked, once; another browser is told where to type it.
func TestCodeOpensThePortalInTheBrowserThatAsked(t *testing.T) {
	e := newEnv(t)
	w := e.world("Acme")
	laptop := core.Visitor{Addr: "203.0.113.9", UserAgent: "laptop", Browser: "laptop-secret"}
	code := codeOf(t, e, w.email.Slug, "client@example.org", laptop)

	for _, other := range []core.Visitor{{Addr: "203.0.113.10", Browser: "phone-secret"}, {Addr: "203.0.113.10"}} {
		if _, err := e.Svc.UseCode(e.Ctx, code, other); !errors.Is(err, core.ErrCodeElsewhere) {
			t.Fatalf("in another browser: %v", err)
		}
	}
	r, err := e.Svc.UseCode(e.Ctx, code[:3]+" "+code[3:], laptop) // typed with a space
	if err != nil {
		t.Fatal(err)
	}
	if r.SignIn.SessionID == "" || r.SignIn.User.Email != "client@example.org" || r.Portal.ID != w.email.ID {
		t.Fatalf("redemption: %+v", r)
	}
	if _, err := e.Svc.Session(e.Ctx, r.SignIn.SessionID); err != nil {
		t.Fatalf("the code's session: %v", err)
	}
	if !e.HasEvent("link.code_used", "client@example.org") {
		t.Fatal("the code's use is not audited")
	}
	if _, err := e.Svc.UseCode(e.Ctx, code, laptop); !errors.Is(err, core.ErrCodeExpired) {
		t.Fatalf("a code used twice: %v", err)
	}
}

// Five wrong codes end the code; a right one after that opens nothing.
func TestCodeAllowsFiveWrongTries(t *testing.T) {
	e := newEnv(t)
	w := e.world("Acme")
	laptop := core.Visitor{Addr: "203.0.113.9", Browser: "laptop-secret"}
	code := codeOf(t, e, w.email.Slug, "client@example.org", laptop)
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	for i := 1; i <= core.CodeTries; i++ {
		_, err := e.Svc.UseCode(e.Ctx, wrong, laptop)
		want := core.ErrCodeWrong
		if i == core.CodeTries {
			want = core.ErrCodeSpent
		}
		if !errors.Is(err, want) {
			t.Fatalf("try %d: %v, want %v", i, err, want)
		}
	}
	if _, err := e.Svc.UseCode(e.Ctx, code, laptop); !errors.Is(err, core.ErrCodeSpent) {
		t.Fatalf("the right code after five wrong ones: %v", err)
	}
	if e.HasEvent("link.code_used", "client@example.org") {
		t.Fatal("a spent code was used")
	}
}

// A code lives ten minutes; a deactivated link's code opens nothing; a new
// request gives a new code and the old one stops.
func TestCodeExpiresAndFollowsItsLink(t *testing.T) {
	e := newEnv(t)
	w := e.world("Acme")
	laptop := core.Visitor{Addr: "203.0.113.9", Browser: "laptop-secret"}
	code := codeOf(t, e, w.email.Slug, "client@example.org", laptop)
	e.Clock.Advance(core.CodeTTL)
	if _, err := e.Svc.UseCode(e.Ctx, code, laptop); !errors.Is(err, core.ErrCodeExpired) {
		t.Fatalf("after ten minutes: %v", err)
	}

	first := codeOf(t, e, w.email.Slug, "client@example.org", laptop)
	second := codeOf(t, e, w.email.Slug, "client@example.org", laptop)
	if first != second {
		if _, err := e.Svc.UseCode(e.Ctx, first, laptop); !errors.Is(err, core.ErrCodeWrong) {
			t.Fatalf("the older code: %v", err)
		}
	}
	if err := e.Svc.DeactivateLink(e.Ctx, w.ownerA, w.email.ID, "client@example.org"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Svc.UseCode(e.Ctx, second, laptop); !errors.Is(err, core.ErrLinkInactive) {
		t.Fatalf("the code of a deactivated link: %v", err)
	}
}

// Under generic disclosure a stranger's browser gets a decoy: a code typed
// there fails as a wrong one does, and no link exists to open.
func TestCodeRevealsNothingUnderGenericDisclosure(t *testing.T) {
	e := newEnv(t)
	w := e.world("Acme")
	must(e.Svc.SetPortal(e.Ctx, w.ownerA, w.closed.ProjectID, core.PortalSettings{Slug: w.closed.Slug, Title: w.closed.Title, Access: core.AccessClosed, Disclosure: core.DisclosureGeneric}))
	stranger := core.Visitor{Addr: "203.0.113.9", Browser: "stranger-secret"}
	res := must(e.Svc.RequestAccess(e.Ctx, w.closed.Slug, "stranger@example.org", stranger))
	if res.Outcome != core.OutcomeRequested || !res.Generic {
		t.Fatalf("result: %+v", res)
	}
	if len(e.MailsTo("stranger@example.org", core.MailAccessLink)) != 0 {
		t.Fatal("a stranger got a link")
	}
	for _, code := range []string{"123456", "000000"} {
		if _, err := e.Svc.UseCode(e.Ctx, code, stranger); !errors.Is(err, core.ErrCodeWrong) {
			t.Fatalf("a code for a request: %v, want the wrong-code answer", err)
		}
	}
}

// Malformed codes are refused before anything is read or counted.
func TestMalformedCodesChangeNothing(t *testing.T) {
	e := newEnv(t)
	w := e.world("Acme")
	laptop := core.Visitor{Addr: "203.0.113.9", Browser: "laptop-secret"}
	codeOf(t, e, w.email.Slug, "client@example.org", laptop)
	before := e.Dump()
	for _, bad := range []string{"", "12345", "1234567", "12a456", "１２３４５６", "123456\n7"} {
		if _, err := e.Svc.UseCode(e.Ctx, bad, laptop); !errors.Is(err, core.ErrInvalid) {
			t.Fatalf("%q: %v", bad, err)
		}
	}
	if e.Dump() != before {
		t.Fatal("a malformed code changed the store")
	}
}

// The sealed code leaves the outbox row once it is delivered.
func TestDeliveredMailForgetsItsCode(t *testing.T) {
	e := newEnv(t)
	w := e.world("Acme")
	codeOf(t, e, w.email.Slug, "client@example.org", core.Visitor{Browser: "b"})
	m := e.LastMail("client@example.org", core.MailAccessLink)
	if err := e.Svc.RecordDeliveries(e.Ctx, []core.Delivery{{ID: m.ID, Outcome: core.Delivered, Detail: "250 ok"}}); err != nil {
		t.Fatal(err)
	}
	m = e.LastMail("client@example.org", core.MailAccessLink)
	if code, err := e.Svc.OpenMailCode(m); code != "" || err != nil || len(m.SealedToken) != 0 {
		t.Fatalf("after delivery: code %q, %v, data %v", code, err, m.Data)
	}
}
