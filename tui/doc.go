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
package tui
