// Package dialog draws the console's dialogs: a question to confirm, a
// menu of actions (each offered, or refused with the reason), centred in
// the body over the page they belong to.
//
// It owns how a dialog looks and sizes itself; it must not run actions or
// decide which are allowed: the screen gives it the items, each with the
// sentence that says what it does or why it is not available.
package dialog

import (
	"fmt"
	"slices"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"latchkey/tui/components/theme"
)

// Frame is how many columns a dialog's border and padding take.
const Frame = 6

// Center places s in the middle of a w×h area.
func Center(s string, w, h int) string {
	return lipgloss.Place(w, h, lipgloss.Center, lipgloss.Center, s)
}

// Confirm is a yes/no question, with detail under it, in a w×h body. Only
// y says yes: the highlighted button is No.
func Confirm(st theme.Styles, question, detail string, w, h int) string {
	body := st.Label.Render(question)
	if detail != "" {
		body += "\n\n" + lipgloss.NewStyle().Width(min(60, w-8)).Render(detail)
	}
	// Bordered buttons are three lines each: side by side, not concatenated.
	body += "\n\n" + lipgloss.JoinHorizontal(lipgloss.Top, st.Button.Render("y  Yes"), "  ", st.ButtonActive.Render("n  No"))
	return Center(st.Dialog.Render(body), w, h)
}

// Item is one entry of a menu.
type Item struct {
	Label string
	// Hint is shown under the items while the item is chosen: what it
	// does, or why it is not available.
	Hint    string
	Refused bool // drawn faint: not available
}

// Menu is a heading over numbered items, the one at cursor selected, and
// the chosen item's hint under them, in a w×h body. The items and the
// heading set the width, up to what the body leaves; a hint wraps to it
// (at least 56 columns, for a sentence to read).
func Menu(st theme.Styles, heading string, items []Item, cursor, w, h int) string {
	room := max(w-Frame, 10)
	width := lipgloss.Width(heading)
	var lines []string
	for i, it := range items {
		line := ansi.Truncate(fmt.Sprintf(" %d  %s ", i+1, it.Label), room, "…")
		switch {
		case i == cursor:
			line = st.Selected.Render(line)
		case it.Refused:
			line = st.Faint.Render(line)
		}
		width = max(width, lipgloss.Width(line))
		lines = append(lines, line)
	}
	hinted := slices.ContainsFunc(items, func(it Item) bool { return it.Hint != "" })
	if hinted {
		width = max(width, 56)
	}
	width = min(width, room)
	body := lipgloss.NewStyle().Width(width).Render(st.Label.Render(heading)) + "\n\n" + strings.Join(lines, "\n")
	// The hint of the item chosen, in as many lines as the longest hint
	// takes: the dialog keeps its size while the cursor moves.
	wrap := lipgloss.NewStyle().Width(width)
	rows := 0
	for _, it := range items {
		if it.Hint != "" {
			rows = max(rows, lipgloss.Height(wrap.Render(it.Hint)))
		}
	}
	if hinted {
		hint := ""
		if cursor >= 0 && cursor < len(items) && items[cursor].Hint != "" {
			hint = wrap.Render(st.Muted.Render(items[cursor].Hint))
		}
		body += "\n\n" + hint + strings.Repeat("\n", rows-lipgloss.Height(hint))
	}
	return Center(st.Dialog.Render(body), w, h)
}
