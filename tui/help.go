package tui

import (
	"fmt"
	keyhelp "latchkey/tui/components/help"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// shortHelp is the help bar: the screen's keys, the most important first,
// then the root's (which a screen that has the keyboard leaves to ctrl+c).
// Keys that do not fit the width are left to ? (the screen's last first),
// so the bar is never cut with "…".
func (a *App) shortHelp() []key.Binding {
	s := a.top()
	var own, root []key.Binding
	if s != nil {
		own = s.ShortHelp()
	}
	switch {
	case s != nil && s.Capturing():
		root = []key.Binding{quitKey}
	default:
		if len(a.stack) > 1 && !holdsEsc(s) {
			root = append(root, a.keys.Back)
		}
		root = append(root, a.keys.Help, a.keys.Quit)
	}
	return keyhelp.Fit(own, root, a.c.Width-2)
}

// fullHelp is what ? shows: the screen's columns of keys, then the
// console's.
func (a *App) fullHelp() [][]key.Binding {
	s := a.top()
	if s != nil && s.Capturing() { // keys go to the screen: only its own, and ctrl+c
		return [][]key.Binding{a.shortHelp()}
	}
	var out [][]key.Binding
	if s != nil {
		out = append(out, s.FullHelp()...)
	}
	var nav []key.Binding // the console's keys, but those the screen uses itself now
	if !claims(s, tea.KeyPressMsg{Code: tea.KeyTab}) {
		nav = append(nav, a.keys.NextTab)
	}
	if !claims(s, tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift}) {
		nav = append(nav, a.keys.PrevTab)
	}
	nav = append(nav, bind("1", fmt.Sprintf("1-%d", len(a.sections)), "sections")) // one line for the digits the tabs show
	if len(a.stack) > 1 && !holdsEsc(s) {
		nav = append(nav, a.keys.Back)
	}
	if len(a.c.Orgs) > 1 {
		nav = append(nav, a.keys.SwitchOrg)
	}
	return append(out, append(nav, closeHelp, a.keys.Quit))
}

// helpView is the help bar, or with ? every key: its columns side by side
// as far as the width goes, the rest in rows below, none cut.
func (a *App) helpView() string {
	if !a.help.ShowAll {
		return keyhelp.Bar(a.help, a.shortHelp())
	}
	return keyhelp.All(a.help, a.fullHelp(), a.c.Width-2)
}
