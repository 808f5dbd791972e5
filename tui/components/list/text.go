package list

import (
	"latchkey/core"
	"strings"
	"unicode"
)

// How cells are kept on their row, and how the filter compares text.

// oneLine keeps a cell on its row: an error a mail server gave over several
// lines, say, would otherwise push the rows below it down.
// OneLine is s with its tabs and line breaks made spaces, so that a cell
// (or a status line) stays on its row.
func OneLine(s string) string { return oneLine(s) }

func oneLine(s string) string {
	if !strings.ContainsAny(s, "\t\r\n") {
		return s
	}
	return cellBreaks.Replace(s)
}

var cellBreaks = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ", "\t", " ")

// fold is text as the filter compares it: lower case, and without accents,
// so that "angstrom" finds "Ångström".
func fold(s string) string {
	s = strings.ToLower(s)
	if !strings.ContainsFunc(s, mayCarryAccent) {
		return s // the rows of most lists: ASCII, dashes, times
	}
	return core.Unaccent(s)
}

func mayCarryAccent(r rune) bool {
	return r >= 0xC0 && (unicode.IsLetter(r) || unicode.Is(unicode.Mn, r))
}
