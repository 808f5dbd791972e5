// Package help lays out the console's keys: the help bar, cut to the keys
// that fit whole, and the full help that ? shows, its columns side by side
// as far as the width goes and in rows below.
//
// It owns the layout only. It must not decide which keys a screen has or
// what they do (screens and the root give it their bindings), nor handle
// key presses.
package help

import (
	"slices"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// Fit is the help bar's keys for width: own (a screen's, the most
// important first) then root (the console's), leaving out own's last keys
// first, then root's, until the bar fits, so that it is never cut with
// "…". At least one key stays.
func Fit(own, root []key.Binding, width int) []key.Binding {
	for {
		keys := append(slices.Clip(own), root...)
		if len(keys) <= 1 || BarWidth(keys) <= width {
			return keys
		}
		if len(own) > 1 {
			own = own[:len(own)-1]
		} else {
			root = root[:len(root)-1]
		}
	}
}

// BarWidth is how wide help.ShortHelpView draws keys: "key desc" items
// joined by " • " (its styles add colour, no width).
func BarWidth(keys []key.Binding) int {
	w, n := 0, 0
	for _, k := range keys {
		if k.Enabled() {
			w += ansi.StringWidth(k.Help().Key) + 1 + ansi.StringWidth(k.Help().Desc)
			n++
		}
	}
	return w + 3*max(n-1, 0)
}

// Bar draws the help bar.
func Bar(h help.Model, keys []key.Binding) string {
	h.SetWidth(0)
	return h.ShortHelpView(keys)
}

// All draws every column of keys: side by side as far as width goes, the
// rest in rows below, a blank line between rows; none is cut.
func All(h help.Model, columns [][]key.Binding, width int) string {
	h.SetWidth(0)
	const sep = "    "
	var rows, row []string
	used := 0
	for _, g := range columns {
		col := h.FullHelpView([][]key.Binding{g})
		if col == "" {
			continue
		}
		w := lipgloss.Width(col)
		if len(row) > 0 && used+len(sep)+w > width {
			rows = append(rows, lipgloss.JoinHorizontal(lipgloss.Top, row...))
			row, used = nil, 0
		}
		if len(row) > 0 {
			row, used = append(row, sep), used+len(sep)
		}
		row, used = append(row, col), used+w
	}
	if len(row) > 0 {
		rows = append(rows, lipgloss.JoinHorizontal(lipgloss.Top, row...))
	}
	return strings.Join(rows, "\n\n")
}
