package web

import (
	"crypto/rand"
	"log/slog"
	mrand "math/rand/v2"
	"net/http/httptest"
	"strings"
	"testing"

	"latchkey/core"
	"latchkey/core/i18n"
)

// The pre-rendered landing page is byte for byte what html/template makes
// of the same values, including values full of markup, quotes, pluses,
// NULs, invalid UTF-8 and the markers themselves.
func TestFastPagesMatchTemplates(t *testing.T) {
	tmpl, err := parseTemplates()
	if err != nil {
		t.Fatal(err)
	}
	bundle, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	fast, err := compileFastPages(tmpl, bundle)
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{tmpl: tmpl, fast: fast, i18n: bundle, log: slog.New(slog.DiscardHandler)}
	langs := bundle.Languages()
	pieces := []string{"<", ">", "&", "'", `"`, "+", "\x00", "é", "\xff", "{{.Token}}", marker(0), marker(3), " ", "a", "Z", "<script>alert(1)</script>", "&amp;", "\uFDD0", "\uFFFE", "\n", "/"}
	rng := mrand.New(mrand.NewPCG(1, 2))
	gen := func() string {
		var b strings.Builder
		for n := 1 + rng.IntN(8); n > 0; n-- {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		return b.String()
	}
	for i := 0; i < 3000; i++ {
		tok, _ := core.NewToken(rand.Reader)
		tr := bundle.Lang(langs[i%len(langs)]) // every language's variants
		p := page{Title: tr.T("action.open_portal"), Org: gen(), Portal: gen(), Project: gen(), Email: gen(), Token: tok, Lang: tr.Code(), tr: tr}
		if i%3 == 0 {
			p.Project = p.Portal
		}
		p.Requested = i%2 == 0
		if i%4 == 1 { // an organization with a logo and an accent
			p.Logo, p.Accent = strings.Repeat("0123456789abcdef", 4), "0b6e4f"
		}
		req := httptest.NewRequest("GET", "/m/"+tok, nil)
		slow := httptest.NewRecorder()
		s.render(slow, req, 200, "landing", p)
		quick := httptest.NewRecorder()
		if !s.fast.serveLanding(quick, req, p) {
			t.Fatal("fast path refused an anonymous landing page")
		}
		if slow.Body.String() != quick.Body.String() {
			t.Fatalf("pages differ for %+v:\ntemplate:\n%s\nfast:\n%s", p, slow.Body.String(), quick.Body.String())
		}
		if slow.Header().Get("Content-Length") != quick.Header().Get("Content-Length") || slow.Code != quick.Code {
			t.Fatal("headers differ")
		}
	}
	// Pages that are not the anonymous landing page take the template.
	if s.fast.serveLanding(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil), page{Org: "o", Portal: "p", Project: "q", Email: "e", Token: "t", SignedInAs: "x@y"}) {
		t.Fatal("fast path served a signed-in visitor")
	}
}
