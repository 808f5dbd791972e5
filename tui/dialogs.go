package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/skip2/go-qrcode"

	"latchkey/core"
	dialogview "latchkey/tui/components/dialog"
	"latchkey/tui/components/status"
)

// base gives screens their size and the no-op parts of the interface.
type base struct {
	c    *Common
	w, h int
}

func (b *base) size(msg tea.Msg) bool {
	if s, ok := msg.(tea.WindowSizeMsg); ok {
		b.w, b.h = s.Width, s.Height
		return true
	}
	return false
}

func (b *base) Init() tea.Cmd             { return nil }
func (b *base) Capturing() bool           { return false }
func (b *base) Dirty() bool               { return false }
func (b *base) FullHelp() [][]key.Binding { return nil }

// dialog is a screen opened for one question on top of a page (a menu, a
// prompt, a confirmation, a link shown): an operation finished from it
// closes every dialog on top of that page (doneMsg.back), however many.
type dialog interface{ isDialog() }

func isDialog(s screen) bool {
	_, ok := s.(dialog)
	return ok
}

func (*confirm) isDialog()    {}
func (*menu) isDialog()       {}
func (*prompt) isDialog()     {}
func (*linkDialog) isDialog() {}

// closeSelf is what a screen returns to close itself.
func closeSelf(text string) tea.Cmd {
	return func() tea.Msg { return doneMsg{close: true, status: text} }
}

// ---- confirmation

// confirm asks a yes/no question before a destructive action.
type confirm struct {
	base
	question, detail string
	action           tea.Cmd
}

func newConfirm(c *Common, question, detail string, action tea.Cmd) *confirm {
	return &confirm{base: base{c: c}, question: question, detail: detail, action: action}
}

// Only y says yes: enter, pressed out of habit, means the highlighted no.
var (
	yesKey = bind("y", "y", "yes")
	noKey  = bind("n,esc,enter", "n", "no")
)

func (d *confirm) Title() string            { return "Confirm" }
func (d *confirm) ShortHelp() []key.Binding { return []key.Binding{yesKey, noKey} }
func (d *confirm) Capturing() bool          { return true }
func (d *confirm) Update(msg tea.Msg) (screen, tea.Cmd) {
	d.size(msg)
	if k, ok := msg.(tea.KeyPressMsg); ok {
		switch {
		case key.Matches(k, yesKey):
			return d, tea.Sequence(closeSelf(""), d.action)
		case key.Matches(k, noKey):
			return d, closeSelf("Nothing was changed.")
		}
	}
	return d, nil
}

func (d *confirm) View() string {
	return dialogview.Confirm(d.c.Styles, d.question, d.detail, d.w, d.h)
}

// ---- menu

type menuItem struct {
	label  string
	desc   string // what it does, shown under the items while it is chosen
	why    string // why it is unavailable (core's decision); "" when it is available
	action func() tea.Cmd
}

// hint is what the line under the items says of it: why it is
// unavailable, else what it does.
func (it menuItem) hint() string {
	if it.why != "" {
		return "Not available. " + strings.TrimSuffix(it.why, ".") + "."
	}
	return it.desc
}

// menu is a vertical list of actions.
type menu struct {
	base
	title, heading string
	items          []menuItem
	cursor         int
}

var (
	upKey    = bind("up,k", "↑/k", "up")
	downKey  = bind("down,j", "↓/j", "down")
	pageKeys = bind("pgup,pgdown", "pgup/pgdn", "page")
	endKeys  = bind("home,end", "home/end", "first, last")
	enterKey = bind("enter", "enter", "choose")
)

func newMenu(c *Common, title, heading string, items []menuItem) *menu {
	m := &menu{base: base{c: c}, title: title, heading: heading, items: items}
	for m.cursor < len(items)-1 && items[m.cursor].why != "" {
		m.cursor++
	}
	return m
}

func (m *menu) Title() string   { return m.title }
func (m *menu) Capturing() bool { return true } // digits choose items; esc closes
func (m *menu) ShortHelp() []key.Binding {
	return []key.Binding{upKey, downKey, enterKey, bind("1-9", "1-9", "pick"), bind("esc", "esc", "close")}
}
func (m *menu) Update(msg tea.Msg) (screen, tea.Cmd) {
	m.size(msg)
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return m, nil
	}
	switch {
	case k.String() == "esc":
		return m, closeSelf("")
	case k.String() == "ctrl+c":
		return m, nil
	case key.Matches(k, upKey):
		m.cursor = (m.cursor + len(m.items) - 1) % len(m.items)
	case key.Matches(k, downKey):
		m.cursor = (m.cursor + 1) % len(m.items)
	case key.Matches(k, enterKey):
		return m, m.choose()
	default:
		if n := int(k.Code - '1'); k.Text != "" && n >= 0 && n < len(m.items) && n < 9 {
			m.cursor = n
			return m, m.choose()
		}
	}
	return m, nil
}

// choose runs the item under the cursor, or says why it is unavailable.
func (m *menu) choose() tea.Cmd {
	it := m.items[m.cursor]
	if it.why != "" {
		return status.Infof("%s: %s", it.label, it.why)
	}
	return it.action()
}

// dialogFrame is how many columns a dialog's border and padding take.
const dialogFrame = dialogview.Frame

func (m *menu) View() string {
	items := make([]dialogview.Item, len(m.items))
	for i, it := range m.items {
		items[i] = dialogview.Item{Label: it.label, Hint: it.hint(), Refused: it.why != ""}
	}
	return dialogview.Menu(m.c.Styles, m.heading, items, m.cursor, m.w, m.h)
}

// ---- organization picker

type orgPicker struct{ *menu }

func newOrgPicker(c *Common) *orgPicker {
	var items []menuItem
	for _, o := range c.Orgs {
		o := o
		label := o.Name
		if o.ID == c.Org.ID {
			label += "  (current)"
		}
		items = append(items, menuItem{label: label, action: func() tea.Cmd {
			return func() tea.Msg { return switchOrgMsg(o) }
		}})
	}
	p := &orgPicker{newMenu(c, "Switch organization", "Which organization?", items)}
	for i, o := range c.Orgs {
		if o.ID == c.Org.ID {
			p.cursor = i
		}
	}
	return p
}

func (p *orgPicker) Update(msg tea.Msg) (screen, tea.Cmd) {
	_, cmd := p.menu.Update(msg)
	return p, cmd
}

// ---- a new link, shown with its QR code

type linkDialog struct {
	base
	il      core.IssuedLink
	email   string // "" when the link was not emailed now
	heading string
	qr      [][]bool
}

func newLinkDialog(c *Common, heading, emailedTo string, il core.IssuedLink) *linkDialog {
	d := &linkDialog{base: base{c: c}, il: il, email: emailedTo, heading: heading}
	if q, err := qrcode.New(il.URL, qrcode.Low); err == nil {
		q.DisableBorder = true
		d.qr = q.Bitmap()
	}
	return d
}

var closeKey = bind("enter,esc", "enter", "close")

func (d *linkDialog) Title() string { return "Magic link" }
func (d *linkDialog) ShortHelp() []key.Binding {
	return []key.Binding{closeKey, bind("c", "c", "copy again")}
}
func (d *linkDialog) Capturing() bool { return true }
func (d *linkDialog) Update(msg tea.Msg) (screen, tea.Cmd) {
	d.size(msg)
	if k, ok := msg.(tea.KeyPressMsg); ok {
		switch k.String() {
		case "enter", "esc", "q":
			return d, closeSelf("")
		case "c":
			return d, func() tea.Msg { return doneMsg{status: "Copied the link to the clipboard again.", clipboard: d.il.URL} }
		}
	}
	return d, nil
}

// qrLines draws the code with half blocks, two modules per character row,
// light modules as blocks on a dark terminal (dark ones on a light one), with
// a quiet zone of two modules.
func (d *linkDialog) qrLines() []string {
	n := len(d.qr)
	if n == 0 {
		return nil
	}
	const quiet = 2
	size := n + 2*quiet
	dark := func(x, y int) bool {
		x, y = x-quiet, y-quiet
		return x >= 0 && y >= 0 && x < n && y < n && d.qr[y][x]
	}
	ink := func(x, y int) bool { return dark(x, y) != d.c.IsDark } // the cells drawn as blocks
	var lines []string
	for y := 0; y < size; y += 2 {
		var b strings.Builder
		for x := 0; x < size; x++ {
			top, bottom := ink(x, y), y+1 < size && ink(x, y+1)
			switch {
			case top && bottom:
				b.WriteRune('█')
			case top:
				b.WriteRune('▀')
			case bottom:
				b.WriteRune('▄')
			default:
				b.WriteRune(' ')
			}
		}
		lines = append(lines, b.String())
	}
	return lines
}

func (d *linkDialog) View() string {
	st := d.c.Styles
	text := []string{st.Label.Render(d.heading), st.Accent.Render(d.il.URL),
		st.Good.Render("✓ copied to your clipboard") + st.Muted.Render(" (OSC 52; c copies again)")}
	if d.email != "" {
		text = append(text, st.Good.Render("✓ emailed to "+d.email))
	}
	qr := d.qrLines()
	body := strings.Join(text, "\n")
	if len(qr) > 0 {
		width := lipgloss.Width(qr[0])
		if len(qr)+len(text)+1 <= d.h && width <= d.w {
			body += "\n\n" + lipgloss.PlaceHorizontal(max(lipgloss.Width(body), width), lipgloss.Center, strings.Join(qr, "\n"))
		} else {
			body += "\n\n" + st.Muted.Render("Enlarge the terminal to see a QR code of the link.")
		}
	}
	return center(body, d.w, d.h)
}
