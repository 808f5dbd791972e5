package tui

import (
	"os"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"latchkey/core"
	"latchkey/tui/components/form"
	"latchkey/tui/components/status"
)

// brandForm edits the organization's name and brand (Settings › b): the
// accent colour, the sender name and reply address of its emails, and its
// logo (a file on the machine latchkey runs on, or none). Core checks
// every value (the accent's contrast, the logo's format and size) and
// refuses a change it does not take with the field's reason, shown under
// the field; only the owner changes them, which core decides.
type brandForm struct {
	base
	name, accent, sender, replyTo, lang, logo textinput.Model
	removeLogo                                bool
	focus                                     int
	errs                                      map[string]string
	may                                       core.Decision // the console user may change the brand
	loaded                                    bool
	initial                                   [6]string
}

type brandFormMsg struct {
	org core.Org
	may core.Decision
	err error
}

const (
	bName = iota
	bAccent
	bSender
	bReplyTo
	bLang
	bLogo
	bSave
	bFields
)

// brandFields are core's names of the fields (ValidationError.Field).
var brandFields = map[string]int{"name": bName, "accent": bAccent, "sender_name": bSender, "reply_to": bReplyTo, "language": bLang, "logo": bLogo}

var (
	brandKey      = bind("b", "b", "brand")
	saveBrandKey  = bind("ctrl+s", "ctrl+s", "save")
	removeLogoKey = bind("ctrl+x", "ctrl+x", "no logo")
)

func newBrandForm(c *Common) *brandForm {
	f := &brandForm{base: base{c: c}, errs: map[string]string{}}
	f.name, f.accent, f.sender, f.replyTo, f.lang, f.logo = textinput.New(), textinput.New(), textinput.New(), textinput.New(), textinput.New(), textinput.New()
	f.lang.Placeholder = "en, de, fr or es (empty: en)"
	f.accent.Placeholder = "#RRGGBB, or empty for latchkey's blue"
	f.sender.Placeholder = "empty: the organization's name"
	f.replyTo.Placeholder = "empty: replies are not read"
	f.logo.Placeholder = "path of a PNG, JPEG or WebP file; empty keeps the logo"
	for _, t := range f.inputs() {
		t.CharLimit = 320
	}
	f.restyle()
	return f
}

func (f *brandForm) inputs() []*textinput.Model {
	return []*textinput.Model{&f.name, &f.accent, &f.sender, &f.replyTo, &f.lang, &f.logo}
}

func (f *brandForm) restyle() {
	for _, t := range f.inputs() {
		t.SetStyles(textinput.DefaultStyles(f.c.IsDark))
	}
}

func (f *brandForm) load() tea.Cmd {
	svc, a, id := f.c.Service, f.c.Actor, f.c.Org.ID
	return work("Reading the brand", func() tea.Msg {
		ctx := f.c.Ctx
		may, err := svc.OrgActionsOf(ctx, a, id)
		if err != nil {
			return brandFormMsg{err: err}
		}
		orgs, err := svc.Orgs(ctx, a)
		for _, o := range orgs {
			if o.ID == id {
				return brandFormMsg{o, may.ChangeBrand, err}
			}
		}
		return brandFormMsg{err: err}
	})
}

func (f *brandForm) values() [6]string {
	return [6]string{f.name.Value(), f.accent.Value(), f.sender.Value(), f.replyTo.Value(), f.lang.Value(), f.logo.Value()}
}

func (f *brandForm) Init() tea.Cmd   { return f.load() }
func (f *brandForm) Title() string   { return "Brand" }
func (f *brandForm) Capturing() bool { return f.focus != bSave }
func (f *brandForm) holdsEsc() bool  { return true }
func (f *brandForm) Dirty() bool     { return f.loaded && (f.values() != f.initial || f.removeLogo) }
func (f *brandForm) claims(k tea.KeyPressMsg) bool {
	return claimsFormKey(k) || key.Matches(k, removeLogoKey)
}

func (f *brandForm) ShortHelp() []key.Binding {
	if f.focus == bSave {
		return []key.Binding{cancelKey, bind("enter", "enter", "save"), nextFieldKey}
	}
	return []key.Binding{cancelKey, nextFieldKey, saveBrandKey, removeLogoKey}
}

func (f *brandForm) FullHelp() [][]key.Binding {
	return [][]key.Binding{{cancelKey, nextFieldKey, prevFieldKey, saveBrandKey, removeLogoKey}}
}

func (f *brandForm) refocus() tea.Cmd {
	return form.FocusOn(f.focus, map[int]form.Focusable{bName: &f.name, bAccent: &f.accent, bSender: &f.sender, bReplyTo: &f.replyTo, bLang: &f.lang, bLogo: &f.logo})
}

func (f *brandForm) Update(msg tea.Msg) (screen, tea.Cmd) {
	if f.size(msg) {
		fitInputs(f.w, f.inputs()...)
		return f, nil
	}
	switch msg := msg.(type) {
	case restyleMsg:
		f.restyle()
		return f, nil
	case brandFormMsg:
		if msg.err != nil {
			return f, func() tea.Msg { return errMsg{msg.err} }
		}
		if !f.loaded { // a refresh leaves what is being typed alone
			o := msg.org
			f.name.SetValue(o.Name)
			f.accent.SetValue(o.Accent)
			f.sender.SetValue(o.SenderName)
			f.replyTo.SetValue(o.ReplyTo)
			f.lang.SetValue(o.Language)
			f.initial, f.loaded = f.values(), true
		}
		f.may = msg.may
		return f, f.refocus()
	case failedNotice:
		if i, ok := failedField(msg.err, f.errs, brandFields); ok {
			f.focus = i
			return f, f.refocus()
		}
		return f, nil
	case tea.KeyPressMsg:
		switch {
		case msg.String() == "esc":
			return f, closeForm("The brand is as it was.")
		case key.Matches(msg, saveBrandKey), msg.String() == "enter" && f.focus == bSave:
			return f, f.save()
		case key.Matches(msg, removeLogoKey):
			f.removeLogo = !f.removeLogo
			if f.removeLogo {
				f.logo.SetValue("")
				return f, status.Info("The logo goes when you save (ctrl+x again keeps it).")
			}
			return f, status.Info("The logo stays.")
		case key.Matches(msg, nextFieldKey), msg.String() == "enter":
			f.focus = (f.focus + 1) % bFields
			return f, f.refocus()
		case key.Matches(msg, prevFieldKey):
			f.focus = (f.focus + bFields - 1) % bFields
			return f, f.refocus()
		case f.focus == bSave && msg.Text != "":
			return f, status.Info("This is the button: enter saves; tab goes back to the fields.")
		}
	}
	if f.focus >= bSave {
		return f, nil
	}
	var cmd tea.Cmd
	field := []string{"name", "accent", "sender_name", "reply_to", "language", "logo"}[f.focus]
	*f.inputs()[f.focus], cmd = f.inputs()[f.focus].Update(msg)
	switch msg.(type) {
	case tea.KeyPressMsg, tea.PasteMsg:
		delete(f.errs, field)
	}
	return f, cmd
}

// save sends what changed; core checks it all and stores all or nothing.
func (f *brandForm) save() tea.Cmd {
	if !f.may.OK() {
		return func() tea.Msg { return errMsg{f.may.Err()} }
	}
	f.errs = map[string]string{}
	var ch core.OrgChange
	now := f.values()
	for i, p := range []**string{&ch.Name, &ch.Accent, &ch.SenderName, &ch.ReplyTo, &ch.Language} {
		if now[i] != f.initial[i] {
			v := strings.TrimSpace(now[i])
			*p = &v
		}
	}
	ch.RemoveLogo = f.removeLogo
	if path := strings.TrimSpace(now[bLogo]); path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			f.errs["logo"] = "Cannot read " + path + ": " + strings.TrimPrefix(err.Error(), "open "+path+": ")
			return nil
		}
		ch.Logo = data
	}
	svc, a, id := f.c.Service, f.c.Actor, f.c.Org.ID
	return work("Saving the brand", func() tea.Msg {
		if _, err := svc.ChangeOrg(f.c.Ctx, a, id, ch); err != nil {
			return doneMsg{err: err}
		}
		return doneMsg{status: "The brand is saved: every page and email of the organization shows it now.", close: true, reload: true}
	})
}

func (f *brandForm) View() string {
	st := f.c.Styles
	label := func(field int, text string) string { return form.Label(st, f.focus == field, text) }
	under := func(name string) string { return form.ErrorUnder(st, f.errs[name], f.w) }
	logoState := "none"
	switch {
	case f.removeLogo:
		logoState = "removed when you save"
	case f.c.Org.Logo != "":
		logoState = "set; ctrl+x removes it"
	}
	hint := map[int]string{
		bName:    "The organization's name, on its pages and in its emails.",
		bAccent:  "Buttons and links: #RRGGBB with white text on it at a contrast of 4.5:1 at least.",
		bSender:  `Emails come from "this name" at the instance's sender address.`,
		bReplyTo: "Where clients' replies go; the footer then says they may reply.",
		bLang:    "The language of its portals that name none; a visitor's browser may pick another.",
		bLogo:    "PNG, JPEG or WebP, at most 512 KB (never SVG). Over SSH: org set --logo - < logo.png",
		bSave:    "Core checks every value; a refused one is named under its field and nothing changes.",
	}[f.focus]
	lines := []string{
		st.Muted.Render(fit("The name and brand of "+f.c.Org.Name+" on every page and email.", f.w)),
	}
	if !f.may.OK() && f.loaded {
		lines = append(lines, st.Warn.Render(fit("Not available. "+f.may.Reason()+".", f.w)))
	}
	lines = append(lines, "",
		label(bName, "Name")+f.name.View()+under("name"),
		label(bAccent, "Accent")+f.accent.View()+under("accent"),
		label(bSender, "Sender name")+f.sender.View()+under("sender_name"),
		label(bReplyTo, "Reply-to")+f.replyTo.View()+under("reply_to"),
		label(bLang, "Language")+f.lang.View()+under("language"),
		label(bLogo, "Logo")+f.logo.View()+under("logo"),
		strings.Repeat(" ", labelWidth)+st.Muted.Render("current logo: "+logoState),
		"",
		button(st, f.focus == bSave, "Save brand"),
		"",
		form.Indent(st.Muted.Render(hint), 0, f.w),
	)
	return strings.Join(lines, "\n")
}
