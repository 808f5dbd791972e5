package tui

import (
	"strings"
	"testing"

	"latchkey/core"
)

// Issue 13, point 1, in the console: a manager offered the owner's links
// sees why not, and an invitation that would replace the owner's link is
// refused; the owner's link keeps working.
func TestManagerCannotTouchTheOwnersLinkFromTheConsole(t *testing.T) {
	c := startConsoleAs(t, 100, 30, "mia@northwind.test")
	env := c.env
	website := portalID(c, "website-redesign")
	il, err := env.Svc.Invite(env.Ctx, env.Admin, core.InviteInput{OrgID: 1, Email: "owner@northwind.test", Role: core.RoleClient, PortalID: website})
	if err != nil {
		t.Fatal(err)
	}
	// The member menu of the owner: every link action says why not.
	c.key("enter")
	c.waitFor("Olivia Owner")
	c.key("/", "owner@", "enter", "enter")
	c.waitFor("Generate new magic link for portal")
	for range 4 { // generate, deactivate, copy, resend: each refused with its reason
		c.key("enter")
	}
	out := c.screen()
	if !strings.Contains(words(out), "only the owner handles") {
		t.Fatalf("the owner's member menu for a manager:\n%s", out)
	}
	// Invite from the console.
	c = startConsoleAs(t, 100, 30, "mia@northwind.test")
	c.key("i")
	c.waitFor("Send invitation")
	c.key("owner@northwind.test", "ctrl+s")
	c.waitFor("Only the owner handles the links of owners and managers")
	if l, err := env.Svc.Landing(env.Ctx, il.Link.Token, ""); err != nil || l.State != core.LinkActive {
		t.Fatalf("the owner's link after the manager's attempts: %v %v", l.State, err)
	}
	c.screen()
}

// Issue 13, point 6, in the console: inviting an address with an active
// link asks first; no keeps the link, yes replaces it.
func TestConsoleReinviteAsksBeforeReplacing(t *testing.T) {
	c := startConsole(t)
	c.key("i")
	c.waitFor("Send invitation")
	c.key("client@acme.test", "ctrl+s")
	c.waitFor("client@acme.test has an active link to Website Redesign already")
	c.key("n")
	c.waitFor("Nothing was changed")
	if _, err := c.env.Svc.Landing(c.env.Ctx, c.links["website-redesign"], ""); err != nil {
		t.Fatalf("the link after no: %v", err)
	}
	c.key("ctrl+s")
	c.waitFor("Replace it?")
	c.key("y")
	c.waitFor("Their previous link no longer works")
	if _, err := c.env.Svc.Landing(c.env.Ctx, c.links["website-redesign"], ""); err == nil {
		t.Fatal("the link after yes still works")
	}
	if m := c.env.LastMail("client@acme.test", core.MailInvitePortal); m.ToName != "Casey Client" {
		t.Fatalf("the new invitation is to %q, not by the name known", m.ToName)
	}
	c.screen()
}

// Issue 13, point 3, in the console: a look-alike request shows its ASCII
// form and the address it reads as; granting it asks once more.
func TestConsoleLookalikeRequestShowsASCIIAndGrantAsksAgain(t *testing.T) {
	withLookalike := func() *console {
		c := startConsole(t)
		if _, err := c.env.Svc.RequestAccess(c.env.Ctx, "website-redesign", "client@аcme.test", core.Visitor{Addr: "192.0.2.1"}); err != nil {
			t.Fatal(err)
		}
		c.key("3")
		c.waitFor("⚠") // the first request, the newest, is selected: its warning in full under the list
		return c
	}
	c := withLookalike()
	if out := words(c.screen()); !strings.Contains(out, "client@аcme.test (client") ||
		!strings.Contains(out, "⚠ client@аcme.test is not plain ASCII: it is client@xn--cme-5cd.test; looks like client@acme.test.") {
		t.Fatalf("the requests screen shows neither the ASCII form nor the look-alike:\n%s", out)
	}
	c = withLookalike()
	c.key("g")
	c.waitFor("Website Redesign as")
	c.key("enter") // client
	c.waitFor("Grant access to client@аcme.test?")
	c.key("y")
	c.waitFor("Granted")
	// The list is read again after the change (debounced), maybe after the
	// status: wait for it on the screen as drawn now.
	c.waitScreen("the list without the granted request", func(s string) bool {
		return strings.Contains(s, "1 shown") && !strings.Contains(s, "xn--cme-5cd.test")
	})
	if len(c.env.MailsTo("client@аcme.test", core.MailInvitePortal)) != 1 {
		t.Fatal("the confirmed grant sent no invitation")
	}
	out := c.screen()
	if strings.Contains(out, "xn--cme-5cd.test") {
		t.Fatalf("the granted request is still listed:\n%s", out)
	}
}
