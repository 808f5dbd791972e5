package tui

import "latchkey/tui/components/list"

// The list component (tui/components/list) as the screens use it, drawn
// with the console's styles.
type (
	listView = list.Model
	column   = list.Column
)

var filterKey = list.FilterKey

// oneLine keeps text on its line (see list.OneLine).
func oneLine(s string) string { return list.OneLine(s) }

func newListView(c *Common, cols []column, empty string) *listView {
	return list.New(func() list.Styles {
		st := c.Styles
		return list.Styles{Muted: st.Muted, Warn: st.Warn, Header: st.Header, Selected: st.Selected, IsDark: c.IsDark}
	}, cols, empty)
}
