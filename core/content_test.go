package core_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"latchkey/core"
)

// Issue 14: resources are an ordered list of titled links that owners and
// managers add, move and remove; every change is audited; bad input is
// refused with the field's error and changes nothing.
func TestResourcesKeepTheirOrder(t *testing.T) {
	e := newEnv(t)
	w := e.world("Acme")
	add := func(title, url string) core.Resource {
		t.Helper()
		return must(e.Svc.AddResource(e.Ctx, w.managerA, w.closed.ID, core.ResourceInput{Title: title, URL: url, Note: "note of " + title}))
	}
	a, b, c := add("Designs", "https://figma.example/d"), add("Staging", "https://staging.example/"), add("Invoices", "https://billing.example/#acme")
	order := func() string {
		t.Helper()
		var out []string
		for _, r := range must(e.Svc.Resources(e.Ctx, w.managerA, w.closed.ID)) {
			out = append(out, r.Title)
		}
		return strings.Join(out, ",")
	}
	if got := order(); got != "Designs,Staging,Invoices" {
		t.Fatalf("order %s", got)
	}
	if err := e.Svc.MoveResource(e.Ctx, w.managerA, w.closed.ID, c.ID, 1); err != nil {
		t.Fatal(err)
	}
	if got := order(); got != "Invoices,Designs,Staging" {
		t.Fatalf("after moving Invoices first: %s", got)
	}
	if err := e.Svc.MoveResource(e.Ctx, w.managerA, w.closed.ID, c.ID, 99); err != nil {
		t.Fatal(err)
	}
	if got := order(); got != "Designs,Staging,Invoices" {
		t.Fatalf("after moving Invoices past the end: %s", got)
	}
	if err := e.Svc.RemoveResource(e.Ctx, w.managerA, w.closed.ID, a.ID); err != nil {
		t.Fatal(err)
	}
	list := must(e.Svc.Resources(e.Ctx, w.managerA, w.closed.ID))
	if len(list) != 2 || list[0].ID != b.ID || list[0].Position != 1 || list[1].Position != 2 {
		t.Fatalf("after removing the first: %+v", list)
	}
	for _, action := range []string{"resource.added", "resource.moved", "resource.removed"} {
		if !e.HasEvent(action, "Invoices") && !e.HasEvent(action, "Designs") {
			t.Errorf("no %s event", action)
		}
	}
	before := e.Dump()
	for _, tc := range []struct {
		name  string
		field string
		err   error
	}{
		{"no title", "title", e.addErr(w, core.ResourceInput{URL: "https://x.example"})},
		{"javascript URL", "url", e.addErr(w, core.ResourceInput{Title: "x", URL: "javascript:alert(1)"})},
		{"credentials", "url", e.addErr(w, core.ResourceInput{Title: "x", URL: "https://u:p@x.example"})},
		{"relative URL", "url", e.addErr(w, core.ResourceInput{Title: "x", URL: "/docs"})},
		{"long note", "note", e.addErr(w, core.ResourceInput{Title: "x", URL: "https://x.example", Note: strings.Repeat("n", 301)})},
		{"hidden characters in the title", "title", e.addErr(w, core.ResourceInput{Title: "De\u202esigns", URL: "https://x.example"})},
	} {
		var ve *core.ValidationError
		if !errors.As(tc.err, &ve) || ve.Field != tc.field {
			t.Errorf("%s: %v, want an error of the field %s", tc.name, tc.err, tc.field)
		}
	}
	if err := e.Svc.MoveResource(e.Ctx, w.managerA, w.closed.ID, b.ID, 0); !errors.Is(err, core.ErrInvalid) {
		t.Errorf("move to 0: %v", err)
	}
	if err := e.Svc.RemoveResource(e.Ctx, w.managerA, w.email.ID, b.ID); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("remove through another portal: %v", err)
	}
	member := core.UserActor(w.member, "test")
	if _, err := e.Svc.AddResource(e.Ctx, member, w.closed.ID, core.ResourceInput{Title: "x", URL: "https://x.example"}); err == nil {
		t.Error("a member added a resource")
	}
	if e.Dump() != before {
		t.Fatal("refused changes changed the database")
	}
}

func (e *env) addErr(w world, in core.ResourceInput) error {
	_, err := e.Svc.AddResource(e.Ctx, w.managerA, w.closed.ID, in)
	return err
}

// Issue 14: an update with email reaches, through the outbox, everyone who
// may open the portal now (accounts with access, invitees with an active
// link), one mail each, and nobody whose access ended.
func TestUpdatesAreMailedToEveryoneWithAccessAndNobodyElse(t *testing.T) {
	e := newEnv(t)
	w := e.world("Acme")
	invite := func(email string, role core.Role) core.InviteResult {
		return must(e.Svc.Invite(e.Ctx, w.ownerA, core.InviteInput{OrgID: w.org.ID, Email: email, Role: role, PortalID: w.closed.ID}))
	}
	res := invite("active@client.test", core.RoleClient)
	must(e.Svc.Redeem(e.Ctx, res.Link.Token, visitor))
	invite("invited@client.test", core.RoleClient)
	gone := invite("removed@client.test", core.RoleClient)
	must(e.Svc.Redeem(e.Ctx, gone.Link.Token, visitor))
	if err := e.Svc.RemoveAccess(e.Ctx, w.ownerA, w.closed.ID, "removed@client.test"); err != nil {
		t.Fatal(err)
	}
	invite("deactivated@client.test", core.RoleClient)
	if err := e.Svc.DeactivateLink(e.Ctx, w.ownerA, w.closed.ID, "deactivated@client.test"); err != nil {
		t.Fatal(err)
	}
	u := must(e.Svc.PostUpdate(e.Ctx, w.managerA, w.closed.ID, "The designs are up.\n\nTell us what you think.", true))
	if u.Emailed != 2 || u.Author != "Name of manager@acme.test" {
		t.Fatalf("update %+v", u)
	}
	for addr, want := range map[string]int{"active@client.test": 1, "invited@client.test": 1, "removed@client.test": 0, "deactivated@client.test": 0, w.owner.Email: 0} {
		if got := len(e.MailsTo(addr, core.MailPortalUpdate)); got != want {
			t.Errorf("%s got %d update mails, want %d", addr, got, want)
		}
	}
	must(e.Svc.PostUpdate(e.Ctx, w.managerA, w.closed.ID, "Without email.", false))
	if got := len(e.MailsTo("active@client.test", core.MailPortalUpdate)); got != 1 {
		t.Errorf("an update without email was mailed (%d)", got)
	}
	ups := must(e.Svc.Updates(e.Ctx, w.managerA, w.closed.ID))
	if len(ups) != 2 || ups[0].Body != "Without email." {
		t.Fatalf("updates, newest first: %+v", ups)
	}
	before := e.Dump()
	if _, err := e.Svc.PostUpdate(e.Ctx, w.managerA, w.closed.ID, "  \n ", true); !errors.Is(err, core.ErrInvalid) {
		t.Errorf("an empty update: %v", err)
	}
	if _, err := e.Svc.PostUpdate(e.Ctx, w.managerA, w.closed.ID, strings.Repeat("x", core.MaxUpdateLen+1), false); !errors.Is(err, core.ErrInvalid) {
		t.Errorf("a long update: %v", err)
	}
	if e.Dump() != before {
		t.Fatal("refused updates changed the database")
	}
}

// Issue 14: each portal setting refuses malformed values with its field's
// error and changes nothing: upstream, host, contact, welcome text.
func TestPortalSettingsRefuseBadValues(t *testing.T) {
	e := newEnv(t)
	w := e.world("Acme")
	before := e.Dump()
	for _, tc := range []struct {
		field string
		patch core.PortalPatch
	}{
		{"upstream", core.PortalPatch{Upstream: ptr("ftp://files.example")}},
		{"upstream", core.PortalPatch{Upstream: ptr("http://user:secret@app.example")}},
		{"upstream", core.PortalPatch{Upstream: ptr("http://app.example:99999")}},
		{"upstream", core.PortalPatch{Upstream: ptr("app.example")}},
		{"host", core.PortalPatch{Host: ptr("https://clients.example")}},
		{"host", core.PortalPatch{Host: ptr("192.0.2.1")}},
		{"host", core.PortalPatch{Host: ptr("portal.example.com")}}, // the public URL's own host
		{"contact", core.PortalPatch{Contact: ptr("stranger@x.test")}},
		{"contact", core.PortalPatch{Contact: ptr("not an address")}},
		{"welcome text", core.PortalPatch{Welcome: ptr(strings.Repeat("w", core.MaxWelcomeLen+1))}},
	} {
		_, err := e.Svc.PatchPortal(e.Ctx, w.ownerA, w.closed.ID, tc.patch)
		var ve *core.ValidationError
		if !errors.As(err, &ve) || ve.Field != tc.field {
			t.Errorf("%+v: %v, want an error of the field %s", tc.patch, err, tc.field)
		}
	}
	if e.Dump() != before {
		t.Fatal("refused settings changed the database")
	}
	// A client is no contact; a host another portal has is taken.
	must(e.Svc.Invite(e.Ctx, w.ownerA, core.InviteInput{OrgID: w.org.ID, Email: "c@client.test", Role: core.RoleClient}))
	if _, err := e.Svc.PatchPortal(e.Ctx, w.ownerA, w.closed.ID, core.PortalPatch{Contact: ptr(w.owner.Email)}); err != nil {
		t.Fatal(err)
	}
	must(e.Svc.PatchPortal(e.Ctx, w.ownerA, w.email.ID, core.PortalPatch{Host: ptr("Clients.Acme.TEST")}))
	if _, err := e.Svc.PatchPortal(e.Ctx, w.ownerA, w.closed.ID, core.PortalPatch{Host: ptr("clients.acme.test")}); !errors.Is(err, core.ErrConflict) {
		t.Errorf("a host of another portal: %v", err)
	}
}

func ptr[T any](v T) *T { return &v }

// The gate's decisions follow every change at once, and the clock: a
// guest's end date, a session's idle timeout.
func TestGateFollowsChangesAndTheClock(t *testing.T) {
	e := newEnv(t)
	w := e.world("Acme")
	must(e.Svc.PatchPortal(e.Ctx, w.ownerA, w.closed.ID, core.PortalPatch{Upstream: ptr("http://127.0.0.1:9")}))
	until := e.Clock.Now().Add(2 * time.Hour)
	res := must(e.Svc.Invite(e.Ctx, w.ownerA, core.InviteInput{OrgID: w.org.ID, Email: "g@guest.test", Role: core.RoleGuest, GuestUntil: until, PortalID: w.closed.ID}))
	si := must(e.Svc.Redeem(e.Ctx, res.Link.Token, visitor))
	allowed := func() bool {
		t.Helper()
		return must(e.Svc.GateBySlug(e.Ctx, w.closed.Slug, si.SessionID)).Allowed
	}
	if !allowed() || !allowed() {
		t.Fatal("a guest with access is not let through")
	}
	e.Clock.Advance(2*time.Hour + time.Second)
	if allowed() {
		t.Fatal("a guest past the end date is let through")
	}
	res = must(e.Svc.Invite(e.Ctx, w.ownerA, core.InviteInput{OrgID: w.org.ID, Email: "c@client.test", Role: core.RoleClient, PortalID: w.closed.ID}))
	si = must(e.Svc.Redeem(e.Ctx, res.Link.Token, visitor))
	if !allowed() {
		t.Fatal("a client with access is not let through")
	}
	if err := e.Svc.DeactivateLink(e.Ctx, w.ownerA, w.closed.ID, "c@client.test"); err != nil {
		t.Fatal(err)
	}
	if allowed() {
		t.Fatal("a client whose link was deactivated is let through")
	}
}
