package sshd

import (
	"errors"
	"runtime/debug"

	tea "charm.land/bubbletea/v2"
	"charm.land/ssh"
	"charm.land/wish/v2"
)

// console runs the Bubble Tea console of a session with a terminal, as
// wish's Bubble Tea middleware does, but logging through the server's own
// logger: nothing here touches a process-wide logger (the local console's
// terminal is not an SSH session's log).
func (s *Server) console(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		program := s.program(sess)
		if program == nil {
			next(sess)
			return
		}
		_, windowChanges, ok := sess.Pty()
		if !ok {
			wish.Fatalln(sess, "no active terminal, skipping")
			return
		}
		done := make(chan struct{})
		go func() {
			defer func() {
				if r := recover(); r != nil {
					s.log.Error("console window handler panicked", "panic", r, "stack", string(debug.Stack()))
					program.Quit()
				}
			}()
			for {
				select {
				case <-sess.Context().Done():
					program.Quit()
					return
				case <-done:
					return
				case w := <-windowChanges:
					program.Send(tea.WindowSizeMsg{Width: w.Width, Height: w.Height})
				}
			}
		}()
		if _, err := program.Run(); err != nil && !errors.Is(err, tea.ErrProgramKilled) {
			s.log.Debug("console ended", "err", err) // a client that leaves kills its program
		}
		program.Kill() // restores the terminal if the program is still running
		close(done)
		next(sess)
	}
}
