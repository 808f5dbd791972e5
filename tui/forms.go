package tui

import (
	"errors"
	"latchkey/tui/components/form"
	"latchkey/tui/components/status"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"latchkey/core"
)

// What the console's forms share: a label column that marks the field
// with the keyboard, errors under their fields, and esc that asks before
// it discards input.

// labelWidth is the width of a form's label column (see tui/components/form).
const labelWidth = form.LabelWidth

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

// fitInputs gives a form's text fields the width its screen leaves them.
func fitInputs(w int, inputs ...*textinput.Model) {
	for _, t := range inputs {
		t.SetWidth(min(60, w-labelWidth-8))
	}
}

// failedField records under its field why core refused a form's value and
// returns the field's place in the form (fields maps core's names to them).
func failedField(err error, errs map[string]string, fields map[string]int) (int, bool) {
	field, why := fieldError(err)
	if why == "" {
		return 0, false
	}
	errs[field] = why
	i, ok := fields[field]
	return i, ok
}
