package tui

import (
	"fmt"
	"latchkey/tui/components/form"
	"latchkey/tui/components/status"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textarea"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"latchkey/core"
)

// The forms of a portal's content: a resource to add, an update to post.
// Both follow the console's form rules: esc, their way out, first in the
// help bar (asking before it discards input), the field with the keyboard
// marked "›", ctrl+s from any field, errors under their fields.

// button is a form's button, marked while it has the keyboard.
func button(st Styles, focused bool, text string) string {
	b, mark := st.Button.Render(text), ""
	if focused {
		b, mark = st.ButtonActive.Render(text), st.Accent.Bold(true).Render("›")
	}
	return lipgloss.JoinHorizontal(lipgloss.Center, lipgloss.NewStyle().Width(labelWidth).Render(mark), b)
}

// formKeys are what a form being edited keeps for itself on a field that
// takes no text (see claims).
var formKeys = []key.Binding{cancelKey, nextFieldKey, prevFieldKey, choiceKey, enterKey, bind("ctrl+s", "ctrl+s", "")}

func claimsFormKey(k tea.KeyPressMsg) bool {
	return slices.ContainsFunc(formKeys, func(b key.Binding) bool { return key.Matches(k, b) })
}

// ---- a resource

type resourceForm struct {
	base
	portal           core.Portal
	title, url, note textinput.Model
	focus            int
	errs             map[string]string
}

const (
	rTitle = iota
	rURL
	rNote
	rAdd
	rFields
)

var (
	addKey      = bind("ctrl+s", "ctrl+s", "add")
	enterAddKey = bind("enter", "enter", "add")
)

func newResourceForm(c *Common, p core.Portal) *resourceForm {
	f := &resourceForm{base: base{c: c}, portal: p, errs: map[string]string{}}
	f.title, f.url, f.note = textinput.New(), textinput.New(), textinput.New()
	f.title.Placeholder = "what the link is, like Latest designs"
	f.url.Placeholder = "https://drive.example.com/folder"
	f.note.Placeholder = fmt.Sprintf("optional, up to %d characters", core.MaxNoteLen)
	f.title.CharLimit, f.url.CharLimit, f.note.CharLimit = 200, core.MaxURLLen, core.MaxNoteLen
	f.restyle()
	return f
}

func (f *resourceForm) restyle() {
	for _, t := range []*textinput.Model{&f.title, &f.url, &f.note} {
		t.SetStyles(textinput.DefaultStyles(f.c.IsDark))
	}
}

func (f *resourceForm) Init() tea.Cmd   { return f.title.Focus() }
func (f *resourceForm) Title() string   { return "Add a resource" }
func (f *resourceForm) Capturing() bool { return f.focus != rAdd }
func (f *resourceForm) holdsEsc() bool  { return true }
func (f *resourceForm) Dirty() bool {
	return f.title.Value() != "" || f.url.Value() != "" || f.note.Value() != ""
}
func (f *resourceForm) claims(k tea.KeyPressMsg) bool { return claimsFormKey(k) }

func (f *resourceForm) ShortHelp() []key.Binding {
	if f.focus == rAdd {
		return []key.Binding{cancelKey, enterAddKey, nextFieldKey}
	}
	return []key.Binding{cancelKey, nextFieldKey, addKey}
}

func (f *resourceForm) FullHelp() [][]key.Binding {
	return [][]key.Binding{{cancelKey, nextFieldKey, prevFieldKey, addKey}}
}

func (f *resourceForm) refocus() tea.Cmd {
	return form.FocusOn(f.focus, map[int]form.Focusable{rTitle: &f.title, rURL: &f.url, rNote: &f.note})
}

func (f *resourceForm) Update(msg tea.Msg) (screen, tea.Cmd) {
	if f.size(msg) {
		fitInputs(f.w, &f.title, &f.url, &f.note)
		return f, nil
	}
	switch msg := msg.(type) {
	case restyleMsg:
		f.restyle()
		return f, nil
	case failedNotice:
		if i, ok := failedField(msg.err, f.errs, map[string]int{"title": rTitle, "url": rURL, "note": rNote}); ok {
			f.focus = i
			return f, f.refocus()
		}
		return f, nil
	case tea.PasteMsg:
		if f.focus == rAdd {
			return f, status.Infof("Paste into a field: tab goes to them.")
		}
	case tea.KeyPressMsg:
		switch {
		case msg.String() == "esc":
			return f, closeForm("No resource was added.")
		case key.Matches(msg, addKey), msg.String() == "enter" && f.focus == rAdd:
			return f, f.add()
		case key.Matches(msg, nextFieldKey), msg.String() == "enter":
			f.focus = (f.focus + 1) % rFields
			return f, f.refocus()
		case key.Matches(msg, prevFieldKey):
			f.focus = (f.focus + rFields - 1) % rFields
			return f, f.refocus()
		case f.focus == rAdd && msg.Text != "":
			return f, status.Infof("This is the button: enter adds the resource; tab goes back to the fields.")
		}
	}
	var cmd tea.Cmd
	switch f.focus {
	case rTitle:
		f.title, cmd = f.title.Update(msg)
		f.clearOn(msg, "title")
	case rURL:
		f.url, cmd = f.url.Update(msg)
		f.clearOn(msg, "url")
	case rNote:
		f.note, cmd = f.note.Update(msg)
		f.clearOn(msg, "note")
	}
	return f, cmd
}

// clearOn drops a field's error once the person types into it.
func (f *resourceForm) clearOn(msg tea.Msg, field string) {
	switch msg.(type) {
	case tea.KeyPressMsg, tea.PasteMsg:
		delete(f.errs, field)
	}
}

func (f *resourceForm) add() tea.Cmd {
	in := core.ResourceInput{Title: f.title.Value(), URL: f.url.Value(), Note: f.note.Value()}
	f.errs = map[string]string{}
	ctx, svc, a, p := f.c.Ctx, f.c.Service, f.c.Actor, f.portal
	return work("Adding the resource", func() tea.Msg {
		r, err := svc.AddResource(ctx, a, p.ID, in)
		if err != nil {
			return doneMsg{err: err}
		}
		return doneMsg{status: fmt.Sprintf("Added %q to /p/%s, at position %d.", r.Title, p.Slug, r.Position),
			close: true, reload: true, selectKey: fmt.Sprint("r", r.ID)}
	})
}

func (f *resourceForm) View() string {
	st := f.c.Styles
	label := func(field int, text string) string { return form.Label(st, f.focus == field, text) }
	under := func(name string) string { return form.ErrorUnder(st, f.errs[name], f.w) }
	hint := map[int]string{
		rTitle: "What the link is, as the portal's page shows it.",
		rURL:   "An http:// or https:// address: a shared folder, a document, the staging site.",
		rNote:  "A line under the title, optional: what is there, or for whom.",
		rAdd:   "The portal's page lists it last; K and J on the list move it.",
	}[f.focus]
	return strings.Join([]string{
		st.Muted.Render(fit("A titled link on the page of /p/"+f.portal.Slug+".", f.w)),
		"",
		label(rTitle, "Title") + f.title.View() + under("title"),
		label(rURL, "Address") + f.url.View() + under("url"),
		label(rNote, "Note") + f.note.View() + under("note"),
		"",
		button(st, f.focus == rAdd, "Add resource"),
		"",
		form.Indent(st.Muted.Render(hint), 0, f.w),
	}, "\n")
}

// ---- an update

type updateComposer struct {
	base
	portal  core.Portal
	body    textarea.Model
	email   bool
	people  int  // how many people have access (an update is emailed to them)
	counted bool // people is known
	focus   int
	errText string // why the update was refused
}

const (
	uBody = iota
	uEmail
	uPost
	uFields
)

type peopleMsg struct {
	portal uint64
	n      int
	err    error
}

var (
	postKey      = bind("ctrl+s", "ctrl+s", "post")
	enterPostKey = bind("enter", "enter", "post")
	toggleKey    = bind("space,left,right", "space", "email or not")
)

func newUpdateComposer(c *Common, p core.Portal) *updateComposer {
	u := &updateComposer{base: base{c: c}, portal: p}
	u.body = textarea.New()
	u.body.ShowLineNumbers = false
	u.body.CharLimit = core.MaxUpdateLen
	u.body.MaxHeight = 0 // the characters are limited, not the lines
	u.body.Placeholder = "What is new? **Markdown** works here."
	u.body.SetStyles(textarea.DefaultStyles(c.IsDark))
	return u
}

// count reads how many people may open the portal now: those an update
// is emailed to (access, or an invitation not used yet).
func (u *updateComposer) count() tea.Cmd {
	ctx, svc, a, id := u.c.Ctx, u.c.Service, u.c.Actor, u.portal.ID
	return work("Counting the people with access", func() tea.Msg {
		people, err := svc.PortalMembers(ctx, a, id)
		n := 0
		for _, pm := range people {
			if w := pm.AccessWord(); w == core.AccessYes || w == core.AccessInvited {
				n++
			}
		}
		return peopleMsg{id, n, err}
	})
}

func (u *updateComposer) Init() tea.Cmd   { return tea.Batch(u.body.Focus(), u.count()) }
func (u *updateComposer) Title() string   { return "Post an update" }
func (u *updateComposer) Capturing() bool { return u.focus == uBody }
func (u *updateComposer) holdsEsc() bool  { return true }
func (u *updateComposer) Dirty() bool     { return strings.TrimSpace(u.body.Value()) != "" }
func (u *updateComposer) claims(k tea.KeyPressMsg) bool {
	return claimsFormKey(k) || (u.focus == uEmail && k.String() == "space")
}

func (u *updateComposer) ShortHelp() []key.Binding {
	switch u.focus {
	case uEmail:
		return []key.Binding{cancelKey, toggleKey, nextFieldKey, postKey}
	case uPost:
		return []key.Binding{cancelKey, enterPostKey, nextFieldKey}
	}
	return []key.Binding{cancelKey, postKey, nextFieldKey, newLineKey}
}

func (u *updateComposer) FullHelp() [][]key.Binding {
	return [][]key.Binding{{cancelKey, nextFieldKey, prevFieldKey, toggleKey, postKey}, {bind("enter", "enter", "new line (update)")}}
}

func (u *updateComposer) refocus() tea.Cmd {
	return form.FocusOn(u.focus, map[int]form.Focusable{uBody: &u.body})
}

func (u *updateComposer) Update(msg tea.Msg) (screen, tea.Cmd) {
	if u.size(msg) {
		u.body.SetWidth(min(72, u.w-2))
		u.layout()
		return u, nil
	}
	switch msg := msg.(type) {
	case restyleMsg:
		u.body.SetStyles(textarea.DefaultStyles(u.c.IsDark))
		return u, nil
	case peopleMsg:
		if msg.portal != u.portal.ID {
			return u, nil
		}
		if msg.err != nil {
			return u, func() tea.Msg { return errMsg{msg.err} }
		}
		u.people, u.counted = msg.n, true
		return u, nil
	case refreshMsg:
		return u, u.count() // access may have changed meanwhile
	case failedNotice:
		if _, why := fieldError(msg.err); why != "" {
			u.errText = why
			u.focus = uBody
			u.layout()
			return u, u.refocus()
		}
		return u, nil
	case tea.PasteMsg:
		if u.focus != uBody {
			return u, status.Infof("Paste into the update: shift+tab goes back to it.")
		}
	case tea.KeyPressMsg:
		switch {
		case msg.String() == "esc":
			return u, closeForm("Nothing was posted.")
		case key.Matches(msg, postKey), msg.String() == "enter" && u.focus == uPost:
			return u, u.post()
		case msg.String() == "tab", msg.String() == "enter" && u.focus == uEmail, msg.String() == "down" && u.focus != uBody:
			u.focus = (u.focus + 1) % uFields
			return u, u.refocus()
		case msg.String() == "shift+tab", msg.String() == "up" && u.focus != uBody,
			msg.String() == "up" && u.body.Line() == 0 && u.body.LineInfo().RowOffset == 0:
			u.focus = (u.focus + uFields - 1) % uFields
			return u, u.refocus()
		case u.focus == uEmail && key.Matches(msg, toggleKey):
			u.email = !u.email
			return u, nil
		case u.focus == uEmail && msg.Text != "":
			return u, status.Infof("Email or not is a choice: space changes it, tab goes to the next field.")
		case u.focus == uPost && msg.Text != "":
			return u, status.Infof("This is the button: enter posts the update; tab goes on to the update's text.")
		}
	}
	if u.focus != uBody {
		return u, nil
	}
	var cmd tea.Cmd
	before := u.body.Value()
	u.body, cmd = u.body.Update(msg)
	if u.body.Value() != before && u.errText != "" {
		u.errText = ""
		u.layout()
	}
	return u, cmd
}

func (u *updateComposer) post() tea.Cmd {
	body, email := u.body.Value(), u.email
	ctx, svc, a, p := u.c.Ctx, u.c.Service, u.c.Actor, u.portal
	u.errText = ""
	u.layout()
	return work("Posting the update", func() tea.Msg {
		up, err := svc.PostUpdate(ctx, a, p.ID, body, email)
		if err != nil {
			return doneMsg{err: err}
		}
		text := "Posted the update on /p/" + p.Slug + "; it was not emailed."
		if email {
			text = fmt.Sprintf("Posted the update on /p/%s and emailed it to %s.", p.Slug, count(up.Emailed, "person", "people"))
		}
		return doneMsg{status: text, close: true, reload: true, selectKey: fmt.Sprint("u", up.ID)}
	})
}

// emailChoice is the line that says whom the update is emailed to.
func (u *updateComposer) emailChoice() string {
	who := "counting…"
	if u.counted {
		who = count(u.people, "person", "people")
	}
	box := "[ ]"
	if u.email {
		box = "[x]"
	}
	return box + " also email it to everyone with access (" + who + ")"
}

func (u *updateComposer) fieldsAbove() string {
	st := u.c.Styles
	return form.Label(st, u.focus == uBody, "Update") +
		st.Muted.Render(fmt.Sprintf("Markdown · %d/%d", u.body.Length(), core.MaxUpdateLen)) + form.ErrorUnder(st, u.errText, u.w)
}

func (u *updateComposer) below() string {
	st := u.c.Styles
	choice := u.emailChoice()
	if u.focus == uEmail {
		choice = st.Selected.Render(" " + choice + " ")
	} else {
		choice = " " + choice
	}
	hint := "Shown on the portal's page, newest first, with the date and your name. Markdown: **bold**, *italic*, - list, [link](https://…)."
	if u.portal.Upstream != "" {
		hint = "/p/" + u.portal.Slug + " fronts " + u.portal.Upstream + ": its clients see that app, not the built-in page with its updates; an update emailed still reaches them."
	}
	return form.Label(st, u.focus == uEmail, "Email") + choice + "\n\n" +
		button(st, u.focus == uPost, "Post update") + "\n\n" + form.Indent(st.Muted.Render(hint), 0, u.w)
}

// layout gives the editor the rows that the rest of the form leaves.
func (u *updateComposer) layout() {
	rest := lipgloss.Height(u.fieldsAbove()) + lipgloss.Height(u.below())
	u.body.SetHeight(max(min(u.h-rest, 12), 3))
}

func (u *updateComposer) View() string {
	return u.fieldsAbove() + "\n" + u.body.View() + "\n" + u.below()
}
