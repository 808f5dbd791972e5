package mail

import (
	"strings"
	"unicode/utf8"
)

// wrap breaks text into lines of at most width characters at its spaces
// (never at a no-break space, as French puts before a colon); a longer
// word (a link) keeps a line of its own.
func wrap(text string, width int) string {
	var b strings.Builder
	line := 0
	words := strings.FieldsFunc(text, func(r rune) bool { return r == ' ' || r == '\n' })
	for i, w := range words {
		n := utf8.RuneCountInString(w)
		switch {
		case i == 0:
		case line+1+n > width:
			b.WriteByte('\n')
			line = 0
		default:
			b.WriteByte(' ')
			line++
		}
		b.WriteString(w)
		line += n
	}
	return b.String()
}
