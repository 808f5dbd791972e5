package core_test

import (
	"errors"
	"strings"
	"testing"

	"latchkey/core"
)

// Issue 13, point 2: characters that names refuse are refused in addresses
// too, and so are addresses no relay can deliver.
func TestAddressesRefuseInvisibleAndUndeliverable(t *testing.T) {
	for _, in := range []string{
		"cli\u200bent@acme.test",    // zero-width space
		"\u202etset.emca@tneilc",    // right-to-left override
		"client\u200f@acme.test",    // right-to-left mark
		"cli\u00adent@acme.test",    // soft hyphen
		"\ufeffclient@acme.test",    // byte-order mark
		"client@ac\u200bme.test",    // zero-width space inside the domain
		"client@acme.test\u200d",    // zero-width joiner
		"cli\u2060ent@acme.test",    // word joiner
		"client@acme\ufe0f.test",    // variation selector
		"a@b",                       // dotless domain
		"a@localhost",               // dotless domain
		"a@[192.0.2.1]",             // IP literal
		"a@192.0.2.1",               // an IP address as a domain
		"a@x.t",                     // one-letter top-level domain
		"a@-x.test",                 // label starting with a hyphen
		"a@x..test",                 // empty label
		"a@x_y.test",                // underscore
		`"client@acme.test"@x.test`, // quoted local part
		"ann lee@x.test",
	} {
		got, err := core.NormalizeEmail(in)
		if !errors.Is(err, core.ErrInvalid) {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want a refusal", in, got, err)
			continue
		}
		var ve *core.ValidationError
		if !errors.As(err, &ve) || ve.Field != "email" || strings.ContainsAny(err.Error(), "\u200b\u202e\u200f\u00ad\ufeff") {
			t.Errorf("NormalizeEmail(%q): %v; want a field error for email that does not echo the hidden character", in, err)
		}
	}
}

// Issue 13, point 3: domains are normalised with IDNA (UTS #46): full-width
// forms fold to ASCII, punycode and Unicode spellings are one address.
func TestAddressesNormaliseWithIDNA(t *testing.T) {
	for _, tc := range []struct{ in, want, ascii string }{
		{"ｃｌｉｅｎｔ@acme.test", "client@acme.test", ""},
		{"client@ａｃｍｅ.test", "client@acme.test", ""},
		{"Client@ACME.Test", "client@acme.test", ""},
		{"dörte@münchen.test", "dörte@münchen.test", "dörte@xn--mnchen-3ya.test"},
		{"dörte@xn--mnchen-3ya.test", "dörte@münchen.test", "dörte@xn--mnchen-3ya.test"},
		{"DÖRTE@MÜNCHEN.TEST", "dörte@münchen.test", "dörte@xn--mnchen-3ya.test"},
		{"client@acme.tеst", "client@acme.tеst", "client@acme.xn--tst-rdd"}, // Cyrillic е
	} {
		got, err := core.NormalizeEmail(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			continue
		}
		if ascii := core.AddressASCII(got); tc.ascii != "" && ascii != tc.ascii || tc.ascii == "" && ascii != got {
			t.Errorf("AddressASCII(%q) = %q; want %q", got, ascii, tc.ascii)
		}
	}
}
