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

// fastFixture is what the fast pages are cut from: the templates and the catalogs.
func fastFixture(t *testing.T) (*templates, *i18n.Bundle) {
	t.Helper()
	tmpl, err := parseTemplates()
	if err != nil {
		t.Fatal(err)
	}
	bundle, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	return tmpl, bundle
}

// adversarial makes strings of the pieces that escaping gets wrong most easily.
func adversarial(seed uint64, pieces []string) func() string {
	rng := mrand.New(mrand.NewPCG(seed, seed+1))
	return func() string {
		var b strings.Builder
		for n := 1 + rng.IntN(8); n > 0; n-- {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		return b.String()
	}
}

// The pre-rendered landing page is byte for byte what html/template makes
// of the same values, including values full of markup, quotes, pluses,
// NULs, invalid UTF-8 and the markers themselves.
func TestFastPagesMatchTemplates(t *testing.T) {
	tmpl, bundle := fastFixture(t)
	fast, err := compileFastPages(tmpl, bundle)
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{tmpl: tmpl, fast: fast, i18n: bundle, log: slog.New(slog.DiscardHandler)}
	langs := bundle.Languages()
	pieces := []string{"<", ">", "&", "'", `"`, "+", "\x00", "é", "\xff", "{{.Token}}", marker(0), marker(3), " ", "a", "Z", "<script>alert(1)</script>", "&amp;", "\uFDD0", "\uFFFE", "\n", "/"}
	gen := adversarial(1, pieces)
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

// The access form's pre-rendered answers are byte for byte the template's,
// in every language and shape, and pages they cannot serve take the template.
func TestFastResultsMatchTemplates(t *testing.T) {
	tmpl, bundle := fastFixture(t)
	results, err := compileFastResults(tmpl, bundle)
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{tmpl: tmpl, results: results, i18n: bundle, log: slog.New(slog.DiscardHandler)}
	langs := bundle.Languages()
	pieces := []string{"<", ">", "&", "'", `"`, "+", "\x00", "é", "\xff", "{{.Email}}", marker(0), marker(3), " ", "a", "Z", "<script>alert(1)</script>", "&amp;", "\uFDD0", "%s", "%!", "\n", "/"}
	gen, rng := adversarial(3, pieces), mrand.New(mrand.NewPCG(5, 6))
	slugs := []string{"website-redesign", "q3", "a-b-c-0"}
	outcomes := []string{"sent", "requested", "generic"}
	seen := map[resultShape]bool{}
	for i := 0; i < 4000; i++ {
		tr := bundle.Lang(langs[i%len(langs)])
		p := page{Title: tr.T("page.send_access_link.title"), Org: gen(), Portal: gen(), PortalSlug: slugs[i%len(slugs)], Email: gen(),
			Outcome: outcomes[rng.IntN(3)], FirstUse: rng.IntN(2) == 0, CodeForm: rng.IntN(2) == 0, Lang: tr.Code(), tr: tr}
		if rng.IntN(2) == 0 {
			p.Logo, p.Accent = strings.Repeat("0123456789abcdef", 4), "0b6e4f"
		}
		status := 200
		if p.Outcome == "requested" {
			status = 403
		}
		req := httptest.NewRequest("POST", "/p/"+p.PortalSlug+"/access", nil)
		slow := httptest.NewRecorder()
		s.render(slow, req, status, "access_result", p)
		quick := httptest.NewRecorder()
		if !serveResult(s.results, quick, req, status, p) {
			t.Fatalf("fast path refused an anonymous answer: %+v", p)
		}
		if slow.Body.String() != quick.Body.String() {
			t.Fatalf("pages differ for %+v:\ntemplate:\n%s\nfast:\n%s", p, slow.Body.String(), quick.Body.String())
		}
		if slow.Header().Get("Content-Length") != quick.Header().Get("Content-Length") || slow.Code != quick.Code {
			t.Fatal("headers differ")
		}
		seen[resultShape{p.Lang, p.Outcome, p.FirstUse, p.CodeForm, p.Logo != ""}] = true
	}
	if len(seen) != len(results) {
		t.Fatalf("the values reached %d of the %d shapes", len(seen), len(results))
	}
	tr := bundle.Lang(langs[0])
	base := page{Title: tr.T("page.send_access_link.title"), Org: "o", Portal: "p", PortalSlug: "pq", Email: "e@x", Outcome: "sent", Lang: tr.Code(), tr: tr}
	for name, change := range map[string]func(*page){
		"a signed-in visitor":     func(p *page) { p.User = &core.User{Email: "e@x"} },
		"a slug URLs escape":      func(p *page) { p.PortalSlug = "a b" },
		"a portal's own host":     func(p *page) { p.Static = "/_latchkey/static" },
		"a logo without accent":   func(p *page) { p.Logo = strings.Repeat("0123456789abcdef", 4) },
		"a portal named as title": func(p *page) { p.Portal = p.Title },
		"an unknown outcome":      func(p *page) { p.Outcome = "other" },
	} {
		p := base
		change(&p)
		if serveResult(s.results, httptest.NewRecorder(), httptest.NewRequest("POST", "/", nil), 200, p) {
			t.Errorf("fast path served %s", name)
		}
	}
	if !serveResult(s.results, httptest.NewRecorder(), httptest.NewRequest("POST", "/", nil), 200, base) {
		t.Fatal("fast path refused the plain page the refusals start from")
	}
}
