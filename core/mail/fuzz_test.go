package mail_test

import (
	"mime"
	"net/mail"
	"strings"
	"testing"
	"unicode"

	lkmail "latchkey/core/mail"
)

type mimeDecoder struct{ mime.WordDecoder }

func (d *mimeDecoder) decode(s string) string {
	out, err := d.DecodeHeader(s)
	if err != nil {
		return s
	}
	return out
}

// noBareLineBreaks: CR and LF appear only as header folding (CRLF + space).
func noBareLineBreaks(t *testing.T, v string) {
	t.Helper()
	rest := strings.ReplaceAll(v, "\r\n ", "")
	if strings.ContainsAny(rest, "\r\n\x00") {
		t.Fatalf("a line break or NUL reaches the header: %q", v)
	}
	for _, line := range strings.Split(v, "\r\n") {
		if len(line) > 998 {
			t.Fatalf("a header line of %d characters", len(line))
		}
	}
}

func expected(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

func FuzzEncodeHeader(f *testing.F) {
	for _, s := range []string{"Hello", "Café Müller invited you", "a\r\nBcc: x@y", "=?utf-8?q?evil?=", strings.Repeat("é", 300), "\x00\xff", "tab\there", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		enc := lkmail.EncodeHeader(s)
		noBareLineBreaks(t, enc)
		// Unfolded and decoded, the header is the cleaned input.
		got := new(mimeDecoder).decode(strings.ReplaceAll(enc, "\r\n ", " "))
		if want := expected(s); got != want && !strings.Contains(s, "=?") {
			t.Fatalf("round trip %q → %q → %q, want %q", s, enc, got, want)
		}
	})
}

func FuzzFormatAddress(f *testing.F) {
	for _, s := range []string{"Casey Client", "Zoë Ölander", `"quoted" name`, "a\r\nX-Evil: 1", "<x@y>", "", strings.Repeat("ü", 120)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		v := lkmail.FormatAddress(name, "client@acme.test")
		noBareLineBreaks(t, v)
		a, err := mail.ParseAddress(strings.ReplaceAll(v, "\r\n ", " "))
		if err != nil {
			t.Fatalf("%q formats as %q, which does not parse: %v", name, v, err)
		}
		if a.Address != "client@acme.test" {
			t.Fatalf("%q changed the address to %q", name, a.Address)
		}
	})
}
