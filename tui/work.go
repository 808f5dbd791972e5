package tui

import (
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	tea "charm.land/bubbletea/v2"
)

// showBusyAfter: work that takes longer shows the spinner; quicker work
// never does, which spares the frames (and the flicker) for it.
const showBusyAfter = 150 * time.Millisecond

var workIDs atomic.Uint64

// work runs fn in a command; if it runs long, the status line shows label
// with a spinner meanwhile. A panic in fn becomes an error in the status line.
func work(label string, fn func() tea.Msg) tea.Cmd {
	id := workIDs.Add(1)
	return tea.Batch(
		tea.Tick(showBusyAfter, func(time.Time) tea.Msg { return busyMsg{id, label} }),
		func() tea.Msg { return finishedMsg{id, recovered(label, fn)} })
}

// recovered runs fn; a panic in it becomes an error for the status line.
func recovered(label string, fn func() tea.Msg) (msg tea.Msg) {
	defer func() {
		if p := recover(); p != nil {
			msg = errMsg{fmt.Errorf("internal error while %s: %v", strings.ToLower(label), p)}
		}
	}()
	return fn()
}
