package tui

import (
	"fmt"
	"latchkey/core"
	"slices"
	"strings"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// chrome is how many lines the header, tabs, crumb, status and help take.
func (a *App) chrome() int {
	return 3 + len(a.statusLines()) + a.helpHeight() // header, tabs, crumb; status; help
}

// helpHeight is how many lines the help takes: the bar's one, or all of ?.
func (a *App) helpHeight() int {
	if !a.help.ShowAll {
		return 1
	}
	return lipgloss.Height(a.helpView())
}

// minBody is the fewest lines the screen's body keeps for itself.
const minBody = 3

// statusLines is the status line's text wrapped to the terminal's width,
// at word boundaries: a long message takes the rows it needs, which the
// body gives up, rather than being cut. While work runs, its spinner shows
// in the first of those rows.
func (a *App) statusLines() []string {
	width := a.c.Width - 2
	lines := wrapWords(a.status.Text(), width)
	// What the help and the body need comes first; a message longer than
	// the rest (not one the console writes) ends with "…".
	if room := max(a.c.Height-3-a.helpHeight()-minBody, 1); len(lines) > room {
		lines = lines[:room]
		lines[room-1] = fit(lines[room-1]+" …", width)
	}
	st := a.c.Styles
	for i, l := range lines {
		if a.status.IsError() {
			lines[i] = st.Bad.Render(l)
		}
	}
	if a.inflight > 0 {
		lines[0] = a.spinner.View() + " " + a.busy + "…"
		for i := 1; i < len(lines); i++ {
			lines[i] = ""
		}
	}
	return lines
}

// wrapWords breaks text into lines of at most width cells at its spaces;
// only a word longer than a line is broken. It is one empty line for "".
func wrapWords(text string, width int) []string {
	var lines []string
	for _, para := range strings.Split(text, "\n") {
		line := ""
		for _, w := range strings.Fields(para) {
			for ansi.StringWidth(w) > width { // an address or a URL longer than the line
				if line != "" {
					lines, line = append(lines, line), ""
				}
				lines, w = append(lines, ansi.Truncate(w, width, "")), ansi.TruncateLeft(w, width, "")
			}
			switch {
			case line == "":
				line = w
			case ansi.StringWidth(line)+1+ansi.StringWidth(w) <= width:
				line += " " + w
			default:
				lines, line = append(lines, line), w
			}
		}
		lines = append(lines, line)
	}
	return lines
}

func (a *App) bodySize() tea.WindowSizeMsg {
	return tea.WindowSizeMsg{Width: max(a.c.Width-2, 20), Height: max(a.c.Height-a.chrome(), minBody)}
}

// View composes the header, section tabs, the screen, status and help.
func (a *App) View() tea.View {
	if a.frame == "" {
		a.frame = a.render()
	}
	v := tea.NewView(a.frame)
	v.AltScreen = true
	v.WindowTitle = "latchkey"
	if a.c.Org.Name != "" {
		v.WindowTitle = "latchkey · " + a.c.Org.Name
	}
	return v
}

func (a *App) render() string {
	st := a.c.Styles
	w := a.c.Width
	if a.tooSmall() {
		msg := fmt.Sprintf("latchkey needs at least 60×16; this terminal is %d×%d.", w, a.c.Height)
		if t := a.status.Text(); t != "" {
			msg += "\n\n" + t
		}
		return center(st.Warn.Width(max(min(w-2, lipgloss.Width(msg)), 10)).Render(msg), w, a.c.Height)
	}
	who := a.c.Actor.Email
	if a.c.Actor.Admin {
		who = "admin"
	}
	left := st.Title.Render("latchkey")
	if a.c.Org.Name != "" {
		left += "  " + st.Crumb.Render(a.c.Org.Name)
		if len(a.c.Orgs) > 1 {
			at := slices.IndexFunc(a.c.Orgs, func(o core.Org) bool { return o.ID == a.c.Org.ID }) + 1
			left += st.Muted.Render(fmt.Sprintf("  (%d of %d · o switches)", at, len(a.c.Orgs)))
		}
	}
	right := st.Muted.Render(who + " · " + a.c.Where)
	gap := max(w-2-lipgloss.Width(left)-lipgloss.Width(right), 1)
	header := left + strings.Repeat(" ", gap) + right

	var tabs []string
	for i, s := range a.sections {
		label := fmt.Sprintf("%d %s", i+1, s.name)
		if i == a.section {
			tabs = append(tabs, st.TabActive.Render(label))
		} else {
			tabs = append(tabs, st.Tab.Render(label))
		}
	}
	tabLine := fit(strings.Join(tabs, ""), w-2)

	var crumbs []string
	for _, s := range a.stack {
		if t := s.Title(); t != "" {
			crumbs = append(crumbs, t)
		}
	}
	crumb := st.Crumb.Render(fit(strings.Join(crumbs, " › "), w-2))

	body := ""
	bs := a.bodySize()
	if s := a.top(); s != nil {
		body = s.View()
	} else if !a.ready {
		body = st.Muted.Render("Loading…")
	}

	// Compose by hand, line by line: the renderer takes lines of any width
	// up to the terminal's, and styling the whole screen again was the
	// largest cost of a frame.
	var b strings.Builder
	b.Grow((w + 16) * a.c.Height)
	line := func(s string) {
		b.WriteByte(' ')
		b.WriteString(ansi.Truncate(s, w-2, "…"))
		b.WriteByte('\n')
	}
	line(header)
	line(tabLine)
	line(crumb)
	lines := strings.Split(body, "\n")
	for i := 0; i < bs.Height; i++ {
		if i < len(lines) {
			line(lines[i])
		} else {
			b.WriteByte('\n')
		}
	}
	for _, l := range a.statusLines() {
		line(l)
	}
	helpLines := strings.Split(a.helpView(), "\n")
	for i, h := range helpLines {
		b.WriteByte(' ')
		b.WriteString(ansi.Truncate(h, w-2, "…"))
		if i < len(helpLines)-1 {
			b.WriteByte('\n')
		}
	}
	return b.String()
}
