package sshd

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"

	tea "charm.land/bubbletea/v2"
	"charm.land/ssh"
	bm "charm.land/wish/v2/bubbletea"

	"latchkey/tui"
)

// console runs the console for a session with a terminal, as wish's
// bubbletea.MiddlewareWithProgramHandler does (window changes become size
// messages; the program is killed when the session ends), but reports
// through the server's own logger: wish's logs through the process-wide
// Charm logger, which writes to the local console's terminal.
func (s *Server) console(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		p := s.program(sess)
		if p == nil {
			next(sess)
			return
		}
		_, windowChanges, _ := sess.Pty() // program returns nil without one
		ctx, cancel := context.WithCancel(sess.Context())
		go func() {
			defer func() { // its own goroutine: the recover middleware cannot see a panic here
				if r := recover(); r != nil {
					s.log.Error("panic in window change handler", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
					p.Quit()
				}
			}()
			for {
				select {
				case <-ctx.Done():
					p.Quit()
					return
				case w := <-windowChanges:
					p.Send(tea.WindowSizeMsg{Width: w.Width, Height: w.Height})
				}
			}
		}()
		if _, err := p.Run(); err != nil && !errors.Is(err, tea.ErrProgramKilled) {
			s.log.Error("console ended with an error", "error", err)
		} else if err != nil {
			s.log.Debug("console ended", "reason", err) // the client left
		}
		p.Kill() // restores the terminal if the program is still running
		cancel()
		next(sess)
	}
}

// program starts the console for a session with a terminal (nil: none, so
// the session is a command).
func (s *Server) program(sess ssh.Session) *tea.Program {
	pty, _, ok := sess.Pty()
	if !ok {
		return nil
	}
	actor, err := s.actor(sess)
	if err != nil {
		return nil
	}
	app := tui.New(tui.Deps{Service: s.cfg.Service, Actor: actor, CatcherOn: s.cfg.CatcherOn, SSHLogin: s.cfg.SSHLogin, Where: "ssh",
		Context: sess.Context()}) // closing the connection cancels the work its screens started
	app.SetSize(pty.Window.Width, pty.Window.Height)
	app.Preload(sess.Context())
	opts := append(bm.MakeOptions(sess), tea.WithContext(sess.Context()), tea.WithoutSignalHandler())
	p := tea.NewProgram(app, opts...)
	s.mu.Lock()
	stopping := s.stopping
	if !stopping {
		s.programs[p] = true
	}
	s.mu.Unlock()
	go func() {
		<-sess.Context().Done()
		app.Close()
		s.mu.Lock()
		delete(s.programs, p)
		s.mu.Unlock()
	}()
	if stopping {
		go p.Quit()
	}
	return p
}
