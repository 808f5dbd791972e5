// Package detail is the console's detail pane: a few labelled fields and,
// under a rule, a text that scrolls (a caught message, a delivery's last
// error, an audit event), wrapped to the width and saying when more follows.
//
// It owns the layout and the scrolling; it must not load what it shows:
// a screen gives it the fields and the text.
package detail

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"latchkey/tui/components/list"
	"latchkey/tui/components/theme"
)

// Model is a pane of labelled fields over a scrolling text.
type Model struct {
	head [][2]string // label, value
	body string
	w    int
	vp   viewport.Model
}

// New shows head (label, value pairs) over body.
func New(head [][2]string, body string) Model {
	m := Model{head: head, body: body, vp: viewport.New()}
	m.vp.SetContent(body)
	return m
}

// Resize lays the pane out for a w×h body.
func (m *Model) Resize(w, h int) {
	m.w = w
	m.vp.SetWidth(w)
	m.vp.SetHeight(max(h-len(m.head)-1, 3))
	m.vp.SetContent(ansi.Wrap(m.body, max(w, 10), " "))
}

// Update scrolls the text.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	m.vp, cmd = m.vp.Update(msg)
	return cmd
}

// View draws the fields, the rule and the part of the text in view.
func (m *Model) View(st theme.Styles) string {
	width := 0
	for _, h := range m.head {
		width = max(width, len(h[0]))
	}
	var b strings.Builder
	for _, h := range m.head {
		b.WriteString(st.Label.Render(h[0] + strings.Repeat(" ", width-len(h[0])+1)))
		b.WriteString(list.OneLine(h[1]) + "\n")
	}
	body := m.vp.View()
	if !m.vp.AtBottom() { // say that more follows, on the last line
		lines := strings.Split(body, "\n")
		lines[len(lines)-1] = st.Muted.Render(fmt.Sprintf("↓ more below (%d%%; pgdn)", int(m.vp.ScrollPercent()*100)))
		body = strings.Join(lines, "\n")
	}
	return b.String() + st.Faint.Render(strings.Repeat("─", max(m.w, 1))) + "\n" + body
}
