package core_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"latchkey/core"
)

// Issue 13, point 1: every path that creates, replaces, reveals or mails a
// link goes through one check, so that a manager never touches the links of
// the owner, of another manager, or of an invitee whose link is a
// manager's; the owner's link keeps working through all of it.
func TestManagerCannotTouchOwnersOrManagersLinks(t *testing.T) {
	e := newEnv(t)
	w := e.world("Acme")
	other := e.join(w.org, w.ownerA, "other-manager@acme.test", core.RoleManager)
	owners := must(e.Svc.Invite(e.Ctx, w.ownerA, core.InviteInput{OrgID: w.org.ID, Email: w.owner.Email, Role: core.RoleClient, PortalID: w.closed.ID}))
	must(e.Svc.Invite(e.Ctx, w.ownerA, core.InviteInput{OrgID: w.org.ID, Email: other.Email, Role: core.RoleClient, PortalID: w.closed.ID}))
	// An invitee who is to become a manager, not a member yet.
	must(e.Svc.Invite(e.Ctx, w.ownerA, core.InviteInput{OrgID: w.org.ID, Email: "new-manager@acme.test", Role: core.RoleManager, PortalID: w.closed.ID}))
	// A request from the owner's address to a portal the owner has no link to.
	must(e.Svc.RequestAccess(e.Ctx, w.email.Slug, "x@acme.test", visitor)) // an email portal: a link, not a request
	must(e.Svc.RequestAccess(e.Ctx, w.open.Slug, "x@acme.test", visitor))
	ownerReq := must(e.Svc.SetPortal(e.Ctx, w.ownerA, w.open.ProjectID, core.PortalSettings{Slug: w.open.Slug, Title: w.open.Title, Access: core.AccessClosed}))
	must(e.Svc.RequestAccess(e.Ctx, ownerReq.Slug, w.owner.Email, visitor))
	reqs := must(e.Svc.Requests(e.Ctx, w.ownerA, w.org.ID, true))
	if len(reqs) != 1 || reqs[0].Email != w.owner.Email {
		t.Fatalf("requests: %+v", reqs)
	}
	before := e.Dump()
	for _, target := range []string{w.owner.Email, other.Email, "new-manager@acme.test"} {
		for _, tc := range []struct {
			name string
			act  func() error
		}{
			{"invite", func() error {
				_, err := e.Svc.Invite(e.Ctx, w.managerA, core.InviteInput{OrgID: w.org.ID, Email: target, Role: core.RoleClient, PortalID: w.closed.ID, Replace: true})
				return err
			}},
			{"bulk invite", func() error {
				_, err := e.Svc.Invite(e.Ctx, w.managerA, core.InviteInput{OrgID: w.org.ID, Email: target, Role: core.RoleClient, PortalID: w.closed.ID, SkipExisting: true, Replace: true})
				if err == nil {
					return nil // skipped as already having access: nothing changed, which the dump checks
				}
				return err
			}},
			{"generate", func() error { _, err := e.Svc.GenerateLink(e.Ctx, w.managerA, w.closed.ID, target); return err }},
			{"copy", func() error { _, err := e.Svc.RevealLink(e.Ctx, w.managerA, w.closed.ID, target); return err }},
			{"resend", func() error { return e.Svc.ResendLink(e.Ctx, w.managerA, w.closed.ID, target) }},
			{"deactivate", func() error { return e.Svc.DeactivateLink(e.Ctx, w.managerA, w.closed.ID, target) }},
			{"remove access", func() error { return e.Svc.RemoveAccess(e.Ctx, w.managerA, w.closed.ID, target) }},
		} {
			t.Run(tc.name+" "+target, func(t *testing.T) {
				err := tc.act()
				if tc.name == "bulk invite" && err == nil {
					return
				}
				if !errors.Is(err, core.ErrForbidden) || !strings.Contains(core.Describe(err), "Only the owner") {
					t.Fatalf("%s of %s by a manager: %v, want a refusal", tc.name, target, err)
				}
			})
		}
	}
	t.Run("grant the owner's request", func(t *testing.T) {
		_, err := e.Svc.GrantRequest(e.Ctx, w.managerA, core.GrantInput{RequestID: reqs[0].ID, Confirmed: true})
		if !errors.Is(err, core.ErrForbidden) {
			t.Fatalf("grant by a manager of the owner's request: %v, want a refusal", err)
		}
	})
	if after := e.Dump(); after != before {
		t.Fatal("a refused operation changed the database")
	}
	if _, err := e.Svc.Redeem(e.Ctx, owners.Link.Token, visitor); err != nil {
		t.Fatalf("the owner's link after the manager's attempts: %v", err)
	}
	// The owner may, and a manager handles their own links and clients'.
	if _, err := e.Svc.GenerateLink(e.Ctx, w.ownerA, w.closed.ID, other.Email); err != nil {
		t.Fatalf("the owner rotating a manager's link: %v", err)
	}
	if _, err := e.Svc.Invite(e.Ctx, w.managerA, core.InviteInput{OrgID: w.org.ID, Email: w.manager.Email, Role: core.RoleClient, PortalID: w.closed.ID}); err != nil {
		t.Fatalf("a manager inviting themselves: %v", err)
	}
	if _, err := e.Svc.Invite(e.Ctx, w.managerA, core.InviteInput{OrgID: w.org.ID, Email: "client@acme.test", Role: core.RoleClient, PortalID: w.closed.ID}); err != nil {
		t.Fatalf("a manager inviting a client: %v", err)
	}
}

// Issue 13, point 1: an invitation of someone who is a member already says
// the role they keep, not the one the invitation carried.
func TestInviteOfAMemberReportsTheRoleTheyKeep(t *testing.T) {
	e := newEnv(t)
	w := e.world("Acme")
	res := must(e.Svc.Invite(e.Ctx, w.ownerA, core.InviteInput{OrgID: w.org.ID, Email: w.manager.Email, Role: core.RoleClient, PortalID: w.closed.ID}))
	if res.Role != core.RoleManager || !res.KeptRole {
		t.Fatalf("invite of a manager as client: role %q kept %v, want manager kept", res.Role, res.KeptRole)
	}
	res = must(e.Svc.Invite(e.Ctx, w.ownerA, core.InviteInput{OrgID: w.org.ID, Email: "new@acme.test", Role: core.RoleGuest, PortalID: w.closed.ID}))
	if res.Role != core.RoleGuest || res.KeptRole {
		t.Fatalf("invite of a newcomer as guest: role %q kept %v", res.Role, res.KeptRole)
	}
}

// Issue 13, point 6: inviting an address that has an active link asks
// first and changes nothing; confirmed, it replaces the link and keeps the
// name given before when none is given now.
func TestReinviteAsksBeforeReplacingALiveLinkAndKeepsTheName(t *testing.T) {
	e := newEnv(t)
	w := e.world("Acme")
	first := must(e.Svc.Invite(e.Ctx, w.managerA, core.InviteInput{OrgID: w.org.ID, Email: "casey@client.test", Name: "Casey Client", Role: core.RoleClient, PortalID: w.closed.ID}))
	before := e.Dump()
	_, err := e.Svc.Invite(e.Ctx, w.managerA, core.InviteInput{OrgID: w.org.ID, Email: "casey@client.test", Role: core.RoleClient, PortalID: w.closed.ID})
	var ce *core.ConfirmationError
	if !errors.As(err, &ce) || !errors.Is(err, core.ErrNeedsConfirmation) || !strings.Contains(ce.Question, "active link") {
		t.Fatalf("re-invite without confirmation: %v", err)
	}
	if e.Dump() != before {
		t.Fatal("the unconfirmed re-invitation changed the database")
	}
	if _, err := e.Svc.Redeem(e.Ctx, first.Link.Token, visitor); err != nil {
		t.Fatalf("the first link after the unconfirmed re-invitation: %v", err)
	}
	again := must(e.Svc.Invite(e.Ctx, w.managerA, core.InviteInput{OrgID: w.org.ID, Email: "casey@client.test", Role: core.RoleClient, PortalID: w.closed.ID, Replace: true}))
	if !again.Replaced || again.Invitation.Name != "Casey Client" {
		t.Fatalf("confirmed re-invite: replaced %v, name %q", again.Replaced, again.Invitation.Name)
	}
	if _, err := e.Svc.Redeem(e.Ctx, first.Link.Token, visitor); !errors.Is(err, core.ErrLinkInactive) {
		t.Fatalf("the first link after the confirmed re-invitation: %v", err)
	}
	if m := e.LastMail("casey@client.test", core.MailInvitePortal); m.ToName != "Casey Client" {
		t.Fatalf("the new invitation is addressed to %q", m.ToName)
	}
	// A never-redeemed invitee keeps the invitation's name too.
	must(e.Svc.Invite(e.Ctx, w.managerA, core.InviteInput{OrgID: w.org.ID, Email: "dana@client.test", Name: "Dana", Role: core.RoleClient, PortalID: w.closed.ID}))
	if err := e.Svc.DeactivateLink(e.Ctx, w.managerA, w.closed.ID, "dana@client.test"); err != nil {
		t.Fatal(err)
	}
	if res := must(e.Svc.Invite(e.Ctx, w.managerA, core.InviteInput{OrgID: w.org.ID, Email: "dana@client.test", Role: core.RoleClient, PortalID: w.closed.ID})); res.Invitation.Name != "Dana" {
		t.Fatalf("re-invite of a deactivated invitee: name %q", res.Invitation.Name)
	}
}

// Issue 13, point 3: a request from an address that is not plain ASCII, or
// that reads as an address the organization knows, carries its ASCII form
// and the address it looks like; granting it asks once more.
func TestLookalikeRequestsAreMarkedAndGrantAsksAgain(t *testing.T) {
	e := newEnv(t)
	w := e.world("Acme")
	must(e.Svc.Invite(e.Ctx, w.ownerA, core.InviteInput{OrgID: w.org.ID, Email: "client@acme.test", Role: core.RoleClient, PortalID: w.open.ID}))
	for _, addr := range []string{"client@acme.tеst", "client@аcme.test", "dörte@münchen.test"} { // Cyrillic е, Cyrillic а
		must(e.Svc.RequestAccess(e.Ctx, w.closed.Slug, addr, visitor))
	}
	// Full-width forms fold to the address itself: that is the real client
	// (who has no access to the closed portal), not a look-alike.
	must(e.Svc.RequestAccess(e.Ctx, w.closed.Slug, "ｃｌｉｅｎｔ@acme.test", visitor))
	reqs := must(e.Svc.Requests(e.Ctx, w.ownerA, w.org.ID, true))
	notes := map[string]core.AddressNote{}
	for _, r := range reqs {
		notes[r.Email] = r.Note
	}
	want := map[string]core.AddressNote{
		"client@acme.tеst":   {ASCII: "client@acme.xn--tst-rdd", LooksLike: "client@acme.test"},
		"client@аcme.test":   {ASCII: "client@xn--cme-5cd.test", LooksLike: "client@acme.test"},
		"dörte@münchen.test": {ASCII: "dörte@xn--mnchen-3ya.test", LocalNeedsUTF8: true},
		"client@acme.test":   {},
	}
	if len(notes) != len(want) {
		t.Fatalf("requests: %+v", reqs)
	}
	for addr, n := range want {
		if notes[addr] != n {
			t.Errorf("note of %s: %+v, want %+v", addr, notes[addr], n)
		}
	}
	if got := notes["client@аcme.test"].Warning(); !strings.Contains(got, "xn--cme-5cd.test") || !strings.Contains(got, "looks like client@acme.test") {
		t.Errorf("warning %q", got)
	}
	for _, r := range reqs {
		if r.Email != "client@аcme.test" {
			continue
		}
		before := e.Dump()
		_, err := e.Svc.GrantRequest(e.Ctx, w.ownerA, core.GrantInput{RequestID: r.ID})
		var ce *core.ConfirmationError
		if !errors.As(err, &ce) || !strings.Contains(ce.Detail, "looks like client@acme.test") {
			t.Fatalf("unconfirmed grant of a look-alike: %v", err)
		}
		if e.Dump() != before {
			t.Fatal("the unconfirmed grant changed the database")
		}
		if _, err := e.Svc.GrantRequest(e.Ctx, w.ownerA, core.GrantInput{RequestID: r.ID, Confirmed: true}); err != nil {
			t.Fatalf("confirmed grant: %v", err)
		}
	}
}

// Issue 13, point 11: the owner gets at most one mail per portal per quiet
// period; the requests in between are summed up in the next one, which
// grows only while it is not yet due. Strangers' requests are limited per
// portal as well as per address.
func TestOwnerNoticesPerPortalAreCappedAndSummedUp(t *testing.T) {
	e := newEnv(t)
	w := e.world("Acme")
	ask := func(addr string) core.AccessResult {
		t.Helper()
		return must(e.Svc.RequestAccess(e.Ctx, w.closed.Slug, addr, visitor))
	}
	ask("first@stranger.test")
	notices := func() []core.Message {
		return append(e.MailsTo(w.owner.Email, core.MailAccessRequest), e.MailsTo(w.owner.Email, core.MailAccessDigest)...)
	}
	if n := notices(); len(n) != 1 || n[0].Kind != core.MailAccessRequest {
		t.Fatalf("after the first request: %+v", n)
	}
	for i := range 25 {
		e.Clock.Advance(10 * time.Second)
		if res := ask(fmt.Sprintf("s%02d@stranger.test", i)); !res.Notified {
			t.Fatalf("request %d: the owner will not be told", i)
		}
	}
	n := notices()
	if len(n) != 2 || n[1].Kind != core.MailAccessDigest {
		t.Fatalf("after 26 requests in a few minutes the owner has %d mails: %+v", len(n), n)
	}
	digest := n[1]
	if digest.Data["count"] != "25" || len(strings.Split(digest.Data["emails"], "\n")) != 10 || !digest.NextAttemptAt.Equal(n[0].CreatedAt.Add(10*time.Minute)) {
		t.Fatalf("summary: due %v, data %v", digest.NextAttemptAt, digest.Data)
	}
	if due := must(e.Svc.DueMail(e.Ctx, 100)); slices.ContainsFunc(due, func(m core.Message) bool { return m.ID == digest.ID }) {
		t.Fatal("the summary is due before its quiet period ended")
	}
	// Once the summary is due it is left as it is; the next request waits
	// for the summary after it.
	e.Clock.Advance(10 * time.Minute)
	ask("late@stranger.test")
	n = notices()
	if len(n) != 3 || n[1].Data["count"] != "25" || n[2].Kind != core.MailAccessDigest || n[2].Data["emails"] != "late@stranger.test" ||
		!n[2].NextAttemptAt.Equal(digest.NextAttemptAt.Add(10*time.Minute)) {
		t.Fatalf("after the summary fell due: %+v", n)
	}
	// The same address again within a day tells nobody.
	if res := ask("late@stranger.test"); res.Notified {
		t.Fatal("a repeated request was announced again")
	}
	// Strangers are limited per portal: the explicit answer says when to
	// try again, and nothing is recorded.
	var limited error
	for i := 0; i < 40 && limited == nil; i++ {
		_, limited = e.Svc.RequestAccess(e.Ctx, w.closed.Slug, fmt.Sprintf("flood%02d@stranger.test", i), visitor)
	}
	var rl *core.RateLimitError
	if !errors.As(limited, &rl) || rl.Retry <= 0 || !strings.Contains(core.Describe(limited), "try again in") {
		t.Fatalf("a flood of strangers' requests to one portal: %v", limited)
	}
	if _, err := e.Svc.RequestAccess(e.Ctx, w.closed.Slug, "one-more@stranger.test", visitor); !errors.Is(err, core.ErrRateLimited) {
		t.Fatalf("over the limit: %v", err)
	}
	if reqs := must(e.Svc.Requests(e.Ctx, w.ownerA, w.org.ID, true)); slices.ContainsFunc(reqs, func(r core.RequestView) bool { return r.Email == "one-more@stranger.test" }) {
		t.Fatal("a request over the limit was recorded")
	}
	// People with access still get their links.
	must(e.Svc.Invite(e.Ctx, w.ownerA, core.InviteInput{OrgID: w.org.ID, Email: "client@acme.test", Role: core.RoleClient, PortalID: w.closed.ID}))
	if res := ask("client@acme.test"); res.Outcome != core.OutcomeLinkSent {
		t.Fatalf("a client over the strangers' limit: %+v", res)
	}
}
