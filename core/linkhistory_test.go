package core_test

import (
	"strings"
	"testing"
	"time"

	"latchkey/core"
	"latchkey/storage/storetest"
)

// Issue 16, part 5: a link's history holds every step with its time,
// address and browser, tells a mail scanner's views apart, and is pruned
// after the time it is kept.
func TestLinkHistoryTellsScannersApart(t *testing.T) {
	e := newEnv(t)
	w := e.world("Acme")
	first := must(e.Svc.Invite(e.Ctx, w.ownerA, core.InviteInput{OrgID: w.org.ID, Email: "client@example.org", Role: core.RoleClient, PortalID: w.closed.ID}))
	m := e.LastMail("client@example.org", core.MailInvitePortal)
	if m.LinkID != first.Link.Link.ID {
		t.Fatalf("the invitation's mail carries link %d, want %d", m.LinkID, first.Link.Link.ID)
	}
	if err := e.Svc.RecordDeliveries(e.Ctx, []core.Delivery{{ID: m.ID, Outcome: core.Delivered, Detail: "250 queued as 1"}}); err != nil {
		t.Fatal(err)
	}
	phone := core.Visitor{Addr: "198.51.100.7", UserAgent: "Mozilla/5.0 (iPhone) Safari/605.1"}
	scanner := core.Visitor{Addr: "40.94.1.1", UserAgent: "Mozilla/5.0 (compatible; SafeLinks)"}
	e.Clock.Advance(2 * time.Second)
	e.Svc.NoteView(first.Link.Link.ID, scanner, "HEAD", false)
	e.Svc.NoteView(first.Link.Link.ID, scanner, "GET", false)
	e.Svc.NoteView(first.Link.Link.ID, core.Visitor{Addr: "40.94.1.2", UserAgent: phone.UserAgent}, "GET", true) // seconds after delivery, never redeemed
	e.Clock.Advance(time.Hour)
	e.Svc.NoteView(first.Link.Link.ID, phone, "GET", true)
	if err := e.Svc.FlushViews(e.Ctx); err != nil {
		t.Fatal(err)
	}
	must(e.Svc.Redeem(e.Ctx, first.Link.Token, phone))
	second := must(e.Svc.GenerateLink(e.Ctx, w.managerA, w.closed.ID, "client@example.org"))
	if err := e.Svc.DeactivateLink(e.Ctx, w.ownerA, w.closed.ID, "client@example.org"); err != nil {
		t.Fatal(err)
	}

	hist := must(e.Svc.LinkHistoryOf(e.Ctx, w.managerA, w.closed.ID, "Client@Example.org"))
	if len(hist) != 2 || hist[0].Link.ID != second.Link.ID || hist[1].Link.ID != first.Link.Link.ID {
		t.Fatalf("links: %+v", hist)
	}
	if hist[0].Link.Lookup != nil || hist[0].Link.Sealed != nil {
		t.Fatal("a history carries the link's secret")
	}
	type step struct {
		kind    core.LinkEventKind
		scanner bool
		want    string
	}
	check := func(got []core.LinkEventView, want []step) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("events: %+v", got)
		}
		for i, s := range want {
			g := got[i]
			if g.Kind != s.kind || g.Scanner != s.scanner || !strings.Contains(g.Actor+g.Addr+g.Detail+g.Method, s.want) {
				t.Errorf("event %d: %+v, want %+v", i, g, s)
			}
		}
	}
	check(hist[1].Events, []step{
		{core.LinkEventCreated, false, w.owner.Email},
		{core.LinkEventEmailed, false, "delivered: 250 queued as 1"},
		{core.LinkEventViewed, true, "HEAD"},
		{core.LinkEventViewed, true, scanner.Addr},
		{core.LinkEventViewed, true, "40.94.1.2"},
		{core.LinkEventViewed, false, phone.Addr},
		{core.LinkEventRedeemed, false, phone.Addr},
		{core.LinkEventReplaced, false, w.manager.Email},
	})
	check(hist[0].Events, []step{
		{core.LinkEventCreated, false, w.manager.Email},
		{core.LinkEventDeactivated, false, w.owner.Email},
	})
	pm := must(e.Svc.PortalMembers(e.Ctx, w.managerA, w.closed.ID))
	for _, p := range pm {
		if p.Email == "client@example.org" && !p.Actions.History.OK() {
			t.Fatal("history refused for someone with links")
		}
		if p.LinkState == "" && p.Actions.History.OK() {
			t.Fatalf("history offered for %s, who had no link", p.Email)
		}
	}

	e.Clock.Advance(e.Svc.Options().LinkHistory + time.Hour)
	must(e.Svc.LinkHistoryOf(e.Ctx, w.managerA, w.closed.ID, "client@example.org"))
	if _, _, err := e.Svc.Purge(e.Ctx); err != nil {
		t.Fatal(err)
	}
	for _, h := range must(e.Svc.LinkHistoryOf(e.Ctx, w.managerA, w.closed.ID, "client@example.org")) {
		if len(h.Events) != 0 {
			t.Fatalf("after %s the history still holds %+v", e.Svc.Options().LinkHistory, h.Events)
		}
	}
	index := "link_events_by_time" // bbolt's index by time; on PostgreSQL, the table's
	if storetest.OnPostgres() {
		index = "link_events"
	}
	if e.Count(index) != 0 {
		t.Fatal("the time index outlives its events")
	}
}
