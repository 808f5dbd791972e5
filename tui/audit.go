package tui

import (
	"fmt"
	"latchkey/tui/components/status"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"latchkey/core"
)

// audit shows the audit log, newest first, a page at a time. The newest
// events are always at hand: with the selection on the newest, it follows
// new ones as they arrive; further down, the list stays put and its top
// line counts the new events above the rows shown, which g (or home)
// brings into view. enter shows an event whole.
type audit struct {
	base
	list   *listView
	events []core.AuditEntry
	all    bool   // instance admins: every organization
	more   bool   // older events may exist
	seen   uint64 // the newest event that has been on screen
}

type auditMsg struct {
	q      core.AuditQuery
	events []core.AuditEntry
	err    error
}

const auditPage = 500

var (
	moreKey    = bind("m", "m", "load older")
	allOrgKey  = bind("A", "A", "all organizations")
	newestKey  = bind("g,home", "g", "newest")
	detailsKey = bind("enter", "enter", "details")
)

func newAudit(c *Common) *audit {
	v := &audit{base: base{c: c}}
	v.list = newListView(c, []column{
		// At 100 columns: when, who, what, on whom, on which portal;
		// where from and the detail as the width allows, and whole with enter.
		{Title: "When", Min: 12},
		{Title: "Who", Min: 14, Flex: 2},
		{Title: "Action", Min: 16, Flex: 1},
		{Title: "Target", Min: 16, Flex: 2},
		{Title: "Portal", Min: 19, Drop: 1}, // "/p/website-redesign"
		{Title: "From", Min: 17, Flex: 1, Drop: 2},
		{Title: "Detail", Min: 16, Flex: 3, Drop: 3},
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
	ctx, svc, a, q := v.c.Ctx, v.c.Service, v.c.Actor, v.query(before)
	return work("Loading the audit log", func() tea.Msg {
		events, err := svc.Audit(ctx, a, q)
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
func (v *audit) Capturing() bool { return v.list.Capturing() }
func (v *audit) holdsEsc() bool  { return v.list.HoldsEsc() }
func (v *audit) ShortHelp() []key.Binding {
	if h := v.list.TypingHelp(); h != nil {
		return h
	}
	keys := []key.Binding{detailsKey, newestKey}
	if v.more {
		keys = append(keys, moreKey)
	}
	keys = append(keys, filterKey)
	if core.InstanceActionsOf(v.c.Actor).ReadEveryAudit.OK() {
		keys = append(keys, allOrgKey)
	}
	return keys
}
func (v *audit) FullHelp() [][]key.Binding {
	keys := []key.Binding{detailsKey, newestKey, moreKey, filterKey}
	if core.InstanceActionsOf(v.c.Actor).ReadEveryAudit.OK() {
		keys = append(keys, allOrgKey)
	}
	return [][]key.Binding{{upKey, downKey, pageKeys, endKeys}, keys}
}

func (v *audit) Update(msg tea.Msg) (screen, tea.Cmd) {
	s, cmd := v.update(msg)
	v.mark()
	return s, cmd
}

// mark notes the newest event on screen, and counts on the list's top
// line the new events above the rows shown.
func (v *audit) mark() {
	l := v.list
	l.Note = ""
	if len(l.Visible()) == 0 || l.Offset() >= len(l.Visible()) || l.Len() != len(v.events) {
		return
	}
	v.seen = max(v.seen, v.events[l.Visible()[l.Offset()]].ID) // the newest of the rows shown
	n := 0
	for _, i := range l.Visible()[:l.Offset()] {
		if v.events[i].ID > v.seen {
			n++
		}
	}
	if n > 0 {
		l.Note = "↑ " + count(n, "new event", "new events") + " above · g shows them"
	}
}

func (v *audit) update(msg tea.Msg) (screen, tea.Cmd) {
	if v.size(msg) {
		v.layout()
		return v, nil
	}
	switch msg := msg.(type) {
	case restyleMsg:
		v.list.Restyle()
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
		onNewest := msg.q.BeforeID == 0 && v.list.Cursor() == 0 // or nothing listed yet
		rows, keys := make([][]string, len(v.events)), make([]string, len(v.events))
		for i, e := range v.events {
			rows[i], keys[i] = []string{fmtTime(e.At), e.Actor, e.Action, e.Target, portalOf(e), e.Source, e.Detail}, fmt.Sprint(e.ID)
		}
		v.list.SetRows(rows, keys)
		if onNewest {
			v.list.MoveTo(0) // follow the newest
		}
		if msg.q.BeforeID != 0 {
			return v, status.Infof("%s loaded.", core.FirstUpper(count(len(v.events), "event", "events")))
		}
	case tea.KeyPressMsg:
		if cmd, used := v.list.Update(msg); used {
			return v, cmd
		}
		switch {
		case key.Matches(msg, detailsKey):
			if i := v.list.Selected(); i >= 0 && i < len(v.events) {
				return v, push(newEventViewer(v.c, v.events[i]))
			}
			return v, nil
		case key.Matches(msg, moreKey):
			if !v.more || len(v.events) == 0 {
				return v, status.Infof("That is the whole log (%s).", count(len(v.events), "event", "events"))
			}
			return v, v.load(v.events[len(v.events)-1].ID)
		case key.Matches(msg, allOrgKey) && core.InstanceActionsOf(v.c.Actor).ReadEveryAudit.OK():
			v.all = !v.all
			v.events, v.more, v.seen = nil, false, 0 // another log: nothing loaded of it yet (the list shows the last until it is)
			if v.all {
				return v, tea.Batch(status.Infof("The log of every organization."), v.load(0))
			}
			return v, tea.Batch(status.Infof("The log of %s.", v.c.Org.Name), v.load(0))
		}
	}
	return v, v.list.Navigate(msg)
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
	v.list.Resize(v.w, h)
}

func (v *audit) View() string {
	out := v.list.View()
	if v.more {
		out += "\n" + v.c.Styles.Muted.Render(fmt.Sprintf("Showing the newest %d; m loads older events.", len(v.events)))
	}
	return out
}

// portalOf is the event's portal as the console writes portals, or "".
func portalOf(e core.AuditEntry) string {
	if e.Portal == "" {
		return ""
	}
	return "/p/" + e.Portal
}

// newEventViewer shows one audit event whole: where it came from taken
// apart (the address of a web request, the fingerprint of an SSH key), and
// its detail wrapped, however long.
func newEventViewer(c *Common, e core.AuditEntry) *textViewer {
	source, from := e.Source, [2]string{}
	if kind, rest, ok := strings.Cut(e.Source, ":"); ok {
		switch kind {
		case "web":
			source, from = "web", [2]string{"Address", rest}
		case "ssh":
			source, from = "ssh", [2]string{"Key", rest}
		}
	}
	portal := portalOf(e)
	if portal == "" {
		portal = "—"
	}
	target := e.Target
	if target == "" {
		target = "—"
	}
	head := [][2]string{{"When", e.At.Local().Format("Mon 2 Jan 2006 15:04:05 MST")}, {"Who", e.Actor}, {"Action", e.Action},
		{"Target", target}, {"Portal", portal}, {"Source", source}}
	if from[0] != "" {
		head = append(head, from)
	}
	body := e.Detail
	if body == "" {
		body = "No detail."
	}
	return newTextViewer(c, fmt.Sprintf("Event %d", e.ID), head, body)
}
