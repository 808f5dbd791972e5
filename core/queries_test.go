package core_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"latchkey/core"
)

// The projects screen's figures agree with the members screen's rows, for
// every way a person can stand with a portal.
func TestProjectFiguresMatchTheirMembers(t *testing.T) {
	e := newEnv(t)
	w := e.world("Figures")
	p := w.closed
	invite := func(email string) {
		t.Helper()
		must(e.Svc.Invite(e.Ctx, w.ownerA, core.InviteInput{OrgID: w.org.ID, Email: email, Role: core.RoleMember, PortalID: p.ID}))
	}
	invite("pending@x.test") // an active link, never used
	invite("used@x.test")    // used: an account with access, the link still active
	must(e.Svc.Redeem(e.Ctx, e.LastToken("used@x.test", core.MailInvitePortal), visitor))
	invite("stopped@x.test") // link deactivated, never used
	if err := e.Svc.DeactivateLink(e.Ctx, w.ownerA, p.ID, "stopped@x.test"); err != nil {
		t.Fatal(err)
	}
	invite("left@x.test") // used, then the link deactivated: access stays
	must(e.Svc.Redeem(e.Ctx, e.LastToken("left@x.test", core.MailInvitePortal), visitor))
	if err := e.Svc.DeactivateLink(e.Ctx, w.ownerA, p.ID, "left@x.test"); err != nil {
		t.Fatal(err)
	}
	invite("again@x.test") // deactivated, then a new link: the latest counts
	if err := e.Svc.DeactivateLink(e.Ctx, w.ownerA, p.ID, "again@x.test"); err != nil {
		t.Fatal(err)
	}
	must(e.Svc.GenerateLink(e.Ctx, w.ownerA, p.ID, "again@x.test"))
	if err := e.Svc.AddPortalAccess(e.Ctx, w.ownerA, p.ID, w.member.ID); err != nil { // access, no link
		t.Fatal(err)
	}

	var people, active int
	for _, m := range must(e.Svc.PortalMembers(e.Ctx, w.ownerA, p.ID)) {
		if m.HasAccess || m.LinkState == core.LinkActive {
			people++
		}
		if m.LinkState == core.LinkActive {
			active++
		}
	}
	if people != 5 || active != 3 {
		t.Fatalf("members screen: %d people, %d active links; the cases above make 5 and 3", people, active)
	}
	for _, s := range must(e.Svc.Projects(e.Ctx, w.ownerA, w.org.ID)) {
		if s.Portal != nil && s.Portal.ID == p.ID {
			if s.PeopleWithAccess != people || s.ActiveLinks != active {
				t.Fatalf("projects screen: %d people, %d active links; members screen: %d, %d", s.PeopleWithAccess, s.ActiveLinks, people, active)
			}
			return
		}
	}
	t.Fatal("the portal's project is not listed")
}

// Someone invited by name shows by that name before they have an account.
func TestInviteesShowTheirNameBeforeTheyJoin(t *testing.T) {
	e := newEnv(t)
	w := e.world("Names")
	must(e.Svc.Invite(e.Ctx, w.ownerA, core.InviteInput{OrgID: w.org.ID, Email: "pat@x.test", Name: "Pat Pending", Role: core.RoleClient, PortalID: w.closed.ID}))
	for _, m := range must(e.Svc.PortalMembers(e.Ctx, w.ownerA, w.closed.ID)) {
		if m.Email == "pat@x.test" {
			if m.Name != "Pat Pending" || m.UserID != 0 {
				t.Fatalf("invitee %+v", m)
			}
			return
		}
	}
	t.Fatal("the invitee is not listed")
}

// PortalMember and Request read one row as the lists show it.
func TestOneRowIsTheListsRow(t *testing.T) {
	e := newEnv(t)
	w := e.world("Acme")
	must(e.Svc.Invite(e.Ctx, w.ownerA, core.InviteInput{OrgID: w.org.ID, Email: "pat@client.test", Role: core.RoleClient, PortalID: w.closed.ID}))
	must(e.Svc.Invite(e.Ctx, w.ownerA, core.InviteInput{OrgID: w.org.ID, Email: "gus@client.test", Role: core.RoleGuest, PortalID: w.closed.ID,
		GuestUntil: e.Clock.Now().Add(48 * time.Hour)}))
	must(e.Svc.GenerateLink(e.Ctx, w.ownerA, w.closed.ID, "pat@client.test"))
	if err := e.Svc.DeactivateLink(e.Ctx, w.ownerA, w.closed.ID, "gus@client.test"); err != nil {
		t.Fatal(err)
	}
	if err := e.Svc.AddPortalAccess(e.Ctx, w.ownerA, w.closed.ID, w.member.ID); err != nil {
		t.Fatal(err)
	}
	rows := must(e.Svc.PortalMembers(e.Ctx, w.managerA, w.closed.ID))
	if len(rows) < 3 {
		t.Fatalf("rows: %+v", rows)
	}
	for _, r := range rows {
		one := must(e.Svc.PortalMember(e.Ctx, w.managerA, w.closed.ID, strings.ToUpper(r.Email)))
		if !reflect.DeepEqual(one, r) {
			t.Errorf("%s:\n one  %+v\n list %+v", r.Email, one, r)
		}
	}
	if _, err := e.Svc.PortalMember(e.Ctx, w.managerA, w.closed.ID, "nobody@client.test"); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("nobody: %v", err)
	}
	other := e.world("Other")
	if _, err := e.Svc.PortalMember(e.Ctx, other.ownerA, w.closed.ID, "pat@client.test"); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("another organization: %v", err)
	}

	must(e.Svc.RequestAccess(e.Ctx, w.closed.Slug, "stranger@example.org", visitor))
	must(e.Svc.RequestAccess(e.Ctx, other.closed.Slug, "spy@example.org", visitor))
	for _, r := range must(e.Svc.Requests(e.Ctx, w.managerA, w.org.ID, false)) {
		if one := must(e.Svc.Request(e.Ctx, w.managerA, w.org.ID, r.ID)); !reflect.DeepEqual(one, r) {
			t.Errorf("request %d:\n one  %+v\n list %+v", r.ID, one, r)
		}
	}
	theirs := must(e.Svc.Requests(e.Ctx, other.ownerA, other.org.ID, false))[0]
	if _, err := e.Svc.Request(e.Ctx, w.managerA, w.org.ID, theirs.ID); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("another organization's request: %v", err)
	}
}
