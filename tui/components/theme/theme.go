// Package theme owns the console's styles: one set of lipgloss styles and
// colours, built for the terminal's background (light or dark). Every
// screen and component draws with them.
//
// It must not hold state or know any screen: it only builds styles.
package theme

import (
	"image/color"

	"charm.land/lipgloss/v2"
)

// Styles are the console's styles, built for the terminal's background.
type Styles struct {
	App, Title, Tab, TabActive, Crumb, Muted, Faint, Accent, Good, Bad, Warn lipgloss.Style
	Box, Dialog, Selected, Header, Label, Field, FieldFocus, ErrorText       lipgloss.Style
	Button, ButtonActive                                                     lipgloss.Style
	AccentColor, MutedColor                                                  color.Color
}

// New builds the styles for a dark (isDark) or a light background.
func New(isDark bool) Styles {
	ld := lipgloss.LightDark(isDark)
	accent := ld(lipgloss.Color("#1f4fd1"), lipgloss.Color("#7aa2ff"))
	muted := ld(lipgloss.Color("#566275"), lipgloss.Color("#9aa6b8"))
	faint := ld(lipgloss.Color("#9aa6b8"), lipgloss.Color("#566275"))
	good := ld(lipgloss.Color("#13683a"), lipgloss.Color("#5fd38d"))
	bad := ld(lipgloss.Color("#a4161a"), lipgloss.Color("#ff7b7b"))
	warn := ld(lipgloss.Color("#8a5a00"), lipgloss.Color("#f2c14e"))
	line := ld(lipgloss.Color("#c9d1de"), lipgloss.Color("#3a4556"))
	selBg := ld(lipgloss.Color("#dfe7ff"), lipgloss.Color("#23345f"))
	return Styles{
		App:          lipgloss.NewStyle().Padding(0, 1),
		Title:        lipgloss.NewStyle().Bold(true).Foreground(accent),
		Tab:          lipgloss.NewStyle().Foreground(muted).Padding(0, 1),
		TabActive:    lipgloss.NewStyle().Bold(true).Foreground(accent).Padding(0, 1).Underline(true),
		Crumb:        lipgloss.NewStyle().Bold(true),
		Muted:        lipgloss.NewStyle().Foreground(muted),
		Faint:        lipgloss.NewStyle().Foreground(faint),
		Accent:       lipgloss.NewStyle().Foreground(accent),
		Good:         lipgloss.NewStyle().Foreground(good),
		Bad:          lipgloss.NewStyle().Foreground(bad),
		Warn:         lipgloss.NewStyle().Foreground(warn),
		Box:          lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).BorderForeground(line).Padding(0, 1),
		Dialog:       lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).BorderForeground(accent).Padding(1, 2),
		Selected:     lipgloss.NewStyle().Background(selBg).Bold(true),
		Header:       lipgloss.NewStyle().Bold(true).Foreground(muted).BorderStyle(lipgloss.NormalBorder()).BorderBottom(true).BorderForeground(line),
		Label:        lipgloss.NewStyle().Bold(true),
		Field:        lipgloss.NewStyle().Border(lipgloss.NormalBorder()).BorderForeground(line).Padding(0, 1),
		FieldFocus:   lipgloss.NewStyle().Border(lipgloss.NormalBorder()).BorderForeground(accent).Padding(0, 1),
		ErrorText:    lipgloss.NewStyle().Foreground(bad),
		Button:       lipgloss.NewStyle().Padding(0, 2).Border(lipgloss.NormalBorder()).BorderForeground(line),
		ButtonActive: lipgloss.NewStyle().Padding(0, 2).Border(lipgloss.NormalBorder()).BorderForeground(accent).Bold(true).Foreground(accent),
		AccentColor:  accent,
		MutedColor:   muted,
	}
}
