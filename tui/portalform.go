package tui

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textarea"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"latchkey/core"
)

// portalForm edits (or creates) a project's portal.
type portalForm struct {
	base
	project     core.Project
	existing    *core.Portal
	title, slug textinput.Model
	welcome     textarea.Model
	access      int
	disclosure  int
	focus       int
	errs        map[string]string
	initial     string
}

var (
	accessLevels = []core.AccessLevel{core.AccessClosed, core.AccessEmail, core.AccessOpen}
	disclosures  = []core.Disclosure{core.DisclosureDefault, core.DisclosureExplicit, core.DisclosureGeneric}
)

func newPortalForm(c *Common, proj core.Project, p *core.Portal) *portalForm {
	f := &portalForm{base: base{c: c}, project: proj, existing: p, errs: map[string]string{}}
	f.title, f.slug = textinput.New(), textinput.New()
	f.slug.Prompt = ""
	for _, t := range []*textinput.Model{&f.title, &f.slug} {
		t.CharLimit = 200
		t.SetStyles(textinput.DefaultStyles(c.IsDark))
	}
	f.welcome = textarea.New()
	f.welcome.SetStyles(textarea.DefaultStyles(c.IsDark))
	f.welcome.ShowLineNumbers = false
	f.welcome.CharLimit = core.MaxWelcomeLen
	if p != nil {
		f.title.SetValue(p.Title)
		f.slug.SetValue(p.Slug)
		f.welcome.SetValue(p.Welcome)
		for i, a := range accessLevels {
			if a == p.Access {
				f.access = i
			}
		}
		for i, d := range disclosures {
			if d == p.Disclosure {
				f.disclosure = i
			}
		}
	} else {
		f.title.SetValue(proj.Name)
		f.slug.SetValue(core.Slugify(proj.Name))
	}
	f.initial = f.snapshot()
	return f
}

func (f *portalForm) snapshot() string {
	return strings.Join([]string{f.title.Value(), f.slug.Value(), f.welcome.Value(), fmt.Sprint(f.access, f.disclosure)}, "\x00")
}

func (f *portalForm) Init() tea.Cmd { return f.title.Focus() }
func (f *portalForm) Title() string {
	if f.existing == nil {
		return "New portal for " + f.project.Name
	}
	return "Portal /p/" + f.existing.Slug
}

// Capturing: a text field takes every key; on a choice the console's keys
// (digits, ?, q) act as everywhere, and the form keeps its own (claims).
func (f *portalForm) Capturing() bool { return f.focus != pAccess && f.focus != pDisclosure }
func (f *portalForm) Dirty() bool     { return f.snapshot() != f.initial }
func (f *portalForm) holdsEsc() bool  { return true } // esc cancels the form, shown first

var (
	portalSaveKey  = bind("ctrl+s", "ctrl+s", "save")
	portalFormKeys = []key.Binding{cancelKey, portalSaveKey, nextFieldKey, prevFieldKey, choiceKey, enterKey}
)

func (f *portalForm) claims(k tea.KeyPressMsg) bool {
	return slices.ContainsFunc(portalFormKeys, func(b key.Binding) bool { return key.Matches(k, b) })
}

func (f *portalForm) ShortHelp() []key.Binding {
	if !f.Capturing() {
		return []key.Binding{cancelKey, bind("left,right", "←/→", "choose"), nextFieldKey, portalSaveKey}
	}
	return []key.Binding{cancelKey, nextFieldKey, portalSaveKey}
}

func (f *portalForm) FullHelp() [][]key.Binding {
	return [][]key.Binding{{cancelKey, nextFieldKey, prevFieldKey, choiceKey, portalSaveKey}}
}

const (
	pTitle = iota
	pSlug
	pAccess
	pDisclosure
	pWelcome
	pFields
)

func (f *portalForm) refocus() tea.Cmd {
	return focusOn(f.focus, map[int]focusable{pTitle: &f.title, pSlug: &f.slug, pWelcome: &f.welcome})
}

func (f *portalForm) Update(msg tea.Msg) (screen, tea.Cmd) {
	if f.size(msg) {
		f.title.SetWidth(min(50, f.w-22))
		f.slug.SetWidth(min(50, f.w-22))
		f.welcome.SetWidth(min(70, f.w-4))
		f.welcome.SetHeight(max(min(8, f.h-12), 3))
		return f, nil
	}
	if k, ok := msg.(tea.KeyPressMsg); ok {
		switch {
		case k.String() == "esc":
			return f, func() tea.Msg { return doneMsg{pop: 1, status: "Nothing was changed."} }
		case k.String() == "ctrl+s":
			return f, f.save()
		case k.String() == "tab" || (k.String() == "enter" && f.focus != pWelcome) || (k.String() == "down" && !f.Capturing()):
			f.focus = (f.focus + 1) % pFields
			return f, f.refocus()
		case k.String() == "shift+tab" || (k.String() == "up" && !f.Capturing()):
			f.focus = (f.focus + pFields - 1) % pFields
			return f, f.refocus()
		case f.focus == pAccess && key.Matches(k, choiceKey):
			f.access = cycle(f.access, len(accessLevels), k.String() == "right")
			return f, nil
		case f.focus == pDisclosure && key.Matches(k, choiceKey):
			f.disclosure = cycle(f.disclosure, len(disclosures), k.String() == "right")
			return f, nil
		}
	}
	var cmd tea.Cmd
	switch f.focus {
	case pTitle:
		f.title, cmd = f.title.Update(msg)
	case pSlug:
		f.slug, cmd = f.slug.Update(msg)
	case pWelcome:
		f.welcome, cmd = f.welcome.Update(msg)
	}
	return f, cmd
}

func (f *portalForm) save() tea.Cmd {
	in := core.PortalSettings{Title: f.title.Value(), Slug: f.slug.Value(), Access: accessLevels[f.access],
		Disclosure: disclosures[f.disclosure], Welcome: f.welcome.Value()}
	svc, a, proj := f.c.Service, f.c.Actor, f.project
	return work("Saving the portal", func() tea.Msg {
		p, err := svc.SetPortal(context.Background(), a, proj.ID, in)
		if err != nil {
			return doneMsg{err: err}
		}
		return doneMsg{status: fmt.Sprintf("Saved: /p/%s is %s.", p.Slug, p.Access), pop: 1, reload: true}
	})
}

func (f *portalForm) View() string {
	st := f.c.Styles
	// The field with the keyboard is marked in any colour profile.
	label := func(field int, text string) string {
		if f.focus == field {
			return st.Accent.Bold(true).Render(lipgloss.NewStyle().Width(16).Render("› " + text))
		}
		return st.Label.Render(lipgloss.NewStyle().Width(16).Render("  " + text))
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
		return strings.Join(parts, "")
	}
	disc := []string{"default", "explicit", "generic"}
	if f.c.Service.Options().UniformResponses {
		disc[0] = "default (generic: --uniform-responses)"
	}
	explain := map[core.AccessLevel]string{
		core.AccessClosed: "Invitation only; others can ask for access and the owner decides.",
		core.AccessEmail:  "Anyone who proves an email by magic link becomes a client with access.",
		core.AccessOpen:   "Anyone can view; signing in still makes you a portal member.",
	}[accessLevels[f.access]]
	return strings.Join([]string{
		label(pTitle, "Title") + f.title.View(),
		label(pSlug, "Address") + st.Muted.Render("/p/") + f.slug.View(),
		label(pAccess, "Access") + choice(pAccess, []string{"closed", "email", "open"}, f.access),
		indent(st.Muted.Render(explain), 16, f.w),
		label(pDisclosure, "Disclosure") + choice(pDisclosure, disc, f.disclosure),
		indent(st.Muted.Render("explicit: the access form says whether an email has access; generic: one neutral answer."), 16, f.w),
		label(pWelcome, "Welcome text"),
		f.welcome.View(),
	}, "\n")
}
