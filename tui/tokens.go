package tui

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"latchkey/core"
	"latchkey/tui/components/form"
	"latchkey/tui/components/status"
)

// Settings › API tokens: the tokens that let other systems drive the
// organization through the API. n creates one (its secret is shown once,
// in a dialog that copies it with OSC 52), d revokes one after a
// confirmation, enter shows one whole. Core decides who may see and handle
// them (the owner or an instance admin) and says why to anyone else; the
// console only shows its answer.

// tokensScreen is the organization's API tokens, oldest first, revoked and
// expired ones with their state.
type tokensScreen struct {
	base
	list   *listView
	tokens []core.APIToken
	now    time.Time // when the tokens were read: their state is as of then
	loaded bool
	failed string // why core did not list them
}

type tokensMsg struct {
	org    uint64
	tokens []core.APIToken
	now    time.Time
	err    error
}

var (
	tokensKey      = bind("t", "t", "API tokens")
	newTokenKey    = bind("n", "n", "new token")
	revokeTokenKey = bind("d", "d", "revoke")
	showTokenKey   = bind("enter", "enter", "show whole")
)

func newTokensScreen(c *Common) *tokensScreen {
	s := &tokensScreen{base: base{c: c}}
	s.list = newListView(c, []column{
		{Title: "Name", Min: 14, Flex: 2},
		{Title: "Scopes", Min: 18, Flex: 3},
		{Title: "State", Min: 19},                        // "revoked 12 Dec 2026", whole
		{Title: "Created by", Min: 20, Flex: 1, Drop: 2}, // an owner's email, or admin
		{Title: "Created", Min: 11, Drop: 3},             // enter shows it too
		{Title: "Last used", Min: 11, Drop: 1},           // "12 Mar 15:04", whole: the last column is never cut
	}, "No API tokens yet.")
	return s
}

func (s *tokensScreen) load() tea.Cmd {
	ctx, svc, a, org := s.c.Ctx, s.c.Service, s.c.Actor, s.c.Org.ID
	return work("Loading the API tokens", func() tea.Msg {
		list, err := svc.APITokenList(ctx, a, org)
		return tokensMsg{org, list, svc.Now(), err}
	})
}

func (s *tokensScreen) Init() tea.Cmd   { return s.load() }
func (s *tokensScreen) Title() string   { return "API tokens" }
func (s *tokensScreen) Capturing() bool { return s.list.Capturing() }
func (s *tokensScreen) holdsEsc() bool  { return s.list.HoldsEsc() }

func (s *tokensScreen) ShortHelp() []key.Binding {
	if h := s.list.TypingHelp(); h != nil {
		return h
	}
	return []key.Binding{newTokenKey, revokeTokenKey, showTokenKey, filterKey}
}

func (s *tokensScreen) FullHelp() [][]key.Binding {
	return [][]key.Binding{{upKey, downKey, pageKeys, endKeys, filterKey}, {newTokenKey, revokeTokenKey, showTokenKey}}
}

func (s *tokensScreen) Update(msg tea.Msg) (screen, tea.Cmd) {
	if s.size(msg) {
		s.list.Resize(s.w, s.h-len(s.head()))
		return s, nil
	}
	switch msg := msg.(type) {
	case restyleMsg:
		s.list.Restyle()
	case refreshMsg: // after a dialog closes, and when tokens change elsewhere (core's change events)
		return s, s.load()
	case doneNotice:
		if msg.selectKey != "" {
			s.list.Choose(msg.selectKey)
		}
		return s, s.load()
	case tokensMsg:
		if msg.org != s.c.Org.ID {
			break
		}
		if msg.err != nil {
			s.failed = core.Describe(msg.err)
			return s, func() tea.Msg { return errMsg{msg.err} }
		}
		s.tokens, s.now, s.loaded, s.failed = msg.tokens, msg.now, true, ""
		rows, ids := make([][]string, len(msg.tokens)), make([]string, len(msg.tokens))
		for i, t := range msg.tokens {
			ids[i] = fmt.Sprint(t.ID)
			rows[i] = []string{t.Name, scopesCell(t.Scopes), t.State(msg.now), t.CreatorTag, fmtDate(t.CreatedAt), fmtTime(t.LastUsedAt)}
		}
		s.list.SetRows(rows, ids)
	case tea.KeyPressMsg:
		if cmd, used := s.list.Update(msg); used {
			return s, cmd
		}
		if cmd, ok := s.tokenKey(msg); ok {
			return s, cmd
		}
	}
	return s, s.list.Navigate(msg)
}

// tokenKey handles the screen's own keys.
func (s *tokensScreen) tokenKey(k tea.KeyPressMsg) (tea.Cmd, bool) {
	if key.Matches(k, newTokenKey) {
		return push(newTokenForm(s.c)), true
	}
	if !key.Matches(k, revokeTokenKey, showTokenKey) {
		return nil, false
	}
	i := s.list.Selected()
	if i < 0 || i >= len(s.tokens) {
		return status.Infof("There is no token to act on; n creates one."), true
	}
	t := s.tokens[i]
	if key.Matches(k, showTokenKey) {
		return push(newTokenViewer(s.c, t, s.now)), true
	}
	if !t.RevokedAt.IsZero() {
		return status.Infof("%q was revoked on %s already: the API refuses it. n creates a new token.", t.Name, fmtDate(t.RevokedAt)), true
	}
	ctx, svc, a := s.c.Ctx, s.c.Service, s.c.Actor
	return push(newConfirm(s.c, fmt.Sprintf("Revoke the API token %q?", t.Name),
		"The API refuses it from the next request on: whatever uses it stops working. A revoked token stays revoked; n creates a new one.",
		work("Revoking the token", func() tea.Msg {
			tok, err := svc.RevokeAPIToken(ctx, a, t.ID)
			if err != nil {
				return doneMsg{err: err}
			}
			return doneMsg{status: fmt.Sprintf("Revoked %q: the API refuses it from now on.", tok.Name), reload: true, selectKey: fmt.Sprint(tok.ID)}
		}))), true
}

// scopesCell is a token's scopes as a list shows them: "all" for every one.
func scopesCell(sc []core.Scope) string {
	if slices.Equal(sc, core.Scopes) {
		return "all"
	}
	return joinScopes(sc)
}

func joinScopes(sc []core.Scope) string {
	names := make([]string, len(sc))
	for i, x := range sc {
		names[i] = string(x)
	}
	return strings.Join(names, ",")
}

// head says what tokens are, wrapped to the width.
func (s *tokensScreen) head() []string {
	return wrapWords("Tokens let other systems use latchkey's API for "+s.c.Org.Name+
		", with the scopes they are given. n creates one, d revokes one, enter shows one whole.", max(s.w, 10))
}

func (s *tokensScreen) View() string {
	st := s.c.Styles
	head := st.Muted.Render(strings.Join(s.head(), "\n")) + "\n"
	switch {
	case s.failed != "" && !s.loaded:
		return head + "\n" + st.Warn.Render(strings.Join(wrapWords("Not available. "+strings.TrimSuffix(s.failed, ".")+".", max(s.w, 10)), "\n"))
	case !s.loaded:
		return head + "\n" + st.Muted.Render("Loading…")
	case s.list.Len() == 0 && !s.list.Capturing() && !s.list.HoldsEsc():
		text := "No API tokens yet. A token lets a script, a CRM or your own app invite people, generate links or read the audit log of " +
			s.c.Org.Name + " over HTTP, limited to the scopes you choose and revocable at any time. Press n to create one; its secret is shown once."
		return head + "\n" + st.Muted.Render(strings.Join(wrapWords(text, max(s.w, 10)), "\n"))
	}
	return head + s.list.View()
}

// newTokenViewer shows a token whole; never its secret, which only its hash
// stands for after it was shown once.
func newTokenViewer(c *Common, t core.APIToken, now time.Time) *textViewer {
	expires := "never"
	if !t.ExpiresAt.IsZero() {
		expires = t.ExpiresAt.UTC().Format("Mon 2 Jan 2006") + " (it stops at 00:00 UTC)"
	}
	lastUsed := "never"
	if !t.LastUsedAt.IsZero() {
		lastUsed = longTime(t.LastUsedAt)
	}
	head := [][2]string{
		{"Token", fmt.Sprint(t.ID)}, {"Name", t.Name}, {"State", t.State(now)},
		{"Created by", t.CreatorTag}, {"Created", longTime(t.CreatedAt)}, {"Expires", expires}, {"Last used", lastUsed},
	}
	if !t.RevokedAt.IsZero() {
		head = append(head, [2]string{"Revoked by", t.RevokedBy})
	}
	var b strings.Builder
	b.WriteString("Scopes (" + count(len(t.Scopes), "scope", "scopes") + "):\n")
	for _, sc := range t.Scopes {
		b.WriteString("  " + string(sc))
		if h := scopeHints[sc]; h != "" {
			b.WriteString(": " + h)
		}
		b.WriteByte('\n')
	}
	b.WriteString("\nIt acts with the rights of whoever created it, narrowed by its scopes, in " + c.Org.Name +
		" only. Its secret was shown once, when it was created; latchkey keeps only its hash. d on the list revokes it.")
	return newTextViewer(c, "Token "+fmt.Sprint(t.ID), head, b.String())
}

func longTime(t time.Time) string { return t.Local().Format("Mon 2 Jan 2006 15:04") }

// scopeHints say what each scope lets a token do.
var scopeHints = map[core.Scope]string{
	core.ScopeProjectsRead:  "read projects and portals, and changes of portal settings",
	core.ScopePortalsWrite:  "change a portal's settings",
	core.ScopeMembersRead:   "read the people of a portal, with their link state",
	core.ScopeMembersWrite:  "invite, change roles, remove access",
	core.ScopeLinksWrite:    "generate and deactivate magic links",
	core.ScopeLinksReveal:   "read an active link's address",
	core.ScopeRequestsRead:  "read access requests",
	core.ScopeRequestsWrite: "grant and dismiss access requests",
	core.ScopeEventsRead:    "read the audit log",
	core.ScopeWebhooksWrite: "register, list and remove webhooks",
}

// ---- a new token

// tokenForm creates an API token: a name, its scopes (check boxes, two to
// a row) and an optional expiry date. It follows the console's form
// rules: esc first in the help (asking before it discards input), the
// field with the keyboard marked "›", ctrl+s from any field, errors under
// their fields.
type tokenForm struct {
	base
	name, expires textinput.Model
	scopes        []bool // by core.Scopes
	cursor        int    // the scope under the cursor
	focus         int
	errs          map[string]string
}

const (
	tName = iota
	tScopes
	tExpires
	tCreate
	tFields
)

// tokenFields are core's names of the fields (ValidationError.Field).
var tokenFields = map[string]int{"name": tName, "scope": tScopes, "expires": tExpires}

// scopeColumns is how many check boxes a row of the scopes holds.
const scopeColumns = 2

var (
	createTokenKey      = bind("ctrl+s", "ctrl+s", "create")
	enterCreateTokenKey = bind("enter", "enter", "create")
	tickScopeKey        = bind("space", "space", "tick scope")
	allScopesKey        = bind("a", "a", "all or none")
	moveScopeKey        = bind("up,down,left,right", "←↑↓→", "move")
)

func newTokenForm(c *Common) *tokenForm {
	f := &tokenForm{base: base{c: c}, scopes: make([]bool, len(core.Scopes)), errs: map[string]string{}}
	f.name, f.expires = textinput.New(), textinput.New()
	f.name.Placeholder = "what uses it, like CRM sync"
	f.expires.Placeholder = "YYYY-MM-DD, optional; empty: never"
	f.name.CharLimit, f.expires.CharLimit = core.MaxNameLen, 10
	f.restyle()
	return f
}

func (f *tokenForm) restyle() {
	for _, t := range []*textinput.Model{&f.name, &f.expires} {
		t.SetStyles(textinput.DefaultStyles(f.c.IsDark))
	}
}

func (f *tokenForm) Init() tea.Cmd   { return f.name.Focus() }
func (f *tokenForm) Title() string   { return "New API token" }
func (f *tokenForm) Capturing() bool { return f.focus == tName || f.focus == tExpires }
func (f *tokenForm) holdsEsc() bool  { return true }
func (f *tokenForm) Dirty() bool {
	return f.name.Value() != "" || f.expires.Value() != "" || slices.Contains(f.scopes, true)
}
func (f *tokenForm) claims(k tea.KeyPressMsg) bool {
	return claimsFormKey(k) || (f.focus == tScopes && key.Matches(k, tickScopeKey, allScopesKey, moveScopeKey))
}

func (f *tokenForm) ShortHelp() []key.Binding {
	switch f.focus {
	case tScopes:
		return []key.Binding{cancelKey, tickScopeKey, nextFieldKey, createTokenKey, allScopesKey, moveScopeKey}
	case tCreate:
		return []key.Binding{cancelKey, enterCreateTokenKey, nextFieldKey}
	}
	return []key.Binding{cancelKey, nextFieldKey, createTokenKey}
}

func (f *tokenForm) FullHelp() [][]key.Binding {
	return [][]key.Binding{{cancelKey, nextFieldKey, prevFieldKey, createTokenKey}, {tickScopeKey, allScopesKey, moveScopeKey}}
}

func (f *tokenForm) refocus() tea.Cmd {
	return form.FocusOn(f.focus, map[int]form.Focusable{tName: &f.name, tExpires: &f.expires})
}

func (f *tokenForm) next() tea.Cmd {
	f.focus = (f.focus + 1) % tFields
	return f.refocus()
}

func (f *tokenForm) prev() tea.Cmd {
	f.focus = (f.focus + tFields - 1) % tFields
	return f.refocus()
}

func (f *tokenForm) Update(msg tea.Msg) (screen, tea.Cmd) {
	if f.size(msg) {
		fitInputs(f.w, &f.name, &f.expires)
		return f, nil
	}
	switch msg := msg.(type) {
	case restyleMsg:
		f.restyle()
		return f, nil
	case failedNotice:
		if i, ok := failedField(msg.err, f.errs, tokenFields); ok {
			f.focus = i
			return f, f.refocus()
		}
		return f, nil
	case tea.PasteMsg:
		if f.focus == tScopes || f.focus == tCreate {
			return f, status.Infof("Paste into a text field: tab goes to them.")
		}
	case tea.KeyPressMsg:
		switch {
		case msg.String() == "esc":
			return f, closeForm("No token was created.")
		case key.Matches(msg, createTokenKey), msg.String() == "enter" && f.focus == tCreate:
			return f, f.create()
		case f.focus == tScopes:
			if cmd, ok := f.scopeKey(msg); ok {
				return f, cmd
			}
		case key.Matches(msg, nextFieldKey), msg.String() == "enter":
			return f, f.next()
		case key.Matches(msg, prevFieldKey):
			return f, f.prev()
		case f.focus == tCreate && msg.Text != "":
			return f, status.Infof("This is the button: enter creates the token; tab goes back to the fields.")
		}
	}
	var cmd tea.Cmd
	switch f.focus {
	case tName:
		f.name, cmd = f.name.Update(msg)
		f.clearOn(msg, "name")
	case tExpires:
		f.expires, cmd = f.expires.Update(msg)
		f.clearOn(msg, "expires")
	}
	return f, cmd
}

// scopeKey handles a key on the scopes: the arrows move between the check
// boxes (up on the first row and down on the last leave them), space ticks
// the one under the cursor, a ticks all of them, or none when all are.
func (f *tokenForm) scopeKey(k tea.KeyPressMsg) (tea.Cmd, bool) {
	n := len(f.scopes)
	switch k.String() {
	case "space":
		f.scopes[f.cursor] = !f.scopes[f.cursor]
		delete(f.errs, "scope")
		return nil, true
	case "a":
		all := !slices.Contains(f.scopes, false)
		for i := range f.scopes {
			f.scopes[i] = !all
		}
		delete(f.errs, "scope")
		return nil, true
	case "left":
		f.cursor = max(f.cursor-1, 0)
		return nil, true
	case "right":
		f.cursor = min(f.cursor+1, n-1)
		return nil, true
	case "up":
		if f.cursor >= scopeColumns {
			f.cursor -= scopeColumns
			return nil, true
		}
		return f.prev(), true
	case "down":
		if f.cursor+scopeColumns < n {
			f.cursor += scopeColumns
			return nil, true
		}
		return f.next(), true
	case "tab", "enter":
		return f.next(), true
	case "shift+tab":
		return f.prev(), true
	}
	if k.Text != "" {
		return status.Infof("Scopes are check boxes: space ticks the one marked, a ticks all (or none), tab goes to the next field."), true
	}
	return nil, false
}

// clearOn drops a field's error once the person types into it.
func (f *tokenForm) clearOn(msg tea.Msg, field string) {
	switch msg.(type) {
	case tea.KeyPressMsg, tea.PasteMsg:
		delete(f.errs, field)
	}
}

// chosen are the scopes ticked, in core's order.
func (f *tokenForm) chosen() []core.Scope {
	var out []core.Scope
	for i, on := range f.scopes {
		if on {
			out = append(out, core.Scopes[i])
		}
	}
	return out
}

// create asks core for the token; core checks the name, the scopes and the
// date (and who may), and a refusal is shown under its field.
func (f *tokenForm) create() tea.Cmd {
	n := core.NewAPIToken{OrgID: f.c.Org.ID, Name: f.name.Value(), Scopes: f.chosen()}
	expires := strings.TrimSpace(f.expires.Value())
	f.errs = map[string]string{}
	c, ctx, svc, a := f.c, f.c.Ctx, f.c.Service, f.c.Actor
	return work("Creating the token", func() tea.Msg {
		if expires != "" {
			d, err := core.ParseDate("expires", expires)
			if err != nil {
				return doneMsg{err: err}
			}
			n.Expires = d
		}
		tok, secret, err := svc.CreateAPIToken(ctx, a, n)
		if err != nil {
			return doneMsg{err: err}
		}
		return doneMsg{status: fmt.Sprintf("Created the API token %q: copy its secret now, it is not shown again.", tok.Name),
			close: true, push: newTokenSecret(c, tok, secret)}
	})
}

func (f *tokenForm) scopesView() string {
	st := f.c.Styles
	width := 0
	for _, sc := range core.Scopes {
		width = max(width, len(sc))
	}
	var rows []string
	for r := 0; r < len(core.Scopes); r += scopeColumns {
		var cells []string
		for i := r; i < min(r+scopeColumns, len(core.Scopes)); i++ {
			box := "[ ]"
			if f.scopes[i] {
				box = "[x]"
			}
			cell := box + " " + string(core.Scopes[i]) + strings.Repeat(" ", width-len(core.Scopes[i]))
			if f.focus == tScopes && i == f.cursor { // marked in any colour profile
				cells = append(cells, st.Selected.Render("›"+cell+" "))
			} else {
				cells = append(cells, " "+cell+" ")
			}
		}
		rows = append(rows, strings.Join(cells, "  "))
	}
	indent := strings.Repeat(" ", labelWidth)
	return form.Label(st, f.focus == tScopes, "Scopes") + strings.Join(rows, "\n"+indent)
}

func (f *tokenForm) hint() string {
	switch f.focus {
	case tName:
		return "What uses the token, as the list and the audit log name it; no two active tokens share a name."
	case tScopes:
		h := scopeHints[core.Scopes[f.cursor]]
		return string(core.Scopes[f.cursor]) + ": " + h + ". The token acts with your rights, narrowed to the scopes ticked."
	case tExpires:
		return "The token stops at 00:00 UTC of this day, like a guest's end date; empty: it works until it is revoked."
	}
	return "The secret is shown once, after this: copy it then; latchkey keeps only its hash."
}

func (f *tokenForm) View() string {
	st := f.c.Styles
	label := func(field int, text string) string { return form.Label(st, f.focus == field, text) }
	under := func(name string) string { return form.ErrorUnder(st, f.errs[name], f.w) }
	return strings.Join([]string{
		st.Muted.Render(fit("A token for another system to use latchkey's API for "+f.c.Org.Name+".", f.w)),
		"",
		label(tName, "Name") + f.name.View() + under("name"),
		f.scopesView() + under("scope"),
		label(tExpires, "Expires") + f.expires.View() + under("expires"),
		"",
		button(st, f.focus == tCreate, "Create token"),
		"",
		form.Indent(st.Muted.Render(f.hint()), 0, f.w),
	}, "\n")
}

// ---- the new token's secret, shown once

// tokenSecret shows a new token's secret, the only time it is shown; c
// copies it to the clipboard with OSC 52 (which reaches the terminal of
// the person at the keyboard, over SSH too).
type tokenSecret struct {
	base
	tok    core.APIToken
	secret string
	copied bool
}

func newTokenSecret(c *Common, tok core.APIToken, secret string) *tokenSecret {
	return &tokenSecret{base: base{c: c}, tok: tok, secret: secret}
}

func (*tokenSecret) isDialog() {}

var copySecretKey = bind("c", "c", "copy to clipboard")

func (d *tokenSecret) Title() string            { return "New API token" }
func (d *tokenSecret) ShortHelp() []key.Binding { return []key.Binding{copySecretKey, closeKey} }
func (d *tokenSecret) Capturing() bool          { return true }
func (d *tokenSecret) Update(msg tea.Msg) (screen, tea.Cmd) {
	d.size(msg)
	if k, ok := msg.(tea.KeyPressMsg); ok {
		switch k.String() {
		case "enter", "esc", "q":
			return d, func() tea.Msg {
				return doneMsg{close: true, status: fmt.Sprintf("The secret of %q is not shown again; d on the list revokes the token.", d.tok.Name),
					selectKey: fmt.Sprint(d.tok.ID)}
			}
		case "c":
			d.copied = true
			return d, func() tea.Msg {
				return doneMsg{status: "Copied the token's secret to your clipboard.", clipboard: d.secret}
			}
		}
	}
	return d, nil
}

func (d *tokenSecret) View() string {
	st := d.c.Styles
	width := min(max(d.w-dialogFrame, 20), 72)
	wrap := func(s string) string { return strings.Join(wrapWords(s, width), "\n") }
	scopes := "Scopes: " + scopesCell(d.tok.Scopes)
	if !d.tok.ExpiresAt.IsZero() {
		scopes += " · expires " + d.tok.ExpiresAt.UTC().Format("2 Jan 2006")
	}
	copied := st.Muted.Render("c copies it to your clipboard (OSC 52).")
	if d.copied {
		copied = st.Good.Render("✓ copied to your clipboard") + st.Muted.Render(" (OSC 52; c copies again)")
	}
	body := strings.Join([]string{
		st.Label.Render(wrap(fmt.Sprintf("API token %q for %s", d.tok.Name, d.c.Org.Name))),
		"",
		st.Accent.Render(d.secret),
		"",
		st.Warn.Render(wrap("Copy it now: it is not shown again. latchkey keeps only its hash; if it is lost, revoke the token and create another.")),
		st.Muted.Render(wrap(scopes)),
		"",
		copied,
	}, "\n")
	return center(st.Dialog.Render(body), d.w, d.h)
}
