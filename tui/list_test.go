package tui

import (
	"fmt"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// listScreen is a list of n rows "row 0" … at 80 columns, 10 lines: the
// filter line, the header, its rule and 7 rows.
func listScreen(n int) *listView {
	c := &Common{Width: 80, Height: 24, IsDark: true, Styles: newStyles(true)}
	l := newListView(c, []column{{title: "Name", min: 10, flex: 1}, {title: "Note", min: 8, drop: 1}}, "Nothing yet.")
	l.resize(80, 10)
	rows := make([][]string, n)
	for i := range rows {
		rows[i] = []string{fmt.Sprintf("row %d", i), "note"}
	}
	l.setRows(rows)
	return l
}

// shownRows is which rows the view draws, and which one is selected.
func shownRows(t *testing.T, l *listView) (rows []string, selected string) {
	t.Helper()
	lines := strings.Split(l.view(), "\n")
	if len(lines) != l.height {
		t.Fatalf("the list drew %d lines, not its %d:\n%s", len(lines), l.height, ansi.Strip(l.view()))
	}
	for _, line := range lines[3:] {
		if f := strings.Fields(ansi.Strip(line)); len(f) >= 2 {
			rows = append(rows, f[0]+" "+f[1])
		}
	}
	if i := l.selected(); i >= 0 {
		selected = l.rows[i][0]
	}
	return rows, selected
}

func TestListScrollsToKeepTheSelectionShown(t *testing.T) {
	l := listScreen(100)
	key := func(k tea.KeyPressMsg, times int) {
		for range times {
			l.navigate(k)
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
	l.resize(80, 12)
	if rows, _ := shownRows(t, l); len(rows) != 9 || rows[0] != "row 91" {
		t.Fatalf("after growing: %q", rows)
	}
}

func TestListKeepsTheSelectionThroughFilterAndNewData(t *testing.T) {
	l := listScreen(100)
	for range 50 {
		l.navigate(tea.KeyPressMsg{Code: tea.KeyDown})
	}
	l.update(tea.KeyPressMsg{Code: '/', Text: "/"})
	l.update(tea.KeyPressMsg{Code: '5', Text: "5"})
	if len(l.visible) != 19 { // 5, 15 … 45, 50 … 59, 65 … 95
		t.Fatalf("%d rows match", len(l.visible))
	}
	if _, sel := shownRows(t, l); sel != "row 50" {
		t.Fatalf("selected %q once filtered, want row 50 still", sel)
	}
	l.update(tea.KeyPressMsg{Code: '7', Text: "7"})
	if _, sel := shownRows(t, l); sel != "row 57" {
		t.Fatalf("selected %q when the filter hid it, want the one row left", sel)
	}
	l.update(tea.KeyPressMsg{Code: tea.KeyEsc})
	l.navigate(tea.KeyPressMsg{Code: tea.KeyHome})
	for range 40 {
		l.navigate(tea.KeyPressMsg{Code: tea.KeyDown})
	}
	// New data (as after a change): the selection keeps its place.
	rows := make([][]string, 90)
	for i := range rows {
		rows[i] = []string{fmt.Sprintf("row %d", i+10), "note"}
	}
	l.setRows(rows)
	if _, sel := shownRows(t, l); sel != "row 50" {
		t.Fatalf("selected %q after new data, want the 41st row", sel)
	}
	// The selection's row gone: the cursor stays in range.
	l.setRows(rows[:5])
	if _, sel := shownRows(t, l); sel != "row 14" {
		t.Fatalf("selected %q once the list shrank, want the last row", sel)
	}
}

// A cell with line breaks or tabs (a mail server's error over several lines)
// stays on its row.
func TestListCellsStayOnTheirRow(t *testing.T) {
	l := listScreen(0)
	l.setRows([][]string{
		{"421-4.7.0 Try again later,\r\n421 closing connection", "a\tb"},
		{"row 1", "note"},
	})
	rows, _ := shownRows(t, l)
	if len(rows) != 2 || rows[1] != "row 1" {
		t.Fatalf("rows %q", rows)
	}
	view := ansi.Strip(l.view())
	if !strings.Contains(view, "later, 421 closing connection") || !strings.Contains(view, " a b ") {
		t.Fatalf("the cells lost their text:\n%s", view)
	}
	for _, line := range strings.Split(view, "\n") {
		if w := ansi.StringWidth(line); w > 80 || strings.ContainsAny(line, "\t\r") {
			t.Fatalf("line %q (%d columns)", line, w)
		}
	}
}
