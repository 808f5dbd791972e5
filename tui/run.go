package tui

import (
	"context"
	"errors"
	"io"
	"os"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/term"
)

// Run shows the console on a terminal until the person quits or ctx ends
// (then it returns nil).
func Run(ctx context.Context, deps Deps, in io.Reader, out io.Writer, opts ...tea.ProgramOption) error {
	ctx, cancel := context.WithCancel(ctx) // the work a screen started ends with the program
	defer cancel()
	deps.Context = ctx
	app := New(deps)
	defer app.Close()
	if f, ok := out.(*os.File); ok {
		if w, h, err := term.GetSize(f.Fd()); err == nil {
			app.SetSize(w, h)
		}
	}
	app.Preload(ctx)
	opts = append([]tea.ProgramOption{tea.WithContext(ctx), tea.WithInput(in), tea.WithOutput(out)}, opts...)
	_, err := tea.NewProgram(app, opts...).Run()
	if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
		return nil
	}
	return err
}
