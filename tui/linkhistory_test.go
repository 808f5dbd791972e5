package tui

import (
	"strings"
	"testing"

	"latchkey/core"
	"latchkey/storage/storetest"
)

// Issue 16, part 5: the member menu's Link history shows every event of
// the person's links, a mail scanner's view marked, and fits the screen.
func TestLinkHistoryScreen(t *testing.T) {
	c := startConsole(t)
	env := c.env
	website := portalID(c, "website-redesign")
	var linkID uint64
	for _, pm := range storetest.Must(env.Svc.PortalMembers(env.Ctx, env.Admin, website)) {
		if pm.Email == "client@acme.test" {
			linkID = storetest.Must(env.Svc.LinkHistoryOf(env.Ctx, env.Admin, website, pm.Email))[0].Link.ID
		}
	}
	env.Svc.NoteView(linkID, core.Visitor{Addr: "40.94.1.1", UserAgent: "Mozilla/5.0 (compatible; SafeLinks)"}, "HEAD", false)
	if err := env.Svc.FlushViews(env.Ctx); err != nil {
		t.Fatal(err)
	}
	c.key("enter")
	c.waitFor("client@acme.test")
	c.key("/", "client@", "enter", "enter")
	c.waitFor("Link history")
	c.key("7")
	c.waitFor("probably a mail scanner") // drawn once the history is loaded
	out := c.screen()
	requireFits(t, out, 100, 30)
	for _, want := range []string{"created", "redeemed", "viewed", "40.94.1.1 (HEAD)", "#1 active"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
}
