package tui

import (
	"fmt"
	"latchkey/core"
	"latchkey/tui/components/form"
	"strings"

	"charm.land/lipgloss/v2"
)

// How the portal form is drawn: its fields, the welcome text's editor
// sized to the rows left, and the hint of the focused field.

// hintRows is how many rows the hint under the form keeps, for the
// longest hint at this width: the form keeps its layout as the focus moves.
func (f *portalForm) hintRows() int {
	rows := 0
	for i := range pFields {
		rows = max(rows, len(wrapWords(f.hint(i, true), max(f.w, 10))))
	}
	return rows
}

// layout gives the welcome text's editor the rows that the other fields,
// their errors and the hint leave.
func (f *portalForm) layout() {
	v := f.fieldsView()
	f.welcome.SetHeight(max(min(f.h-lipgloss.Height(v)-1-f.hintRows(), 14), 3))
}

// hint says what the field is for; withUpstream as if an upstream were set.
func (f *portalForm) hint(field int, withUpstream bool) string {
	slug := strings.TrimSpace(f.slug.Value())
	switch field {
	case pTitle:
		return "The portal's name, at the top of its page and in the emails about it."
	case pSlug:
		return "The portal is at " + f.c.Service.PublicURL() + "/p/" + slug + ": 2 to 64 letters a–z, digits and inner hyphens."
	case pAccess:
		return map[core.AccessLevel]string{
			core.AccessClosed: "Closed: invitation only; others can ask for access and the owner decides.",
			core.AccessEmail:  "Email: anyone who proves an email by magic link becomes a client with access.",
			core.AccessOpen:   "Open: anyone can view; signing in still makes you a portal member.",
		}[accessLevels[f.access]]
	case pDisclosure:
		h := "explicit: the access form says whether an email has access; generic: one neutral answer for both."
		if f.c.Service.Options().UniformResponses {
			h += " default is generic on this instance (--uniform-responses)."
		}
		return h
	case pLanguage:
		return "The language of the portal's pages for visitors whose browser asks for none latchkey speaks, and of its invitations and notices. default is English."
	case pUpstream:
		return "Your own web app, like https://app.example.com: latchkey passes /p/" + slug + "/… (and the host name below) on to it, for people with access only. Empty: clients see the built-in page."
	case pHost:
		return "The portal's own host name, like clients.example.com, whose every path is the portal; point its DNS at latchkey. Empty: the portal is at /p/" + slug + " only."
	case pContact:
		return "Whom clients write to, named on the built-in page: the owner, a manager or a member. ←/→ chooses."
	case pWelcome:
		h := fmt.Sprintf("Markdown, up to %d characters: **bold**, *italic*, ## heading, - list, [link](https://…). enter makes a new line; ctrl+s saves.", core.MaxWelcomeLen)
		if withUpstream || strings.TrimSpace(f.upstream.Value()) != "" {
			h = "Not shown while the upstream is set: clients see your app. " + h
		}
		return h
	}
	return ""
}

// fieldsView is the form above the welcome text's editor.
func (f *portalForm) fieldsView() string {
	st := f.c.Styles
	label := func(field int, text string) string { return form.Label(st, f.focus == field, text) }
	under := func(name string) string { return form.ErrorUnder(st, f.errs[name], f.w) }
	choice := func(opts []string, i int) string {
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
	contact := st.Selected.Render(" " + fit(f.contacts[f.contact].label, max(f.w-labelWidth-16, 10)) + " ")
	switch {
	case !f.loaded:
		contact = st.Muted.Render("reading…")
	case f.focus == pContact:
		contact += st.Muted.Render(fmt.Sprintf("  %d of %d", f.contact+1, len(f.contacts)))
	}
	if f.gone != "" {
		contact += "\n" + form.Indent(st.Warn.Render(f.gone+" was the contact and is no longer of the staff: saving sets none."), labelWidth, f.w)
	}
	count := st.Muted.Render(fmt.Sprintf("Markdown · %d/%d", f.welcome.Length(), core.MaxWelcomeLen))
	if strings.TrimSpace(f.upstream.Value()) != "" {
		count += st.Warn.Render(" · not shown: the upstream is set")
	}
	return strings.Join([]string{
		label(pTitle, "Title") + f.title.View() + under("title"),
		label(pSlug, "Address") + st.Muted.Render("/p/") + f.slug.View() + under("slug"),
		label(pAccess, "Access") + choice([]string{"closed", "email", "open"}, f.access) + under("access"),
		label(pDisclosure, "Disclosure") + choice(disc, f.disclosure) + under("disclosure"),
		label(pUpstream, "Upstream") + f.upstream.View() + under("upstream"),
		label(pHost, "Host name") + f.host.View() + under("host"),
		label(pContact, "Contact") + contact + under("contact"),
		label(pLanguage, "Language") + choice(append([]string{"default"}, core.Languages...), f.lang) + under("language"),
		label(pWelcome, "Welcome text") + count + under("welcome text"),
	}, "\n")
}

func (f *portalForm) View() string {
	rows := f.hintRows()
	hint := wrapWords(f.hint(f.focus, false), max(f.w, 10))
	for len(hint) < rows {
		hint = append(hint, "")
	}
	return f.fieldsView() + "\n" + f.welcome.View() + "\n\n" + f.c.Styles.Muted.Render(strings.Join(hint, "\n"))
}
