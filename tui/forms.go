package tui

import (
	"errors"
	"latchkey/tui/components/status"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"latchkey/core"
)

// What the console's forms share: a label column that marks the field
// with the keyboard, errors under their fields, and esc that asks before
// it discards input.

// labelWidth is the width of a form's label column.
const labelWidth = 16

// formLabel is a field's label, marked "›" while the field has the
// keyboard (in any colour profile).
func formLabel(st Styles, focused bool, text string) string {
	if focused {
		return st.Accent.Bold(true).Render(lipgloss.NewStyle().Width(labelWidth).Render("› " + text))
	}
	return st.Label.Render(lipgloss.NewStyle().Width(labelWidth).Render("  " + text))
}

// errorUnder is why a field's value was refused, on the lines under it,
// indented to its value and wrapped to width; "" when there is none.
func errorUnder(st Styles, why string, width int) string {
	if why == "" {
		return ""
	}
	return "\n" + indent(st.ErrorText.Render(why), labelWidth, width)
}

// fieldError is the field a refusal names and what to say under it: core
// names it in a ValidationError, and in a FieldConflict (an address or a
// host name another portal has).
func fieldError(err error) (field, why string) {
	var ve *core.ValidationError
	if errors.As(err, &ve) {
		return ve.Field, core.FirstUpper(ve.Reason)
	}
	var fc *core.FieldConflict
	if errors.As(err, &fc) {
		return fc.Field, core.FirstUpper(fc.Reason)
	}
	return "", ""
}

// closeMsg closes the screen on top; when it holds unsaved input, the
// status line asks first whether to discard it.
type closeMsg struct{ status string }

func closeForm(status string) tea.Cmd { return func() tea.Msg { return closeMsg{status} } }

// choiceHint answers a key that a choice does not take (a letter), so
// that no key goes unanswered.
func choiceHint(what string) tea.Cmd {
	return status.Infof("%s is a choice: ←/→ changes it, tab goes to the next field.", what)
}
