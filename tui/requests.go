package tui

import (
	"errors"
	"fmt"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"latchkey/core"
)

// requests lists pending access requests across the organization's portals.
type requests struct {
	base
	list  *listView
	items []core.RequestView // each with core's decisions on its answers
}

type requestsMsg struct {
	org   uint64
	items []core.RequestView
	err   error
}

var (
	grantKey   = bind("g,enter", "g", "grant")
	dismissKey = bind("d", "d", "dismiss")
)

func newRequests(c *Common) *requests {
	r := &requests{base: base{c: c}}
	r.list = newListView(c, []column{
		{Title: "Asked", Min: 12},
		{Title: "Email", Min: 22, Flex: 3},
		{Title: "Portal", Min: 16, Flex: 2},
		{Title: "Times", Min: 5, Drop: 2},
		{Title: "From", Min: 15, Drop: 1},
		{Title: "Warning", Min: 12, Flex: 2, Drop: 3},
	}, "No pending access requests. They appear here when someone without access asks on a closed portal.")
	return r
}

func (r *requests) load() tea.Cmd {
	ctx, svc, a, org := r.c.Ctx, r.c.Service, r.c.Actor, r.c.Org.ID
	return work("Loading requests", func() tea.Msg {
		items, err := svc.Requests(ctx, a, org, true)
		return requestsMsg{org, items, err}
	})
}

func (r *requests) Init() tea.Cmd   { return r.load() }
func (r *requests) Title() string   { return "Access requests" }
func (r *requests) Capturing() bool { return r.list.Capturing() }
func (r *requests) holdsEsc() bool  { return r.list.HoldsEsc() }
func (r *requests) ShortHelp() []key.Binding {
	if h := r.list.TypingHelp(); h != nil {
		return h
	}
	return []key.Binding{grantKey, dismissKey, filterKey}
}
func (r *requests) FullHelp() [][]key.Binding {
	return [][]key.Binding{{upKey, downKey, pageKeys, endKeys, filterKey}, {grantKey, dismissKey}}
}

func (r *requests) Update(msg tea.Msg) (screen, tea.Cmd) {
	if r.size(msg) {
		r.list.Resize(r.w, r.h-2) // two rows for the selected request's warning
		return r, nil
	}
	switch msg := msg.(type) {
	case restyleMsg:
		r.list.Restyle()
	case refreshMsg, doneNotice:
		return r, r.load()
	case requestsMsg:
		if msg.org != r.c.Org.ID {
			return r, nil
		}
		if msg.err != nil {
			return r, func() tea.Msg { return errMsg{msg.err} }
		}
		r.items = msg.items
		rows, keys := make([][]string, len(msg.items)), make([]string, len(msg.items))
		for i, q := range msg.items {
			warning := "—"
			switch {
			case q.Note.LooksLike != "":
				warning = "looks like " + q.Note.LooksLike
			case q.Note.ASCII != "":
				warning = "not plain ASCII"
			}
			rows[i], keys[i] = []string{fmtTime(q.LastAt), addressCell(q.Email, q.Note), q.Portal.Title, fmt.Sprint(q.Count), q.Addr, warning}, fmt.Sprint(q.ID)
		}
		r.list.SetRows(rows, keys)
		return r, nil
	case tea.KeyPressMsg:
		if cmd, used := r.list.Update(msg); used {
			return r, cmd
		}
		i := r.list.Selected()
		if i < 0 || i >= len(r.items) {
			break
		}
		q := r.items[i]
		ctx, svc, a := r.c.Ctx, r.c.Service, r.c.Actor
		switch {
		case key.Matches(msg, grantKey):
			return r, push(newRolePickerFor(r.c, q))
		case key.Matches(msg, dismissKey):
			return r, push(newConfirm(r.c, "Dismiss "+q.Email+"'s request for "+q.Portal.Title+"?",
				"They are not told. If they ask again, you hear about it (at most once a day).",
				work("Dismissing", func() tea.Msg {
					if err := svc.DismissRequest(ctx, a, q.ID); err != nil {
						return doneMsg{err: err}
					}
					return doneMsg{status: "Dismissed " + q.Email + "'s request.", reload: true}
				})))
		}
	}
	return r, r.list.Navigate(msg)
}

// View is the list and, for a selected request whose address is not plain
// ASCII or reads as one the organization knows, that warning in full.
func (r *requests) View() string {
	out := r.list.View()
	if i := r.list.Selected(); i >= 0 && i < len(r.items) {
		if w := r.items[i].Note.Warning(); w != "" {
			out += "\n\n" + fit(r.c.Styles.Warn.Render("⚠ "+r.items[i].Email+" is "+w+"."), r.w)
		}
	}
	return out
}

// newRolePickerFor grants a request with a chosen role (client by default).
func newRolePickerFor(c *Common, q core.RequestView) screen {
	ctx, svc, a := c.Ctx, c.Service, c.Actor
	heading := "Grant " + q.Email + " access to " + q.Portal.Title + " as…"
	if w := q.Note.Warning(); w != "" {
		heading += "\n" + c.Styles.Warn.Render("This address is "+w+".")
	}
	var grant func(role core.Role, confirmed bool) tea.Cmd
	grant = func(role core.Role, confirmed bool) tea.Cmd {
		return work("Granting", func() tea.Msg {
			res, err := svc.GrantRequest(ctx, a, core.GrantInput{RequestID: q.ID, Role: role, Confirmed: confirmed})
			var ce *core.ConfirmationError
			if errors.As(err, &ce) { // a look-alike address: ask once more
				return doneMsg{back: true, push: newConfirm(c, ce.Question, ce.Detail, grant(role, true))}
			}
			if err != nil {
				return doneMsg{err: err}
			}
			return doneMsg{status: fmt.Sprintf("Granted: %s is invited to %s as %s; the email is on its way.", res.Invitation.Email, q.Portal.Title, res.Role), back: true, reload: true}
		})
	}
	p := newRolePicker(c, heading, "", q.Actions.Roles, func(role core.Role, until time.Time) tea.Cmd { return grant(role, false) })
	p.title = "Grant"
	return p
}
