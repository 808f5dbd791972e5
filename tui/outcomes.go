package tui

import (
	"latchkey/core"

	tea "charm.land/bubbletea/v2"
)

// What the root does with the outcome of work: the organizations loaded,
// an operation done or failed (the status line, the screens it closes or
// opens, the reload).

type (
	refreshTick struct{}
	restyleMsg  struct{}
)

func (a *App) orgsLoaded(msg orgsMsg) tea.Cmd {
	if msg.err != nil {
		a.status, a.isErr = core.Describe(msg.err), true
		return nil
	}
	a.c.Orgs = msg.orgs
	if len(msg.orgs) == 0 {
		if core.InstanceActionsOf(a.c.Actor).CreateOrg.OK() {
			a.ready = true
			a.stack = []screen{newCreateOrg(a.c)}
			return a.push(nil, a.stack[0])
		}
		a.status, a.isErr = "You are not an owner or manager of any organization.", true
		return nil
	}
	found := false
	for _, o := range msg.orgs {
		if o.ID == a.c.Org.ID {
			a.c.Org, found = o, true
		}
	}
	if !found {
		a.c.Org = msg.orgs[0]
	}
	if a.ready {
		return nil
	}
	a.ready = true
	return a.open(0)
}

func (a *App) done(msg doneMsg) tea.Cmd {
	var cmds []tea.Cmd
	switch {
	case msg.err != nil:
		a.status, a.isErr = core.Describe(msg.err), true
		if msg.pop == 0 && msg.push == nil {
			cmds = append(cmds, a.sendTop(failedNotice{msg.err}))
		}
	case msg.status != "":
		a.status, a.isErr = msg.status, false
	}
	if msg.clipboard != "" {
		cmds = append(cmds, tea.SetClipboard(msg.clipboard))
	}
	if msg.pop > 0 {
		cmds = append(cmds, a.pop(msg.pop))
	}
	if msg.push != nil {
		cmds = append(cmds, a.push(a.top(), msg.push))
	} else if msg.reload && msg.pop == 0 {
		cmds = append(cmds, a.sendTop(refreshMsg{}))
	}
	if msg.err == nil && msg.push == nil {
		cmds = append(cmds, a.sendTop(doneNotice{selectKey: msg.selectKey}))
	}
	return tea.Batch(cmds...)
}

// doneNotice tells the screen on top that an operation it started finished,
// and which of its rows that operation made, if any.
type doneNotice struct{ selectKey string }

// failedNotice tells the screen on top that an operation failed (the status
// line says so too), so that a dialog can show why next to its field.
type failedNotice struct{ err error }
