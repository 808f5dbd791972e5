package tui

import (
	"strings"
	"testing"

	"latchkey/core"
)

// FuzzParseBulk: any pasted text gives lines that are either usable (a
// normalized email) or say what is wrong.
func FuzzParseBulk(f *testing.F) {
	for _, s := range []string{"ann@example.com\nBen <ben@example.com>", "x <y>\n\n\r\n", "a@b.test\na@b.test", "\x00<>@"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		for _, l := range parseBulk(text) {
			if (l.email == "") == (l.problem == "") {
				t.Fatalf("line %+v is neither usable nor refused", l)
			}
			if l.email != "" {
				if n, err := core.NormalizeEmail(l.email); err != nil || n != l.email {
					t.Fatalf("line %+v has an email that is not normalized", l)
				}
			}
			if strings.ContainsAny(l.problem, "\n") {
				t.Fatalf("multi-line problem %q", l.problem)
			}
		}
	})
}
