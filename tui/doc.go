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
// Nothing on screen is cut mid-sentence. A status or error message longer
// than a line wraps at word boundaries into rows that the screen's body
// gives up for it. The help bar shows a screen's keys most important
// first, then the console's (esc back, ? all keys, q quit), as many as fit
// whole: never with a trailing "…". ? shows every key, its columns in rows
// as the width requires.
package tui
