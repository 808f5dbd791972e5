package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"latchkey/core"
	"latchkey/core/mail/message"
	"latchkey/tui/components/detail"
)

// mailScreen shows the outbox with each message's delivery state, and the
// built-in catcher's inbox when it runs (instance admins only).
type mailScreen struct {
	base
	outbox, caught *listView
	msgs           []core.Message
	mails          []core.CaughtMail
	showCaught     bool
}

type (
	outboxMsg struct {
		items []core.Message
		err   error
	}
	caughtMsg struct {
		items []core.CaughtMail
		err   error
	}
)

var toggleMailKey = bind("v", "v", "outbox ⇄ catcher")

func newMailScreen(c *Common) *mailScreen {
	m := &mailScreen{base: base{c: c}}
	m.outbox = newListView(c, []column{
		{Title: "Queued", Min: 12},
		{Title: "To", Min: 20, Flex: 3},
		{Title: "Kind", Min: 16, Drop: 1},
		{Title: "State", Min: 21, Flex: 1}, // "next try 25 Nov 01:31"
		{Title: "Tries", Min: 5, Drop: 2},
		{Title: "Last error", Min: 12, Flex: 2, Drop: 3},
	}, "The outbox is empty.")
	m.caught = newListView(c, []column{
		{Title: "Received", Min: 12},
		{Title: "To", Min: 20, Flex: 2},
		{Title: "Subject", Min: 24, Flex: 3},
	}, "The catcher has received nothing yet.")
	return m
}

func (m *mailScreen) catcher() bool {
	return m.c.CatcherOn && core.InstanceActionsOf(m.c.Actor).ReadCatcher.OK()
}

func (m *mailScreen) load() tea.Cmd {
	ctx, svc, a := m.c.Ctx, m.c.Service, m.c.Actor
	cmds := []tea.Cmd{work("Loading the outbox", func() tea.Msg {
		items, err := svc.Outbox(ctx, a, 0, 500)
		return outboxMsg{items, err}
	})}
	if m.catcher() {
		cmds = append(cmds, work("Loading caught mail", func() tea.Msg {
			items, err := svc.CaughtMails(ctx, a, 0, core.MaxCaught)
			return caughtMsg{items, err}
		}))
	}
	return tea.Batch(cmds...)
}

func (m *mailScreen) Init() tea.Cmd { return m.load() }
func (m *mailScreen) Title() string {
	if m.showCaught {
		return "Mail › caught by the built-in catcher"
	}
	return "Mail › outbox"
}
func (m *mailScreen) current() *listView {
	if m.showCaught {
		return m.caught
	}
	return m.outbox
}
func (m *mailScreen) Capturing() bool { return m.current().Capturing() }
func (m *mailScreen) holdsEsc() bool  { return m.current().HoldsEsc() }
func (m *mailScreen) ShortHelp() []key.Binding {
	if h := m.current().TypingHelp(); h != nil {
		return h
	}
	keys := []key.Binding{filterKey}
	if m.catcher() {
		keys = append(keys, toggleMailKey)
	}
	if m.showCaught {
		keys = append(keys, bind("enter", "enter", "read"))
	} else {
		keys = append(keys, bind("enter", "enter", "delivery details"))
	}
	return keys
}
func (m *mailScreen) FullHelp() [][]key.Binding {
	return [][]key.Binding{append([]key.Binding{upKey, downKey, pageKeys, endKeys}, m.ShortHelp()...)}
}

func deliveryState(msg core.Message) string {
	switch msg.State {
	case core.MessageSent:
		return "sent " + fmtTime(msg.SentAt)
	case core.MessageRetrying:
		return "next try " + fmtTime(msg.NextAttemptAt)
	}
	return string(msg.State)
}

func (m *mailScreen) Update(msg tea.Msg) (screen, tea.Cmd) {
	if m.size(msg) {
		m.outbox.Resize(m.w, m.h-len(m.head(false)))
		m.caught.Resize(m.w, m.h-len(m.head(true)))
		return m, nil
	}
	switch msg := msg.(type) {
	case restyleMsg:
		m.outbox.Restyle()
		m.caught.Restyle()
	case refreshMsg, doneNotice:
		return m, m.load()
	case outboxMsg:
		if msg.err != nil {
			return m, func() tea.Msg { return errMsg{msg.err} }
		}
		m.msgs = msg.items
		rows, keys := make([][]string, len(msg.items)), make([]string, len(msg.items))
		for i, x := range msg.items {
			rows[i], keys[i] = []string{fmtTime(x.CreatedAt), x.To, string(x.Kind), deliveryState(x), fmt.Sprint(x.Attempts), x.LastError}, fmt.Sprint(x.ID)
		}
		m.outbox.SetRows(rows, keys)
	case caughtMsg:
		if msg.err != nil {
			return m, func() tea.Msg { return errMsg{msg.err} }
		}
		m.mails = msg.items
		rows, keys := make([][]string, len(msg.items)), make([]string, len(msg.items))
		for i, x := range msg.items {
			rows[i], keys[i] = []string{fmtTime(x.ReceivedAt), strings.Join(x.To, ", "), x.Subject}, fmt.Sprint(x.ID)
		}
		m.caught.SetRows(rows, keys)
	case tea.KeyPressMsg:
		l := m.current()
		if cmd, used := l.Update(msg); used {
			return m, cmd
		}
		switch {
		case key.Matches(msg, toggleMailKey) && m.catcher():
			m.showCaught = !m.showCaught
			return m, nil
		case m.showCaught && msg.String() == "enter":
			if i := m.caught.Selected(); i >= 0 && i < len(m.mails) {
				return m, m.open(m.mails[i].ID)
			}
		case msg.String() == "enter":
			if i := m.outbox.Selected(); i >= 0 && i < len(m.msgs) {
				return m, push(newOutboxViewer(m.c, m.msgs[i]))
			}
		}
	}
	return m, m.current().Navigate(msg)
}

func (m *mailScreen) open(id uint64) tea.Cmd {
	ctx, svc, a, c := m.c.Ctx, m.c.Service, m.c.Actor, m.c
	return work("Opening the message", func() tea.Msg {
		cm, err := svc.CaughtMail(ctx, a, id)
		if err != nil {
			return doneMsg{err: err}
		}
		p, err := message.Parse(cm.Raw)
		if err != nil {
			p.Text = string(cm.Raw)
		}
		return doneMsg{push: newMailViewer(c, p)}
	})
}

// head is what the list under it holds, wrapped to the width.
func (m *mailScreen) head(caught bool) []string {
	text := "Outbox: every email latchkey queued, and how its delivery went."
	if caught {
		text = "The built-in catcher keeps the newest 1,000 messages instead of delivering them."
	} else if m.catcher() {
		text += " v shows the catcher's inbox."
	}
	return wrapWords(text, max(m.w, 10))
}

func (m *mailScreen) View() string {
	return m.c.Styles.Muted.Render(strings.Join(m.head(m.showCaught), "\n")) + "\n" + m.current().View()
}

// textViewer shows a few labelled fields and, under a rule, a text that
// scrolls and wraps to the terminal: a caught message, or how an outbox
// message's delivery went.
type textViewer struct {
	base
	title string
	pane  detail.Model
}

func newTextViewer(c *Common, title string, head [][2]string, body string) *textViewer {
	return &textViewer{base: base{c: c}, title: title, pane: detail.New(head, body)}
}

// newMailViewer shows a caught message's text part.
func newMailViewer(c *Common, p message.Parsed) *textViewer {
	return newTextViewer(c, fit(p.Subject, 50), [][2]string{{"From", p.From}, {"To", p.To}, {"Subject", p.Subject}, {"Date", p.Date}}, p.Text)
}

// newOutboxViewer shows an outbox message's delivery, its last error whole.
func newOutboxViewer(c *Common, x core.Message) *textViewer {
	head := [][2]string{{"To", x.To}, {"Kind", string(x.Kind)}, {"Queued", fmtTime(x.CreatedAt)}, {"State", deliveryState(x)}, {"Tries", fmt.Sprint(x.Attempts)}}
	body := "No delivery of it has failed."
	if x.LastError != "" {
		body = "Last error:\n\n" + x.LastError
	}
	return newTextViewer(c, fmt.Sprintf("Message %d", x.ID), head, body)
}

func (v *textViewer) Title() string { return v.title }
func (v *textViewer) ShortHelp() []key.Binding {
	return []key.Binding{bind("up,down,pgup,pgdown", "↑/↓/pgup/pgdn", "scroll")}
}
func (v *textViewer) Update(msg tea.Msg) (screen, tea.Cmd) {
	if v.size(msg) {
		v.pane.Resize(v.w, v.h)
		return v, nil
	}
	return v, v.pane.Update(msg)
}

func (v *textViewer) View() string { return v.pane.View(v.c.Styles) }
