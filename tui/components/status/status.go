// Package status is the console's status line: the one message shown
// between a screen and its help bar, its kind (information, an error, a
// question waiting for an answer) and how long it stays.
//
// It owns the message and its lifetime only. It must not wrap, style or
// lay out the line (the root does, for the width it has), run commands
// other than its own expiry, or decide anything about what it is told:
// screens send it messages (Info, Infof, Error) and the root applies them.
package status

import (
	"fmt"
	"time"

	tea "charm.land/bubbletea/v2"

	"latchkey/core"
)

// Kind is what a message is.
type Kind int

const (
	// KindInfo is news ("Created the project."): it clears after the
	// model's lifetime.
	KindInfo Kind = iota
	// KindError says what failed and what to do: it stays until another
	// message replaces it.
	KindError
	// KindQuestion waits for an answer (y/n): it stays until answered.
	KindQuestion
)

// DefaultLifetime is how long information stays on the line.
const DefaultLifetime = 15 * time.Second

// Msg puts Text on the status line.
type Msg struct {
	Kind Kind
	Text string
}

// Info shows text as information.
func Info(text string) tea.Cmd { return func() tea.Msg { return Msg{KindInfo, text} } }

// Infof shows a formatted line as information.
func Infof(format string, args ...any) tea.Cmd { return Info(fmt.Sprintf(format, args...)) }

// Error shows what a person reads of err (core.Describe).
func Error(err error) tea.Cmd {
	return func() tea.Msg { return Msg{KindError, core.Describe(err)} }
}

// expiredMsg ends the message with the given serial, if it is still shown.
type expiredMsg struct{ serial uint64 }

// Model is the status line's state. The zero value holds nothing and keeps
// information for DefaultLifetime.
type Model struct {
	// Lifetime is how long information stays; zero is DefaultLifetime,
	// negative keeps it until replaced.
	Lifetime time.Duration
	msg      Msg
	serial   uint64 // counts the messages shown: an expiry names the one it ends
}

// Set shows msg now, replacing what was shown; the command it returns (nil
// for an error or a question) clears the line when the message's
// lifetime ends.
func (m *Model) Set(msg Msg) tea.Cmd {
	m.serial++
	m.msg = msg
	if msg.Kind != KindInfo || msg.Text == "" || m.Lifetime < 0 {
		return nil
	}
	life := m.Lifetime
	if life == 0 {
		life = DefaultLifetime
	}
	serial := m.serial
	return tea.Tick(life, func(time.Time) tea.Msg { return expiredMsg{serial} })
}

// Clear empties the line.
func (m *Model) Clear() { m.Set(Msg{}) }

// Update applies the status line's own messages and reports whether msg
// was one of them.
func (m *Model) Update(msg tea.Msg) (tea.Cmd, bool) {
	switch msg := msg.(type) {
	case Msg:
		return m.Set(msg), true
	case expiredMsg:
		if msg.serial == m.serial {
			m.msg = Msg{}
		}
		return nil, true
	}
	return nil, false
}

// Text is the message shown ("" for none).
func (m *Model) Text() string { return m.msg.Text }

// IsError reports whether the line shows an error or a question, which the
// root draws in the error colour.
func (m *Model) IsError() bool { return m.msg.Kind != KindInfo }

// Kind is the kind of the message shown.
func (m *Model) Kind() Kind { return m.msg.Kind }
