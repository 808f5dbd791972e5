package tui

import (
	"latchkey/core"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
)

// prompt asks for one line of text; submit runs the change (and on success
// closes the dialogs it was asked from, doneMsg.back).
type prompt struct {
	base
	title, label, hint string
	input              textinput.Model
	initial            string
	submit             func(string) tea.Cmd
	errText            string // why the last value was refused, until the next key
}

func newPrompt(c *Common, title, label, hint, initial string, submit func(string) tea.Cmd) *prompt {
	p := &prompt{base: base{c: c}, title: title, label: label, hint: hint, initial: initial, submit: submit}
	p.input = textinput.New()
	p.input.SetValue(initial)
	p.input.CharLimit = 4096
	p.input.SetStyles(textinput.DefaultStyles(c.IsDark))
	return p
}

var (
	submitKey = bind("enter", "enter", "save")
	cancelKey = bind("esc", "esc", "cancel")
)

func (p *prompt) Init() tea.Cmd            { return p.input.Focus() }
func (p *prompt) Title() string            { return p.title }
func (p *prompt) Capturing() bool          { return true }
func (p *prompt) Dirty() bool              { return p.input.Value() != p.initial }
func (p *prompt) ShortHelp() []key.Binding { return []key.Binding{cancelKey, submitKey} } // the way out first, as in every form
func (p *prompt) Update(msg tea.Msg) (screen, tea.Cmd) {
	if p.size(msg) {
		// The dialog's frame takes 6 columns, the field's 4, the input's
		// prompt 2 and its cursor 1.
		p.input.SetWidth(max(min(70, p.w-6-4-2-1), 10))
		return p, nil
	}
	switch msg := msg.(type) {
	case failedNotice:
		p.errText = core.Describe(msg.err)
		return p, nil
	case tea.KeyPressMsg:
		p.errText = "" // the person is changing the value
		switch msg.String() {
		case "enter":
			return p, p.submit(p.input.Value())
		case "esc":
			return p, closeSelf("Nothing was changed.")
		}
	case tea.PasteMsg:
	case restyleMsg:
		p.input.SetStyles(textinput.DefaultStyles(p.c.IsDark))
		return p, nil
	}
	var cmd tea.Cmd
	p.input, cmd = p.input.Update(msg)
	return p, cmd
}

func (p *prompt) View() string {
	st := p.c.Styles
	wrap := lipgloss.NewStyle().Width(max(min(72, p.w-6), 10)) // inside the dialog's frame
	body := wrap.Render(st.Label.Render(p.label)) + "\n\n" + st.FieldFocus.Render(p.input.View())
	if p.errText != "" {
		body += "\n" + wrap.Render(st.Bad.Render(p.errText))
	}
	if p.hint != "" {
		body += "\n" + wrap.Render(st.Muted.Render(p.hint))
	}
	return center(st.Dialog.Render(body), p.w, p.h)
}
