package tui

import (
	"context"
	"fmt"
	"slices"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"latchkey/core"
)

// audit shows the audit log, newest first, a page at a time.
type audit struct {
	base
	list   *listView
	events []core.AuditEntry
	all    bool // instance admins: every organization
	more   bool // older events may exist
}

type auditMsg struct {
	q      core.AuditQuery
	events []core.AuditEntry
	err    error
}

const auditPage = 500

var (
	moreKey   = bind("m", "m", "load older")
	allOrgKey = bind("A", "A", "all organizations")
)

func newAudit(c *Common) *audit {
	v := &audit{base: base{c: c}}
	v.list = newListView(c, []column{
		{title: "When", min: 12},
		{title: "Who", min: 14, flex: 2},
		{title: "Action", min: 18},
		{title: "Target", min: 16, flex: 2},
		{title: "From", min: 18, flex: 1, drop: 1},
		{title: "Detail", min: 16, flex: 3, drop: 2},
	}, "Nothing has happened yet.")
	return v
}

func (v *audit) query(before uint64) core.AuditQuery {
	q := core.AuditQuery{OrgID: v.c.Org.ID, BeforeID: before, Limit: auditPage}
	if v.all {
		q.OrgID = 0
	}
	return q
}

func (v *audit) load(before uint64) tea.Cmd {
	svc, a, q := v.c.Service, v.c.Actor, v.query(before)
	return work("Loading the audit log", func() tea.Msg {
		events, err := svc.Audit(context.Background(), a, q)
		return auditMsg{q, events, err}
	})
}

func (v *audit) Init() tea.Cmd { return v.load(0) }
func (v *audit) Title() string {
	if v.all {
		return "Audit log (every organization)"
	}
	return "Audit log"
}
func (v *audit) Capturing() bool { return v.list.capturing() }
func (v *audit) holdsEsc() bool  { return v.list.holdsEsc() }
func (v *audit) ShortHelp() []key.Binding {
	if h := v.list.typingHelp(); h != nil {
		return h
	}
	keys := []key.Binding{filterKey, moreKey}
	if v.c.Actor.Admin {
		keys = append(keys, allOrgKey)
	}
	return keys
}
func (v *audit) FullHelp() [][]key.Binding {
	return [][]key.Binding{append([]key.Binding{upKey, downKey, pageKeys, endKeys}, v.ShortHelp()...)}
}

func (v *audit) Update(msg tea.Msg) (screen, tea.Cmd) {
	if v.size(msg) {
		v.layout()
		return v, nil
	}
	switch msg := msg.(type) {
	case restyleMsg:
		v.list.restyle()
	case refreshMsg, doneNotice:
		return v, v.load(0)
	case auditMsg:
		if msg.q.OrgID != v.query(0).OrgID {
			return v, nil
		}
		if msg.err != nil {
			return v, func() tea.Msg { return errMsg{msg.err} }
		}
		switch {
		case msg.q.BeforeID != 0: // m: older ones, unless they no longer follow what is loaded
			if len(v.events) == 0 || v.events[len(v.events)-1].ID != msg.q.BeforeID {
				return v, nil
			}
			v.events = append(v.events, msg.events...)
			v.more = len(msg.events) == auditPage
		case overlaps(msg.events, v.events): // a refresh: the newest, and the older ones m loaded stay
			oldest := msg.events[len(msg.events)-1].ID
			i := slices.IndexFunc(v.events, func(e core.AuditEntry) bool { return e.ID < oldest })
			if i < 0 {
				v.more = len(msg.events) == auditPage
				v.events = msg.events
			} else {
				v.events = append(slices.Clip(msg.events), v.events[i:]...)
			}
		default:
			v.events = msg.events
			v.more = len(msg.events) == auditPage
		}
		v.layout()
		rows, keys := make([][]string, len(v.events)), make([]string, len(v.events))
		for i, e := range v.events {
			rows[i], keys[i] = []string{fmtTime(e.At), e.Actor, e.Action, e.Target, e.Source, e.Detail}, fmt.Sprint(e.ID)
		}
		v.list.setRows(rows, keys)
		if msg.q.BeforeID != 0 {
			return v, status("%s loaded.", upperFirst(count(len(v.events), "event", "events")))
		}
	case tea.KeyPressMsg:
		if cmd, used := v.list.update(msg); used {
			return v, cmd
		}
		switch {
		case key.Matches(msg, moreKey):
			if !v.more || len(v.events) == 0 {
				return v, status("That is the whole log (%s).", count(len(v.events), "event", "events"))
			}
			return v, v.load(v.events[len(v.events)-1].ID)
		case key.Matches(msg, allOrgKey) && v.c.Actor.Admin:
			v.all = !v.all
			v.events, v.more = nil, false // another log: nothing loaded of it yet
			if v.all {
				return v, tea.Batch(status("The log of every organization."), v.load(0))
			}
			return v, tea.Batch(status("The log of %s.", v.c.Org.Name), v.load(0))
		}
	}
	return v, v.list.navigate(msg)
}

// overlaps reports whether a page of the newest events reaches back into
// the events loaded before (so that nothing lies between them).
func overlaps(page, loaded []core.AuditEntry) bool {
	return len(page) > 0 && len(loaded) > 0 && page[len(page)-1].ID <= loaded[0].ID
}

// layout gives the list the screen's lines, but one for the note under it
// while older events may exist.
func (v *audit) layout() {
	if v.w == 0 {
		return
	}
	h := v.h
	if v.more {
		h--
	}
	v.list.resize(v.w, h)
}

func (v *audit) View() string {
	out := v.list.view()
	if v.more {
		out += "\n" + v.c.Styles.Muted.Render(fmt.Sprintf("Showing the newest %d; m loads older events.", len(v.events)))
	}
	return out
}
