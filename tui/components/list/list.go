package list

import (
	"fmt"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/table"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// Column describes one column of a list.
type Column struct {
	Title string
	Min   int // width it needs
	Flex  int // share of the width left over
	Drop  int // 0: always shown; when narrow, the highest drop goes first
}

// Styles are what a list is drawn with: the console's, for the terminal's
// background.
type Styles struct {
	Muted, Warn, Header, Selected lipgloss.Style
	IsDark                        bool
}

// Model is a table with type-to-filter, used by every list screen. Its
// rows keep their index into the screen's data, whatever the filter shows.
//
// It draws the table itself: the columns are laid out here already, and
// drawing them as a few whole lines (a header, its rule, one string per
// row) costs a fraction of styling every cell, which is most of what a
// console's first frame over SSH used to spend in this package.
type Model struct {
	styles    func() Styles // read at every draw: the console restyles when the background is known
	cols      []Column
	widths    []int // each column's width from the last resize; 0: hidden
	rows      [][]string
	keys      []string // what each row is about (an id, an email): the selection follows it
	want      string   // the key of the row last chosen; kept while a filter hides it
	pending   string   // a key to select once its row is listed (see choose)
	hay       []string // each row's text as the filter compares it; nil until it is used
	visible   []int    // indexes of the rows shown
	cursor    int      // index into visible
	offset    int      // the first of visible on screen
	nav       table.KeyMap
	filter    textinput.Model
	filtering bool // typing into the filter
	width     int
	height    int
	empty     string // shown when there are no rows at all
	Note      string // said on the top line, after the count
}

// FilterKey starts the filter.
var FilterKey = key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter"))

// New is a list of cols, saying empty when it has no rows.
func New(styles func() Styles, cols []Column, empty string) *Model {
	l := &Model{styles: styles, cols: cols, empty: empty, nav: table.DefaultKeyMap()}
	l.filter = textinput.New()
	l.filter.Prompt = "/ "
	l.filter.Placeholder = "type to filter"
	l.Restyle()
	return l
}

func (l *Model) Restyle() {
	l.filter.SetStyles(textinput.DefaultStyles(l.styles().IsDark))
}

// setRows replaces the data; keys[i] is what rows[i] is about. The filter
// stays, and so does the selection: on the same row when it is still there
// (new rows above it do not move it onto someone else), else in its place.
func (l *Model) SetRows(rows [][]string, keys []string) {
	l.rows, l.keys, l.hay = rows, keys, nil
	l.apply()
}

// choose selects the row with key, now or, for a row not listed yet (a
// project just created, before the list reloads), once it is; unless the
// person moves the selection first.
func (l *Model) Choose(key string) {
	l.pending = key
	l.apply()
}

// apply filters the rows by the filter's words, then selects the chosen row
// if the filter shows it.
func (l *Model) apply() {
	words := strings.Fields(fold(l.filter.Value()))
	if len(words) > 0 && l.hay == nil { // the rows' text, folded once the filter is first used
		l.hay = make([]string, len(l.rows))
		for i, r := range l.rows {
			l.hay[i] = fold(strings.Join(r, "\x00"))
		}
	}
	l.visible = l.visible[:0]
	for i := range l.rows {
		ok := true
		for _, w := range words {
			if !strings.Contains(l.hay[i], w) {
				ok = false
				break
			}
		}
		if ok {
			l.visible = append(l.visible, i)
		}
	}
	l.place(l.cursor)
	if l.pending != "" && slices.Contains(l.keys, l.pending) {
		l.want, l.pending = l.pending, ""
		if !slices.ContainsFunc(l.visible, func(v int) bool { return l.keys[v] == l.want }) {
			l.ClearFilter() // it hides the row chosen for the person
			return
		}
	}
	for i, v := range l.visible {
		if l.keys[v] == l.want {
			l.place(i)
			return
		}
	}
	if !slices.Contains(l.keys, l.want) { // gone, or none chosen yet: follow the row in its place
		if r := l.Selected(); r >= 0 {
			l.want = l.keys[r]
		}
	}
}

// selected is the index (into the rows given) of the selected row, or -1.
func (l *Model) Selected() int {
	if l.cursor < 0 || l.cursor >= len(l.visible) {
		return -1
	}
	return l.visible[l.cursor]
}

// bodyRows is how many rows fit under the filter line, header and rule.
func (l *Model) bodyRows() int { return max(l.height-3, 1) }

// moveTo selects visible row i (clamped), as the person chose.
func (l *Model) moveTo(i int) {
	l.place(i)
	l.pending = ""
	if r := l.Selected(); r >= 0 {
		l.want = l.keys[r]
	}
}

// place puts the cursor on visible row i (clamped) and scrolls as little as
// keeps it on screen.
func (l *Model) place(i int) {
	l.cursor = max(min(i, len(l.visible)-1), 0)
	n := l.bodyRows()
	if l.cursor < l.offset {
		l.offset = l.cursor
	}
	if l.cursor >= l.offset+n {
		l.offset = l.cursor - n + 1
	}
	l.offset = max(min(l.offset, len(l.visible)-n), 0)
}

// resize lays the columns out for the width, dropping the least needed
// ones when the terminal is narrow.
func (l *Model) Resize(w, h int) {
	l.width, l.height = w, h
	// A cell has a space either side, but the last: nothing follows it.
	const pad = 2
	shown := make([]bool, len(l.cols))
	need := -1
	for i, c := range l.cols {
		shown[i] = true
		need += c.Min + pad
	}
	for need > w {
		worst := -1
		for i, c := range l.cols {
			if shown[i] && c.Drop > 0 && (worst < 0 || c.Drop > l.cols[worst].Drop) {
				worst = i
			}
		}
		if worst < 0 {
			break
		}
		shown[worst] = false
		need -= l.cols[worst].Min + pad
	}
	extra, flex := max(w-need, 0), 0
	for i, c := range l.cols {
		if shown[i] {
			flex += c.Flex
		}
	}
	widths := make([]int, len(l.cols))
	given := 0
	for i, c := range l.cols {
		if !shown[i] {
			continue
		}
		widths[i] = c.Min
		if flex > 0 && c.Flex > 0 {
			add := extra * c.Flex / flex
			widths[i] += add
			given += add
		}
	}
	// Give rounding leftovers to the first flexible column.
	for i, c := range l.cols {
		if shown[i] && c.Flex > 0 {
			widths[i] += extra - given
			break
		}
	}
	// Narrower than the columns that stay: the widest give a column each
	// (down to 4) until the row fits; their values are cut with "…".
	for short := need - w; short > 0; short-- {
		widest := -1
		for i := range widths {
			if widths[i] > 4 && (widest < 0 || widths[i] > widths[widest]) {
				widest = i
			}
		}
		if widest < 0 {
			break
		}
		widths[widest]--
	}
	l.widths = widths
	l.place(l.cursor)
	// The filter line is "/ " and the input, then "   N of M" (up to 17
	// columns for 10,000 rows).
	l.filter.SetWidth(max(w-3-17, 10))
}

// capturing: keys go to the filter while it is being typed.
func (l *Model) Capturing() bool { return l.filtering }

// holdsEsc: esc clears the filter (rather than closing the screen).
func (l *Model) HoldsEsc() bool { return l.filter.Value() != "" }

// typingHelp is the help while the filter is typed, else nil.
func (l *Model) TypingHelp() []key.Binding {
	if !l.filtering {
		return nil
	}
	return []key.Binding{filterDoneKey, filterClearKey, filterMoveKey}
}

var (
	filterDoneKey  = key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "done"))
	filterClearKey = key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "clear"))
	filterMoveKey  = key.NewBinding(key.WithKeys("up", "down"), key.WithHelp("↑/↓", "choose a row"))
)

// clearFilter ends the filter: every row shows again.
func (l *Model) ClearFilter() {
	l.filtering = false
	l.filter.Blur()
	l.filter.SetValue("")
	l.apply()
}

// update handles the filter's keys; it reports whether it used the key.
func (l *Model) Update(msg tea.Msg) (tea.Cmd, bool) {
	if k, ok := msg.(tea.KeyPressMsg); ok {
		switch {
		case l.filtering:
			switch k.String() {
			case "esc":
				l.ClearFilter()
				return nil, true
			case "enter", "down", "up", "pgdown", "pgup":
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
		case key.Matches(k, FilterKey):
			l.filtering = true
			return l.filter.Focus(), true
		case k.String() == "esc" && l.filter.Value() != "":
			l.ClearFilter()
			return nil, true
		}
	}
	return nil, false
}

// navigate moves the selection (arrows, page keys, home and end).
func (l *Model) Navigate(msg tea.Msg) tea.Cmd {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil
	}
	n := l.bodyRows()
	switch {
	case key.Matches(k, l.nav.LineUp):
		l.moveTo(l.cursor - 1)
	case key.Matches(k, l.nav.LineDown):
		l.moveTo(l.cursor + 1)
	case key.Matches(k, l.nav.PageUp):
		l.moveTo(l.cursor - n)
	case key.Matches(k, l.nav.PageDown):
		l.moveTo(l.cursor + n)
	case key.Matches(k, l.nav.HalfPageUp):
		l.moveTo(l.cursor - max(n/2, 1))
	case key.Matches(k, l.nav.HalfPageDown):
		l.moveTo(l.cursor + max(n/2, 1))
	case key.Matches(k, l.nav.GotoTop):
		l.moveTo(0)
	case key.Matches(k, l.nav.GotoBottom):
		l.moveTo(len(l.visible) - 1)
	}
	return nil
}

func (l *Model) View() string {
	st := l.styles()
	var top string
	switch {
	case l.filtering || l.filter.Value() != "":
		top = l.filter.View() + st.Muted.Render(fmt.Sprintf("   %d of %d", len(l.visible), len(l.rows)))
	default:
		top = st.Muted.Render(fmt.Sprintf("%d shown · / to filter", len(l.rows)))
	}
	if l.Note != "" {
		top += "   " + st.Warn.Render(l.Note)
	}
	if len(l.rows) == 0 && !l.Capturing() && !l.HoldsEsc() {
		return st.Muted.Render(l.empty) // nothing to count or filter
	}
	if len(l.rows) == 0 {
		return top + "\n\n" + st.Muted.Render(l.empty)
	}
	if len(l.visible) == 0 {
		return top + "\n\n" + st.Muted.Render("Nothing matches the filter. esc clears it.")
	}
	titles := make([]string, len(l.cols))
	for i, c := range l.cols {
		titles[i] = c.Title
	}
	var b strings.Builder
	b.WriteString(top)
	b.WriteByte('\n')
	b.WriteString(st.Header.Render(l.line(titles))) // its rule is its bottom border
	n := l.bodyRows()
	for i := l.offset; i < l.offset+n; i++ {
		b.WriteByte('\n')
		if i >= len(l.visible) {
			continue // the list keeps its height: what follows stays put
		}
		row := l.line(l.rows[l.visible[i]])
		if i == l.cursor {
			row = st.Selected.Render(row)
		}
		b.WriteString(row)
	}
	return b.String()
}

// line lays out one row's cells in the shown columns, each cut to its
// width and padded by a space on either side.
func (l *Model) line(cells []string) string {
	var b strings.Builder
	for i, w := range l.widths {
		if w <= 0 {
			continue
		}
		v := ""
		if i < len(cells) {
			v = ansi.Truncate(oneLine(cells[i]), w, "…")
		}
		b.WriteByte(' ')
		b.WriteString(v)
		b.WriteString(strings.Repeat(" ", max(w-ansi.StringWidth(v), 0)+1))
	}
	return strings.TrimSuffix(b.String(), " ") // nothing follows the last cell
}

// Len is how many rows the list holds, shown or not.
func (l *Model) Len() int { return len(l.rows) }

// Row is row i as it was given.
func (l *Model) Row(i int) []string { return l.rows[i] }

// Visible are the indexes of the rows the filter shows, in order.
func (l *Model) Visible() []int { return l.visible }

// Offset is the position (in Visible) of the first row on screen.
func (l *Model) Offset() int { return l.offset }

// Cursor is the position (in Visible) of the selected row.
func (l *Model) Cursor() int { return l.cursor }

// MoveTo selects the row at position i of Visible (clamped), as the person
// would.
func (l *Model) MoveTo(i int) { l.moveTo(i) }

// Filter is the filter's text.
func (l *Model) Filter() string { return l.filter.Value() }

// SetFilter sets the filter's text, as if it were typed.
func (l *Model) SetFilter(v string) {
	l.filter.SetValue(v)
	l.apply()
}

// Height is how many lines the list draws.
func (l *Model) Height() int { return l.height }
