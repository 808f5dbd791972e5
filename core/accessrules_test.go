package core_test

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"latchkey/core"
	"latchkey/storage/storetest"
)

// setRules changes a portal's rules as `portal set` does.
func (e *env) setRules(a core.Actor, p core.Portal, rp core.RulesPatch) (core.Portal, error) {
	return e.Svc.PatchPortal(e.Ctx, a, p.ID, core.PortalPatch{Rules: rp})
}

func (e *env) member(p core.Portal, email string) core.PortalMember {
	e.T.Helper()
	for _, pm := range must(e.Svc.PortalMembers(e.Ctx, core.AdminActor("test"), p.ID)) {
		if pm.Email == email {
			return pm
		}
	}
	e.T.Fatalf("%s is not among the people of %s", email, p.Slug)
	return core.PortalMember{}
}

func TestParseRulesValues(t *testing.T) {
	day := 24 * time.Hour
	for in, want := range map[string]time.Duration{"none": 0, "": 0, "30d": 30 * day, "2w": 14 * day, "36h": 36 * time.Hour, "90m": 90 * time.Minute, " 1D ": day} {
		if got, err := core.ParseRuleDuration("link-lifetime", in); err != nil || got != want {
			t.Errorf("ParseRuleDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"30", "-1h", "30s", "d", "3x", "99999d", "1e9h", "30dd"} {
		if _, err := core.ParseRuleDuration("link-lifetime", in); err == nil || !strings.Contains(err.Error(), "link-lifetime") {
			t.Errorf("ParseRuleDuration(%q) = %v; want an error naming the field", in, err)
		}
	}
	if d, err := core.ParseInviteLifetime("none"); err != nil || d != core.NoInviteLimit {
		t.Errorf("invite lifetime none = %v, %v", d, err)
	}
	for in, want := range map[string]uint64{"none": 0, "5": 5, "1000000": 1000000} {
		if got, err := core.ParseLinkUses(in); err != nil || got != want {
			t.Errorf("ParseLinkUses(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"0", "-1", "five", "1000001", "99999999999999999999999"} {
		if _, err := core.ParseLinkUses(in); err == nil {
			t.Errorf("ParseLinkUses(%q) took it", in)
		}
	}
	got, err := core.ParseDomains("allow-domains", "Acme.COM, *.Partner.io; BÜCHER.example xn--bcher-kva.example acme.com")
	if err != nil || strings.Join(got, " ") != "acme.com *.partner.io bücher.example" {
		t.Errorf("domains = %q, %v", got, err)
	}
	for _, in := range []string{"acme", "*acme.com", "a.*.acme.com", "ann@acme.com", "*.", "exa mple..com", "acme.c0m"} {
		if _, err := core.ParseDomains("allow-domains", in); err == nil {
			t.Errorf("ParseDomains(%q) took it", in)
		}
	}
	grants, err := core.ParseAutoGrant("acme.com=client, *.partner.io=Member")
	if err != nil || len(grants) != 2 || grants[1] != (core.DomainGrant{Domain: "*.partner.io", Role: core.RoleMember}) {
		t.Errorf("grants = %+v, %v", grants, err)
	}
	for in, says := range map[string]string{"acme.com=owner": "never owner or manager", "acme.com=manager": "never owner or manager",
		"acme.com": "DOMAIN=ROLE", "acme.com=boss": "not a role", "acme.com=client,acme.com=member": "two rules", "acme=client": "dot"} {
		if _, err := core.ParseAutoGrant(in); err == nil || !strings.Contains(core.Describe(err), says) {
			t.Errorf("ParseAutoGrant(%q) = %v; want it to say %q", in, err, says)
		}
	}
}

func TestBadRulesChangeNothing(t *testing.T) {
	e := newEnv(t)
	w := e.world("Acme")
	events := len(e.Events())
	before := e.Dump()
	for _, rp := range []core.RulesPatch{
		{LinkLifetime: ptr("forever")},
		{LinkLifetime: ptr("30d"), LinkUses: ptr("0")}, // the first is good: the second undoes the whole change
		{AutoGrant: ptr("acme.com=owner")},
		{AllowDomains: ptr("acme.com")}, // a closed portal takes no allowed domains
	} {
		if _, err := e.setRules(w.ownerA, w.closed, rp); err == nil {
			t.Fatalf("%+v was taken", rp)
		}
	}
	if _, err := e.setRules(w.ownerA, w.email, core.RulesPatch{AutoGrant: ptr("acme.com=client")}); err == nil || !strings.Contains(core.Describe(err), "closed portals") {
		t.Fatalf("grant rules on an email portal: %v", err)
	}
	if e.Dump() != before || len(e.Events()) != events {
		t.Fatal("a refused change of the rules changed the database")
	}
	// A good change is audited with what it set.
	must(e.setRules(w.ownerA, w.closed, core.RulesPatch{LinkLifetime: ptr("30d"), LinkUses: ptr("5"), AutoGrant: ptr("acme.com=client")}))
	if !e.HasEvent("portal.updated", w.closed.Slug) {
		t.Fatal("no audit event")
	}
	last := e.Events()[0]
	for _, want := range []string{"link lifetime 30d", "link uses 5", "grant rules acme.com=client"} {
		if !strings.Contains(last.Detail, want) {
			t.Errorf("audit detail %q lacks %q", last.Detail, want)
		}
	}
}

func TestLinkLifetimeEndsAtItsSecond(t *testing.T) {
	e := newEnv(t)
	w := e.world("Acme")
	res := must(e.Svc.Invite(e.Ctx, w.ownerA, core.InviteInput{OrgID: w.org.ID, Email: "cleo@client.test", Role: core.RoleClient, PortalID: w.closed.ID}))
	created := e.Clock.Now()
	must(e.Svc.Redeem(e.Ctx, res.Link.Token, visitor))
	// The rule comes after the link: it applies to it at once.
	must(e.setRules(w.ownerA, w.closed, core.RulesPatch{LinkLifetime: ptr("30d")}))
	e.Clock.Advance(created.Add(30*24*time.Hour - time.Hour).Sub(e.Clock.Now()))
	red := must(e.Svc.Redeem(e.Ctx, res.Link.Token, visitor)) // a session well within its own limits
	e.Clock.Advance(time.Hour - time.Second)
	if _, err := e.Svc.Landing(e.Ctx, res.Link.Token, ""); err != nil {
		t.Fatalf("a second before its end: %v", err)
	}
	if pv := must(e.Svc.OpenPortal(e.Ctx, w.closed.Slug, red.SessionID)); !pv.HasAccess {
		t.Fatal("the session ended before the link")
	}
	e.Clock.Advance(time.Second)
	l, err := e.Svc.Landing(e.Ctx, res.Link.Token, "")
	if !errors.Is(err, core.ErrLinkInactive) || l.State != core.LinkExpired || l.Portal.ID != w.closed.ID {
		t.Fatalf("at its end: %v, state %q", err, l.State)
	}
	if _, err := e.Svc.Redeem(e.Ctx, res.Link.Token, visitor); !errors.Is(err, core.ErrLinkInactive) {
		t.Fatalf("redeemed at its end: %v", err)
	}
	if pv := must(e.Svc.OpenPortal(e.Ctx, w.closed.Slug, red.SessionID)); pv.User != nil {
		t.Fatal("the session the link opened outlived it")
	}
	if g := must(e.Svc.GateBySlug(e.Ctx, w.closed.Slug, red.SessionID)); g.Allowed {
		t.Fatal("the gate let the ended session through")
	}
	pm := e.member(w.closed, "cleo@client.test")
	if pm.LinkWord() != core.LinkWordExpired || pm.LinkText() != "expired "+created.Add(30*24*time.Hour).Format("2 Jan 2006") {
		t.Fatalf("row: %q / %q", pm.LinkWord(), pm.LinkText())
	}
	// Asking again with the form gives a new link (they have access), which works.
	must(e.Svc.RequestAccess(e.Ctx, w.closed.Slug, "cleo@client.test", visitor))
	fresh := e.LastToken("cleo@client.test", core.MailAccessLink)
	if fresh == res.Link.Token {
		t.Fatal("the form sent the expired link")
	}
	must(e.Svc.Redeem(e.Ctx, fresh, visitor))
	// Lifting the rule brings back what it stopped (the stored link is
	// active); the replaced one stays replaced.
	must(e.setRules(w.ownerA, w.closed, core.RulesPatch{LinkLifetime: ptr("none")}))
	if _, err := e.Svc.Landing(e.Ctx, res.Link.Token, ""); !errors.Is(err, core.ErrLinkInactive) {
		t.Fatalf("the replaced link came back: %v", err)
	}
}

func TestLiftedRuleDoesNotReviveARemovedPersonsLink(t *testing.T) {
	e := newEnv(t)
	w := e.world("Acme")
	must(e.setRules(w.ownerA, w.closed, core.RulesPatch{LinkLifetime: ptr("1d")}))
	res := must(e.Svc.Invite(e.Ctx, w.ownerA, core.InviteInput{OrgID: w.org.ID, Email: "cleo@client.test", Role: core.RoleClient, PortalID: w.closed.ID}))
	must(e.Svc.Redeem(e.Ctx, res.Link.Token, visitor))
	e.Clock.Advance(48 * time.Hour)
	if err := e.Svc.RemoveAccess(e.Ctx, w.ownerA, w.closed.ID, "cleo@client.test"); err != nil {
		t.Fatal(err)
	}
	must(e.setRules(w.ownerA, w.closed, core.RulesPatch{LinkLifetime: ptr("none")}))
	if _, err := e.Svc.Redeem(e.Ctx, res.Link.Token, visitor); !errors.Is(err, core.ErrLinkInactive) {
		t.Fatalf("the removed person's link works again: %v", err)
	}
}

func TestLinkIdleCountsFromTheLastUse(t *testing.T) {
	e := newEnv(t)
	w := e.world("Acme")
	must(e.setRules(w.ownerA, w.closed, core.RulesPatch{LinkIdle: ptr("7d")}))
	res := must(e.Svc.Invite(e.Ctx, w.ownerA, core.InviteInput{OrgID: w.org.ID, Email: "cleo@client.test", Role: core.RoleClient, PortalID: w.closed.ID}))
	e.Clock.Advance(7*24*time.Hour - time.Second)
	must(e.Svc.Redeem(e.Ctx, res.Link.Token, visitor)) // the use starts the idle time again
	e.Clock.Advance(7*24*time.Hour - time.Second)
	red := must(e.Svc.Redeem(e.Ctx, res.Link.Token, visitor))
	e.Clock.Advance(7 * 24 * time.Hour)
	if _, err := e.Svc.Redeem(e.Ctx, res.Link.Token, visitor); !errors.Is(err, core.ErrLinkInactive) {
		t.Fatalf("redeemed after a week unused: %v", err)
	}
	if _, err := e.Svc.Session(e.Ctx, red.SessionID); !errors.Is(err, core.ErrNoSession) {
		t.Fatalf("its session: %v", err)
	}
	if got := e.member(w.closed, "cleo@client.test").LinkText(); !strings.HasPrefix(got, "idle, stopped ") {
		t.Fatalf("row says %q", got)
	}
}

// The Nth use is allowed and the N+1th refused when 32 redemptions of the
// link race; the sessions of the allowed uses stay.
func TestLinkUsesUnderConcurrentRedemptions(t *testing.T) {
	e := newEnv(t, storetest.GroupCommit)
	w := e.world("Acme")
	const cap, racers = 5, 32
	must(e.setRules(w.ownerA, w.closed, core.RulesPatch{LinkUses: ptr("5")}))
	res := must(e.Svc.Invite(e.Ctx, w.ownerA, core.InviteInput{OrgID: w.org.ID, Email: "cleo@client.test", Role: core.RoleClient, PortalID: w.closed.ID}))
	var (
		mu       sync.Mutex
		ok, dead int
		sessions []string
		wg       sync.WaitGroup
	)
	start := make(chan struct{})
	for range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			red, err := e.Svc.Redeem(e.Ctx, res.Link.Token, visitor)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
				sessions = append(sessions, red.SessionID)
			case errors.Is(err, core.ErrLinkInactive):
				dead++
			default:
				t.Error(err)
			}
		}()
	}
	close(start)
	wg.Wait()
	if ok != cap || dead != racers-cap {
		t.Fatalf("%d redemptions went through and %d were refused; want %d and %d", ok, dead, cap, racers-cap)
	}
	for _, id := range sessions {
		if _, err := e.Svc.Session(e.Ctx, id); err != nil {
			t.Fatalf("a session of an allowed use ended: %v", err)
		}
	}
	pm := e.member(w.closed, "cleo@client.test")
	if pm.UseCount != cap || pm.LinkText() != "used 5 of 5" {
		t.Fatalf("row: %d uses, %q", pm.UseCount, pm.LinkText())
	}
	// Raising the cap lets the link in again, at once.
	must(e.setRules(w.ownerA, w.closed, core.RulesPatch{LinkUses: ptr("6")}))
	must(e.Svc.Redeem(e.Ctx, res.Link.Token, visitor))
	if _, err := e.Svc.Redeem(e.Ctx, res.Link.Token, visitor); !errors.Is(err, core.ErrLinkInactive) {
		t.Fatalf("the 7th use of 6: %v", err)
	}
}

func TestInvitationsLapseApartFromWorkingLinks(t *testing.T) {
	e := newEnv(t)
	w := e.world("Acme")
	inv := func(email string) string {
		return must(e.Svc.Invite(e.Ctx, w.ownerA, core.InviteInput{OrgID: w.org.ID, Email: email, Role: core.RoleClient, PortalID: w.closed.ID})).Link.Token
	}
	unopened, opened := inv("late@client.test"), inv("early@client.test")
	must(e.Svc.Redeem(e.Ctx, opened, visitor))
	generated := must(e.Svc.GenerateLink(e.Ctx, w.ownerA, w.closed.ID, "early@client.test")).Token // not an invitation
	e.Clock.Advance(core.DefaultInviteLifetime - time.Second)
	must(e.Svc.Landing(e.Ctx, unopened, ""))
	e.Clock.Advance(time.Second)
	if _, err := e.Svc.Redeem(e.Ctx, unopened, visitor); !errors.Is(err, core.ErrLinkInactive) {
		t.Fatalf("an invitation unopened for 14 days: %v", err)
	}
	if got := e.member(w.closed, "late@client.test"); got.AccessWord() != core.AccessNo || !strings.HasPrefix(got.LinkText(), "invitation lapsed ") {
		t.Fatalf("row: %q / %q", got.AccessWord(), got.LinkText())
	}
	must(e.Svc.Redeem(e.Ctx, generated, visitor))
	// A longer lifetime, or none, applies at once to the lapsed one.
	must(e.setRules(w.ownerA, w.closed, core.RulesPatch{InviteLifetime: ptr("none")}))
	must(e.Svc.Redeem(e.Ctx, unopened, visitor))
}

func TestAllowedDomainsOfAnEmailPortal(t *testing.T) {
	e := newEnv(t)
	w := e.world("Acme")
	must(e.setRules(w.ownerA, w.email, core.RulesPatch{AllowDomains: ptr("acme.test, *.partner.test, bücher.test")}))
	for email, want := range map[string]core.AccessOutcome{
		"ann@acme.test": core.OutcomeLinkSent, "bo@eu.partner.test": core.OutcomeLinkSent, "cy@xn--bcher-kva.test": core.OutcomeLinkSent,
		"dee@partner.test": core.OutcomeRequested, "eve@acme.test.evil.test": core.OutcomeRequested, "fay@other.test": core.OutcomeRequested,
	} {
		res, err := e.Svc.RequestAccess(e.Ctx, w.email.Slug, email, visitor)
		if err != nil || res.Outcome != want {
			t.Errorf("%s: outcome %v, %v; want %v", email, res.Outcome, err, want)
		}
	}
	if n := len(must(e.Svc.Requests(e.Ctx, w.ownerA, w.org.ID, true))); n != 3 {
		t.Fatalf("%d requests are waiting for the owner; want 3", n)
	}
	// Someone with access comes in whatever their domain.
	res := must(e.Svc.Invite(e.Ctx, w.ownerA, core.InviteInput{OrgID: w.org.ID, Email: "gil@else.test", Role: core.RoleClient, PortalID: w.email.ID}))
	must(e.Svc.Redeem(e.Ctx, res.Link.Token, visitor))
	if r := must(e.Svc.RequestAccess(e.Ctx, w.email.Slug, "gil@else.test", visitor)); r.Outcome != core.OutcomeLinkSent {
		t.Fatalf("an invited client at another domain: %v", r.Outcome)
	}
}

func TestGrantRulesOfAClosedPortal(t *testing.T) {
	e := newEnv(t)
	w := e.world("Acme")
	must(e.setRules(w.ownerA, w.closed, core.RulesPatch{AutoGrant: ptr("client.test=member")}))
	res, err := e.Svc.RequestAccess(e.Ctx, w.closed.Slug, "ann@client.test", visitor)
	if err != nil || res.Outcome != core.OutcomeLinkSent || !res.GrantedByRule || !res.FirstUse {
		t.Fatalf("result %+v, %v", res, err)
	}
	notice := e.LastMail(w.owner.Email, core.MailAccessGranted)
	if notice.Data["rule"] != "client.test=member" || notice.Data["email"] != "ann@client.test" {
		t.Fatalf("owner's notice: %+v", notice.Data)
	}
	if len(e.MailsTo(w.owner.Email, core.MailAccessRequest)) != 0 {
		t.Fatal("the owner was asked to decide a request the rule granted")
	}
	red := must(e.Svc.Redeem(e.Ctx, e.LastToken("ann@client.test", core.MailAccessLink), visitor))
	if pv := must(e.Svc.OpenPortal(e.Ctx, w.closed.Slug, red.SessionID)); !pv.HasAccess || pv.Role != core.RoleMember {
		t.Fatalf("after the link: %+v", pv)
	}
	reqs := must(e.Svc.Requests(e.Ctx, w.ownerA, w.org.ID, false))
	if len(reqs) != 1 || reqs[0].State != core.RequestGranted || reqs[0].ResolvedBy != "rule client.test=member" {
		t.Fatalf("requests: %+v", reqs)
	}
	// Any other domain waits for the owner, as before.
	if r := must(e.Svc.RequestAccess(e.Ctx, w.closed.Slug, "bo@sub.client.test", visitor)); r.Outcome != core.OutcomeRequested || r.GrantedByRule {
		t.Fatalf("another domain: %+v", r)
	}
	if len(e.MailsTo(w.owner.Email, core.MailAccessRequest)) != 1 {
		t.Fatal("the owner was not asked about the other domain")
	}
	// Someone the owner removed is not let back in by the rule: they wait
	// for the owner, whose decision it was.
	if err := e.Svc.RemoveAccess(e.Ctx, w.ownerA, w.closed.ID, "ann@client.test"); err != nil {
		t.Fatal(err)
	}
	e.Clock.Advance(25 * time.Hour) // past the per-address notice cap
	if r := must(e.Svc.RequestAccess(e.Ctx, w.closed.Slug, "ann@client.test", visitor)); r.Outcome != core.OutcomeRequested || r.GrantedByRule {
		t.Fatalf("a removed person asking again: %+v", r)
	}
	if got := e.MailsTo(w.owner.Email, core.MailAccessRequest); len(got) != 2 || got[1].Data["email"] != "ann@client.test" {
		t.Fatalf("the owner was not asked about the removed person: %+v", got)
	}
}

func TestGuestsEndAtTheGateAndTheOwnerIsReminded(t *testing.T) {
	e := newEnv(t)
	w := e.world("Acme")
	until := e.Clock.Now().Add(60 * time.Hour).Truncate(24 * time.Hour)
	res := must(e.Svc.Invite(e.Ctx, w.ownerA, core.InviteInput{OrgID: w.org.ID, Email: "gus@guest.test", Role: core.RoleGuest, GuestUntil: until, PortalID: w.closed.ID}))
	red := must(e.Svc.Redeem(e.Ctx, res.Link.Token, visitor))
	if n := must(e.Svc.RemindGuestsEnding(e.Ctx)); n != 0 {
		t.Fatalf("%d reminders two days ahead", n)
	}
	e.Clock.Advance(until.Add(-core.GuestReminderAhead).Sub(e.Clock.Now()))
	if n := must(e.Svc.RemindGuestsEnding(e.Ctx)); n != 1 {
		t.Fatalf("%d reminders a day ahead", n)
	}
	m := e.LastMail(w.owner.Email, core.MailGuestsEnding)
	if m.Data["emails"] != "gus@guest.test" || m.Data["ends"] != until.Format(time.RFC3339) {
		t.Fatalf("reminder: %+v", m.Data)
	}
	if n := must(e.Svc.RemindGuestsEnding(e.Ctx)); n != 0 {
		t.Fatal("the guest was named twice for one end date")
	}
	if g := must(e.Svc.GateBySlug(e.Ctx, w.closed.Slug, red.SessionID)); !g.Allowed {
		t.Fatal("refused before the end")
	}
	e.Clock.Advance(until.Sub(e.Clock.Now()))
	if g := must(e.Svc.GateBySlug(e.Ctx, w.closed.Slug, red.SessionID)); g.Allowed || g.User != nil {
		t.Fatalf("at the end the gate says %+v", g)
	}
	if _, err := e.Svc.Session(e.Ctx, red.SessionID); !errors.Is(err, core.ErrNoSession) {
		t.Fatalf("the guest's session: %v", err)
	}
	if got := e.member(w.closed, "gus@guest.test").AccessText(); got != "ended "+until.Format("2 Jan 2006") {
		t.Fatalf("row says %q", got)
	}
	// A later end date is named again when it comes near.
	gus := e.User("gus@guest.test")
	if err := e.Svc.ChangeRole(e.Ctx, w.ownerA, w.org.ID, gus.ID, core.RoleGuest, until.Add(48*time.Hour)); err != nil {
		t.Fatal(err)
	}
	e.Clock.Advance(30 * time.Hour)
	if n := must(e.Svc.RemindGuestsEnding(e.Ctx)); n != 1 {
		t.Fatalf("%d reminders for the new end date", n)
	}
}
