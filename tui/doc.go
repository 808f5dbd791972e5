// Package tui is latchkey's business console: the Bubble Tea models that
// owners and managers use, locally in the terminal that started latchkey or
// over SSH (package tui/sshd). One root model (App) holds a stack of
// screens; screens render strings, the root returns the tea.View.
//
// Every store call and mail action runs in a tea.Cmd, never in Update, and
// commands never change model state: they return messages. Errors go to the
// status line; a panic in a screen is recovered and reported there. The
// console refreshes itself when core announces a change (a redemption, an
// access request, mail), so no screen polls.
//
// The console's keys (1-6, tab and shift+tab for the sections, ? for every
// key, q to quit, esc to go back) act the same on every screen, but while a
// text field has the cursor: then what is typed goes into it, and esc, the
// first key of the help bar, leaves it. A form being edited marks the field
// that has the keyboard with "›" and keeps tab, the arrows, enter and esc
// for itself; on a field that takes no text (a choice, a button) digits, ?
// and q act as everywhere. A form that is not being edited (the Invite
// section reached with its key, or any form after esc) says so at its top:
// enter edits it where it was, and a key that would have typed is answered
// in the status line, never dropped unseen or passed to another screen.
// A form that esc closes (a portal's settings, a resource to add, an
// update to post) asks first in the status line when it holds unsaved
// input; only y discards it. A form with a multi-line editor (the welcome
// text, an update) saves with ctrl+s, as the help bar says: there enter
// makes a new line.
//
// Nothing on screen is cut mid-sentence. A status or error message longer
// than a line wraps at word boundaries into rows that the screen's body
// gives up for it. The help bar shows a screen's keys most important
// first, then the console's (esc back, ? all keys, q quit), as many as fit
// whole: never with a trailing "…". ? shows every key, its columns in rows
// as the width requires.
package tui
