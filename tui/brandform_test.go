package tui

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
)

// Issue 16, part 1, in the console: Settings › b edits the brand; a colour
// core refuses is named under its field with the contrast, and nothing is
// stored; a manager is shown why the brand is not theirs to change.
func TestBrandFormInSettings(t *testing.T) {
	c := startConsole(t)
	c.key("6")
	c.waitFor("b brand")
	c.key("b")
	c.waitFor("Save brand")
	c.key("tab") // the accent
	for range 8 {
		c.tm.Send(tea.KeyPressMsg{Code: tea.KeyBackspace})
	}
	c.key("#ffcc00", "ctrl+s")
	c.waitFor("contrast of 1.")
	out := c.screen()
	requireFits(t, out, 100, 30)
	if !strings.Contains(words(out), "contrast of 1.5:1") {
		t.Fatalf("the accent's refusal is not under its field:\n%s", out)
	}
	orgs, err := c.env.Svc.Orgs(c.env.Ctx, c.env.Admin)
	if err != nil || orgs[0].Accent != "#0b6e4f" {
		t.Fatalf("a refused accent was stored: %+v %v", orgs, err)
	}

	m := startConsoleAs(t, 100, 30, "mia@northwind.test")
	m.key("6")
	m.waitFor("b brand")
	m.key("b")
	m.waitFor("Not available")
	if out := m.screen(); !strings.Contains(words(out), "Only the owner changes the organization's name and brand") {
		t.Fatalf("a manager's brand form:\n%s", out)
	}
}
