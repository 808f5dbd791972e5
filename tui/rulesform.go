package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"latchkey/core"
	"latchkey/tui/components/form"
	"latchkey/tui/components/status"
)

// rulesForm edits a portal's access rules (Settings › portals › r): how
// long its links live, idle and how often they open, how long an
// invitation waits, the domains whose people come into an email portal by
// themselves and the grant rules of a closed one. Every value is text in
// the words `portal set` takes; core reads them all and refuses what it
// does not take, naming the field, with nothing changed.
type rulesForm struct {
	base
	portal  core.Portal
	inputs  [ruFields - 1]textinput.Model
	focus   int
	errs    map[string]string
	loaded  bool
	initial [ruFields - 1]string
}

type rulesFormMsg struct {
	portal core.Portal
	err    error
}

const (
	ruLifetime = iota
	ruIdle
	ruUses
	ruInvite
	ruDomains
	ruGrant
	ruSave
	ruFields
)

// rulesFields are core's names of the fields (ValidationError.Field),
// which are `portal set`'s flags.
var rulesFields = map[string]int{"link-lifetime": ruLifetime, "link-idle": ruIdle, "link-uses": ruUses,
	"invite-lifetime": ruInvite, "allow-domains": ruDomains, "auto-grant": ruGrant}

var (
	rulesKey     = bind("r", "r", "access rules")
	saveRulesKey = bind("ctrl+s", "ctrl+s", "save")
)

func newRulesForm(c *Common, p core.Portal) *rulesForm {
	f := &rulesForm{base: base{c: c}, portal: p, errs: map[string]string{}}
	places := [...]string{"none, or like 90d, 2w, 36h", "none, or like 30d", "none, or a number like 5", "default (14d), none, or like 7d",
		"none, or like acme.com, *.acme.com", "none, or like acme.com=client, *.partner.io=member"}
	for i := range f.inputs {
		f.inputs[i] = textinput.New()
		f.inputs[i].Placeholder = places[i]
		f.inputs[i].CharLimit = 2000
	}
	f.restyle()
	return f
}

func (f *rulesForm) restyle() {
	for i := range f.inputs {
		f.inputs[i].SetStyles(textinput.DefaultStyles(f.c.IsDark))
	}
}

func (f *rulesForm) ptrs() []*textinput.Model {
	out := make([]*textinput.Model, len(f.inputs))
	for i := range f.inputs {
		out[i] = &f.inputs[i]
	}
	return out
}

func (f *rulesForm) load() tea.Cmd {
	svc, a, slug := f.c.Service, f.c.Actor, f.portal.Slug
	return work("Reading the portal's rules", func() tea.Msg {
		ref, err := svc.PortalBySlug(f.c.Ctx, a, slug)
		return rulesFormMsg{ref.Portal, err}
	})
}

// ruleWords are the rules as the form's fields hold them.
func ruleWords(r core.AccessRules) [ruFields - 1]string {
	invite := r.InviteWord()
	if r.InviteLifetime == 0 {
		invite = "default"
	}
	return [ruFields - 1]string{r.LifetimeWord(), r.IdleWord(), r.UsesWord(), invite, r.DomainsWord(), r.AutoGrantWord()}
}

func (f *rulesForm) values() [ruFields - 1]string {
	var v [ruFields - 1]string
	for i := range f.inputs {
		v[i] = f.inputs[i].Value()
	}
	return v
}

func (f *rulesForm) Init() tea.Cmd   { return f.load() }
func (f *rulesForm) Title() string   { return "Access rules of /p/" + f.portal.Slug }
func (f *rulesForm) Capturing() bool { return f.focus != ruSave }
func (f *rulesForm) holdsEsc() bool  { return true }
func (f *rulesForm) Dirty() bool     { return f.loaded && f.values() != f.initial }
func (f *rulesForm) claims(k tea.KeyPressMsg) bool {
	return claimsFormKey(k) || key.Matches(k, saveRulesKey)
}

func (f *rulesForm) ShortHelp() []key.Binding {
	if f.focus == ruSave {
		return []key.Binding{cancelKey, bind("enter", "enter", "save"), nextFieldKey}
	}
	return []key.Binding{cancelKey, nextFieldKey, saveRulesKey}
}

func (f *rulesForm) FullHelp() [][]key.Binding {
	return [][]key.Binding{{cancelKey, nextFieldKey, prevFieldKey, saveRulesKey}}
}

func (f *rulesForm) refocus() tea.Cmd {
	m := map[int]form.Focusable{}
	for i := range f.inputs {
		m[i] = &f.inputs[i]
	}
	return form.FocusOn(f.focus, m)
}

func (f *rulesForm) Update(msg tea.Msg) (screen, tea.Cmd) {
	if f.size(msg) {
		fitInputs(f.w, f.ptrs()...)
		return f, nil
	}
	switch msg := msg.(type) {
	case restyleMsg:
		f.restyle()
		return f, nil
	case rulesFormMsg:
		if msg.err != nil {
			return f, func() tea.Msg { return errMsg{msg.err} }
		}
		f.portal = msg.portal
		if !f.loaded { // a refresh leaves what is being typed alone
			for i, w := range ruleWords(msg.portal.Rules) {
				f.inputs[i].SetValue(w)
			}
			f.initial, f.loaded = f.values(), true
		}
		return f, f.refocus()
	case refreshMsg:
		return f, f.load()
	case failedNotice:
		if i, ok := failedField(msg.err, f.errs, rulesFields); ok {
			f.focus = i
			return f, f.refocus()
		}
		return f, nil
	case tea.KeyPressMsg:
		switch {
		case msg.String() == "esc":
			return f, closeForm("The rules are as they were.")
		case key.Matches(msg, saveRulesKey), msg.String() == "enter" && f.focus == ruSave:
			return f, f.save()
		case key.Matches(msg, nextFieldKey), msg.String() == "enter":
			f.focus = (f.focus + 1) % ruFields
			return f, f.refocus()
		case key.Matches(msg, prevFieldKey):
			f.focus = (f.focus + ruFields - 1) % ruFields
			return f, f.refocus()
		case f.focus == ruSave && msg.Text != "":
			return f, status.Info("This is the button: enter saves; tab goes back to the fields.")
		}
	}
	if f.focus >= ruSave {
		return f, nil
	}
	var cmd tea.Cmd
	f.inputs[f.focus], cmd = f.inputs[f.focus].Update(msg)
	switch msg.(type) {
	case tea.KeyPressMsg, tea.PasteMsg:
		for name, i := range rulesFields {
			if i == f.focus {
				delete(f.errs, name)
			}
		}
	}
	return f, cmd
}

// save sends the rules that changed; core reads them and stores all or none.
func (f *rulesForm) save() tea.Cmd {
	if !f.loaded {
		return status.Infof("Still reading the rules; press ctrl+s again in a moment.")
	}
	f.errs = map[string]string{}
	var rp core.RulesPatch
	now := f.values()
	for i, p := range []**string{&rp.LinkLifetime, &rp.LinkIdle, &rp.LinkUses, &rp.InviteLifetime, &rp.AllowDomains, &rp.AutoGrant} {
		if now[i] != f.initial[i] {
			v := now[i]
			*p = &v
		}
	}
	if rp.Empty() {
		return closeForm("Nothing was changed.")
	}
	svc, a, id := f.c.Service, f.c.Actor, f.portal.ID
	return work("Saving the rules", func() tea.Msg {
		p, err := svc.PatchPortal(f.c.Ctx, a, id, core.PortalPatch{Rules: rp})
		if err != nil {
			return doneMsg{err: err}
		}
		return doneMsg{status: fmt.Sprintf("Saved: the rules of /p/%s apply to its links now.", p.Slug), close: true, reload: true}
	})
}

func (f *rulesForm) View() string {
	st := f.c.Styles
	label := func(field int, text string) string { return form.Label(st, f.focus == field, text) }
	under := func(name string) string { return form.ErrorUnder(st, f.errs[name], f.w) }
	notFor := func(level core.AccessLevel) string {
		if f.portal.Access == level {
			return ""
		}
		return "\n" + form.Indent(st.Warn.Render(fmt.Sprintf("Applies to %s portals; this one is %s.", level, f.portal.Access)), labelWidth, f.w)
	}
	hint := map[int]string{
		ruLifetime: "A link stops this long after it was made, like a deactivated one: the sessions it opened end. none: links live until deactivated.",
		ruIdle:     "A link stops after this long without being opened; its sessions end.",
		ruUses:     "A link stops after this many redemptions; the sessions those opened stay.",
		ruInvite:   "An invitation's link never opened stops after this long; once opened it follows the rules above. default is 14 days.",
		ruDomains:  "Email portals: only addresses at these domains get a link by themselves; the others ask you, as at a closed portal. *.acme.com is its subdomains only.",
		ruGrant:    "Closed portals: a request from these domains is granted at once with the role (client, guest or member; never owner or manager), and you are told.",
		ruSave:     "Core checks every value; a refused one is named under its field and nothing changes. The rules apply to existing links at once.",
	}[f.focus]
	intro := "Reading the rules of /p/" + f.portal.Slug + "…"
	if f.loaded {
		intro = "Limits on the links of /p/" + f.portal.Slug + " and who comes in by themselves."
	}
	lines := []string{
		st.Muted.Render(fit(intro, f.w)),
		"",
		label(ruLifetime, "Link lifetime") + f.inputs[ruLifetime].View() + under("link-lifetime"),
		label(ruIdle, "Link idle") + f.inputs[ruIdle].View() + under("link-idle"),
		label(ruUses, "Link uses") + f.inputs[ruUses].View() + under("link-uses"),
		label(ruInvite, "Invitation") + f.inputs[ruInvite].View() + under("invite-lifetime"),
		label(ruDomains, "Allow domains") + f.inputs[ruDomains].View() + under("allow-domains") + notFor(core.AccessEmail),
		label(ruGrant, "Auto-grant") + f.inputs[ruGrant].View() + under("auto-grant") + notFor(core.AccessClosed),
		"",
		button(st, f.focus == ruSave, "Save rules"),
		"",
		form.Indent(st.Muted.Render(hint), 0, f.w),
	}
	return strings.Join(lines, "\n")
}
