package tui

import (
	"fmt"
	"latchkey/core"
	"maps"
	"runtime/debug"
	"slices"

	tea "charm.land/bubbletea/v2"
)

// open starts section i afresh.
func (a *App) open(i int) tea.Cmd {
	a.section = i
	s := a.sections[i].open(a.c)
	a.stack = []screen{s}
	return a.push(nil, s)
}

// switchTo opens section i for the person who asked for it: the status line
// spoke of the section left, so it is cleared. A section left earlier comes
// back as it was, its data loaded again; the current section's own key
// starts it afresh.
func (a *App) switchTo(i int) tea.Cmd {
	a.status.Clear()
	if i == a.section {
		return a.unlessDirty("Start "+a.sections[i].name+" afresh", func() tea.Cmd { return a.open(i) })
	}
	if a.kept == nil {
		a.kept = map[int][]screen{}
	}
	a.kept[a.section] = a.stack
	if st := a.kept[i]; len(st) > 0 {
		delete(a.kept, i)
		a.section, a.stack = i, st
		return tea.Batch(a.resizeBody(), a.sendTop(refreshMsg{}))
	}
	return a.open(i)
}

// push sizes and initializes a screen (already on the stack when prev is nil).
func (a *App) push(prev screen, s screen) tea.Cmd {
	if prev != nil {
		a.stack = append(a.stack, s)
	}
	s, c1 := a.safeUpdate(s, a.bodySize())
	a.stack[len(a.stack)-1] = s
	if f, ok := s.(fetcher); ok && a.loadNow {
		msg := recovered("Loading", f.fetch) // as work runs its function
		if e, failed := msg.(errMsg); failed {
			a.fail(core.Describe(e.err))
			return c1
		}
		s, c2 := a.safeUpdate(s, msg)
		a.stack[len(a.stack)-1] = s
		return tea.Batch(c1, c2)
	}
	return tea.Batch(c1, s.Init())
}

func (a *App) pop(n int) tea.Cmd {
	if n <= 0 {
		return nil
	}
	if n >= len(a.stack) {
		n = len(a.stack) - 1
	}
	a.stack = a.stack[:len(a.stack)-n]
	return a.sendTop(refreshMsg{})
}

// popDialogs closes the dialogs on top of the stack (menus, prompts,
// confirmations), however many an operation went through, back to the
// screen they were opened from; never the section's first screen.
func (a *App) popDialogs() tea.Cmd {
	n := 0
	for n < len(a.stack)-1 && isDialog(a.stack[len(a.stack)-1-n]) {
		n++
	}
	a.stack = a.stack[:len(a.stack)-n]
	return a.sendTop(refreshMsg{})
}

func (a *App) sendTop(msg tea.Msg) tea.Cmd {
	s := a.top()
	if s == nil {
		return nil
	}
	s, cmd := a.safeUpdate(s, msg)
	a.stack[len(a.stack)-1] = s
	return cmd
}

// safeUpdate keeps a panicking screen from taking the console down.
func (a *App) safeUpdate(s screen, msg tea.Msg) (out screen, cmd tea.Cmd) {
	defer func() {
		if p := recover(); p != nil {
			a.c.Service.Logger().Error("console screen panicked", "screen", s.Title(), "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			a.fail(fmt.Sprintf("Internal error in %s (%v); the screen was reset.", s.Title(), p))
			a.loadNow = false // the fresh screen loads in a command: a fetch that panics again must not recurse
			out, cmd = a.sections[a.section].open(a.c), nil
			a.stack = []screen{out}
			cmd = a.push(nil, out)
		}
	}()
	return s.Update(msg)
}

func (a *App) dirty() bool {
	for _, st := range append([][]screen{a.stack}, slices.Collect(maps.Values(a.kept))...) {
		for _, s := range st {
			if s.Dirty() {
				return true
			}
		}
	}
	return false
}
