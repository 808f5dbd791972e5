package tui

import (
	"errors"
	"fmt"
	"latchkey/tui/components/form"
	"latchkey/tui/components/status"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"latchkey/core"
)

// invite is the invitation form: email, name, role, portal (or none) and,
// for a guest, an access end date.
//
// It is either being edited or not, and says which at its top. Opened with
// i (inviting to a project's portal) it is edited at once; reached with
// its section key, or left with esc, it is not, so that the section keys
// go on through it as through every screen. While it is edited, the field
// with the keyboard is marked "›" and esc, its way out, is the first key of
// the help bar; a text field takes what is typed (digits too), while on a
// choice or the button the console's keys (1-6, ?, q) act as everywhere.
// Not edited, enter edits it again where it was, and a key that would type
// is answered in the status line rather than lost.
type invite struct {
	base
	email, name, until textinput.Model
	roles              []core.Role
	role               int
	portals            []core.ProjectSummary // with a portal
	portal             int                   // 0: no portal; i: portals[i-1]
	want               uint64                // portal to preselect once loaded
	focus              int
	active             bool // being edited: keys go to the form
	errs               map[string]string
	sent               bool
}

const (
	fEmail = iota
	fName
	fRole
	fPortal
	fUntil
	fSubmit
)

type invitePortalsMsg struct {
	items []core.ProjectSummary
	by    core.Role // the console user's role in the organization
	err   error
}

func newInvite(c *Common, portalID uint64) *invite {
	f := &invite{base: base{c: c}, want: portalID, active: true, errs: map[string]string{},
		roles: []core.Role{core.RoleClient, core.RoleMember, core.RoleGuest}} // manager too, once the user is known to be the owner
	for _, t := range []*textinput.Model{&f.email, &f.name, &f.until} {
		*t = textinput.New()
		t.CharLimit = 320
		t.SetStyles(textinput.DefaultStyles(c.IsDark))
	}
	f.email.Placeholder = "client@example.com"
	f.name.Placeholder = "optional"
	f.until.Placeholder = "YYYY-MM-DD, empty for no end date"
	return f
}

// newInviteSection is the Invite section's form, not being edited.
func newInviteSection(c *Common) *invite {
	f := newInvite(c, 0)
	f.active = false
	return f
}

func (f *invite) Init() tea.Cmd {
	ctx, svc, a, org := f.c.Ctx, f.c.Service, f.c.Actor, f.c.Org.ID
	load := work("Loading portals", func() tea.Msg {
		by, err := svc.RoleIn(ctx, a, org)
		if err != nil {
			return invitePortalsMsg{err: err}
		}
		items, err := svc.Projects(ctx, a, org)
		var withPortal []core.ProjectSummary
		for _, s := range items {
			if s.Portal != nil {
				withPortal = append(withPortal, s)
			}
		}
		return invitePortalsMsg{withPortal, by, err}
	})
	if !f.active {
		return load
	}
	return tea.Batch(load, f.focusInput())
}

// setRoles offers the roles core allows the console user to grant (the
// manager role only to the owner). The chosen role stays chosen when it is
// still offered.
func (f *invite) setRoles(by core.Role) {
	chosen := f.roles[f.role]
	f.roles = f.roles[:0]
	for _, c := range core.InviteRoles(by) {
		if c.Decision.OK() {
			f.roles = append(f.roles, c.Role)
		}
	}
	f.role = max(slices.Index(f.roles, chosen), 0)
}

func (f *invite) Title() string {
	if f.want != 0 {
		return "Invite to portal"
	}
	return "Invite"
}

// Capturing: a text field being edited takes every key.
func (f *invite) Capturing() bool { return f.active && f.typing() }

// typing: the field with the keyboard takes text.
func (f *invite) typing() bool { return f.focus == fEmail || f.focus == fName || f.focus == fUntil }

// claims the form's own keys while it is edited on a choice or the button:
// the console's keys (digits, ?, q) go on to the console.
func (f *invite) claims(k tea.KeyPressMsg) bool {
	if !f.active {
		return false
	}
	for _, b := range []key.Binding{nextFieldKey, prevFieldKey, choiceKey, sendKey, bulkKey, leaveKey, enterFormKey} {
		if key.Matches(k, b) {
			return true
		}
	}
	return false
}

// holdsEsc: while the form is edited, esc leaves the form, not the screen.
func (f *invite) holdsEsc() bool { return f.active }
func (f *invite) Dirty() bool {
	return !f.sent && (f.email.Value() != "" || f.name.Value() != "" || f.until.Value() != "")
}

var (
	nextFieldKey = bind("tab,down", "tab", "next field")
	prevFieldKey = bind("shift+tab,up", "shift+tab", "previous field")
	choiceKey    = bind("left,right", "←/→", "change choice")
	sendKey      = bind("ctrl+s", "ctrl+s", "send")
	bulkKey      = bind("ctrl+b", "ctrl+b", "bulk invite")
	leaveKey     = bind("esc", "esc", "leave form")
	enterFormKey = bind("enter", "enter", "edit form")
	enterSendKey = bind("enter", "enter", "send")
)

// ShortHelp: the way out first while the form is edited, then what the
// field with the keyboard takes.
func (f *invite) ShortHelp() []key.Binding {
	switch {
	case !f.active:
		return []key.Binding{enterFormKey, bulkKey}
	case f.focus == fRole || f.focus == fPortal:
		return []key.Binding{leaveKey, bind("left,right", "←/→", "choose"), nextFieldKey, sendKey, bulkKey}
	case f.focus == fSubmit:
		return []key.Binding{leaveKey, enterSendKey, nextFieldKey, bulkKey}
	}
	return []key.Binding{leaveKey, nextFieldKey, sendKey, bind("ctrl+b", "ctrl+b", "bulk")}
}

func (f *invite) FullHelp() [][]key.Binding {
	if !f.active {
		return [][]key.Binding{{enterFormKey, bulkKey}}
	}
	return [][]key.Binding{{leaveKey, nextFieldKey, prevFieldKey, choiceKey}, {sendKey, bulkKey}}
}

func (f *invite) visibleFields() []int {
	out := []int{fEmail, fName, fRole, fPortal}
	if f.roles[f.role] == core.RoleGuest {
		out = append(out, fUntil)
	}
	return append(out, fSubmit)
}

func (f *invite) move(delta int) tea.Cmd {
	fields := f.visibleFields()
	at := 0
	for i, x := range fields {
		if x == f.focus {
			at = i
		}
	}
	f.focus = fields[(at+delta+len(fields))%len(fields)]
	return f.focusInput()
}

func (f *invite) focusInput() tea.Cmd { return f.focusOn(f.focus) }

func (f *invite) Update(msg tea.Msg) (screen, tea.Cmd) {
	if f.size(msg) {
		for _, t := range []*textinput.Model{&f.email, &f.name, &f.until} {
			t.SetWidth(min(50, f.w-30))
		}
		return f, nil
	}
	switch msg := msg.(type) {
	case restyleMsg:
		for _, t := range []*textinput.Model{&f.email, &f.name, &f.until} {
			t.SetStyles(textinput.DefaultStyles(f.c.IsDark))
		}
	case invitePortalsMsg:
		if msg.err != nil {
			return f, func() tea.Msg { return errMsg{msg.err} }
		}
		f.setRoles(msg.by)
		f.portals = msg.items
		for i, s := range f.portals {
			if s.Portal.ID == f.want {
				f.portal = i + 1
			}
		}
		return f, nil
	case inviteResultMsg:
		var ce *core.ConfirmationError
		if errors.As(msg.err, &ce) { // ask, and send again confirmed; the form keeps its values meanwhile
			return f, push(newConfirm(f.c, ce.Question+" Replace it?", ce.Detail, f.send(true)))
		}
		if msg.err != nil {
			f.errs = map[string]string{}
			var ve *core.ValidationError
			if errors.As(msg.err, &ve) {
				f.errs[ve.Field] = core.FirstUpper(ve.Reason)
			}
			return f, func() tea.Msg { return errMsg{msg.err} }
		}
		f.sent = true
		f.email.SetValue("")
		f.name.SetValue("")
		f.until.SetValue("")
		f.errs = map[string]string{}
		f.focus = fEmail
		f.sent = false
		return f, tea.Batch(f.focusInput(), status.Info(msg.status))
	case tea.PasteMsg:
		if !f.active {
			return f, notEdited()
		}
	case tea.KeyPressMsg:
		if !f.active {
			switch {
			case msg.String() == "enter":
				f.active = true
				return f, f.focusInput()
			case key.Matches(msg, bulkKey):
				return f, push(newBulkInvite(f.c, f.selectedPortal()))
			case msg.Text != "":
				return f, notEdited()
			}
			return f, nil
		}
		switch {
		case msg.String() == "esc":
			f.active = false
			f.focusOn(-1)
			return f, nil
		case key.Matches(msg, sendKey), msg.String() == "enter" && f.focus == fSubmit:
			return f, f.submit()
		case key.Matches(msg, bulkKey):
			return f, push(newBulkInvite(f.c, f.selectedPortal()))
		case msg.String() == "enter":
			return f, f.move(1)
		case key.Matches(msg, nextFieldKey):
			return f, f.move(1)
		case key.Matches(msg, prevFieldKey):
			return f, f.move(-1)
		case f.focus == fRole && key.Matches(msg, choiceKey):
			f.role = cycle(f.role, len(f.roles), msg.String() == "right")
			return f, nil
		case f.focus == fPortal && key.Matches(msg, choiceKey):
			f.portal = cycle(f.portal, len(f.portals)+1, msg.String() == "right")
			return f, nil
		}
	}
	var cmd tea.Cmd
	switch f.focus {
	case fEmail:
		f.email, cmd = f.email.Update(msg)
	case fName:
		f.name, cmd = f.name.Update(msg)
	case fUntil:
		f.until, cmd = f.until.Update(msg)
	}
	return f, cmd
}

// notEdited answers a key that would have typed into the form while it is
// not being edited.
func notEdited() tea.Cmd {
	return status.Infof("The form is not being edited: press enter to edit it.")
}

// focusOn blurs every text field, then focuses the one at field, if any.
func (f *invite) focusOn(field int) tea.Cmd {
	return form.FocusOn(field, map[int]form.Focusable{fEmail: &f.email, fName: &f.name, fUntil: &f.until})
}

func cycle(i, n int, forward bool) int {
	if forward {
		return (i + 1) % n
	}
	return (i + n - 1) % n
}

func (f *invite) selectedPortal() *core.ProjectSummary {
	if f.portal == 0 || f.portal > len(f.portals) {
		return nil
	}
	return &f.portals[f.portal-1]
}

type inviteResultMsg struct {
	status string
	err    error
}

func (f *invite) submit() tea.Cmd { return f.send(false) }

// send invites with the form's values; replace confirms that an active
// link of the address for the portal is replaced.
func (f *invite) send(replace bool) tea.Cmd {
	in := core.InviteInput{Replace: replace, OrgID: f.c.Org.ID, Email: f.email.Value(), Name: f.name.Value(), Role: f.roles[f.role]}
	portalName := ""
	if p := f.selectedPortal(); p != nil {
		in.PortalID, portalName = p.Portal.ID, p.Portal.Title
	}
	if in.Role == core.RoleGuest && strings.TrimSpace(f.until.Value()) != "" {
		d, err := core.ParseDate("guest_until", f.until.Value())
		if err != nil {
			f.errs = map[string]string{"guest_until": "Not a date like 2026-12-31"}
			return func() tea.Msg { return errMsg{err} }
		}
		in.GuestUntil = d
	}
	ctx, svc, a := f.c.Ctx, f.c.Service, f.c.Actor
	return work("Sending the invitation", func() tea.Msg {
		res, err := svc.Invite(ctx, a, in)
		if err != nil {
			return inviteResultMsg{err: err}
		}
		email, as := res.Invitation.Email, "as "+string(res.Role)
		if res.KeptRole && res.Role != in.Role {
			as = "(they keep the role " + string(res.Role) + ")"
		}
		if in.PortalID != 0 {
			replaced := ""
			if res.Replaced {
				replaced = " Their previous link no longer works."
			}
			return inviteResultMsg{status: fmt.Sprintf("Invited %s %s to %s: the email with an Open portal button is on its way.%s", email, as, portalName, replaced)}
		}
		return inviteResultMsg{status: fmt.Sprintf("Invited %s %s: the email with a link to join is on its way.", email, as)}
	})
}

func (f *invite) View() string {
	st := f.c.Styles
	// The field with the keyboard is marked in any colour profile.
	label := func(field int, text string) string {
		if f.active && f.focus == field {
			return st.Accent.Bold(true).Render(lipgloss.NewStyle().Width(16).Render("› " + text))
		}
		return st.Label.Render(lipgloss.NewStyle().Width(16).Render("  " + text))
	}
	errLine := func(field string) string {
		if e := f.errs[field]; e != "" {
			return "\n" + strings.Repeat(" ", 16) + st.ErrorText.Render(e)
		}
		return ""
	}
	choice := func(field int, opts []string, i int) string {
		var parts []string
		for j, o := range opts {
			if j == i {
				parts = append(parts, st.Selected.Render(" "+o+" "))
			} else {
				parts = append(parts, st.Muted.Render(" "+o+" "))
			}
		}
		s := strings.Join(parts, "")
		if f.active && f.focus == field {
			s = st.Accent.Render("‹ ") + s + st.Accent.Render(" ›")
		}
		return s
	}
	var roles []string
	for _, r := range f.roles {
		roles = append(roles, string(r))
	}
	portals := []string{"no portal"}
	for _, p := range f.portals {
		portals = append(portals, p.Portal.Slug)
	}
	state := st.Accent.Render("Editing · esc leaves the form")
	if !f.active {
		state = st.Warn.Render("Not editing · enter edits the form")
	}
	rows := []string{
		state,
		"",
		label(fEmail, "Email") + f.email.View() + errLine("email"),
		label(fName, "Name") + f.name.View() + errLine("name"),
		label(fRole, "Role") + choice(fRole, roles, f.role) + errLine("role"),
		label(fPortal, "Portal") + fit(choice(fPortal, portals, f.portal), f.w-18),
	}
	if f.roles[f.role] == core.RoleGuest {
		rows = append(rows, label(fUntil, "Access until")+f.until.View()+errLine("guest_until"))
	}
	button, mark := st.Button.Render("Send invitation"), ""
	if f.active && f.focus == fSubmit {
		button, mark = st.ButtonActive.Render("Send invitation"), st.Accent.Bold(true).Render("›")
	}
	rows = append(rows, "", lipgloss.JoinHorizontal(lipgloss.Center, lipgloss.NewStyle().Width(16).Render(mark), button))
	explain := "With a portal, the email carries a magic link that opens it at once and creates the account on first use."
	if f.selectedPortal() == nil {
		explain = "Without a portal, the email carries a link to create the account and set a password (one use, 7 days)."
	}
	rows = append(rows, "", form.Indent(st.Muted.Render(explain), 0, f.w))
	return strings.Join(rows, "\n")
}
