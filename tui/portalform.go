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

	"latchkey/core"
)

// portalForm edits (or creates) a project's portal: every setting
// SetPortal takes, so that saving keeps what the form does not show
// changing (it carries them all). The welcome text is Markdown in a
// multi-line editor, where enter makes a new line: ctrl+s saves, from any
// field. Errors show under the field they are about.
type portalForm struct {
	base
	project                     core.Project
	existing                    *core.Portal
	title, slug, upstream, host textinput.Model
	welcome                     textarea.Model
	access, disclosure, lang    int
	contacts                    []contactChoice // [0] is none
	contact                     int
	gone                        string // the contact saved, no longer of the organization's staff
	loaded                      bool   // the settings and the contact choices are read
	focus                       int
	errs                        map[string]string // why, by core's field name
	initial                     portalValues
}

// contactChoice is someone a portal may name as its contact.
type contactChoice struct{ email, label string }

// portalValues are what the form holds, to tell whether it changed.
type portalValues struct {
	title, slug, upstream, host, contact, welcome string
	access, disclosure, lang                      int
}

type portalFormMsg struct {
	settings *core.PortalSettings // nil for a new portal
	staff    []core.OrgMember
	err      error
}

var (
	accessLevels = []core.AccessLevel{core.AccessClosed, core.AccessEmail, core.AccessOpen}
	disclosures  = []core.Disclosure{core.DisclosureDefault, core.DisclosureExplicit, core.DisclosureGeneric}
	languages    = append([]string{""}, core.Languages...) // "" is the default, English
)

// The form's fields, in their order on screen.
const (
	pTitle = iota
	pSlug
	pAccess
	pDisclosure
	pUpstream
	pHost
	pContact
	pLanguage
	pWelcome
	pFields
)

// portalFields are core's names of the fields (ValidationError.Field).
var portalFields = map[string]int{"title": pTitle, "slug": pSlug, "access": pAccess, "disclosure": pDisclosure, "language": pLanguage,
	"upstream": pUpstream, "host": pHost, "contact": pContact, "welcome text": pWelcome}

func newPortalForm(c *Common, proj core.Project, p *core.Portal) *portalForm {
	f := &portalForm{base: base{c: c}, project: proj, existing: p, errs: map[string]string{},
		contacts: []contactChoice{{"", "none"}}}
	f.title, f.slug, f.upstream, f.host = textinput.New(), textinput.New(), textinput.New(), textinput.New()
	f.slug.Prompt = ""
	f.upstream.Placeholder = "none: clients see the built-in page"
	f.host.Placeholder = "none"
	for _, t := range []*textinput.Model{&f.title, &f.slug, &f.upstream, &f.host} {
		t.CharLimit = 200
	}
	f.upstream.CharLimit = core.MaxURLLen
	f.welcome = textarea.New()
	f.welcome.ShowLineNumbers = false
	f.welcome.CharLimit = core.MaxWelcomeLen
	f.welcome.MaxHeight = 0 // no limit on its lines: the characters are limited
	f.welcome.Placeholder = "Welcome to the portal. **Markdown** works here."
	f.restyle()
	if p != nil {
		f.set(core.PortalSettings{Title: p.Title, Slug: p.Slug, Access: p.Access, Disclosure: p.Disclosure,
			Welcome: p.Welcome, Upstream: p.Upstream, Host: p.Host, Language: p.Language})
	} else {
		f.title.SetValue(proj.Name)
		f.slug.SetValue(core.Slugify(proj.Name))
	}
	f.initial = f.values()
	return f
}

func (f *portalForm) restyle() {
	for _, t := range []*textinput.Model{&f.title, &f.slug, &f.upstream, &f.host} {
		t.SetStyles(textinput.DefaultStyles(f.c.IsDark))
	}
	f.welcome.SetStyles(textarea.DefaultStyles(f.c.IsDark))
}

// set puts settings into the fields (but the contact, see take).
func (f *portalForm) set(ps core.PortalSettings) {
	f.title.SetValue(ps.Title)
	f.slug.SetValue(ps.Slug)
	f.upstream.SetValue(ps.Upstream)
	f.host.SetValue(ps.Host)
	f.welcome.SetValue(ps.Welcome)
	f.welcome.MoveToBegin() // shown from its start
	f.access = max(slices.Index(accessLevels, ps.Access), 0)
	f.disclosure = max(slices.Index(disclosures, ps.Disclosure), 0)
	f.lang = max(slices.Index(languages, ps.Language), 0)
}

// differs: the fields (but the contact) do not hold ps.
func (f *portalForm) differs(ps core.PortalSettings) bool {
	v := f.values()
	return v.title != ps.Title || v.slug != ps.Slug || v.upstream != ps.Upstream || v.host != ps.Host || v.welcome != ps.Welcome ||
		accessLevels[v.access] != ps.Access || disclosures[v.disclosure] != ps.Disclosure || languages[v.lang] != ps.Language
}

func (f *portalForm) values() portalValues {
	return portalValues{title: f.title.Value(), slug: f.slug.Value(), upstream: f.upstream.Value(), host: f.host.Value(),
		contact: f.contacts[f.contact].email, welcome: f.welcome.Value(), access: f.access, disclosure: f.disclosure, lang: f.lang}
}

// load reads the portal's settings (its contact is an email only there)
// and the people who may be its contact: the owner, managers and members.
func (f *portalForm) load() tea.Cmd {
	ctx, svc, a, org := f.c.Ctx, f.c.Service, f.c.Actor, f.project.OrgID
	var id uint64
	if f.existing != nil {
		id = f.existing.ID
	}
	return work("Loading the portal's settings", func() tea.Msg {
		var msg portalFormMsg
		if id != 0 {
			ps, err := svc.PortalSettingsOf(ctx, a, id)
			if err != nil {
				return portalFormMsg{err: err}
			}
			msg.settings = &ps
		}
		staff, err := svc.Members(ctx, a, org)
		for _, m := range staff {
			if m.Member.Role.MayBeContact() {
				msg.staff = append(msg.staff, m)
			}
		}
		msg.err = err
		return msg
	})
}

// take takes what load read. Fields not changed yet take the stored
// settings; input typed meanwhile stays. The contact stays chosen by its
// email; a contact who is no longer staff is said to go (core would
// refuse to keep them).
func (f *portalForm) take(msg portalFormMsg) {
	chosen := f.contacts[f.contact].email
	fresh := msg.settings != nil && !f.Dirty()
	if fresh && f.differs(*msg.settings) { // else the fields, and their cursors, stay as they are
		f.set(*msg.settings)
	}
	if msg.settings != nil && (fresh || !f.loaded) {
		chosen = msg.settings.Contact
	}
	f.contacts = []contactChoice{{"", "none"}}
	for _, m := range msg.staff {
		label := m.User.Email
		if m.User.Name != "" {
			label = m.User.Name + " <" + m.User.Email + ">"
		}
		f.contacts = append(f.contacts, contactChoice{m.User.Email, label + " · " + string(m.Member.Role)})
	}
	f.contact = max(slices.IndexFunc(f.contacts, func(c contactChoice) bool { return strings.EqualFold(c.email, chosen) }), 0)
	if f.contact == 0 && chosen != "" {
		f.gone = chosen
	}
	switch {
	case fresh:
		f.initial = f.values()
	case !f.loaded:
		f.initial.contact = f.contacts[f.contact].email
	}
	f.loaded = true
}

func (f *portalForm) Init() tea.Cmd { return tea.Batch(f.title.Focus(), f.load()) }
func (f *portalForm) Title() string {
	if f.existing == nil {
		return "New portal for " + f.project.Name
	}
	return "Portal /p/" + f.existing.Slug
}

// typing: the field with the keyboard takes text.
func (f *portalForm) typing() bool {
	return f.focus != pAccess && f.focus != pDisclosure && f.focus != pLanguage && f.focus != pContact
}

// Capturing: a text field takes every key; on a choice the console's keys
// (digits, ?, q) act as everywhere, and the form keeps its own (claims).
func (f *portalForm) Capturing() bool { return f.typing() }
func (f *portalForm) Dirty() bool     { return f.values() != f.initial }
func (f *portalForm) holdsEsc() bool  { return true } // esc cancels the form, shown first

var (
	portalSaveKey  = bind("ctrl+s", "ctrl+s", "save")
	newLineKey     = bind("enter", "enter", "new line")
	portalFormKeys = []key.Binding{cancelKey, portalSaveKey, nextFieldKey, prevFieldKey, choiceKey, enterKey}
)

func (f *portalForm) claims(k tea.KeyPressMsg) bool {
	return slices.ContainsFunc(portalFormKeys, func(b key.Binding) bool { return key.Matches(k, b) })
}

func (f *portalForm) ShortHelp() []key.Binding {
	switch {
	case !f.typing():
		return []key.Binding{cancelKey, bind("left,right", "←/→", "choose"), nextFieldKey, portalSaveKey}
	case f.focus == pWelcome:
		return []key.Binding{cancelKey, portalSaveKey, nextFieldKey, newLineKey}
	}
	return []key.Binding{cancelKey, nextFieldKey, portalSaveKey}
}

func (f *portalForm) FullHelp() [][]key.Binding {
	return [][]key.Binding{{cancelKey, nextFieldKey, prevFieldKey, choiceKey, portalSaveKey},
		{bind("enter", "enter", "new line (welcome text)")}}
}

func (f *portalForm) refocus() tea.Cmd {
	return form.FocusOn(f.focus, map[int]form.Focusable{pTitle: &f.title, pSlug: &f.slug, pUpstream: &f.upstream, pHost: &f.host, pWelcome: &f.welcome})
}

func (f *portalForm) move(delta int) tea.Cmd {
	f.focus = (f.focus + pFields + delta) % pFields
	return f.refocus()
}

func (f *portalForm) Update(msg tea.Msg) (screen, tea.Cmd) {
	if f.size(msg) {
		for _, t := range []*textinput.Model{&f.title, &f.slug, &f.upstream, &f.host} {
			t.SetWidth(min(50, f.w-22))
		}
		f.welcome.SetWidth(min(72, f.w-2))
		f.layout()
		return f, nil
	}
	switch msg := msg.(type) {
	case restyleMsg:
		f.restyle()
		return f, nil
	case portalFormMsg:
		if msg.err != nil {
			return f, func() tea.Msg { return errMsg{msg.err} }
		}
		f.take(msg)
		f.layout()
		return f, nil
	case refreshMsg:
		return f, f.load() // the contact choices; unchanged fields take the stored settings
	case failedNotice:
		if field, why := fieldError(msg.err); why != "" {
			f.errs[field] = why
			if i, ok := portalFields[field]; ok {
				f.focus = i
				f.layout()
				return f, f.refocus()
			}
		}
		return f, nil
	case tea.PasteMsg:
		if !f.typing() {
			return f, status.Infof("Paste into a text field: this one is a choice.")
		}
	case tea.KeyPressMsg:
		switch {
		case msg.String() == "esc":
			return f, closeForm("Nothing was changed.")
		case key.Matches(msg, portalSaveKey):
			return f, f.save()
		case msg.String() == "tab", msg.String() == "enter" && f.focus != pWelcome,
			msg.String() == "down" && f.focus != pWelcome:
			return f, f.move(1)
		case msg.String() == "shift+tab", msg.String() == "up" && f.focus != pWelcome,
			msg.String() == "up" && f.welcome.Line() == 0 && f.welcome.LineInfo().RowOffset == 0:
			return f, f.move(-1)
		case f.focus == pAccess && key.Matches(msg, choiceKey):
			f.access = cycle(f.access, len(accessLevels), msg.String() == "right")
			return f, nil
		case f.focus == pDisclosure && key.Matches(msg, choiceKey):
			f.disclosure = cycle(f.disclosure, len(disclosures), msg.String() == "right")
			return f, nil
		case f.focus == pLanguage && key.Matches(msg, choiceKey):
			f.lang = cycle(f.lang, len(languages), msg.String() == "right")
			return f, nil
		case f.focus == pContact && key.Matches(msg, choiceKey):
			f.contact = cycle(f.contact, len(f.contacts), msg.String() == "right")
			f.gone = ""
			delete(f.errs, "contact")
			f.layout()
			return f, nil
		case !f.typing() && msg.Text != "":
			return f, choiceHint(map[int]string{pAccess: "Access", pDisclosure: "Disclosure", pLanguage: "Language", pContact: "Contact"}[f.focus])
		}
	}
	var cmd tea.Cmd
	before := f.values()
	switch f.focus {
	case pTitle:
		f.title, cmd = f.title.Update(msg)
	case pSlug:
		f.slug, cmd = f.slug.Update(msg)
	case pUpstream:
		f.upstream, cmd = f.upstream.Update(msg)
	case pHost:
		f.host, cmd = f.host.Update(msg)
	case pWelcome:
		f.welcome, cmd = f.welcome.Update(msg)
	}
	if f.values() != before { // the value is changing: what was refused goes
		for name, i := range portalFields {
			if i == f.focus && f.errs[name] != "" {
				delete(f.errs, name)
				f.layout()
			}
		}
	}
	return f, cmd
}

func (f *portalForm) save() tea.Cmd {
	if !f.loaded {
		return status.Infof("Still reading the portal's settings; press ctrl+s again in a moment.")
	}
	in := core.PortalSettings{Title: f.title.Value(), Slug: f.slug.Value(), Access: accessLevels[f.access],
		Disclosure: disclosures[f.disclosure], Welcome: f.welcome.Value(), Upstream: f.upstream.Value(),
		Host: f.host.Value(), Contact: f.contacts[f.contact].email, Language: languages[f.lang]}
	f.errs = map[string]string{}
	f.layout()
	ctx, svc, a, proj := f.c.Ctx, f.c.Service, f.c.Actor, f.project
	return work("Saving the portal", func() tea.Msg {
		p, err := svc.SetPortal(ctx, a, proj.ID, in)
		if err != nil {
			return doneMsg{err: err}
		}
		text := fmt.Sprintf("Saved: /p/%s is %s.", p.Slug, p.Access)
		if p.Upstream != "" {
			text += " It fronts " + p.Upstream + "."
		}
		return doneMsg{status: text, close: true, reload: true}
	})
}
