package tui

import (
	"strings"
	"testing"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"latchkey/core"
	"latchkey/core/coretest"
)

// boom is a screen whose Update panics.
type boom struct{ base }

func (b *boom) Title() string                    { return "Boom" }
func (b *boom) ShortHelp() []key.Binding         { return nil }
func (b *boom) View() string                     { return "" }
func (b *boom) Update(tea.Msg) (screen, tea.Cmd) { panic("kaboom") }

// A panic in a screen is recovered, reported, and the section starts over.
func TestPanicInAScreenIsReported(t *testing.T) {
	env := coretest.New(t)
	a := New(Deps{Service: env.Svc, Actor: core.AdminActor("test"), Where: "test"})
	defer a.Close()
	a.stack = []screen{&boom{base{c: a.c}}}
	a.Update(tea.KeyPressMsg{Code: 'x', Text: "x"})
	if !a.isErr || !strings.Contains(a.status, "Internal error in Boom") || !strings.Contains(a.status, "kaboom") {
		t.Fatalf("status %q", a.status)
	}
	if _, ok := a.top().(*projects); !ok {
		t.Fatalf("the section did not start over: %T", a.top())
	}
}

func TestParseBulk(t *testing.T) {
	lines := parseBulk("ann@example.com\n\n  Ben Ode <BEN@example.com>  \nAnn@Example.com\nnope\nx <y>\n")
	want := []struct{ email, problem string }{
		{"ann@example.com", ""}, {"ben@example.com", ""}, {"", "the same address as line 1"}, {"", "not an email address"}, {"", "not an address like"},
	}
	if len(lines) != len(want) {
		t.Fatalf("%d lines: %+v", len(lines), lines)
	}
	for i, w := range want {
		if lines[i].email != w.email || !strings.Contains(lines[i].problem, w.problem) || (w.problem == "") != (lines[i].problem == "") {
			t.Errorf("line %d: %+v, want %+v", i, lines[i], w)
		}
	}
	if lines[1].name != "Ben Ode" || lines[1].n != 3 {
		t.Errorf("line 2: %+v", lines[1])
	}
}
