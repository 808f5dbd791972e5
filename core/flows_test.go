package core_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"latchkey/core"
)

func TestInviteWithPortalAndRedeem(t *testing.T) {
	e := newEnv(t)
	w := e.world("Acme Agency")
	res, err := e.svc.Invite(e.ctx, w.managerA, core.InviteInput{OrgID: w.org.ID, Email: "  Client@Example.COM ", Name: "Cleo", Role: core.RoleClient, PortalID: w.closed.ID})
	if err != nil {
		t.Fatal(err)
	}
	if res.Link == nil || len(res.Link.Token) != core.TokenLen || res.Link.URL != "https://portal.example.com/m/"+res.Link.Token {
		t.Fatalf("link = %+v", res.Link)
	}
	mails := e.mailsTo("client@example.com", core.MailInvitePortal)
	if len(mails) != 1 || mails[0].LinkPath != "/m/" || mails[0].Data["portal"] != "closed portal" || mails[0].ToName != "Cleo" {
		t.Fatalf("invitation mail = %+v", mails)
	}
	if tok := e.lastToken("client@example.com", core.MailInvitePortal); tok != res.Link.Token {
		t.Fatalf("mail carries %q, want the link's token", tok)
	}
	if !e.hasEvent("member.invited", "client@example.com") {
		t.Fatal("no audit event for the invitation")
	}
	if _, err := e.svc.Landing(e.ctx, res.Link.Token); err != nil {
		t.Fatalf("landing: %v", err)
	}

	r1, err := e.svc.Redeem(e.ctx, res.Link.Token, visitor)
	if err != nil {
		t.Fatal(err)
	}
	if !r1.Created || r1.User.Email != "client@example.com" || r1.User.Name != "Cleo" || r1.Portal.ID != w.closed.ID || r1.SessionID == "" {
		t.Fatalf("redemption = %+v", r1)
	}
	pv := must(e.svc.OpenPortal(e.ctx, w.closed.Slug, r1.SessionID))
	if !pv.HasAccess || pv.Role != core.RoleClient || pv.User.Email != "client@example.com" {
		t.Fatalf("portal view = %+v", pv)
	}
	// The same link works again, on another device, and counts its uses.
	e.clock.Advance(time.Hour)
	r2, err := e.svc.Redeem(e.ctx, res.Link.Token, core.Visitor{Addr: "198.51.100.7"})
	if err != nil {
		t.Fatal(err)
	}
	if r2.Created || r2.SessionID == r1.SessionID {
		t.Fatalf("second redemption = %+v", r2)
	}
	var l core.Link
	e.view(func(tx core.Tx) (err error) { l, err = tx.ActiveLink(w.closed.ID, "client@example.com"); return })
	if l.UseCount != 2 || !l.LastUsedAt.Equal(e.clock.Now()) {
		t.Fatalf("use count %d, last used %v", l.UseCount, l.LastUsedAt)
	}
	var inv core.Invitation
	e.view(func(tx core.Tx) (err error) { inv, err = tx.LatestInvitation(w.org.ID, "client@example.com"); return })
	if inv.State != core.InvitationAccepted {
		t.Fatalf("invitation state %s", inv.State)
	}
}

func TestLinkNeverChangesAnExistingRole(t *testing.T) {
	e := newEnv(t)
	w := e.world("Acme")
	// The member is invited to a portal as a client: they stay a member.
	res := must(e.svc.Invite(e.ctx, w.ownerA, core.InviteInput{OrgID: w.org.ID, Email: w.member.Email, Role: core.RoleClient, PortalID: w.closed.ID}))
	r := must(e.svc.Redeem(e.ctx, res.Link.Token, visitor))
	var m core.Member
	e.view(func(tx core.Tx) (err error) { m, err = tx.Member(w.org.ID, r.User.ID); return })
	if m.Role != core.RoleMember {
		t.Fatalf("role after link = %s, want member", m.Role)
	}
	// A client whose role the owner lowered to guest does not get client back.
	res = must(e.svc.Invite(e.ctx, w.ownerA, core.InviteInput{OrgID: w.org.ID, Email: "c@x.test", Role: core.RoleClient, PortalID: w.closed.ID}))
	r = must(e.svc.Redeem(e.ctx, res.Link.Token, visitor))
	until := e.clock.Now().Add(48 * time.Hour)
	if err := e.svc.ChangeRole(e.ctx, w.ownerA, w.org.ID, r.User.ID, core.RoleGuest, until); err != nil {
		t.Fatal(err)
	}
	must(e.svc.Redeem(e.ctx, res.Link.Token, visitor))
	e.view(func(tx core.Tx) (err error) { m, err = tx.Member(w.org.ID, r.User.ID); return })
	if m.Role != core.RoleGuest || !m.GuestUntil.Equal(until) {
		t.Fatalf("role after second use = %s until %v, want guest", m.Role, m.GuestUntil)
	}
	// A removed member is not restored by an old link: removal ended it.
	if err := e.svc.RemoveMember(e.ctx, w.ownerA, w.org.ID, r.User.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Redeem(e.ctx, res.Link.Token, visitor); !errors.Is(err, core.ErrLinkInactive) {
		t.Fatalf("redeem after removal: %v", err)
	}
}

func TestRotateAndDeactivateEndLinkAndSessions(t *testing.T) {
	for _, tc := range []struct {
		name string
		act  func(e *env, w world, email string) error
	}{
		{"generate new link", func(e *env, w world, email string) error {
			_, err := e.svc.GenerateLink(e.ctx, w.managerA, w.closed.ID, email)
			return err
		}},
		{"deactivate", func(e *env, w world, email string) error {
			return e.svc.DeactivateLink(e.ctx, w.managerA, w.closed.ID, email)
		}},
		{"remove portal access", func(e *env, w world, email string) error {
			return e.svc.RemoveAccess(e.ctx, w.managerA, w.closed.ID, email)
		}},
		{"invite again", func(e *env, w world, email string) error {
			_, err := e.svc.Invite(e.ctx, w.managerA, core.InviteInput{OrgID: w.org.ID, Email: email, Role: core.RoleClient, PortalID: w.closed.ID})
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			w := e.world("Acme")
			email := "client@x.test"
			res := must(e.svc.Invite(e.ctx, w.managerA, core.InviteInput{OrgID: w.org.ID, Email: email, Role: core.RoleClient, PortalID: w.closed.ID}))
			r := must(e.svc.Redeem(e.ctx, res.Link.Token, visitor))
			pw := e.passwordSession(email) // a session not opened by the link
			if err := tc.act(e, w, email); err != nil {
				t.Fatal(err)
			}
			if _, err := e.svc.Redeem(e.ctx, res.Link.Token, visitor); !errors.Is(err, core.ErrLinkInactive) {
				t.Fatalf("old token: %v, want ErrLinkInactive", err)
			}
			if l, err := e.svc.Landing(e.ctx, res.Link.Token); !errors.Is(err, core.ErrLinkInactive) || l.Portal.ID != w.closed.ID {
				t.Fatalf("landing of old token: %v (portal %d)", err, l.Portal.ID)
			}
			if _, err := e.svc.Session(e.ctx, r.SessionID); !errors.Is(err, core.ErrNoSession) {
				t.Fatalf("session opened by the old link: %v, want ended", err)
			}
			if _, err := e.svc.Session(e.ctx, pw); err != nil {
				t.Fatalf("password session: %v, want kept", err)
			}
			e.assertOneActivePerPortalEmail()
		})
	}
}

// passwordSession gives email's account a password and signs in with it.
func (e *env) passwordSession(email string) string {
	e.t.Helper()
	must(0, e.svc.RequestRestore(e.ctx, email, visitor))
	si := must(e.svc.CompleteRestore(e.ctx, e.lastToken(email, core.MailPasswordReset), "a good password", visitor))
	return si.SessionID
}

func (e *env) assertOneActivePerPortalEmail() {
	e.t.Helper()
	active := map[string]bool{}
	if err := e.store.Walk(func(bucket string, _, v []byte) error {
		if bucket != "links" {
			return nil
		}
		var l core.Link
		if err := json.Unmarshal(v, &l); err != nil {
			return err
		}
		key := fmt.Sprint(l.PortalID, l.Email)
		if l.State == core.LinkActive {
			if active[key] {
				e.t.Fatalf("two active links for %s in portal %d", l.Email, l.PortalID)
			}
			active[key] = true
		}
		return nil
	}); err != nil {
		e.t.Fatal(err)
	}
}

func TestRemoveAccessEndsAccess(t *testing.T) {
	e := newEnv(t)
	w := e.world("Acme")
	res := must(e.svc.Invite(e.ctx, w.ownerA, core.InviteInput{OrgID: w.org.ID, Email: "c@x.test", Role: core.RoleClient, PortalID: w.closed.ID}))
	r := must(e.svc.Redeem(e.ctx, res.Link.Token, visitor))
	pw := e.passwordSession("c@x.test")
	if err := e.svc.RemoveAccess(e.ctx, w.ownerA, w.closed.ID, "c@x.test"); err != nil {
		t.Fatal(err)
	}
	pv := must(e.svc.OpenPortal(e.ctx, w.closed.Slug, pw))
	if pv.User == nil || pv.HasAccess {
		t.Fatalf("after removal: %+v", pv)
	}
	var ls []core.Link
	e.view(func(tx core.Tx) (err error) { ls, err = tx.Links(w.closed.ID); return })
	if len(ls) != 1 || ls[0].State != core.LinkDeactivated {
		t.Fatalf("links after removal: %+v", ls)
	}
	if _, err := e.svc.Session(e.ctx, r.SessionID); !errors.Is(err, core.ErrNoSession) {
		t.Fatalf("link session: %v", err)
	}
	// Removing again finds nothing to remove.
	if err := e.svc.RemoveAccess(e.ctx, w.ownerA, w.closed.ID, "c@x.test"); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("second removal: %v", err)
	}
	// Now the form treats the email as a stranger.
	ar := must(e.svc.RequestAccess(e.ctx, w.closed.Slug, "c@x.test", visitor))
	if ar.Outcome != core.OutcomeRequested {
		t.Fatalf("outcome %v, want requested", ar.Outcome)
	}
}

func TestGuestEndDateCutsAccess(t *testing.T) {
	e := newEnv(t)
	w := e.world("Acme")
	until := e.clock.Now().Add(72 * time.Hour)
	res := must(e.svc.Invite(e.ctx, w.ownerA, core.InviteInput{OrgID: w.org.ID, Email: "g@x.test", Role: core.RoleGuest, GuestUntil: until, PortalID: w.closed.ID}))
	r := must(e.svc.Redeem(e.ctx, res.Link.Token, visitor))
	if pv := must(e.svc.OpenPortal(e.ctx, w.closed.Slug, r.SessionID)); !pv.HasAccess || pv.Role != core.RoleGuest {
		t.Fatalf("before end date: %+v", pv)
	}
	e.clock.Advance(72 * time.Hour)
	if _, err := e.svc.Redeem(e.ctx, res.Link.Token, visitor); !errors.Is(err, core.ErrNoAccess) || !strings.Contains(err.Error(), "guest access ended") {
		t.Fatalf("redeem after end date: %v", err)
	}
	if pv := must(e.svc.OpenPortal(e.ctx, w.closed.Slug, r.SessionID)); pv.HasAccess {
		t.Fatal("portal still open to the guest after the end date")
	}
	if ar := must(e.svc.RequestAccess(e.ctx, w.closed.Slug, "g@x.test", visitor)); ar.Outcome != core.OutcomeRequested {
		t.Fatalf("access form after end date: %v, want requested", ar.Outcome)
	}
	if ar := must(e.svc.RequestAccess(e.ctx, w.email.Slug, "g@x.test", visitor)); ar.Outcome != core.OutcomeRequested {
		t.Fatalf("email portal after end date: %v, want requested", ar.Outcome)
	}
	// An end date in the past, or for another role, is refused.
	if _, err := e.svc.Invite(e.ctx, w.ownerA, core.InviteInput{OrgID: w.org.ID, Email: "h@x.test", Role: core.RoleGuest, GuestUntil: e.clock.Now().Add(-time.Hour), PortalID: w.closed.ID}); !errors.Is(err, core.ErrInvalid) {
		t.Fatalf("past end date: %v", err)
	}
	if _, err := e.svc.Invite(e.ctx, w.ownerA, core.InviteInput{OrgID: w.org.ID, Email: "h@x.test", Role: core.RoleClient, GuestUntil: e.clock.Now().Add(time.Hour), PortalID: w.closed.ID}); !errors.Is(err, core.ErrInvalid) {
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
			must(0, e.svc.DeactivateLink(e.ctx, w.ownerA, w.closed.ID, "c@x.test"))
			return w.closed.Slug, "c@x.test"
		}, want{core.OutcomeLinkSent, false, core.MailAccessLink}},
		{"closed, invited not yet redeemed", false, func(e *env, w world) (string, string) {
			must(e.svc.Invite(e.ctx, w.ownerA, core.InviteInput{OrgID: w.org.ID, Email: "c@x.test", Role: core.RoleClient, PortalID: w.closed.ID}))
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
				e = newEnv(t, uniform)
			} else {
				e = newEnv(t)
			}
			w := e.world("Acme")
			slug, email := tc.setup(e, w)
			before := len(e.messages())
			res, err := e.svc.RequestAccess(e.ctx, slug, email, visitor)
			if err != nil {
				t.Fatal(err)
			}
			if res.Outcome != tc.want.outcome || res.Generic != tc.want.generic {
				t.Fatalf("outcome %v generic %v, want %+v", res.Outcome, res.Generic, tc.want)
			}
			ms := e.messages()[before:]
			if len(ms) != 1 || ms[0].Kind != tc.want.mail {
				t.Fatalf("queued %+v, want one %s", ms, tc.want.mail)
			}
			switch tc.want.mail {
			case core.MailAccessLink:
				tok, _ := e.svc.OpenSealedMail(ms[0])
				if ms[0].To != email {
					t.Fatalf("link mailed to %s", ms[0].To)
				}
				r, err := e.svc.Redeem(e.ctx, tok, visitor)
				if err != nil {
					t.Fatalf("the mailed link does not redeem: %v", err)
				}
				if pv := must(e.svc.OpenPortal(e.ctx, slug, r.SessionID)); !pv.HasAccess {
					t.Fatal("the mailed link gives no access")
				}
			case core.MailAccessRequest:
				if ms[0].To != w.owner.Email || ms[0].Data["email"] != email {
					t.Fatalf("owner notification = %+v", ms[0])
				}
				var r core.Request
				e.view(func(tx core.Tx) (err error) { r, err = tx.LatestRequest(w.closed.ID, email); return })
				if r.State != core.RequestPending || r.Count != 1 {
					t.Fatalf("request = %+v", r)
				}
			}
		})
	}
}

func (e *env) clientWithLink(w world, p core.Portal, email string) string {
	e.t.Helper()
	res := must(e.svc.Invite(e.ctx, w.ownerA, core.InviteInput{OrgID: w.org.ID, Email: email, Role: core.RoleClient, PortalID: p.ID}))
	must(e.svc.Redeem(e.ctx, res.Link.Token, visitor))
	return res.Link.Token
}

func (e *env) makeGeneric(w world, p core.Portal) {
	e.t.Helper()
	must(e.svc.SetPortal(e.ctx, w.ownerA, p.ProjectID, core.PortalSettings{Slug: p.Slug, Title: p.Title, Access: p.Access, Disclosure: core.DisclosureGeneric}))
}

func TestEmailPortalMakesClients(t *testing.T) {
	e := newEnv(t)
	w := e.world("Acme")
	must(e.svc.RequestAccess(e.ctx, w.email.Slug, "new@x.test", visitor))
	r := must(e.svc.Redeem(e.ctx, e.lastToken("new@x.test", core.MailAccessLink), visitor))
	var m core.Member
	e.view(func(tx core.Tx) (err error) { m, err = tx.Member(w.org.ID, r.User.ID); return })
	if m.Role != core.RoleClient {
		t.Fatalf("role %s, want client", m.Role)
	}
	// Asking again sends the same active link, not a new one.
	first := e.lastToken("new@x.test", core.MailAccessLink)
	must(e.svc.RequestAccess(e.ctx, w.email.Slug, "new@x.test", visitor))
	if again := e.lastToken("new@x.test", core.MailAccessLink); again != first {
		t.Fatal("a second request replaced the active link")
	}
}

func TestAccessRequestDedupe(t *testing.T) {
	e := newEnv(t)
	w := e.world("Acme")
	for i := 0; i < 10; i++ {
		res := must(e.svc.RequestAccess(e.ctx, w.closed.Slug, "who@x.test", visitor))
		if res.Notified != (i == 0) {
			t.Fatalf("request %d: notified = %v", i, res.Notified)
		}
		e.clock.Advance(time.Hour)
	}
	if n := len(e.mailsTo(w.owner.Email, core.MailAccessRequest)); n != 1 {
		t.Fatalf("%d owner notifications for 10 requests in 10 hours, want 1", n)
	}
	var reqs []core.RequestView
	reqs = must(e.svc.Requests(e.ctx, w.ownerA, w.org.ID, true))
	if len(reqs) != 1 || reqs[0].Count != 10 {
		t.Fatalf("requests = %+v", reqs)
	}
	e.clock.Advance(14 * time.Hour) // 24 hours after the first notification
	if res := must(e.svc.RequestAccess(e.ctx, w.closed.Slug, "who@x.test", visitor)); !res.Notified {
		t.Fatal("no notification after 24 hours")
	}
	// A dismissed request does not reset the 24-hour window.
	must(0, e.svc.DismissRequest(e.ctx, w.ownerA, reqs[0].ID))
	if res := must(e.svc.RequestAccess(e.ctx, w.closed.Slug, "who@x.test", visitor)); res.Notified {
		t.Fatal("notified again within 24 hours after a dismissal")
	}
	if n := len(e.mailsTo(w.owner.Email, core.MailAccessRequest)); n != 2 {
		t.Fatalf("%d notifications, want 2", n)
	}
	// Another email, or another portal, is its own (portal, email).
	must(0, e.svc.ChangeRole(e.ctx, w.ownerA, w.org.ID, w.member.ID, core.RoleMember, time.Time{}))
	if res := must(e.svc.RequestAccess(e.ctx, w.closed.Slug, "other@x.test", visitor)); !res.Notified {
		t.Fatal("another email was not notified")
	}
}

func TestGrantAndDismissRequests(t *testing.T) {
	e := newEnv(t)
	w := e.world("Acme")
	must(e.svc.RequestAccess(e.ctx, w.closed.Slug, "a@x.test", visitor))
	must(e.svc.RequestAccess(e.ctx, w.closed.Slug, "b@x.test", visitor))
	reqs := must(e.svc.Requests(e.ctx, w.managerA, w.org.ID, true))
	if len(reqs) != 2 || reqs[0].Email != "b@x.test" {
		t.Fatalf("pending requests, newest first: %+v", reqs)
	}
	res, err := e.svc.GrantRequest(e.ctx, w.managerA, reqs[1].ID, "")
	if err != nil {
		t.Fatal(err)
	}
	if res.Link == nil || e.lastToken("a@x.test", core.MailInvitePortal) != res.Link.Token {
		t.Fatal("granting did not send an invitation with the link")
	}
	r := must(e.svc.Redeem(e.ctx, res.Link.Token, visitor))
	if pv := must(e.svc.OpenPortal(e.ctx, w.closed.Slug, r.SessionID)); !pv.HasAccess || pv.Role != core.RoleClient {
		t.Fatalf("granted: %+v", pv)
	}
	if err := e.svc.DismissRequest(e.ctx, w.managerA, reqs[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.GrantRequest(e.ctx, w.managerA, reqs[0].ID, ""); !errors.Is(err, core.ErrConflict) {
		t.Fatalf("granting a dismissed request: %v", err)
	}
	if left := must(e.svc.Requests(e.ctx, w.managerA, w.org.ID, true)); len(left) != 0 {
		t.Fatalf("pending after grant and dismiss: %+v", left)
	}
	if !e.hasEvent("request.granted", "a@x.test") || !e.hasEvent("request.dismissed", "b@x.test") {
		t.Fatal("missing audit events")
	}
}

func TestJoinWithoutPortal(t *testing.T) {
	e := newEnv(t)
	w := e.world("Acme")
	must(e.svc.Invite(e.ctx, w.ownerA, core.InviteInput{OrgID: w.org.ID, Email: "new@x.test", Name: "Nia", Role: core.RoleMember}))
	token := e.lastToken("new@x.test", core.MailInviteJoin)
	ji := must(e.svc.JoinLink(e.ctx, token))
	if ji.Org.ID != w.org.ID || ji.Email != "new@x.test" || ji.Name != "Nia" || ji.HasAccount {
		t.Fatalf("join info %+v", ji)
	}
	if _, err := e.svc.Join(e.ctx, token, "Nia", "short", visitor); !errors.Is(err, core.ErrInvalid) {
		t.Fatalf("short password: %v", err)
	}
	si, err := e.svc.Join(e.ctx, token, "", "a long enough password", visitor)
	if err != nil {
		t.Fatal(err)
	}
	if si.User.Name != "Nia" {
		t.Fatalf("name %q", si.User.Name)
	}
	if _, err := e.svc.Session(e.ctx, si.SessionID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Join(e.ctx, token, "", "a long enough password", visitor); !errors.Is(err, core.ErrTokenInvalid) {
		t.Fatalf("second use: %v", err)
	}
	if _, err := e.svc.Login(e.ctx, "new@x.test", "a long enough password", visitor); err != nil {
		t.Fatalf("login after join: %v", err)
	}
	// Inviting a member without a portal again is a clear conflict.
	if _, err := e.svc.Invite(e.ctx, w.ownerA, core.InviteInput{OrgID: w.org.ID, Email: "new@x.test", Role: core.RoleMember}); !errors.Is(err, core.ErrConflict) {
		t.Fatalf("re-invite of a member: %v", err)
	}

	// Join links expire after 7 days; a newer invitation retires the older link.
	must(e.svc.Invite(e.ctx, w.ownerA, core.InviteInput{OrgID: w.org.ID, Email: "late@x.test", Role: core.RoleMember}))
	old := e.lastToken("late@x.test", core.MailInviteJoin)
	must(e.svc.Invite(e.ctx, w.ownerA, core.InviteInput{OrgID: w.org.ID, Email: "late@x.test", Role: core.RoleMember}))
	fresh := e.lastToken("late@x.test", core.MailInviteJoin)
	if _, err := e.svc.JoinLink(e.ctx, old); !errors.Is(err, core.ErrTokenInvalid) {
		t.Fatalf("superseded join link: %v", err)
	}
	e.clock.Advance(7*24*time.Hour - time.Second)
	if _, err := e.svc.JoinLink(e.ctx, fresh); err != nil {
		t.Fatalf("join link before 7 days: %v", err)
	}
	e.clock.Advance(time.Second)
	if _, err := e.svc.Join(e.ctx, fresh, "", "a long enough password", visitor); !errors.Is(err, core.ErrTokenInvalid) {
		t.Fatalf("join link after 7 days: %v", err)
	}
}

func TestJoinWithExistingAccount(t *testing.T) {
	e := newEnv(t)
	a := e.world("Alpha")
	b := e.world("Beta")
	// Alpha's member joins Beta: their password is asked for, not replaced.
	must(e.svc.Invite(e.ctx, b.ownerA, core.InviteInput{OrgID: b.org.ID, Email: a.member.Email, Role: core.RoleMember}))
	token := e.lastToken(a.member.Email, core.MailInviteJoin)
	if ji := must(e.svc.JoinLink(e.ctx, token)); !ji.HasAccount || !ji.HasPassword {
		t.Fatalf("join info %+v", ji)
	}
	if _, err := e.svc.Join(e.ctx, token, "", "not the password", visitor); !errors.Is(err, core.ErrBadCredentials) {
		t.Fatalf("wrong password: %v", err)
	}
	if _, err := e.svc.Join(e.ctx, token, "", "correct horse battery", visitor); err != nil {
		t.Fatal(err)
	}
	orgs := must(e.svc.Orgs(e.ctx, core.UserActor(a.owner, "t")))
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
	_, errNoPw := e.svc.Login(e.ctx, email, "anything at all", visitor)
	_, errUnknown := e.svc.Login(e.ctx, "nobody@x.test", "anything at all", visitor)
	if !errors.Is(errNoPw, core.ErrBadCredentials) || errNoPw.Error() != errUnknown.Error() {
		t.Fatalf("no password: %v; unknown: %v", errNoPw, errUnknown)
	}
	// Restore for an unknown email is silent and queues nothing.
	before := len(e.messages())
	if err := e.svc.RequestRestore(e.ctx, "nobody@x.test", visitor); err != nil || len(e.messages()) != before {
		t.Fatalf("unknown email: %v, %d new mails", err, len(e.messages())-before)
	}
	linkSession := must(e.svc.Redeem(e.ctx, token, visitor)).SessionID
	must(0, e.svc.RequestRestore(e.ctx, email, visitor))
	reset := e.lastToken(email, core.MailPasswordReset)
	if got := must(e.svc.RestoreLink(e.ctx, reset)); got != email {
		t.Fatalf("restore link email %q", got)
	}
	si, err := e.svc.CompleteRestore(e.ctx, reset, "my new password", visitor)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Session(e.ctx, linkSession); !errors.Is(err, core.ErrNoSession) {
		t.Fatalf("other session after password change: %v", err)
	}
	if _, err := e.svc.Session(e.ctx, si.SessionID); err != nil {
		t.Fatalf("new session: %v", err)
	}
	if len(e.mailsTo(email, core.MailPasswordChanged)) != 1 {
		t.Fatal("no password-changed notice")
	}
	if _, err := e.svc.CompleteRestore(e.ctx, reset, "another password", visitor); !errors.Is(err, core.ErrTokenInvalid) {
		t.Fatalf("reset token used twice: %v", err)
	}
	if _, err := e.svc.Login(e.ctx, " C@X.test ", "my new password", visitor); err != nil {
		t.Fatalf("login: %v", err)
	}
	if _, err := e.svc.Login(e.ctx, email, "my old password", visitor); !errors.Is(err, core.ErrBadCredentials) {
		t.Fatalf("wrong password: %v", err)
	}
	// Reset tokens expire after an hour; a newer password retires older tokens.
	must(0, e.svc.RequestRestore(e.ctx, email, visitor))
	late := e.lastToken(email, core.MailPasswordReset)
	e.clock.Advance(time.Hour)
	if _, err := e.svc.RestoreLink(e.ctx, late); !errors.Is(err, core.ErrTokenInvalid) {
		t.Fatalf("reset token after 1h: %v", err)
	}
	must(0, e.svc.RequestRestore(e.ctx, email, visitor))
	older := e.lastToken(email, core.MailPasswordReset)
	e.clock.Advance(time.Minute)
	must(0, e.svc.RequestRestore(e.ctx, email, visitor))
	must(e.svc.CompleteRestore(e.ctx, e.lastToken(email, core.MailPasswordReset), "third password", visitor))
	if _, err := e.svc.RestoreLink(e.ctx, older); !errors.Is(err, core.ErrTokenInvalid) {
		t.Fatalf("token older than the last password change: %v", err)
	}
}

func TestSessionExpiry(t *testing.T) {
	e := newEnv(t)
	w := e.world("Acme")
	token := e.clientWithLink(w, w.closed, "c@x.test")
	sid := must(e.svc.Redeem(e.ctx, token, visitor)).SessionID
	// Used every 6 days, the session lives until its 30-day lifetime.
	for i := 0; i < 4; i++ {
		e.clock.Advance(6 * 24 * time.Hour)
		if _, err := e.svc.Session(e.ctx, sid); err != nil {
			t.Fatalf("day %d: %v", 6*(i+1), err)
		}
	}
	e.clock.Advance(6 * 24 * time.Hour) // day 30
	if _, err := e.svc.Session(e.ctx, sid); !errors.Is(err, core.ErrNoSession) {
		t.Fatalf("after 30 days: %v", err)
	}
	// Unused for 7 days, a session ends.
	sid = must(e.svc.Redeem(e.ctx, token, visitor)).SessionID
	e.clock.Advance(7 * 24 * time.Hour)
	if _, err := e.svc.Session(e.ctx, sid); !errors.Is(err, core.ErrNoSession) {
		t.Fatalf("after 7 idle days: %v", err)
	}
	// Logout ends a session on the server; purge removes dead ones.
	sid = must(e.svc.Redeem(e.ctx, token, visitor)).SessionID
	must(0, e.svc.EndSession(e.ctx, sid, visitor))
	if _, err := e.svc.Session(e.ctx, sid); !errors.Is(err, core.ErrNoSession) {
		t.Fatalf("after logout: %v", err)
	}
	live := must(e.svc.Redeem(e.ctx, token, visitor)).SessionID
	stored := e.count("sessions")
	n, _, err := e.svc.Purge(e.ctx)
	if err != nil || n != stored-1 || e.count("sessions") != 1 {
		t.Fatalf("purged %d of %d sessions (%v), want all but the live one", n, stored, err)
	}
	if _, err := e.svc.Session(e.ctx, live); err != nil {
		t.Fatalf("live session after purge: %v", err)
	}
}

func TestLinkManagement(t *testing.T) {
	e := newEnv(t)
	w := e.world("Acme")
	token := e.clientWithLink(w, w.closed, "c@x.test")
	il := must(e.svc.RevealLink(e.ctx, w.managerA, w.closed.ID, "c@x.test"))
	if il.Token != token || il.URL != "https://portal.example.com/m/"+token {
		t.Fatalf("revealed %+v", il)
	}
	before := len(e.mailsTo("c@x.test", core.MailNewLink))
	must(0, e.svc.ResendLink(e.ctx, w.managerA, w.closed.ID, "c@x.test"))
	if len(e.mailsTo("c@x.test", core.MailNewLink)) != before+1 || e.lastToken("c@x.test", core.MailNewLink) != token {
		t.Fatal("re-send did not mail the active link")
	}
	gen := must(e.svc.GenerateLink(e.ctx, w.managerA, w.closed.ID, "c@x.test"))
	if gen.Token == token || e.lastToken("c@x.test", core.MailNewLink) != gen.Token {
		t.Fatal("generate did not mail a new link")
	}
	if !e.hasEvent("link.rotated", "c@x.test") || !e.hasEvent("link.copied", "c@x.test") || !e.hasEvent("link.resent", "c@x.test") {
		t.Fatal("missing audit events")
	}
	must(0, e.svc.DeactivateLink(e.ctx, w.managerA, w.closed.ID, "c@x.test"))
	if _, err := e.svc.RevealLink(e.ctx, w.managerA, w.closed.ID, "c@x.test"); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("reveal without active link: %v", err)
	}
	if err := e.svc.DeactivateLink(e.ctx, w.managerA, w.closed.ID, "c@x.test"); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("deactivate twice: %v", err)
	}
	// Generating for someone who never had access is refused.
	if _, err := e.svc.GenerateLink(e.ctx, w.managerA, w.closed.ID, "stranger@x.test"); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("generate for a stranger: %v", err)
	}
	// Generating after deactivation works (access remains) with the member's role.
	gen = must(e.svc.GenerateLink(e.ctx, w.managerA, w.closed.ID, "c@x.test"))
	if gen.Link.Role != core.RoleClient {
		t.Fatalf("role %s", gen.Link.Role)
	}
	people := must(e.svc.PortalMembers(e.ctx, w.managerA, w.closed.ID))
	if len(people) != 1 || people[0].LinkState != core.LinkActive || people[0].UseCount != 1 || !people[0].HasAccess {
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
	before := e.dump()
	for _, tc := range []struct {
		name string
		do   func() error
		want error
	}{
		{"manager A invites into B", func() error {
			_, err := e.svc.Invite(e.ctx, a.managerA, core.InviteInput{OrgID: b.org.ID, Email: "x@x.test", Role: core.RoleClient})
			return err
		}, core.ErrNotFound},
		{"manager A generates in B's portal", func() error {
			_, err := e.svc.GenerateLink(e.ctx, a.managerA, b.closed.ID, "c@x.test")
			return err
		}, core.ErrNotFound},
		{"manager A reveals B's link", func() error {
			_, err := e.svc.RevealLink(e.ctx, a.managerA, b.closed.ID, "c@x.test")
			return err
		}, core.ErrNotFound},
		{"manager A deactivates in B", func() error { return e.svc.DeactivateLink(e.ctx, a.managerA, b.closed.ID, "c@x.test") }, core.ErrNotFound},
		{"manager A removes access in B", func() error { return e.svc.RemoveAccess(e.ctx, a.managerA, b.closed.ID, "c@x.test") }, core.ErrNotFound},
		{"manager A lists B's projects", func() error { _, err := e.svc.Projects(e.ctx, a.managerA, b.org.ID); return err }, core.ErrNotFound},
		{"manager A looks up B's portal", func() error { _, err := e.svc.PortalBySlug(e.ctx, a.managerA, b.closed.Slug); return err }, core.ErrNotFound},
		{"manager A lists B's members", func() error { _, err := e.svc.PortalMembers(e.ctx, a.managerA, b.closed.ID); return err }, core.ErrNotFound},
		{"manager A reads B's audit", func() error {
			_, err := e.svc.Audit(e.ctx, a.managerA, core.AuditQuery{OrgID: b.org.ID})
			return err
		}, core.ErrNotFound},
		{"manager A reads every audit", func() error { _, err := e.svc.Audit(e.ctx, a.managerA, core.AuditQuery{}); return err }, core.ErrForbidden},
		{"member invites", func() error {
			_, err := e.svc.Invite(e.ctx, memberA, core.InviteInput{OrgID: a.org.ID, Email: "x@x.test", Role: core.RoleClient})
			return err
		}, core.ErrNotFound},
		{"stranger creates a project", func() error { _, err := e.svc.CreateProject(e.ctx, stranger, a.org.ID, "P"); return err }, core.ErrNotFound},
		{"manager creates an organization", func() error {
			_, err := e.svc.CreateOrg(e.ctx, a.managerA, core.NewOrg{Name: "New", OwnerEmail: "o@x.test"})
			return err
		}, core.ErrForbidden},
		{"manager invites a manager", func() error {
			_, err := e.svc.Invite(e.ctx, a.managerA, core.InviteInput{OrgID: a.org.ID, Email: "x@x.test", Role: core.RoleManager})
			return err
		}, core.ErrForbidden},
		{"anyone invites an owner", func() error {
			_, err := e.svc.Invite(e.ctx, a.ownerA, core.InviteInput{OrgID: a.org.ID, Email: "x@x.test", Role: core.RoleOwner})
			return err
		}, core.ErrForbidden},
		{"manager demotes the owner", func() error {
			return e.svc.ChangeRole(e.ctx, a.managerA, a.org.ID, a.owner.ID, core.RoleMember, time.Time{})
		}, core.ErrForbidden},
		{"owner demotes themselves", func() error {
			return e.svc.ChangeRole(e.ctx, a.ownerA, a.org.ID, a.owner.ID, core.RoleManager, time.Time{})
		}, core.ErrForbidden},
		{"manager makes a member manager", func() error {
			return e.svc.ChangeRole(e.ctx, a.managerA, a.org.ID, a.member.ID, core.RoleManager, time.Time{})
		}, core.ErrForbidden},
		{"manager removes the owner", func() error { return e.svc.RemoveMember(e.ctx, a.managerA, a.org.ID, a.owner.ID) }, core.ErrForbidden},
		{"owner removes themselves", func() error { return e.svc.RemoveMember(e.ctx, a.ownerA, a.org.ID, a.owner.ID) }, core.ErrForbidden},
		{"manager transfers ownership", func() error { return e.svc.TransferOwnership(e.ctx, a.managerA, a.org.ID, a.manager.ID) }, core.ErrForbidden},
		{"manager adds a key to the owner", func() error {
			_, err := e.svc.AddSSHKey(e.ctx, a.managerA, a.owner.Email, testKey)
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
	if after := e.dump(); after != before {
		t.Fatal("a refused operation changed the database")
	}

	// What a manager may do, and the owner's own powers.
	if err := e.svc.ChangeRole(e.ctx, a.managerA, a.org.ID, a.member.ID, core.RoleGuest, e.clock.Now().Add(time.Hour)); err != nil {
		t.Fatalf("manager sets a guest: %v", err)
	}
	if err := e.svc.TransferOwnership(e.ctx, a.ownerA, a.org.ID, a.manager.ID); err != nil {
		t.Fatal(err)
	}
	owners := 0
	for _, m := range must(e.svc.Members(e.ctx, e.admin, a.org.ID)) {
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
	if got := must(e.svc.Orgs(e.ctx, a.managerA)); len(got) != 1 || got[0].ID != a.org.ID {
		t.Fatalf("manager of A sees %+v", got)
	}
	if got := must(e.svc.Orgs(e.ctx, e.admin)); len(got) != 2 {
		t.Fatalf("admin sees %d orgs", len(got))
	}
}
