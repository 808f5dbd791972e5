package core_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"latchkey/core"
	"latchkey/storage/storetest"
)

func TestInviteWithPortalAndRedeem(t *testing.T) {
	e := newEnv(t)
	w := e.world("Acme Agency")
	res, err := e.Svc.Invite(e.Ctx, w.managerA, core.InviteInput{OrgID: w.org.ID, Email: "  Client@Example.COM ", Name: "Cleo", Role: core.RoleClient, PortalID: w.closed.ID})
	if err != nil {
		t.Fatal(err)
	}
	if res.Link == nil || len(res.Link.Token) != core.TokenLen || res.Link.URL != "https://portal.example.com/m/"+res.Link.Token {
		t.Fatalf("link = %+v", res.Link)
	}
	mails := e.MailsTo("client@example.com", core.MailInvitePortal)
	if len(mails) != 1 || mails[0].LinkPath != "/m/" || mails[0].Data["portal"] != "closed portal" || mails[0].ToName != "Cleo" {
		t.Fatalf("invitation mail = %+v", mails)
	}
	if tok := e.LastToken("client@example.com", core.MailInvitePortal); tok != res.Link.Token {
		t.Fatalf("mail carries %q, want the link's token", tok)
	}
	if !e.HasEvent("member.invited", "client@example.com") {
		t.Fatal("no audit event for the invitation")
	}
	if _, err := e.Svc.Landing(e.Ctx, res.Link.Token, ""); err != nil {
		t.Fatalf("landing: %v", err)
	}

	r1, err := e.Svc.Redeem(e.Ctx, res.Link.Token, visitor)
	if err != nil {
		t.Fatal(err)
	}
	if !r1.Created || r1.User.Email != "client@example.com" || r1.User.Name != "Cleo" || r1.Portal.ID != w.closed.ID || r1.SessionID == "" {
		t.Fatalf("redemption = %+v", r1)
	}
	pv := must(e.Svc.OpenPortal(e.Ctx, w.closed.Slug, r1.SessionID))
	if !pv.HasAccess || pv.Role != core.RoleClient || pv.User.Email != "client@example.com" {
		t.Fatalf("portal view = %+v", pv)
	}
	// The same link works again, on another device, and counts its uses.
	e.Clock.Advance(time.Hour)
	r2, err := e.Svc.Redeem(e.Ctx, res.Link.Token, core.Visitor{Addr: "198.51.100.7"})
	if err != nil {
		t.Fatal(err)
	}
	if r2.Created || r2.SessionID == r1.SessionID {
		t.Fatalf("second redemption = %+v", r2)
	}
	var l core.Link
	e.View(func(tx core.Tx) (err error) { l, err = tx.ActiveLink(w.closed.ID, "client@example.com"); return })
	if l.UseCount != 2 || !l.LastUsedAt.Equal(e.Clock.Now()) {
		t.Fatalf("use count %d, last used %v", l.UseCount, l.LastUsedAt)
	}
	var inv core.Invitation
	e.View(func(tx core.Tx) (err error) { inv, err = tx.LatestInvitation(w.org.ID, "client@example.com"); return })
	if inv.State != core.InvitationAccepted {
		t.Fatalf("invitation state %s", inv.State)
	}
}

func TestLinkNeverChangesAnExistingRole(t *testing.T) {
	e := newEnv(t)
	w := e.world("Acme")
	// The member is invited to a portal as a client: they stay a member.
	res := must(e.Svc.Invite(e.Ctx, w.ownerA, core.InviteInput{OrgID: w.org.ID, Email: w.member.Email, Role: core.RoleClient, PortalID: w.closed.ID}))
	r := must(e.Svc.Redeem(e.Ctx, res.Link.Token, visitor))
	var m core.Member
	e.View(func(tx core.Tx) (err error) { m, err = tx.Member(w.org.ID, r.User.ID); return })
	if m.Role != core.RoleMember {
		t.Fatalf("role after link = %s, want member", m.Role)
	}
	// A client whose role the owner lowered to guest does not get client back.
	res = must(e.Svc.Invite(e.Ctx, w.ownerA, core.InviteInput{OrgID: w.org.ID, Email: "c@x.test", Role: core.RoleClient, PortalID: w.closed.ID}))
	r = must(e.Svc.Redeem(e.Ctx, res.Link.Token, visitor))
	until := e.Clock.Now().Add(48 * time.Hour)
	if err := e.Svc.ChangeRole(e.Ctx, w.ownerA, w.org.ID, r.User.ID, core.RoleGuest, until); err != nil {
		t.Fatal(err)
	}
	must(e.Svc.Redeem(e.Ctx, res.Link.Token, visitor))
	e.View(func(tx core.Tx) (err error) { m, err = tx.Member(w.org.ID, r.User.ID); return })
	if m.Role != core.RoleGuest || !m.GuestUntil.Equal(until) {
		t.Fatalf("role after second use = %s until %v, want guest", m.Role, m.GuestUntil)
	}
	// A removed member is not restored by an old link: removal ended it.
	if err := e.Svc.RemoveMember(e.Ctx, w.ownerA, w.org.ID, r.User.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Svc.Redeem(e.Ctx, res.Link.Token, visitor); !errors.Is(err, core.ErrLinkInactive) {
		t.Fatalf("redeem after removal: %v", err)
	}
}

func TestRotateAndDeactivateEndLinkAndSessions(t *testing.T) {
	for _, tc := range []struct {
		name    string
		act     func(e *env, w world, email string) error
		endsAll bool // every session of the person ends, not only the link's
	}{
		{"generate new link", func(e *env, w world, email string) error {
			_, err := e.Svc.GenerateLink(e.Ctx, w.managerA, w.closed.ID, email)
			return err
		}, false},
		{"deactivate", func(e *env, w world, email string) error {
			return e.Svc.DeactivateLink(e.Ctx, w.managerA, w.closed.ID, email)
		}, false},
		{"remove portal access", func(e *env, w world, email string) error {
			return e.Svc.RemoveAccess(e.Ctx, w.managerA, w.closed.ID, email)
		}, true},
		{"invite again", func(e *env, w world, email string) error {
			_, err := e.Svc.Invite(e.Ctx, w.managerA, core.InviteInput{OrgID: w.org.ID, Email: email, Role: core.RoleClient, PortalID: w.closed.ID, Replace: true})
			return err
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			w := e.world("Acme")
			email := "client@x.test"
			res := must(e.Svc.Invite(e.Ctx, w.managerA, core.InviteInput{OrgID: w.org.ID, Email: email, Role: core.RoleClient, PortalID: w.closed.ID}))
			r := must(e.Svc.Redeem(e.Ctx, res.Link.Token, visitor))
			pw := e.passwordSession(email) // a session not opened by the link
			if err := tc.act(e, w, email); err != nil {
				t.Fatal(err)
			}
			if _, err := e.Svc.Redeem(e.Ctx, res.Link.Token, visitor); !errors.Is(err, core.ErrLinkInactive) {
				t.Fatalf("old token: %v, want ErrLinkInactive", err)
			}
			if l, err := e.Svc.Landing(e.Ctx, res.Link.Token, ""); !errors.Is(err, core.ErrLinkInactive) || l.Portal.ID != w.closed.ID {
				t.Fatalf("landing of old token: %v (portal %d)", err, l.Portal.ID)
			}
			if _, err := e.Svc.Session(e.Ctx, r.SessionID); !errors.Is(err, core.ErrNoSession) {
				t.Fatalf("session opened by the old link: %v, want ended", err)
			}
			if _, err := e.Svc.Session(e.Ctx, pw); (err == nil) == tc.endsAll {
				t.Fatalf("password session: %v, want ended %v", err, tc.endsAll)
			}
			e.assertOneActivePerPortalEmail()
		})
	}
}

// passwordSession gives email's account a password and signs in with it.
func (e *env) passwordSession(email string) string {
	e.T.Helper()
	must(0, e.Svc.RequestRestore(e.Ctx, email, visitor))
	si := must(e.Svc.CompleteRestore(e.Ctx, e.LastToken(email, core.MailPasswordReset), "a good password", visitor))
	return si.SessionID
}

// assertOneActivePerPortalEmail reads every portal's links through the
// store (either backend) and fails on two active links for one address.
func (e *env) assertOneActivePerPortalEmail() {
	e.T.Helper()
	e.View(func(tx core.Tx) error {
		orgs, err := tx.Orgs()
		for _, o := range orgs {
			portals, err := tx.Portals(o.ID)
			if err != nil {
				return err
			}
			for _, p := range portals {
				links, err := tx.Links(p.ID)
				if err != nil {
					return err
				}
				active := map[string]bool{}
				for _, l := range links {
					if l.State == core.LinkActive {
						if active[l.Email] {
							e.T.Fatalf("two active links for %s in portal %d", l.Email, p.ID)
						}
						active[l.Email] = true
					}
				}
			}
		}
		return err
	})
}

func TestRemoveAccessEndsAccess(t *testing.T) {
	e := newEnv(t)
	w := e.world("Acme")
	res := must(e.Svc.Invite(e.Ctx, w.ownerA, core.InviteInput{OrgID: w.org.ID, Email: "c@x.test", Role: core.RoleClient, PortalID: w.closed.ID}))
	r := must(e.Svc.Redeem(e.Ctx, res.Link.Token, visitor))
	pw := e.passwordSession("c@x.test")
	if err := e.Svc.RemoveAccess(e.Ctx, w.ownerA, w.closed.ID, "c@x.test"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Svc.Session(e.Ctx, pw); !errors.Is(err, core.ErrNoSession) {
		t.Fatalf("password session after removal: %v", err)
	}
	pv := must(e.Svc.OpenPortal(e.Ctx, w.closed.Slug, e.passwordSession("c@x.test")))
	if pv.User == nil || pv.HasAccess {
		t.Fatalf("after removal: %+v", pv)
	}
	var ls []core.Link
	e.View(func(tx core.Tx) (err error) { ls, err = tx.Links(w.closed.ID); return })
	if len(ls) != 1 || ls[0].State != core.LinkDeactivated {
		t.Fatalf("links after removal: %+v", ls)
	}
	if _, err := e.Svc.Session(e.Ctx, r.SessionID); !errors.Is(err, core.ErrNoSession) {
		t.Fatalf("link session: %v", err)
	}
	// Removing again finds nothing to remove.
	if err := e.Svc.RemoveAccess(e.Ctx, w.ownerA, w.closed.ID, "c@x.test"); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("second removal: %v", err)
	}
	// Now the form treats the email as a stranger.
	ar := must(e.Svc.RequestAccess(e.Ctx, w.closed.Slug, "c@x.test", visitor))
	if ar.Outcome != core.OutcomeRequested {
		t.Fatalf("outcome %v, want requested", ar.Outcome)
	}
}

func TestGuestEndDateCutsAccess(t *testing.T) {
	e := newEnv(t)
	w := e.world("Acme")
	until := e.Clock.Now().Add(72 * time.Hour)
	res := must(e.Svc.Invite(e.Ctx, w.ownerA, core.InviteInput{OrgID: w.org.ID, Email: "g@x.test", Role: core.RoleGuest, GuestUntil: until, PortalID: w.closed.ID}))
	r := must(e.Svc.Redeem(e.Ctx, res.Link.Token, visitor))
	if pv := must(e.Svc.OpenPortal(e.Ctx, w.closed.Slug, r.SessionID)); !pv.HasAccess || pv.Role != core.RoleGuest {
		t.Fatalf("before end date: %+v", pv)
	}
	e.Clock.Advance(72 * time.Hour)
	if _, err := e.Svc.Redeem(e.Ctx, res.Link.Token, visitor); !errors.Is(err, core.ErrNoAccess) || !strings.Contains(err.Error(), "guest access ended") {
		t.Fatalf("redeem after end date: %v", err)
	}
	if pv := must(e.Svc.OpenPortal(e.Ctx, w.closed.Slug, r.SessionID)); pv.HasAccess {
		t.Fatal("portal still open to the guest after the end date")
	}
	if ar := must(e.Svc.RequestAccess(e.Ctx, w.closed.Slug, "g@x.test", visitor)); ar.Outcome != core.OutcomeRequested {
		t.Fatalf("access form after end date: %v, want requested", ar.Outcome)
	}
	if ar := must(e.Svc.RequestAccess(e.Ctx, w.email.Slug, "g@x.test", visitor)); ar.Outcome != core.OutcomeRequested {
		t.Fatalf("email portal after end date: %v, want requested", ar.Outcome)
	}
	// An end date in the past, or for another role, is refused.
	if _, err := e.Svc.Invite(e.Ctx, w.ownerA, core.InviteInput{OrgID: w.org.ID, Email: "h@x.test", Role: core.RoleGuest, GuestUntil: e.Clock.Now().Add(-time.Hour), PortalID: w.closed.ID}); !errors.Is(err, core.ErrInvalid) {
		t.Fatalf("past end date: %v", err)
	}
	if _, err := e.Svc.Invite(e.Ctx, w.ownerA, core.InviteInput{OrgID: w.org.ID, Email: "h@x.test", Role: core.RoleClient, GuestUntil: e.Clock.Now().Add(time.Hour), PortalID: w.closed.ID}); !errors.Is(err, core.ErrInvalid) {
		t.Fatalf("end date for a client: %v", err)
	}
}

func TestSendAccessLink(t *testing.T) {
	type want struct {
		outcome core.AccessOutcome
		generic bool
		mail    core.MailKind // the mail the form queued, to the requester or the owner
	}
	for _, tc := range []struct {
		name    string
		uniform bool
		setup   func(e *env, w world) (slug, email string)
		want    want
	}{
		{"closed, has access", false, func(e *env, w world) (string, string) {
			e.clientWithLink(w, w.closed, "c@x.test")
			return w.closed.Slug, "c@x.test"
		}, want{core.OutcomeLinkSent, false, core.MailAccessLink}},
		{"closed, access without active link", false, func(e *env, w world) (string, string) {
			e.clientWithLink(w, w.closed, "c@x.test")
			must(0, e.Svc.DeactivateLink(e.Ctx, w.ownerA, w.closed.ID, "c@x.test"))
			return w.closed.Slug, "c@x.test"
		}, want{core.OutcomeLinkSent, false, core.MailAccessLink}},
		{"closed, invited not yet redeemed", false, func(e *env, w world) (string, string) {
			must(e.Svc.Invite(e.Ctx, w.ownerA, core.InviteInput{OrgID: w.org.ID, Email: "c@x.test", Role: core.RoleClient, PortalID: w.closed.ID}))
			return w.closed.Slug, "c@x.test"
		}, want{core.OutcomeLinkSent, false, core.MailAccessLink}},
		{"closed, no access", false, func(e *env, w world) (string, string) {
			return w.closed.Slug, "stranger@x.test"
		}, want{core.OutcomeRequested, false, core.MailAccessRequest}},
		{"closed, member of the org without portal access", false, func(e *env, w world) (string, string) {
			return w.closed.Slug, w.member.Email
		}, want{core.OutcomeRequested, false, core.MailAccessRequest}},
		{"generic portal, has access", false, func(e *env, w world) (string, string) {
			e.makeGeneric(w, w.closed)
			e.clientWithLink(w, w.closed, "c@x.test")
			return w.closed.Slug, "c@x.test"
		}, want{core.OutcomeLinkSent, true, core.MailAccessLink}},
		{"generic portal, no access", false, func(e *env, w world) (string, string) {
			e.makeGeneric(w, w.closed)
			return w.closed.Slug, "stranger@x.test"
		}, want{core.OutcomeRequested, true, core.MailAccessRequest}},
		{"uniform responses override explicit", true, func(e *env, w world) (string, string) {
			return w.closed.Slug, "stranger@x.test"
		}, want{core.OutcomeRequested, true, core.MailAccessRequest}},
		{"email portal, stranger", false, func(e *env, w world) (string, string) {
			return w.email.Slug, "new@x.test"
		}, want{core.OutcomeLinkSent, false, core.MailAccessLink}},
		{"open portal, stranger", false, func(e *env, w world) (string, string) {
			return w.open.Slug, "new@x.test"
		}, want{core.OutcomeLinkSent, false, core.MailAccessLink}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var e *env
			if tc.uniform {
				e = newEnv(t, storetest.Uniform)
			} else {
				e = newEnv(t)
			}
			w := e.world("Acme")
			slug, email := tc.setup(e, w)
			before := len(e.Messages())
			res, err := e.Svc.RequestAccess(e.Ctx, slug, email, visitor)
			if err != nil {
				t.Fatal(err)
			}
			if res.Outcome != tc.want.outcome || res.Generic != tc.want.generic {
				t.Fatalf("outcome %v generic %v, want %+v", res.Outcome, res.Generic, tc.want)
			}
			ms := e.Messages()[before:]
			if len(ms) != 1 || ms[0].Kind != tc.want.mail {
				t.Fatalf("queued %+v, want one %s", ms, tc.want.mail)
			}
			switch tc.want.mail {
			case core.MailAccessLink:
				tok, _ := e.Svc.OpenSealedMail(ms[0])
				if ms[0].To != email {
					t.Fatalf("link mailed to %s", ms[0].To)
				}
				r, err := e.Svc.Redeem(e.Ctx, tok, visitor)
				if err != nil {
					t.Fatalf("the mailed link does not redeem: %v", err)
				}
				if pv := must(e.Svc.OpenPortal(e.Ctx, slug, r.SessionID)); !pv.HasAccess {
					t.Fatal("the mailed link gives no access")
				}
			case core.MailAccessRequest:
				if ms[0].To != w.owner.Email || ms[0].Data["email"] != email {
					t.Fatalf("owner notification = %+v", ms[0])
				}
				var r core.Request
				e.View(func(tx core.Tx) (err error) { r, err = tx.LatestRequest(w.closed.ID, email); return })
				if r.State != core.RequestPending || r.Count != 1 {
					t.Fatalf("request = %+v", r)
				}
			}
		})
	}
}

func (e *env) clientWithLink(w world, p core.Portal, email string) string {
	e.T.Helper()
	res := must(e.Svc.Invite(e.Ctx, w.ownerA, core.InviteInput{OrgID: w.org.ID, Email: email, Role: core.RoleClient, PortalID: p.ID}))
	must(e.Svc.Redeem(e.Ctx, res.Link.Token, visitor))
	return res.Link.Token
}

func (e *env) makeGeneric(w world, p core.Portal) {
	e.T.Helper()
	must(e.Svc.SetPortal(e.Ctx, w.ownerA, p.ProjectID, core.PortalSettings{Slug: p.Slug, Title: p.Title, Access: p.Access, Disclosure: core.DisclosureGeneric}))
}

func TestEmailPortalMakesClients(t *testing.T) {
	e := newEnv(t)
	w := e.world("Acme")
	must(e.Svc.RequestAccess(e.Ctx, w.email.Slug, "new@x.test", visitor))
	r := must(e.Svc.Redeem(e.Ctx, e.LastToken("new@x.test", core.MailAccessLink), visitor))
	var m core.Member
	e.View(func(tx core.Tx) (err error) { m, err = tx.Member(w.org.ID, r.User.ID); return })
	if m.Role != core.RoleClient {
		t.Fatalf("role %s, want client", m.Role)
	}
	// Asking again sends the same active link, not a new one.
	first := e.LastToken("new@x.test", core.MailAccessLink)
	must(e.Svc.RequestAccess(e.Ctx, w.email.Slug, "new@x.test", visitor))
	if again := e.LastToken("new@x.test", core.MailAccessLink); again != first {
		t.Fatal("a second request replaced the active link")
	}
}

func TestAccessRequestDedupe(t *testing.T) {
	e := newEnv(t)
	w := e.world("Acme")
	for i := 0; i < 10; i++ {
		res := must(e.Svc.RequestAccess(e.Ctx, w.closed.Slug, "who@x.test", visitor))
		if res.Notified != (i == 0) {
			t.Fatalf("request %d: notified = %v", i, res.Notified)
		}
		e.Clock.Advance(time.Hour)
	}
	if n := len(e.MailsTo(w.owner.Email, core.MailAccessRequest)); n != 1 {
		t.Fatalf("%d owner notifications for 10 requests in 10 hours, want 1", n)
	}
	var reqs []core.RequestView
	reqs = must(e.Svc.Requests(e.Ctx, w.ownerA, w.org.ID, true))
	if len(reqs) != 1 || reqs[0].Count != 10 {
		t.Fatalf("requests = %+v", reqs)
	}
	e.Clock.Advance(14 * time.Hour) // 24 hours after the first notification
	if res := must(e.Svc.RequestAccess(e.Ctx, w.closed.Slug, "who@x.test", visitor)); !res.Notified {
		t.Fatal("no notification after 24 hours")
	}
	// A dismissed request does not reset the 24-hour window.
	must(0, e.Svc.DismissRequest(e.Ctx, w.ownerA, reqs[0].ID))
	if res := must(e.Svc.RequestAccess(e.Ctx, w.closed.Slug, "who@x.test", visitor)); res.Notified {
		t.Fatal("notified again within 24 hours after a dismissal")
	}
	if n := len(e.MailsTo(w.owner.Email, core.MailAccessRequest)); n != 2 {
		t.Fatalf("%d notifications, want 2", n)
	}
	// Another email, or another portal, is its own (portal, email).
	must(0, e.Svc.ChangeRole(e.Ctx, w.ownerA, w.org.ID, w.member.ID, core.RoleMember, time.Time{}))
	if res := must(e.Svc.RequestAccess(e.Ctx, w.closed.Slug, "other@x.test", visitor)); !res.Notified {
		t.Fatal("another email was not notified")
	}
}

func TestGrantAndDismissRequests(t *testing.T) {
	e := newEnv(t)
	w := e.world("Acme")
	must(e.Svc.RequestAccess(e.Ctx, w.closed.Slug, "a@x.test", visitor))
	must(e.Svc.RequestAccess(e.Ctx, w.closed.Slug, "b@x.test", visitor))
	reqs := must(e.Svc.Requests(e.Ctx, w.managerA, w.org.ID, true))
	if len(reqs) != 2 || reqs[0].Email != "b@x.test" {
		t.Fatalf("pending requests, newest first: %+v", reqs)
	}
	res, err := e.Svc.GrantRequest(e.Ctx, w.managerA, core.GrantInput{RequestID: reqs[1].ID})
	if err != nil {
		t.Fatal(err)
	}
	if res.Link == nil || e.LastToken("a@x.test", core.MailInvitePortal) != res.Link.Token {
		t.Fatal("granting did not send an invitation with the link")
	}
	r := must(e.Svc.Redeem(e.Ctx, res.Link.Token, visitor))
	if pv := must(e.Svc.OpenPortal(e.Ctx, w.closed.Slug, r.SessionID)); !pv.HasAccess || pv.Role != core.RoleClient {
		t.Fatalf("granted: %+v", pv)
	}
	if err := e.Svc.DismissRequest(e.Ctx, w.managerA, reqs[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Svc.GrantRequest(e.Ctx, w.managerA, core.GrantInput{RequestID: reqs[0].ID}); !errors.Is(err, core.ErrConflict) {
		t.Fatalf("granting a dismissed request: %v", err)
	}
	if left := must(e.Svc.Requests(e.Ctx, w.managerA, w.org.ID, true)); len(left) != 0 {
		t.Fatalf("pending after grant and dismiss: %+v", left)
	}
	if !e.HasEvent("request.granted", "a@x.test") || !e.HasEvent("request.dismissed", "b@x.test") {
		t.Fatal("missing audit events")
	}
}

func TestJoinWithoutPortal(t *testing.T) {
	e := newEnv(t)
	w := e.world("Acme")
	must(e.Svc.Invite(e.Ctx, w.ownerA, core.InviteInput{OrgID: w.org.ID, Email: "new@x.test", Name: "Nia", Role: core.RoleMember}))
	token := e.LastToken("new@x.test", core.MailInviteJoin)
	ji := must(e.Svc.JoinLink(e.Ctx, token))
	if ji.Org.ID != w.org.ID || ji.Email != "new@x.test" || ji.Name != "Nia" || ji.HasAccount {
		t.Fatalf("join info %+v", ji)
	}
	if _, err := e.Svc.Join(e.Ctx, token, "Nia", "short", visitor); !errors.Is(err, core.ErrInvalid) {
		t.Fatalf("short password: %v", err)
	}
	si, err := e.Svc.Join(e.Ctx, token, "", "a long enough password", visitor)
	if err != nil {
		t.Fatal(err)
	}
	if si.User.Name != "Nia" {
		t.Fatalf("name %q", si.User.Name)
	}
	if _, err := e.Svc.Session(e.Ctx, si.SessionID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Svc.Join(e.Ctx, token, "", "a long enough password", visitor); !errors.Is(err, core.ErrTokenInvalid) {
		t.Fatalf("second use: %v", err)
	}
	if _, err := e.Svc.Login(e.Ctx, "new@x.test", "a long enough password", visitor); err != nil {
		t.Fatalf("login after join: %v", err)
	}
	// Inviting a member without a portal again is a clear conflict.
	if _, err := e.Svc.Invite(e.Ctx, w.ownerA, core.InviteInput{OrgID: w.org.ID, Email: "new@x.test", Role: core.RoleMember}); !errors.Is(err, core.ErrConflict) {
		t.Fatalf("re-invite of a member: %v", err)
	}

	// Join links expire after 7 days; a newer invitation retires the older link.
	must(e.Svc.Invite(e.Ctx, w.ownerA, core.InviteInput{OrgID: w.org.ID, Email: "late@x.test", Role: core.RoleMember}))
	old := e.LastToken("late@x.test", core.MailInviteJoin)
	must(e.Svc.Invite(e.Ctx, w.ownerA, core.InviteInput{OrgID: w.org.ID, Email: "late@x.test", Role: core.RoleMember}))
	fresh := e.LastToken("late@x.test", core.MailInviteJoin)
	if _, err := e.Svc.JoinLink(e.Ctx, old); !errors.Is(err, core.ErrTokenInvalid) {
		t.Fatalf("superseded join link: %v", err)
	}
	e.Clock.Advance(7*24*time.Hour - time.Second)
	if _, err := e.Svc.JoinLink(e.Ctx, fresh); err != nil {
		t.Fatalf("join link before 7 days: %v", err)
	}
	e.Clock.Advance(time.Second)
	if _, err := e.Svc.Join(e.Ctx, fresh, "", "a long enough password", visitor); !errors.Is(err, core.ErrTokenInvalid) {
		t.Fatalf("join link after 7 days: %v", err)
	}
}

func TestJoinWithExistingAccount(t *testing.T) {
	e := newEnv(t)
	a := e.world("Alpha")
	b := e.world("Beta")
	// Alpha's member joins Beta: their password is asked for, not replaced.
	must(e.Svc.Invite(e.Ctx, b.ownerA, core.InviteInput{OrgID: b.org.ID, Email: a.member.Email, Role: core.RoleMember}))
	token := e.LastToken(a.member.Email, core.MailInviteJoin)
	if ji := must(e.Svc.JoinLink(e.Ctx, token)); !ji.HasAccount || !ji.HasPassword {
		t.Fatalf("join info %+v", ji)
	}
	if _, err := e.Svc.Join(e.Ctx, token, "", "not the password", visitor); !errors.Is(err, core.ErrBadCredentials) {
		t.Fatalf("wrong password: %v", err)
	}
	if _, err := e.Svc.Join(e.Ctx, token, "", "correct horse battery", visitor); err != nil {
		t.Fatal(err)
	}
	orgs := must(e.Svc.Orgs(e.Ctx, core.UserActor(a.owner, "t")))
	if len(orgs) != 1 {
		t.Fatalf("alpha's owner sees %d orgs", len(orgs))
	}
}

func TestLoginAndRestore(t *testing.T) {
	e := newEnv(t)
	w := e.world("Acme")
	email := "c@x.test"
	token := e.clientWithLink(w, w.closed, email)
	// An account made by a link has no password: login fails like any other.
	_, errNoPw := e.Svc.Login(e.Ctx, email, "anything at all", visitor)
	_, errUnknown := e.Svc.Login(e.Ctx, "nobody@x.test", "anything at all", visitor)
	if !errors.Is(errNoPw, core.ErrBadCredentials) || errNoPw.Error() != errUnknown.Error() {
		t.Fatalf("no password: %v; unknown: %v", errNoPw, errUnknown)
	}
	// Restore for an unknown email is silent and queues nothing.
	before := len(e.Messages())
	if err := e.Svc.RequestRestore(e.Ctx, "nobody@x.test", visitor); err != nil || len(e.Messages()) != before {
		t.Fatalf("unknown email: %v, %d new mails", err, len(e.Messages())-before)
	}
	linkSession := must(e.Svc.Redeem(e.Ctx, token, visitor)).SessionID
	must(0, e.Svc.RequestRestore(e.Ctx, email, visitor))
	reset := e.LastToken(email, core.MailPasswordReset)
	if got := must(e.Svc.RestoreLink(e.Ctx, reset)); got != email {
		t.Fatalf("restore link email %q", got)
	}
	si, err := e.Svc.CompleteRestore(e.Ctx, reset, "my new password", visitor)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Svc.Session(e.Ctx, linkSession); !errors.Is(err, core.ErrNoSession) {
		t.Fatalf("other session after password change: %v", err)
	}
	if _, err := e.Svc.Session(e.Ctx, si.SessionID); err != nil {
		t.Fatalf("new session: %v", err)
	}
	if len(e.MailsTo(email, core.MailPasswordChanged)) != 1 {
		t.Fatal("no password-changed notice")
	}
	if _, err := e.Svc.CompleteRestore(e.Ctx, reset, "another password", visitor); !errors.Is(err, core.ErrTokenInvalid) {
		t.Fatalf("reset token used twice: %v", err)
	}
	if _, err := e.Svc.Login(e.Ctx, " C@X.test ", "my new password", visitor); err != nil {
		t.Fatalf("login: %v", err)
	}
	if _, err := e.Svc.Login(e.Ctx, email, "my old password", visitor); !errors.Is(err, core.ErrBadCredentials) {
		t.Fatalf("wrong password: %v", err)
	}
	// Reset tokens expire after an hour; a newer password retires older tokens.
	must(0, e.Svc.RequestRestore(e.Ctx, email, visitor))
	late := e.LastToken(email, core.MailPasswordReset)
	e.Clock.Advance(time.Hour)
	if _, err := e.Svc.RestoreLink(e.Ctx, late); !errors.Is(err, core.ErrTokenInvalid) {
		t.Fatalf("reset token after 1h: %v", err)
	}
	must(0, e.Svc.RequestRestore(e.Ctx, email, visitor))
	older := e.LastToken(email, core.MailPasswordReset)
	e.Clock.Advance(time.Minute)
	must(0, e.Svc.RequestRestore(e.Ctx, email, visitor))
	must(e.Svc.CompleteRestore(e.Ctx, e.LastToken(email, core.MailPasswordReset), "third password", visitor))
	if _, err := e.Svc.RestoreLink(e.Ctx, older); !errors.Is(err, core.ErrTokenInvalid) {
		t.Fatalf("token older than the last password change: %v", err)
	}
}

func TestSessionExpiry(t *testing.T) {
	e := newEnv(t)
	w := e.world("Acme")
	token := e.clientWithLink(w, w.closed, "c@x.test")
	sid := must(e.Svc.Redeem(e.Ctx, token, visitor)).SessionID
	// Used every 6 days, the session lives until its 30-day lifetime.
	for i := 0; i < 4; i++ {
		e.Clock.Advance(6 * 24 * time.Hour)
		if _, err := e.Svc.Session(e.Ctx, sid); err != nil {
			t.Fatalf("day %d: %v", 6*(i+1), err)
		}
	}
	e.Clock.Advance(6 * 24 * time.Hour) // day 30
	if _, err := e.Svc.Session(e.Ctx, sid); !errors.Is(err, core.ErrNoSession) {
		t.Fatalf("after 30 days: %v", err)
	}
	// Unused for 7 days, a session ends.
	sid = must(e.Svc.Redeem(e.Ctx, token, visitor)).SessionID
	e.Clock.Advance(7 * 24 * time.Hour)
	if _, err := e.Svc.Session(e.Ctx, sid); !errors.Is(err, core.ErrNoSession) {
		t.Fatalf("after 7 idle days: %v", err)
	}
	// Logout ends a session on the server; purge removes dead ones.
	sid = must(e.Svc.Redeem(e.Ctx, token, visitor)).SessionID
	must(0, e.Svc.EndSession(e.Ctx, sid, visitor))
	if _, err := e.Svc.Session(e.Ctx, sid); !errors.Is(err, core.ErrNoSession) {
		t.Fatalf("after logout: %v", err)
	}
	live := must(e.Svc.Redeem(e.Ctx, token, visitor)).SessionID
	stored := e.Count("sessions")
	n, _, err := e.Svc.Purge(e.Ctx)
	if err != nil || n != stored-1 || e.Count("sessions") != 1 {
		t.Fatalf("purged %d of %d sessions (%v), want all but the live one", n, stored, err)
	}
	if _, err := e.Svc.Session(e.Ctx, live); err != nil {
		t.Fatalf("live session after purge: %v", err)
	}
}

func TestLinkManagement(t *testing.T) {
	e := newEnv(t)
	w := e.world("Acme")
	token := e.clientWithLink(w, w.closed, "c@x.test")
	il := must(e.Svc.RevealLink(e.Ctx, w.managerA, w.closed.ID, "c@x.test"))
	if il.Token != token || il.URL != "https://portal.example.com/m/"+token {
		t.Fatalf("revealed %+v", il)
	}
	before := len(e.MailsTo("c@x.test", core.MailNewLink))
	must(0, e.Svc.ResendLink(e.Ctx, w.managerA, w.closed.ID, "c@x.test"))
	if len(e.MailsTo("c@x.test", core.MailNewLink)) != before+1 || e.LastToken("c@x.test", core.MailNewLink) != token {
		t.Fatal("re-send did not mail the active link")
	}
	gen := must(e.Svc.GenerateLink(e.Ctx, w.managerA, w.closed.ID, "c@x.test"))
	if gen.Token == token || e.LastToken("c@x.test", core.MailNewLink) != gen.Token {
		t.Fatal("generate did not mail a new link")
	}
	if !e.HasEvent("link.rotated", "c@x.test") || !e.HasEvent("link.copied", "c@x.test") || !e.HasEvent("link.resent", "c@x.test") {
		t.Fatal("missing audit events")
	}
	must(0, e.Svc.DeactivateLink(e.Ctx, w.managerA, w.closed.ID, "c@x.test"))
	if _, err := e.Svc.RevealLink(e.Ctx, w.managerA, w.closed.ID, "c@x.test"); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("reveal without active link: %v", err)
	}
	if err := e.Svc.DeactivateLink(e.Ctx, w.managerA, w.closed.ID, "c@x.test"); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("deactivate twice: %v", err)
	}
	// Generating for someone who never had access is refused.
	if _, err := e.Svc.GenerateLink(e.Ctx, w.managerA, w.closed.ID, "stranger@x.test"); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("generate for a stranger: %v", err)
	}
	// Generating after deactivation works (access remains) with the member's role;
	// the row describes the new link, not yet used.
	gen = must(e.Svc.GenerateLink(e.Ctx, w.managerA, w.closed.ID, "c@x.test"))
	if gen.Link.Role != core.RoleClient {
		t.Fatalf("role %s", gen.Link.Role)
	}
	people := must(e.Svc.PortalMembers(e.Ctx, w.managerA, w.closed.ID))
	if len(people) != 1 || people[0].LinkState != core.LinkActive || people[0].UseCount != 0 || !people[0].HasAccess {
		t.Fatalf("portal members %+v", people)
	}
}

func TestPermissions(t *testing.T) {
	e := newEnv(t)
	a := e.world("Alpha")
	b := e.world("Beta")
	memberA := core.UserActor(a.member, "test")
	stranger := core.Actor{UserID: 999, Email: "x@x.test", Source: "test"}
	tokenB := e.clientWithLink(b, b.closed, "c@x.test")
	_ = tokenB
	before := e.Dump()
	for _, tc := range []struct {
		name string
		do   func() error
		want error
	}{
		{"manager A invites into B", func() error {
			_, err := e.Svc.Invite(e.Ctx, a.managerA, core.InviteInput{OrgID: b.org.ID, Email: "x@x.test", Role: core.RoleClient})
			return err
		}, core.ErrNotFound},
		{"manager A generates in B's portal", func() error {
			_, err := e.Svc.GenerateLink(e.Ctx, a.managerA, b.closed.ID, "c@x.test")
			return err
		}, core.ErrNotFound},
		{"manager A reveals B's link", func() error {
			_, err := e.Svc.RevealLink(e.Ctx, a.managerA, b.closed.ID, "c@x.test")
			return err
		}, core.ErrNotFound},
		{"manager A deactivates in B", func() error { return e.Svc.DeactivateLink(e.Ctx, a.managerA, b.closed.ID, "c@x.test") }, core.ErrNotFound},
		{"manager A removes access in B", func() error { return e.Svc.RemoveAccess(e.Ctx, a.managerA, b.closed.ID, "c@x.test") }, core.ErrNotFound},
		{"manager A lists B's projects", func() error { _, err := e.Svc.Projects(e.Ctx, a.managerA, b.org.ID); return err }, core.ErrNotFound},
		{"manager A looks up B's portal", func() error { _, err := e.Svc.PortalBySlug(e.Ctx, a.managerA, b.closed.Slug); return err }, core.ErrNotFound},
		{"manager A lists B's members", func() error { _, err := e.Svc.PortalMembers(e.Ctx, a.managerA, b.closed.ID); return err }, core.ErrNotFound},
		{"manager A reads B's audit", func() error {
			_, err := e.Svc.Audit(e.Ctx, a.managerA, core.AuditQuery{OrgID: b.org.ID})
			return err
		}, core.ErrNotFound},
		{"manager A reads every audit", func() error { _, err := e.Svc.Audit(e.Ctx, a.managerA, core.AuditQuery{}); return err }, core.ErrForbidden},
		{"member invites", func() error {
			_, err := e.Svc.Invite(e.Ctx, memberA, core.InviteInput{OrgID: a.org.ID, Email: "x@x.test", Role: core.RoleClient})
			return err
		}, core.ErrNotFound},
		{"stranger creates a project", func() error { _, err := e.Svc.CreateProject(e.Ctx, stranger, a.org.ID, "P"); return err }, core.ErrNotFound},
		{"manager creates an organization", func() error {
			_, err := e.Svc.CreateOrg(e.Ctx, a.managerA, core.NewOrg{Name: "New", OwnerEmail: "o@x.test"})
			return err
		}, core.ErrForbidden},
		{"manager invites a manager", func() error {
			_, err := e.Svc.Invite(e.Ctx, a.managerA, core.InviteInput{OrgID: a.org.ID, Email: "x@x.test", Role: core.RoleManager})
			return err
		}, core.ErrForbidden},
		{"anyone invites an owner", func() error {
			_, err := e.Svc.Invite(e.Ctx, a.ownerA, core.InviteInput{OrgID: a.org.ID, Email: "x@x.test", Role: core.RoleOwner})
			return err
		}, core.ErrForbidden},
		{"manager demotes the owner", func() error {
			return e.Svc.ChangeRole(e.Ctx, a.managerA, a.org.ID, a.owner.ID, core.RoleMember, time.Time{})
		}, core.ErrForbidden},
		{"owner demotes themselves", func() error {
			return e.Svc.ChangeRole(e.Ctx, a.ownerA, a.org.ID, a.owner.ID, core.RoleManager, time.Time{})
		}, core.ErrForbidden},
		{"manager makes a member manager", func() error {
			return e.Svc.ChangeRole(e.Ctx, a.managerA, a.org.ID, a.member.ID, core.RoleManager, time.Time{})
		}, core.ErrForbidden},
		{"manager removes the owner", func() error { return e.Svc.RemoveMember(e.Ctx, a.managerA, a.org.ID, a.owner.ID) }, core.ErrForbidden},
		{"owner removes themselves", func() error { return e.Svc.RemoveMember(e.Ctx, a.ownerA, a.org.ID, a.owner.ID) }, core.ErrForbidden},
		{"manager transfers ownership", func() error { return e.Svc.TransferOwnership(e.Ctx, a.managerA, a.org.ID, a.manager.ID) }, core.ErrForbidden},
		{"manager adds a key to the owner", func() error {
			_, err := e.Svc.AddSSHKey(e.Ctx, a.managerA, a.owner.Email, testKey)
			return err
		}, core.ErrForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.do()
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
	if after := e.Dump(); after != before {
		t.Fatal("a refused operation changed the database")
	}

	// What a manager may do, and the owner's own powers.
	if err := e.Svc.ChangeRole(e.Ctx, a.managerA, a.org.ID, a.member.ID, core.RoleGuest, e.Clock.Now().Add(time.Hour)); err != nil {
		t.Fatalf("manager sets a guest: %v", err)
	}
	if err := e.Svc.TransferOwnership(e.Ctx, a.ownerA, a.org.ID, a.manager.ID); err != nil {
		t.Fatal(err)
	}
	owners := 0
	for _, m := range must(e.Svc.Members(e.Ctx, e.Admin, a.org.ID)) {
		if m.Member.Role == core.RoleOwner {
			owners++
			if m.User.ID != a.manager.ID {
				t.Fatalf("owner is %s", m.User.Email)
			}
		}
		if m.User.ID == a.owner.ID && m.Member.Role != core.RoleManager {
			t.Fatalf("old owner is %s, want manager", m.Member.Role)
		}
	}
	if owners != 1 {
		t.Fatalf("%d owners", owners)
	}
	if got := must(e.Svc.Orgs(e.Ctx, a.managerA)); len(got) != 1 || got[0].ID != a.org.ID {
		t.Fatalf("manager of A sees %+v", got)
	}
	if got := must(e.Svc.Orgs(e.Ctx, e.Admin)); len(got) != 2 {
		t.Fatalf("admin sees %d orgs", len(got))
	}
}

func TestActivityCountsPerDay(t *testing.T) {
	e := newEnv(t)
	w := e.world("Acme")
	token := e.clientWithLink(w, w.closed, "c@x.test") // one redemption today
	e.Clock.Advance(24 * time.Hour)
	must(e.Svc.Redeem(e.Ctx, token, visitor))
	must(e.Svc.Redeem(e.Ctx, token, visitor))
	must(e.Svc.RequestAccess(e.Ctx, w.closed.Slug, "who@x.test", visitor))
	must(e.Svc.RequestAccess(e.Ctx, w.open.Slug, "other@x.test", visitor)) // another portal
	days := must(e.Svc.Activity(e.Ctx, w.managerA, w.closed.ID, 30))
	if len(days) != 30 || !days[29].Day.Equal(e.Clock.Now().Truncate(24*time.Hour)) {
		t.Fatalf("%d days ending %v", len(days), days[len(days)-1].Day)
	}
	if days[28].Redemptions != 1 || days[29].Redemptions != 2 || days[29].Requests != 1 || days[28].Requests != 0 {
		t.Fatalf("yesterday %+v, today %+v", days[28], days[29])
	}
	if _, err := e.Svc.Activity(e.Ctx, w.managerA, w.closed.ID, 0); !errors.Is(err, core.ErrInvalid) {
		t.Fatalf("0 days: %v", err)
	}
}
