package tui

import (
	"fmt"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"latchkey/core"
)

// linkHistory is a person's links on a portal and everything that happened
// to them, newest link first: who created it, its emails and their
// delivery, views (a mail scanner's marked), redemptions, code uses, and
// how it ended. It answers "the client says the link didn't work".
type linkHistory struct {
	base
	portal core.Portal
	email  string
	list   *listView
	hist   []core.LinkHistory
}

type linkHistoryMsg struct {
	portal uint64
	email  string
	hist   []core.LinkHistory
	err    error
}

func newLinkHistory(c *Common, p core.Portal, email string) *linkHistory {
	h := &linkHistory{base: base{c: c}, portal: p, email: email}
	h.list = newListView(c, []column{
		{Title: "Link", Min: 11},
		{Title: "When", Min: 12},
		{Title: "Event", Min: 11},
		{Title: "By or from", Min: 16, Flex: 2},
		{Title: "Browser", Min: 10, Flex: 1, Drop: 2},
		{Title: "Note", Min: 26, Flex: 3, Drop: 1},
	}, "No events yet.")
	return h
}

func (h *linkHistory) load() tea.Cmd {
	svc, a, id, email := h.c.Service, h.c.Actor, h.portal.ID, h.email
	return work("Reading the link history", func() tea.Msg {
		hist, err := svc.LinkHistoryOf(h.c.Ctx, a, id, email)
		return linkHistoryMsg{id, email, hist, err}
	})
}

func (h *linkHistory) Init() tea.Cmd   { return h.load() }
func (h *linkHistory) Title() string   { return "Link history" } // the crumb before it names the person
func (h *linkHistory) Capturing() bool { return h.list.Capturing() }
func (h *linkHistory) holdsEsc() bool  { return h.list.HoldsEsc() }
func (h *linkHistory) ShortHelp() []key.Binding {
	if t := h.list.TypingHelp(); t != nil {
		return t
	}
	return []key.Binding{filterKey}
}
func (h *linkHistory) FullHelp() [][]key.Binding {
	return [][]key.Binding{{upKey, downKey, pageKeys, endKeys, filterKey}}
}

func (h *linkHistory) Update(msg tea.Msg) (screen, tea.Cmd) {
	if h.size(msg) {
		h.list.Resize(h.w, h.h)
		return h, nil
	}
	switch msg := msg.(type) {
	case restyleMsg:
		h.list.Restyle()
	case refreshMsg:
		return h, h.load()
	case linkHistoryMsg:
		if msg.portal != h.portal.ID || msg.email != h.email {
			return h, nil
		}
		if msg.err != nil {
			return h, func() tea.Msg { return errMsg{msg.err} }
		}
		h.hist = msg.hist
		var rows [][]string
		var keys []string
		for _, l := range msg.hist {
			state := core.LinkStateWord(l.Link.State)
			name := fmt.Sprintf("#%d %s", l.Link.ID, state)
			for _, e := range l.Events {
				who := e.Actor
				if who == "" {
					who = e.Addr
				}
				if e.Method == "HEAD" {
					who += " (HEAD)"
				}
				note := e.Note()
				if e.Scanner {
					note = "⚠ " + note
				}
				rows = append(rows, []string{name, fmtTime(e.At), string(e.Kind), dashed(who), dashed(e.UserAgent), dashed(note)})
				keys = append(keys, fmt.Sprint(e.ID))
			}
		}
		h.list.SetRows(rows, keys)
		return h, nil
	case tea.KeyPressMsg:
		if cmd, used := h.list.Update(msg); used {
			return h, cmd
		}
	}
	return h, h.list.Navigate(msg)
}

func (h *linkHistory) View() string { return h.list.View() }

// dashed shows an empty cell as a dash.
func dashed(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
