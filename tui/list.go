package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/table"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
)

// column describes one column of a list.
type column struct {
	title string
	min   int // width it needs
	flex  int // share of the width left over
	drop  int // 0: always shown; when narrow, the highest drop goes first
}

// listView is a table with type-to-filter, used by every list screen. Its
// rows keep their index into the screen's data, whatever the filter shows.
type listView struct {
	c         *Common
	cols      []column
	rows      [][]string
	hay       []string // lower-cased row text, for filtering
	visible   []int    // indexes of the rows shown
	table     table.Model
	filter    textinput.Model
	filtering bool // typing into the filter
	width     int
	height    int
	empty     string // shown when there are no rows at all
}

var filterKey = key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter"))

func newListView(c *Common, cols []column, empty string) *listView {
	l := &listView{c: c, cols: cols, empty: empty}
	l.table = table.New(table.WithFocused(true))
	l.filter = textinput.New()
	l.filter.Prompt = "/ "
	l.filter.Placeholder = "type to filter"
	l.restyle()
	return l
}

func (l *listView) restyle() {
	st := table.DefaultStyles()
	st.Header = l.c.Styles.Header.Padding(0, 1)
	st.Selected = l.c.Styles.Selected
	l.table.SetStyles(st)
	l.filter.SetStyles(textinput.DefaultStyles(l.c.IsDark))
}

// setRows replaces the data, keeping the filter and, where it can, the cursor.
func (l *listView) setRows(rows [][]string) {
	keep := l.selected()
	l.rows = rows
	l.hay = make([]string, len(rows))
	for i, r := range rows {
		l.hay[i] = strings.ToLower(strings.Join(r, "\x00"))
	}
	l.apply()
	if keep >= 0 {
		l.selectIndex(keep)
	}
}

// apply filters the rows by the filter's words.
func (l *listView) apply() {
	words := strings.Fields(strings.ToLower(l.filter.Value()))
	l.visible = l.visible[:0]
	for i, h := range l.hay {
		ok := true
		for _, w := range words {
			if !strings.Contains(h, w) {
				ok = false
				break
			}
		}
		if ok {
			l.visible = append(l.visible, i)
		}
	}
	shown := make([]table.Row, len(l.visible))
	for i, idx := range l.visible {
		shown[i] = l.rows[idx]
	}
	l.table.SetRows(shown)
	if l.table.Cursor() >= len(shown) {
		l.table.SetCursor(max(len(shown)-1, 0))
	}
}

// selected is the index (into the rows given) of the selected row, or -1.
func (l *listView) selected() int {
	c := l.table.Cursor()
	if c < 0 || c >= len(l.visible) {
		return -1
	}
	return l.visible[c]
}

func (l *listView) selectIndex(idx int) {
	for i, v := range l.visible {
		if v == idx {
			l.table.SetCursor(i)
			return
		}
	}
}

// resize lays the columns out for the width, dropping the least needed
// ones when the terminal is narrow.
func (l *listView) resize(w, h int) {
	l.width, l.height = w, h
	const pad = 2 // the table's cell padding
	shown := make([]bool, len(l.cols))
	need := 0
	for i, c := range l.cols {
		shown[i] = true
		need += c.min + pad
	}
	for need > w {
		worst := -1
		for i, c := range l.cols {
			if shown[i] && c.drop > 0 && (worst < 0 || c.drop > l.cols[worst].drop) {
				worst = i
			}
		}
		if worst < 0 {
			break
		}
		shown[worst] = false
		need -= l.cols[worst].min + pad
	}
	extra, flex := max(w-need, 0), 0
	for i, c := range l.cols {
		if shown[i] {
			flex += c.flex
		}
	}
	cols := make([]table.Column, len(l.cols))
	given := 0
	for i, c := range l.cols {
		if !shown[i] {
			continue
		}
		width := c.min
		if flex > 0 && c.flex > 0 {
			add := extra * c.flex / flex
			width += add
			given += add
		}
		cols[i] = table.Column{Title: c.title, Width: width}
	}
	// Give rounding leftovers to the first flexible column.
	for i, c := range l.cols {
		if shown[i] && c.flex > 0 {
			cols[i].Width += extra - given
			break
		}
	}
	l.table.SetColumns(cols)
	l.table.SetWidth(w)
	th := h - 1 // the filter line
	l.table.SetHeight(max(th, 3))
	// The filter line is "/ " and the input, then "   N of M" (up to 17
	// columns for 10,000 rows).
	l.filter.SetWidth(max(w-3-17, 10))
}

func (l *listView) capturing() bool { return l.filtering || l.filter.Value() != "" }

// update handles the filter's keys; it reports whether it used the key.
func (l *listView) update(msg tea.Msg) (tea.Cmd, bool) {
	if k, ok := msg.(tea.KeyPressMsg); ok {
		switch {
		case l.filtering:
			switch k.String() {
			case "esc":
				l.filtering = false
				l.filter.SetValue("")
				l.filter.Blur()
				l.apply()
				return nil, true
			case "enter", "down", "up":
				l.filtering = false
				l.filter.Blur()
				if k.String() == "enter" {
					return nil, true
				}
			default:
				var cmd tea.Cmd
				l.filter, cmd = l.filter.Update(msg)
				l.apply()
				return cmd, true
			}
		case key.Matches(k, filterKey):
			l.filtering = true
			return l.filter.Focus(), true
		case k.String() == "esc" && l.filter.Value() != "":
			l.filter.SetValue("")
			l.apply()
			return nil, true
		}
	}
	return nil, false
}

// navigate moves the selection (arrows, page keys, home and end).
func (l *listView) navigate(msg tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	l.table, cmd = l.table.Update(msg)
	return cmd
}

func (l *listView) view() string {
	var top string
	switch {
	case l.filtering || l.filter.Value() != "":
		top = l.filter.View() + l.c.Styles.Muted.Render(fmt.Sprintf("   %d of %d", len(l.visible), len(l.rows)))
	default:
		top = l.c.Styles.Muted.Render(fmt.Sprintf("%d shown · / to filter", len(l.rows)))
	}
	if len(l.rows) == 0 {
		return lipgloss.JoinVertical(lipgloss.Left, top, "", l.c.Styles.Muted.Render(l.empty))
	}
	if len(l.visible) == 0 {
		return lipgloss.JoinVertical(lipgloss.Left, top, "", l.c.Styles.Muted.Render("Nothing matches the filter. esc clears it."))
	}
	return lipgloss.JoinVertical(lipgloss.Left, top, l.table.View())
}
