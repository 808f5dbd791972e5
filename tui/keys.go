package tui

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// key routes a key press: to the status line's question first, then to the
// console's shortcuts unless the screen has the keyboard, else to the screen.
func (a *App) key(k tea.KeyPressMsg) tea.Cmd {
	if then := a.discard; then != nil {
		onlyY := a.onlyY
		a.discard, a.onlyY = nil, false
		a.status.Clear()
		if s := k.String(); s == "y" || s == "Y" || (s == "enter" && !onlyY) {
			return then()
		}
		return nil
	}
	if a.tooSmall() && k.String() != "ctrl+c" {
		return nil // nothing that a key would change can be seen
	}
	s := a.top()
	capturing := s != nil && s.Capturing()
	switch {
	case k.String() == "ctrl+c" || (!capturing && key.Matches(k, a.keys.Quit)):
		return a.unlessDirty("Quit", func() tea.Cmd { return tea.Quit })
	case s == nil:
		return nil
	case capturing, claims(s, k):
		return a.sendTop(k)
	case key.Matches(k, a.keys.Help):
		a.help.ShowAll = !a.help.ShowAll
		return a.resizeBody()
	case key.Matches(k, a.keys.NextTab) && a.ready && len(a.c.Orgs) > 0:
		return a.switchTo((a.section + 1) % len(a.sections))
	case key.Matches(k, a.keys.PrevTab) && a.ready && len(a.c.Orgs) > 0:
		return a.switchTo((a.section + len(a.sections) - 1) % len(a.sections))
	case key.Matches(k, a.keys.SwitchOrg) && len(a.c.Orgs) > 1:
		return a.push(s, newOrgPicker(a.c))
	case key.Matches(k, a.keys.Back) && len(a.stack) > 1 && !holdsEsc(s):
		return a.pop(1)
	}
	for i, b := range a.keys.Sections {
		if key.Matches(k, b) && a.ready && len(a.c.Orgs) > 0 {
			return a.switchTo(i)
		}
	}
	return a.sendTop(k)
}

func (a *App) resizeBody() tea.Cmd {
	body := a.bodySize()
	a.laid = body
	var cmds []tea.Cmd
	for i, s := range a.stack {
		var cmd tea.Cmd
		a.stack[i], cmd = a.safeUpdate(s, body)
		cmds = append(cmds, cmd)
	}
	return tea.Batch(cmds...)
}

// claims reports whether the screen uses the key itself just now, before
// the console's shortcuts, while it does not take every key (a form being
// edited, on a field that takes no text, keeps tab, arrows and esc).
func claims(s screen, k tea.KeyPressMsg) bool {
	c, ok := s.(interface{ claims(tea.KeyPressMsg) bool })
	return ok && c.claims(k)
}

// holdsEsc reports whether the screen uses esc itself just now (a list
// clearing its filter) rather than letting it close the screen.
func holdsEsc(s screen) bool {
	h, ok := s.(interface{ holdsEsc() bool })
	return ok && h.holdsEsc()
}

var (
	quitKey   = bind("ctrl+c", "ctrl+c", "quit")
	closeHelp = bind("?", "?", "close this help")
)
