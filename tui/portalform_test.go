package tui

import (
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"latchkey/core"
	"latchkey/storage/storetest"
)

// toPortalForm opens the portal form of Website Redesign from Settings and
// waits until it has read the contact choices.
func toPortalForm(c *console) {
	c.key("6")
	c.waitFor("Disclosure")
	c.key("enter")
	c.waitFor("· manager") // the contact, Mia Manager, read
}

func settingsOf(c *console, slug string) core.PortalSettings {
	c.t.Helper()
	return storetest.Must(c.env.Svc.PortalSettingsOf(c.env.Ctx, c.env.Admin, portalID(c, slug)))
}

var ctrlU = tea.KeyPressMsg{Code: 'u', Mod: tea.ModCtrl} // clears a text field before the cursor

// Issue 14 in the console: the portal form sets the upstream, the host
// name, the contact (chosen among the staff) and the welcome text in
// Markdown, in a multi-line editor where enter makes a new line; ctrl+s
// saves every setting, the ones not touched as they were.
func TestPortalFormSetsEverySetting(t *testing.T) {
	c := startConsole(t)
	before := settingsOf(c, "website-redesign")
	toPortalForm(c)
	c.key("tab", "tab", "tab", "tab") // Upstream
	c.waitFor("› Upstream")
	c.key("https://app.acme.example/", "tab", "clients.acme.example", "tab")
	c.waitFor("› Contact")
	c.key("right") // Mia Manager → Sam Member, by email after her
	c.waitFor("Sam Member")
	c.key("tab")
	c.waitFor("› Language")
	c.key("right", "right") // default → en → de
	c.key("tab")
	c.waitFor("enter new line")
	c.key("# Hello", "enter", "enter", "Read **this** first.", "enter")
	c.key("ctrl+s")
	c.waitFor("It fronts https://app.acme.example.")
	got := settingsOf(c, "website-redesign")
	want := before
	want.Upstream, want.Host, want.Contact, want.Language = "https://app.acme.example", "clients.acme.example", "sam@northwind.test", "de"
	want.Welcome = "# Hello\n\nRead **this** first.\n" + before.Welcome
	if got != want {
		t.Fatalf("stored %+v\nwant %+v", got, want)
	}
	c.screen()

	// none clears the contact, and an empty upstream and host clear theirs.
	c = startConsole(t)
	pid := portalID(c, "website-redesign")
	up, host := "https://app.acme.example", "clients.acme.example"
	storetest.Must(c.env.Svc.PatchPortal(c.env.Ctx, c.env.Admin, pid, core.PortalPatch{Upstream: &up, Host: &host}))
	c.key("e") // from Projects, the same form
	c.waitFor("· manager")
	c.key("tab", "tab", "tab", "tab")
	c.tm.Send(ctrlU)
	c.key("tab")
	c.tm.Send(ctrlU)
	c.key("tab", "left", "left") // Mia → Olivia → none
	c.waitFor("1 of 4")
	c.key("ctrl+s")
	c.waitFor("Saved: /p/website-redesign is closed.")
	if got := settingsOf(c, "website-redesign"); got.Upstream != "" || got.Host != "" || got.Contact != "" || got.Welcome != before.Welcome {
		t.Fatalf("stored %+v", got)
	}
}

// A malformed upstream is refused: its reason shows under the field, the
// form stays open with what was typed, and nothing is stored.
func TestPortalFormShowsAnErrorUnderItsField(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {100, 30}} {
		c := startConsoleSized(t, size[0], size[1])
		before := settingsOf(c, "website-redesign")
		c.key("e")
		c.waitFor("· manager")
		c.key("tab", "tab", "tab", "tab", "ftp://x", "tab", "clients.acme.example", "ctrl+s")
		c.waitFor("allowed")
		out := c.screen()
		requireFits(t, out, size[0], size[1])
		lines := strings.Split(out, "\n")
		for i, l := range lines {
			if strings.Contains(l, "› Upstream") {
				if !strings.Contains(l, "ftp://x") || !strings.Contains(words(strings.Join(lines[i+1:i+3], "\n")), `"ftp://x" is a ftp: address; only http:// and https:// are allowed`) {
					t.Errorf("the reason is not under the field:\n%s", out)
				}
				break
			}
			if i == len(lines)-1 {
				t.Errorf("the focus did not go to the upstream:\n%s", out)
			}
		}
		if got := settingsOf(c, "website-redesign"); got != before {
			t.Fatalf("stored %+v, was %+v", got, before)
		}
	}
}

// A host name another portal has is refused under the Host name field.
func TestPortalFormPlacesAConflictUnderItsField(t *testing.T) {
	c := startConsole(t)
	host := "clients.acme.example"
	storetest.Must(c.env.Svc.PatchPortal(c.env.Ctx, c.env.Admin, portalID(c, "brand-guidelines"), core.PortalPatch{Host: &host}))
	toPortalForm(c)
	c.key("tab", "tab", "tab", "tab", "tab", host, "tab", "ctrl+s")
	c.waitFor("belongs to the portal")
	out := c.screen()
	i := strings.Index(out, "› Host name")
	if i < 0 || !strings.Contains(words(out[i:]), "clients.acme.example The host name clients.acme.example belongs to the portal /p/brand-guidelines") {
		t.Fatalf("the conflict is not under Host name:\n%s", out)
	}
}

// esc on a form with changes asks first; only y discards them.
func TestPortalFormAsksBeforeDiscarding(t *testing.T) {
	c := startConsole(t)
	toPortalForm(c)
	c.key(" and more", "esc")
	c.waitFor("Discard")
	c.key("enter") // out of habit: keeps the input
	c.screen()
	app := c.tm.FinalModel(t).(*App)
	if f, ok := app.top().(*portalForm); !ok || f.title.Value() != "Website Redesign and more" || app.status.Text() != "" {
		t.Fatalf("after enter: %T, status %q", app.top(), app.status.Text())
	}

	c = startConsole(t)
	toPortalForm(c)
	c.key(" and more", "esc")
	c.waitFor("Discard")
	c.key("y")
	c.waitFor("Nothing was changed.")
	if got := settingsOf(c, "website-redesign"); got.Title != "Website Redesign" {
		t.Fatalf("title %q", got.Title)
	}
	if out := c.screen(); !strings.Contains(out, "enter edit portal") {
		t.Fatalf("not back on Settings:\n%s", out)
	}

	// Without changes esc closes at once.
	c = startConsole(t)
	toPortalForm(c)
	c.key("esc")
	c.waitFor("Nothing was changed.")
	c.screen()
}

// A contact who is no longer of the staff (now a client) is not offered:
// the form says so, and saving sets none, which core accepts.
func TestPortalFormSaysTheContactLeftTheStaff(t *testing.T) {
	c := startConsole(t)
	sam := c.env.User("sam@northwind.test")
	ref := storetest.Must(c.env.Svc.PortalBySlug(c.env.Ctx, c.env.Admin, "onboarding"))
	if err := c.env.Svc.ChangeRole(c.env.Ctx, c.env.Admin, ref.Org.ID, sam.ID, core.RoleClient, time.Time{}); err != nil {
		t.Fatal(err)
	}
	c.key("down", "down", "e") // Onboarding Kit
	c.waitFor("no longer of the staff")
	c.key("ctrl+s")
	c.waitFor("Saved: /p/onboarding")
	if got := settingsOf(c, "onboarding"); got.Contact != "" {
		t.Fatalf("contact %q", got.Contact)
	}
}
