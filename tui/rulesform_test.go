package tui

import (
	"testing"
	"time"

	"latchkey/core"
	"latchkey/storage/storetest"
)

func rulesOf(c *console, slug string) core.AccessRules {
	c.t.Helper()
	return storetest.Must(c.env.Svc.PortalBySlug(c.env.Ctx, c.env.Admin, slug)).Portal.Rules
}

// Settings › portals › r sets a portal's access rules; a value core does
// not take is named under its field and nothing is stored.
func TestRulesFormSetsAndRefuses(t *testing.T) {
	c := startConsole(t)
	c.key("6")
	c.waitFor("Disclosure")
	c.key("r")
	c.waitFor("Limits on the links") // read
	c.tm.Send(ctrlU)                 // Link lifetime: none → 30d
	c.key("30d", "tab", "tab")       // Link uses
	c.tm.Send(ctrlU)
	c.key("0", "tab", "tab", "tab") // Auto-grant
	c.tm.Send(ctrlU)
	c.key("client.test=owner", "ctrl+s")
	c.waitFor("0 uses would stop every link")
	if got := rulesOf(c, "website-redesign"); !got.Equal(core.AccessRules{}) {
		t.Fatalf("a refused save stored %+v", got)
	}
	// The refused field has the keyboard.
	c.tm.Send(ctrlU)
	c.key("5", "ctrl+s")
	c.waitFor("never owner or manager")
	c.tm.Send(ctrlU)
	c.key("client.test=member", "ctrl+s")
	c.waitFor("apply to its links now")
	want := core.AccessRules{LinkLifetime: 30 * 24 * time.Hour, LinkUses: 5, AutoGrant: []core.DomainGrant{{Domain: "client.test", Role: core.RoleMember}}}
	if got := rulesOf(c, "website-redesign"); !got.Equal(want) {
		t.Fatalf("stored %+v, want %+v", got, want)
	}
}
