package tui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"github.com/charmbracelet/x/ansi"

	"latchkey/core"
	dialogview "latchkey/tui/components/dialog"
	"latchkey/tui/components/theme"
)

// Deps is what a console needs from the running instance.
type Deps struct {
	Service *core.Service
	Actor   core.Actor // the instance admin locally; the key's owner over SSH
	// CatcherOn: the built-in SMTP catcher runs, so the Mail screen shows its inbox.
	CatcherOn bool
	// SSHLogin is the command that opens the SSH console ("ssh -p 2222
	// host"); empty when SSH is off.
	SSHLogin string
	// Where shows how the console was reached ("console", "ssh").
	Where string
	// Notice is shown in the status line at start.
	Notice string
	// Context ends with the session: over SSH the connection's, locally the
	// program's (Run ends it when the program stops). Every command a screen
	// runs passes it on, so that closing the session cancels the work in
	// flight. Nil: work is never cancelled (tests).
	Context context.Context
}

// Common is shared by every screen: dependencies, size, styles and the
// organization being managed. Only the root model changes it, in Update.
type Common struct {
	Deps
	// Ctx is Deps.Context, never nil: every store call and mail action a
	// screen's command makes takes it.
	Ctx           context.Context
	Width, Height int
	IsDark        bool
	Styles        Styles
	Org           core.Org
	Orgs          []core.Org
}

// Styles are the console's styles (tui/components/theme), built for the
// terminal's background.
type Styles = theme.Styles

func newStyles(isDark bool) Styles { return theme.New(isDark) }

// Messages every screen may return.

// errMsg reports a failed operation in the status bar.
type errMsg struct{ err error }

// doneMsg reports a finished operation: a status line, and what the root
// should do next.
type doneMsg struct {
	status    string
	err       error
	clipboard string // copy this with OSC 52
	reload    bool   // reload the current screen
	close     bool   // close the screen that sent it (the one on top)
	back      bool   // close the dialogs on top, back to the page they were opened from
	push      screen // then open this one
	selectKey string // then select this row (by its key) of the screen on top
}

// refreshMsg asks the current screen to load its data again.
type refreshMsg struct{}

// Key bindings shared by the root.
type globalKeys struct {
	Quit, Help, NextTab, PrevTab, Back key.Binding
	SwitchOrg                          key.Binding // shown, and acting, with more than one organization
	Sections                           []key.Binding
}

func newGlobalKeys() globalKeys {
	g := globalKeys{
		Quit:      key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
		Help:      key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "all keys")),
		NextTab:   key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next section")),
		PrevTab:   key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "previous section")),
		Back:      key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
		SwitchOrg: key.NewBinding(key.WithKeys("o"), key.WithHelp("o", "switch organization")),
	}
	for i := range sections {
		n := fmt.Sprint(i + 1)
		g.Sections = append(g.Sections, key.NewBinding(key.WithKeys(n), key.WithHelp(n, sections[i].name)))
	}
	return g
}

func bind(keys, helpKey, desc string) key.Binding {
	return key.NewBinding(key.WithKeys(strings.Split(keys, ",")...), key.WithHelp(helpKey, desc))
}

// Formatting helpers.

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.Local().Format("2 Jan 15:04")
}

func fmtDate(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.Local().Format("2 Jan 2006")
}

// count says n of a thing: "1 event", "2 events", "no events".
func count(n int, one, many string) string {
	switch n {
	case 0:
		return "no " + many
	case 1:
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// fit truncates s to width cells with an ellipsis.
func fit(s string, width int) string {
	if width <= 0 {
		return ""
	}
	return ansi.Truncate(s, width, "…")
}

// center places s in the middle of a w×h area.
func center(s string, w, h int) string { return dialogview.Center(s, w, h) }

// addressCell is an address as a list shows it: with its ASCII form beside
// it when it is not plain ASCII (its domain in punycode).
func addressCell(email string, n core.AddressNote) string {
	if n.ASCII != "" && n.ASCII != email {
		return email + " (" + n.ASCII + ")"
	}
	return email
}
