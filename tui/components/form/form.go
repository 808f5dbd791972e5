// Package form holds what the console's forms share: a label column that
// marks the field with the keyboard ("›", in any colour profile), why a
// value was refused under its field, and moving the focus between text
// fields.
//
// It owns the look of a form's parts; it must not validate values, save
// anything or decide what a refusal means: screens give it the sentence.
package form

import (
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"latchkey/tui/components/theme"
)

// LabelWidth is the width of a form's label column.
const LabelWidth = 16

// Label is a field's label, marked "›" while the field has the keyboard.
func Label(st theme.Styles, focused bool, text string) string {
	if focused {
		return st.Accent.Bold(true).Render(lipgloss.NewStyle().Width(LabelWidth).Render("› " + text))
	}
	return st.Label.Render(lipgloss.NewStyle().Width(LabelWidth).Render("  " + text))
}

// ErrorUnder is why a field's value was refused, on the lines under it,
// indented to its value and wrapped to width; "" when there is none.
func ErrorUnder(st theme.Styles, why string, width int) string {
	if why == "" {
		return ""
	}
	return "\n" + Indent(st.ErrorText.Render(why), LabelWidth, width)
}

// Indent wraps text to width and indents every line by n spaces.
func Indent(text string, n, width int) string {
	body := lipgloss.NewStyle().Width(max(width-n, 10)).Render(text)
	return lipgloss.NewStyle().MarginLeft(n).Render(body)
}

// Focusable is a form's text field (a textinput or a textarea).
type Focusable interface {
	Focus() tea.Cmd
	Blur()
}

// FocusOn blurs a form's text fields and focuses the one at focus, if any.
func FocusOn(focus int, fields map[int]Focusable) tea.Cmd {
	for _, f := range fields {
		f.Blur()
	}
	if f, ok := fields[focus]; ok {
		return f.Focus()
	}
	return nil
}
