package core_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"latchkey/core"
)

// askFor files a stranger's request to the closed portal and returns the
// secret of the owner's notice buttons.
func askFor(t *testing.T, e *env, w world, email string) string {
	t.Helper()
	if res := must(e.Svc.RequestAccess(e.Ctx, w.closed.Slug, email, visitor)); res.Outcome != core.OutcomeRequested || !res.Notified {
		t.Fatalf("request: %+v", res)
	}
	m := e.LastMail(w.owner.Email, core.MailAccessRequest)
	if m.LinkPath != "/requests/" || m.Data["email"] != email {
		t.Fatalf("notice: %+v", m)
	}
	return e.LastToken(w.owner.Email, core.MailAccessRequest)
}

// Issue 16, part 4: the notice's page changes nothing; its POST grants once,
// as the owner, and the audit log says it came from the email.
func TestOwnerGrantsFromTheEmail(t *testing.T) {
	e := newEnv(t)
	w := e.world("Acme")
	secret := askFor(t, e, w, "stranger@example.org")
	before := e.Dump()
	for range 3 { // a mail scanner following the buttons
		ea := must(e.Svc.RequestByEmailAction(e.Ctx, secret))
		if ea.Request.Email != "stranger@example.org" || ea.By.ID != w.owner.ID || ea.Request.Portal.ID != w.closed.ID || !ea.Request.Actions.Grant.OK() {
			t.Fatalf("page: %+v", ea)
		}
	}
	if e.Dump() != before {
		t.Fatal("showing the request changed the store")
	}
	res := must(e.Svc.AnswerFromEmail(e.Ctx, secret, core.EmailAnswer{Grant: true, Role: core.RoleMember}))
	if res.Invitation.Email != "stranger@example.org" || res.Role != core.RoleMember {
		t.Fatalf("grant: %+v", res)
	}
	found := false
	for _, ev := range e.Events() {
		if ev.Action == "request.granted" && ev.Target == "stranger@example.org" {
			found = strings.Contains(ev.Detail, "granted from email") && ev.Actor == w.owner.Email && ev.Source == "email"
		}
	}
	if !found {
		t.Fatalf("audit: %+v", e.Events())
	}
	if _, err := e.Svc.AnswerFromEmail(e.Ctx, secret, core.EmailAnswer{Grant: true}); !errors.Is(err, core.ErrActionDead) {
		t.Fatalf("a second grant: %v", err)
	}
}

// A request answered elsewhere kills its buttons, saying by whom; so do
// seven days and a token that was never issued.
func TestEmailButtonsDieWithTheRequest(t *testing.T) {
	e := newEnv(t)
	w := e.world("Acme")
	secret := askFor(t, e, w, "stranger@example.org")
	reqs := must(e.Svc.Requests(e.Ctx, w.managerA, w.org.ID, true))
	if err := e.Svc.DismissRequest(e.Ctx, w.managerA, reqs[0].ID); err != nil {
		t.Fatal(err)
	}
	_, err := e.Svc.RequestByEmailAction(e.Ctx, secret)
	var closed *core.RequestClosedError
	if !errors.As(err, &closed) || !errors.Is(err, core.ErrActionDead) || !strings.Contains(core.Describe(err), "dismissed already, by "+w.manager.Email) {
		t.Fatalf("after a dismissal in the console: %v", err)
	}
	before := e.Dump()
	if _, err := e.Svc.AnswerFromEmail(e.Ctx, secret, core.EmailAnswer{Grant: true}); !errors.Is(err, core.ErrActionDead) {
		t.Fatalf("grant after a dismissal: %v", err)
	}
	if e.Dump() != before {
		t.Fatal("a dead button changed the store")
	}

	e.Clock.Advance(25 * time.Hour) // a day later the owner hears of a new address again
	late := askFor(t, e, w, "late@example.org")
	e.Clock.Advance(core.ActionTTL)
	if _, err := e.Svc.RequestByEmailAction(e.Ctx, late); !errors.Is(err, core.ErrActionDead) {
		t.Fatalf("after seven days: %v", err)
	}
	for _, bad := range []string{"", "x", strings.Repeat("A", 43)} {
		if _, err := e.Svc.AnswerFromEmail(e.Ctx, bad, core.EmailAnswer{}); !errors.Is(err, core.ErrActionDead) {
			t.Fatalf("%q: %v", bad, err)
		}
	}
}

// Dismiss from the email closes the request without an invitation.
func TestOwnerDismissesFromTheEmail(t *testing.T) {
	e := newEnv(t)
	w := e.world("Acme")
	secret := askFor(t, e, w, "stranger@example.org")
	must(e.Svc.AnswerFromEmail(e.Ctx, secret, core.EmailAnswer{}))
	reqs := must(e.Svc.Requests(e.Ctx, w.ownerA, w.org.ID, false))
	if len(reqs) != 1 || reqs[0].State != core.RequestDismissed || len(e.MailsTo("stranger@example.org", core.MailInvitePortal)) != 0 {
		t.Fatalf("requests: %+v", reqs)
	}
}
