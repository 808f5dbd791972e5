package tui

import (
	"slices"
	"strings"
	"testing"
	"time"

	"latchkey/core"
	"latchkey/storage/storetest"
)

// eventually polls cond until it holds, or fails the test after a while.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("never: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// toContent opens Website Redesign's content from Projects.
func toContent(c *console) {
	c.key("c")
	c.waitFor("Staging site")
}

func resourceTitles(c *console, slug string) []string {
	var out []string
	for _, r := range storetest.Must(c.env.Svc.Resources(c.env.Ctx, c.env.Admin, portalID(c, slug))) {
		out = append(out, r.Title)
	}
	return out
}

// Issue 14 in the console: a portal's resources are added (title, URL,
// note), moved up and down (K, J) and removed (d, confirmed), each through
// core, from the Portal content screen (c on Projects or on the members).
func TestPortalContentResources(t *testing.T) {
	c := startConsole(t)
	demo := resourceTitles(c, "website-redesign")
	c.key("enter")
	c.waitFor("cfo@acme.test")
	c.key("c") // from the members, as from Projects
	c.waitFor("Staging site")
	c.key("n")
	c.waitFor("A titled link")
	c.key("Brief", "tab", "https://docs.example.com/brief", "tab", "what to read first", "ctrl+s")
	c.waitFor("Added")
	list := storetest.Must(c.env.Svc.Resources(c.env.Ctx, c.env.Admin, portalID(c, "website-redesign")))
	if n := len(list); n != len(demo)+1 || list[n-1] != (core.Resource{ID: list[n-1].ID, PortalID: list[n-1].PortalID, Position: n, Title: "Brief",
		URL: "https://docs.example.com/brief", Note: "what to read first", CreatedAt: list[n-1].CreatedAt, CreatedBy: list[n-1].CreatedBy}) {
		t.Fatalf("resources %+v", list)
	}
	// The new resource is selected: K moves it up, twice quickly, J down.
	c.key("K", "K")
	with := func(at int) []string { return slices.Insert(slices.Clone(demo), at, "Brief") }
	eventually(t, "Brief moved up twice", func() bool { return slices.Equal(resourceTitles(c, "website-redesign"), with(len(demo)-2)) })
	c.key("J")
	eventually(t, "Brief moved down", func() bool { return slices.Equal(resourceTitles(c, "website-redesign"), with(len(demo)-1)) })
	c.key("d")
	c.waitFor("Remove")
	c.key("y")
	c.waitFor("Removed")
	if got := resourceTitles(c, "website-redesign"); !slices.Equal(got, demo) {
		t.Fatalf("after removing: %q", got)
	}
	var actions []string
	for _, e := range storetest.Must(c.env.Svc.Audit(c.env.Ctx, c.env.Admin, core.AuditQuery{OrgID: 1, Limit: 10})) {
		if strings.HasPrefix(e.Action, "resource.") {
			actions = append(actions, e.Action)
		}
	}
	if want := []string{"resource.removed", "resource.moved", "resource.moved", "resource.moved", "resource.added"}; !slices.Equal(actions, want) {
		t.Fatalf("audit %q", actions)
	}
	out := c.screen()
	if strings.Contains(out, "docs.example.com/brief") {
		t.Fatalf("the list still shows the removed resource:\n%s", out)
	}
}

// K on the first resource and J on the last say so, and move nothing; a
// malformed address is refused under its field, and nothing is added.
func TestPortalContentRefusesWhatCannotBe(t *testing.T) {
	c := startConsole(t)
	demo := resourceTitles(c, "website-redesign")
	toContent(c)
	c.key("K")
	c.waitFor("first")
	c.key("n")
	c.waitFor("A titled link")
	c.key("Brief", "tab", "ftp://docs.example.com/brief", "ctrl+s")
	c.waitFor("allowed")
	out := c.screen()
	i := strings.Index(out, "› Address")
	if i < 0 || !strings.Contains(words(out[i:]), `ftp://docs.example.com/brief "ftp://docs.example.com/brief" is a ftp: address; only http:// and https:// are allowed`) {
		t.Fatalf("the reason is not under the address:\n%s", out)
	}
	if got := resourceTitles(c, "website-redesign"); !slices.Equal(got, demo) {
		t.Fatalf("resources %q", got)
	}
}

// Issue 14 in the console: an update is posted in a multi-line editor and
// emailed only when asked, then to exactly the people with access (or an
// invitation not used yet).
func TestPortalContentPostsUpdates(t *testing.T) {
	for _, email := range []bool{false, true} {
		c := startConsole(t)
		pid := portalID(c, "website-redesign")
		// Someone invited, not in yet, gets it too.
		storetest.Must(c.env.Svc.Invite(c.env.Ctx, c.env.Admin, core.InviteInput{OrgID: 1, Email: "new@acme.test", Role: core.RoleClient, PortalID: pid}))
		var access []string
		for _, pm := range storetest.Must(c.env.Svc.PortalMembers(c.env.Ctx, c.env.Admin, pid)) {
			if w := pm.AccessWord(); w == core.AccessYes || w == core.AccessInvited {
				access = append(access, pm.Email)
			}
		}
		slices.Sort(access)
		if len(access) < 3 || !slices.Contains(access, "new@acme.test") {
			t.Fatalf("people with access %q", access)
		}
		toContent(c)
		c.key("v")
		c.waitFor("Posted")
		c.key("n")
		c.waitFor(count(len(access), "person", "people") + ")")
		c.key("Round 3 is **up**.", "enter", "enter", "Comments by Friday, please.")
		if email {
			c.key("tab", " ") // space ticks the email choice
		}
		c.key("ctrl+s")
		c.waitFor("emailed") // "…emailed it to 4 people.", or "…not emailed."
		ups := storetest.Must(c.env.Svc.Updates(c.env.Ctx, c.env.Admin, pid))
		want := 0
		if email {
			want = len(access)
		}
		if len(ups) != 3 || ups[0].Body != "Round 3 is **up**.\n\nComments by Friday, please." || ups[0].Emailed != want {
			t.Fatalf("email %v: updates %+v", email, ups)
		}
		var to []string
		for _, m := range c.env.Messages() {
			if m.Kind == core.MailPortalUpdate {
				to = append(to, m.To)
			}
		}
		slices.Sort(to)
		if (email && !slices.Equal(to, access)) || (!email && len(to) != 0) {
			t.Fatalf("email %v: the update was mailed to %q; people with access %q", email, to, access)
		}
		if out := words(c.screen()); email && !strings.Contains(out, "emailed it to "+count(len(access), "person", "people")) ||
			!email && !strings.Contains(out, "it was not emailed") {
			t.Fatalf("email %v: the status says %s", email, out)
		}
	}
}

// The updates are listed newest first, each with its date, its author and
// to how many it was emailed.
func TestPortalContentListsUpdatesNewestFirst(t *testing.T) {
	c := startConsole(t)
	pid := portalID(c, "website-redesign")
	mia := core.UserActor(c.env.User("mia@northwind.test"), "ssh:test")
	storetest.Must(c.env.Svc.PostUpdate(c.env.Ctx, mia, pid, "Launch next week.", true))
	toContent(c)
	c.key("v")
	c.waitFor("Launch")
	out := c.screen()
	rows := []string{"2 Mar 2026 Mia Manager Launch next week. 3 people", "28 Feb 2026 Olivia Owner Round 2 is up", "21 Feb 2026 Mia Manager Round 1"}
	at := -1
	for _, r := range rows {
		i := strings.Index(words(out), r)
		if i <= at {
			t.Fatalf("%q is not listed after the newer updates:\n%s", r, out)
		}
		at = i
	}
}

// For a portal in front of an upstream the content screen says that its
// clients see the upstream, not the built-in page, and still lets the
// content be edited.
func TestPortalContentSaysAnUpstreamHidesIt(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {100, 30}} {
		c := startConsoleSized(t, size[0], size[1])
		up := "https://app.acme.example"
		storetest.Must(c.env.Svc.PatchPortal(c.env.Ctx, c.env.Admin, portalID(c, "website-redesign"), core.PortalPatch{Upstream: &up}))
		toContent(c)
		c.key("n")
		c.waitFor("A titled link")
		c.key("Brief", "tab", "https://docs.example.com/brief", "ctrl+s")
		c.waitFor("Added")
		out := c.screen()
		requireFits(t, out, size[0], size[1])
		if !strings.Contains(words(out), "⚠ /p/website-redesign fronts https://app.acme.example: clients see that app, not the built-in page (welcome text, resources, updates). They can still be edited here") {
			t.Errorf("no word of the upstream:\n%s", out)
		}
		if !strings.Contains(out, "Brief") {
			t.Errorf("the resource added is not listed:\n%s", out)
		}
	}
}
