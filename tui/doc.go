// Package tui is latchkey's business console: the Bubble Tea models that
// owners and managers use, locally in the terminal that started latchkey or
// over SSH (package tui/sshd). Models call core services through tea.Cmds
// and never touch storage directly.
package tui
