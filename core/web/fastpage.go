package web

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"latchkey/core"
	"latchkey/core/i18n"
)

// isHex reports whether s is six lower-case hex digits (an accent's).
func isHex(s string) bool {
	if len(s) != 6 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// A fastPage is a page executed once through html/template with markers in
// place of its string fields, then cut at the markers. Serving it writes the
// static pieces with each field escaped the way html/template escapes text
// and quoted attribute values: the same bytes, without executing the
// template per request (template execution was the largest cost of the
// landing page).
//
// It is only for pages whose fields appear in HTML text or quoted
// attributes, and whose URL-context fields (a token, a slug) hold values
// that URL escaping leaves alone; TestFastPagesMatchTemplates checks that
// the bytes equal the template's for adversarial values.
type fastPage struct {
	parts  []string // static HTML; len(parts) == len(fields)+1
	fields []int    // which value fills each gap
}

// markers survive every html/template escaper unchanged: letters only.
func marker(i int) string { return "qzxlkfield" + string(rune('a'+i)) + "xzq" }

// compileFast renders tmpl with the fields (pointers into p) set to
// markers. alias maps a field to another whose value it holds in this
// variant (the project name equal to the portal title, say).
func compileFast(t *templates, name string, p page, fields func(*page) []*string, alias map[int]int) (*fastPage, error) {
	ptrs := fields(&p)
	for i, f := range ptrs {
		if j, ok := alias[i]; ok {
			*f = marker(j)
		} else {
			*f = marker(i)
		}
	}
	var buf bytes.Buffer
	if err := t.pages[name].ExecuteTemplate(&buf, "layout", p); err != nil {
		return nil, err
	}
	out := buf.String()
	fp := &fastPage{}
	for {
		at, field := -1, -1
		for i := range ptrs {
			if j := strings.Index(out, marker(i)); j >= 0 && (at < 0 || j < at) {
				at, field = j, i
			}
		}
		if at < 0 {
			fp.parts = append(fp.parts, out)
			return fp, nil
		}
		fp.parts = append(fp.parts, out[:at])
		fp.fields = append(fp.fields, field)
		out = out[at+len(marker(field)):]
	}
}

// htmlEscaper is html/template's escaping of text and attribute values.
var htmlEscaper = strings.NewReplacer("\x00", "\uFFFD", `"`, "&#34;", "&", "&amp;", "'", "&#39;", "+", "&#43;", "<", "&lt;", ">", "&gt;")

// write serves the page with values in the order the fields were declared.
func (fp *fastPage) write(w http.ResponseWriter, r *http.Request, status int, values []string) {
	n := 0
	for _, p := range fp.parts {
		n += len(p)
	}
	var b strings.Builder
	b.Grow(n + 256)
	for i, p := range fp.parts {
		b.WriteString(p)
		if i < len(fp.fields) {
			htmlEscaper.WriteString(&b, values[fp.fields[i]])
		}
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(b.Len()))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write([]byte(b.String()))
	}
}

// landingFields are the landing page's fields for an anonymous visitor.
func landingFields(p *page) []*string {
	return []*string{&p.Org, &p.Portal, &p.Project, &p.Email, &p.Token}
}

// brandedLandingFields add an organization's logo and accent (hex
// digits both, which no escaper changes).
func brandedLandingFields(p *page) []*string {
	return append(landingFields(p), &p.Logo, &p.Accent)
}

// fastPages holds the pre-rendered variants of the hottest page, per
// language: the landing page of an active link, for a browser without a
// session; [0] for a link of an invitation, [1] for one the visitor asked
// for. The branded variants are those of an organization with a logo and
// an accent.
type fastPages map[string]*fastLanding

type fastLanding struct {
	landing        [2]*fastPage // project name differs from portal title
	landingProject [2]*fastPage // project name equals portal title
	branded        [2]*fastPage
	brandedProject [2]*fastPage
}

func compileFastPages(t *templates, b *i18n.Bundle) (fastPages, error) {
	f := fastPages{}
	for _, code := range b.Languages() {
		tr := b.Lang(code)
		fl := &fastLanding{}
		for i, requested := range []bool{false, true} {
			base := page{Title: tr.T("action.open_portal"), Requested: requested, Lang: code, tr: tr}
			for _, v := range []struct {
				into   **fastPage
				fields func(*page) []*string
				same   map[int]int
			}{
				{&fl.landing[i], landingFields, nil},
				{&fl.landingProject[i], landingFields, map[int]int{2: 1}}, // Project holds the portal title
				{&fl.branded[i], brandedLandingFields, nil},
				{&fl.brandedProject[i], brandedLandingFields, map[int]int{2: 1}},
			} {
				fp, err := compileFast(t, "landing", base, v.fields, v.same)
				if err != nil {
					return nil, fmt.Errorf("landing: %w", err)
				}
				*v.into = fp
			}
		}
		f[code] = fl
	}
	return f, nil
}

// resultShape is what decides the access form's answer page besides its
// strings: the page's language, the outcome, and its optional parts.
type resultShape struct {
	lang                    string
	outcome                 string // sent, requested or generic
	firstUse, code, branded bool
}

// resultFields are the strings of the access form's answer for an
// anonymous visitor; PortalSlug appears in URLs, which the slug's letters,
// digits and hyphens pass unchanged.
func resultFields(p *page) []*string {
	return []*string{&p.Org, &p.Portal, &p.PortalSlug, &p.Email}
}

func brandedResultFields(p *page) []*string {
	return append(resultFields(p), &p.Logo, &p.Accent)
}

// compileFastResults pre-renders every shape of the access form's answer
// page ("access_result") in every language: after the landing page, the
// page the closed-portal form answers with is the hottest, and executing
// its template was a quarter of the form's CPU.
func compileFastResults(t *templates, b *i18n.Bundle) (map[resultShape]*fastPage, error) {
	out := map[resultShape]*fastPage{}
	for _, code := range b.Languages() {
		tr := b.Lang(code)
		for _, outcome := range []string{"sent", "requested", "generic"} {
			for _, firstUse := range []bool{false, true} {
				for _, codeForm := range []bool{false, true} {
					for _, branded := range []bool{false, true} {
						base := page{Title: tr.T("page.send_access_link.title"), Outcome: outcome, FirstUse: firstUse, CodeForm: codeForm, Lang: code, tr: tr}
						fields := resultFields
						if branded {
							fields = brandedResultFields
						}
						fp, err := compileFast(t, "access_result", base, fields, nil)
						if err != nil {
							return nil, fmt.Errorf("access_result: %w", err)
						}
						out[resultShape{lang: code, outcome: outcome, firstUse: firstUse, code: codeForm, branded: branded}] = fp
					}
				}
			}
		}
	}
	return out, nil
}

// serveResult serves the access form's answer to an anonymous visitor when
// it can, and reports whether it did.
func serveResult(fast map[resultShape]*fastPage, w http.ResponseWriter, r *http.Request, status int, p page) bool {
	branded := p.Logo != "" && p.Accent != ""
	if p.User != nil || p.SignedInAs != "" || p.Static != "" || p.Home || p.FieldError != "" || p.Status != 0 ||
		!branded && (p.Logo != "" || p.Accent != "") || p.Org == "" || p.Portal == "" || p.Portal == p.Title || p.Email == "" {
		return false
	}
	if branded && (!core.IsLogoHash(p.Logo) || !isHex(p.Accent)) {
		return false
	}
	if slug, err := core.ValidateSlug(p.PortalSlug); err != nil || slug != p.PortalSlug {
		return false // only a valid slug's letters, digits and hyphens pass URL escaping unchanged
	}
	fp, ok := fast[resultShape{lang: p.Lang, outcome: p.Outcome, firstUse: p.FirstUse, code: p.CodeForm, branded: branded}]
	if !ok {
		return false
	}
	values := []string{p.Org, p.Portal, p.PortalSlug, p.Email, p.Logo, p.Accent}
	if !branded {
		values = values[:4]
	}
	fp.write(w, r, status, values)
	return true
}

// landing serves the anonymous landing page when it can, and reports whether it did.
func (f fastPages) serveLanding(w http.ResponseWriter, r *http.Request, p page) bool {
	fl, ok := f[p.Lang]
	branded := p.Logo != "" && p.Accent != ""
	if !ok || p.User != nil || p.SignedInAs != "" || !branded && (p.Logo != "" || p.Accent != "") || p.Org == "" || p.Portal == "" || p.Portal == p.Title || p.Project == "" || p.Email == "" || p.Token == "" {
		return false
	}
	variant := 0
	if p.Requested {
		variant = 1
	}
	if branded {
		if !core.IsLogoHash(p.Logo) || !isHex(p.Accent) {
			return false
		}
		fp := fl.branded[variant]
		if p.Project == p.Portal {
			fp = fl.brandedProject[variant]
		}
		fp.write(w, r, http.StatusOK, []string{p.Org, p.Portal, p.Project, p.Email, p.Token, p.Logo, p.Accent})
		return true
	}
	fp := fl.landing[variant]
	if p.Project == p.Portal {
		fp = fl.landingProject[variant]
	}
	fp.write(w, r, http.StatusOK, []string{p.Org, p.Portal, p.Project, p.Email, p.Token})
	return true
}
