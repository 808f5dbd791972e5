package tui

import (
	"fmt"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"latchkey/storage/storetest"
)

// listScreen is a list of n rows "row 0" … at 80 columns, 10 lines: the
// filter line, the header, its rule and 7 rows.
func listScreen(n int) *listView {
	c := &Common{Width: 80, Height: 24, IsDark: true, Styles: newStyles(true)}
	l := newListView(c, []column{{Title: "Name", Min: 10, Flex: 1}, {Title: "Note", Min: 8, Drop: 1}}, "Nothing yet.")
	l.Resize(80, 10)
	l.SetRows(numbered(0, n))
	return l
}

// numbered is rows "row from" … "row to-1", each keyed by its name.
func numbered(from, to int) ([][]string, []string) {
	var rows [][]string
	var keys []string
	for i := from; i < to; i++ {
		rows = append(rows, []string{fmt.Sprintf("row %d", i), "note"})
		keys = append(keys, fmt.Sprintf("row %d", i))
	}
	return rows, keys
}

// shownRows is which rows the view draws, and which one is selected.
func shownRows(t *testing.T, l *listView) (rows []string, selected string) {
	t.Helper()
	lines := strings.Split(l.View(), "\n")
	if len(lines) != l.Height() {
		t.Fatalf("the list drew %d lines, not its %d:\n%s", len(lines), l.Height(), ansi.Strip(l.View()))
	}
	for _, line := range lines[3:] {
		if f := strings.Fields(ansi.Strip(line)); len(f) >= 2 {
			rows = append(rows, f[0]+" "+f[1])
		}
	}
	if i := l.Selected(); i >= 0 {
		selected = l.Row(i)[0]
	}
	return rows, selected
}

func TestListScrollsToKeepTheSelectionShown(t *testing.T) {
	l := listScreen(100)
	key := func(k tea.KeyPressMsg, times int) {
		for range times {
			l.Navigate(k)
		}
	}
	check := func(step, first, last, selected string) {
		t.Helper()
		rows, sel := shownRows(t, l)
		if rows[0] != first || rows[len(rows)-1] != last || sel != selected {
			t.Fatalf("%s: rows %q…%q, selected %q; want %q…%q, %q", step, rows[0], rows[len(rows)-1], sel, first, last, selected)
		}
	}
	check("start", "row 0", "row 6", "row 0")
	key(tea.KeyPressMsg{Code: tea.KeyDown}, 8)
	check("8 down", "row 2", "row 8", "row 8")
	key(tea.KeyPressMsg{Code: 'k', Text: "k"}, 3)
	check("3 up", "row 2", "row 8", "row 5")
	key(tea.KeyPressMsg{Code: tea.KeyEnd}, 1)
	check("end", "row 93", "row 99", "row 99")
	key(tea.KeyPressMsg{Code: tea.KeyPgUp}, 1)
	check("page up", "row 92", "row 98", "row 92")
	key(tea.KeyPressMsg{Code: tea.KeyPgDown}, 20)
	check("page down past the end", "row 93", "row 99", "row 99")
	key(tea.KeyPressMsg{Code: tea.KeyHome}, 1)
	check("home", "row 0", "row 6", "row 0")
	key(tea.KeyPressMsg{Code: tea.KeyUp}, 1)
	check("up at the top", "row 0", "row 6", "row 0")

	// Fewer rows than lines: the list still takes its lines.
	l = listScreen(3)
	key(tea.KeyPressMsg{Code: tea.KeyEnd}, 1)
	check("short list", "row 0", "row 2", "row 2")

	// A taller terminal shows more rows, with none left blank at the bottom.
	l = listScreen(100)
	key(tea.KeyPressMsg{Code: tea.KeyEnd}, 1)
	l.Resize(80, 12)
	if rows, _ := shownRows(t, l); len(rows) != 9 || rows[0] != "row 91" {
		t.Fatalf("after growing: %q", rows)
	}
}

func TestListKeepsTheSelectionThroughFilterAndNewData(t *testing.T) {
	l := listScreen(100)
	selected := func(step, want string) {
		t.Helper()
		if _, sel := shownRows(t, l); sel != want {
			t.Fatalf("%s: selected %q, want %q", step, sel, want)
		}
	}
	for range 50 {
		l.Navigate(tea.KeyPressMsg{Code: tea.KeyDown})
	}
	l.Update(tea.KeyPressMsg{Code: '/', Text: "/"})
	l.Update(tea.KeyPressMsg{Code: '5', Text: "5"})
	if len(l.Visible()) != 19 { // 5, 15 … 45, 50 … 59, 65 … 95
		t.Fatalf("%d rows match", len(l.Visible()))
	}
	selected("filtered", "row 50")
	l.Update(tea.KeyPressMsg{Code: '7', Text: "7"})
	selected("the filter hides it", "row 57")
	l.Update(tea.KeyPressMsg{Code: tea.KeyEsc})
	selected("the filter cleared", "row 50")

	// New rows above the selection (a request arrives, someone is invited):
	// it stays on its row, so that an action reaches whom it shows.
	rows, keys := numbered(0, 100)
	more, mkeys := numbered(100, 110)
	l.SetRows(append(more, rows...), append(mkeys, keys...))
	selected("rows added above", "row 50")
	// Its row gone (a request dismissed): the selection stays in its place,
	// on the next row, and follows that one.
	rows, keys = numbered(0, 100)
	rows, keys = append(rows[:50], rows[51:]...), append(keys[:50], keys[51:]...)
	l.SetRows(append(more, rows...), append(mkeys, keys...))
	selected("its row gone", "row 51")
	l.SetRows(rows, keys)
	selected("rows above gone", "row 51")
	// A row chosen before it is listed (a project just created) is selected
	// once it is.
	l.Choose("row 200")
	selected("not listed yet", "row 51")
	r2, k2 := numbered(200, 201)
	l.SetRows(append(rows, r2...), append(keys, k2...))
	selected("listed", "row 200")
	// Fewer rows than the selection's place: the last one.
	l.SetRows(numbered(0, 5))
	selected("shrunk", "row 4")
}

// A cell with line breaks or tabs (a mail server's error over several lines)
// stays on its row.
func TestListCellsStayOnTheirRow(t *testing.T) {
	l := listScreen(0)
	l.SetRows([][]string{
		{"421-4.7.0 Try again later,\r\n421 closing connection", "a\tb"},
		{"row 1", "note"},
	}, []string{"a", "b"})
	rows, _ := shownRows(t, l)
	if len(rows) != 2 || rows[1] != "row 1" {
		t.Fatalf("rows %q", rows)
	}
	view := ansi.Strip(l.View())
	if !strings.Contains(view, "later, 421 closing connection") || !strings.Contains(view, " a b ") {
		t.Fatalf("the cells lost their text:\n%s", view)
	}
	for _, line := range strings.Split(view, "\n") {
		if w := ansi.StringWidth(line); w > 80 || strings.ContainsAny(line, "\t\r") {
			t.Fatalf("line %q (%d columns)", line, w)
		}
	}
}

// Narrower than the columns that cannot be dropped, a list still fits: its
// widest columns give way.
func TestListFitsNarrowTerminals(t *testing.T) {
	c := &Common{Width: 60, Height: 16, IsDark: true, Styles: newStyles(true)}
	v := newAudit(c)
	for _, w := range []int{58, 50, 40} {
		v.list.Resize(w, 10)
		v.list.SetRows([][]string{{"25 Nov 01:31", "someone.with.a.long.address@example.test", "access.requested", "newcomer@acme.test", "web:198.51.100.23", "detail"}}, []string{"1"})
		for _, line := range strings.Split(ansi.Strip(v.list.View()), "\n") {
			if ansi.StringWidth(line) > w {
				t.Fatalf("at %d columns, a line of %d: %q", w, ansi.StringWidth(line), line)
			}
		}
	}
}

// A terminal too small for the console says how small is too small, in
// lines that fit it.
func TestTooSmallATerminalIsToldSo(t *testing.T) {
	a := adminConsole(t, storetest.New(t))
	a.SetSize(40, 10)
	out := ansi.Strip(a.render())
	for _, line := range strings.Split(out, "\n") {
		if ansi.StringWidth(line) > 40 {
			t.Fatalf("a line of %d columns: %q", ansi.StringWidth(line), line)
		}
	}
	if words := strings.Join(strings.Fields(out), " "); !strings.Contains(words, "latchkey needs at least 60×16; this terminal is 40×10.") {
		t.Fatalf("%q", words)
	}
}

// The filter ignores accents and case: "angstrom" finds "Ångström".
func TestFilterIgnoresAccents(t *testing.T) {
	l := listScreen(0)
	l.SetRows([][]string{{"Anders Ångström", "x"}, {"Zoë Müller", "y"}, {"Plain", "z"}}, []string{"a", "b", "c"})
	for filter, want := range map[string]int{"angstrom": 1, "ÅNGSTRÖM": 1, "zoe muller": 1, "Mu\u0308ller": 1, "plain": 1, "o": 2} {
		l.SetFilter(filter)
		if len(l.Visible()) != want {
			t.Errorf("%q shows %d rows, want %d", filter, len(l.Visible()), want)
		}
	}
}

// An empty list says what it would hold, with no count or filter to offer.
func TestEmptyListSaysSo(t *testing.T) {
	out := ansi.Strip(listScreen(0).View())
	if out != "Nothing yet." {
		t.Fatalf("%q", out)
	}
}

// The filter applies to new rows that arrive while it is on; and on an
// empty list, the filter being typed is shown.
func TestFilterAppliesToNewRowsAndShowsOnAnEmptyList(t *testing.T) {
	l := listScreen(10)
	l.Update(tea.KeyPressMsg{Code: '/', Text: "/"})
	l.Update(tea.KeyPressMsg{Code: '7', Text: "7"})
	l.SetRows(numbered(70, 80))
	if len(l.Visible()) != 10 {
		t.Fatalf("%d of the new rows match 7, want all 10", len(l.Visible()))
	}
	e := listScreen(0)
	e.Update(tea.KeyPressMsg{Code: '/', Text: "/"})
	e.Update(tea.KeyPressMsg{Code: 'x', Text: "x"})
	if out := ansi.Strip(e.View()); !strings.Contains(out, "/ x") {
		t.Fatalf("the filter being typed is not shown:\n%s", out)
	}
}

// A row chosen for the person (a project just created) that the filter
// would hide clears the filter, so that what is selected is what is shown.
func TestChosenRowClearsAFilterHidingIt(t *testing.T) {
	l := listScreen(10)
	l.Update(tea.KeyPressMsg{Code: '/', Text: "/"})
	l.Update(tea.KeyPressMsg{Code: '3', Text: "3"})
	l.Update(tea.KeyPressMsg{Code: tea.KeyEnter})
	l.Choose("row 42")
	rows, keys := numbered(0, 10)
	r2, k2 := numbered(42, 43)
	l.SetRows(append(rows, r2...), append(keys, k2...))
	if _, sel := shownRows(t, l); sel != "row 42" || l.Filter() != "" {
		t.Fatalf("selected %q, filter %q", sel, l.Filter())
	}
}
