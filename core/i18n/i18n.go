// Package i18n owns latchkey's message catalog: every sentence its pages
// and emails show, in each language it speaks, and how a visitor's
// Accept-Language picks one of them.
//
// The catalogs are JSON files embedded from catalogs/, one per language
// (catalogs/de.json), each a flat object from a key to a message: a
// string, or for a message about a count an object of plural forms
// ("one", "other", "=0", …) whose first argument is the count. Messages
// are printf formats (golang.org/x/text/message) and name their
// arguments by position, %[1]s, so that a translation may reorder them.
// A message may mark words with <strong>…</strong> and nothing else: HTML
// gets the mark, plain text (subjects, the text part of an email) loses it.
//
// The package knows no core type, no template and no request; it must not
// hold text of its own outside the catalogs.
package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"path"
	"sort"
	"strings"

	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/message/catalog"
)

//go:embed catalogs/*.json
var catalogFS embed.FS

// Default is the language of a visitor whose browser and portal name none
// that latchkey speaks.
const Default = "en"

// Bundle holds the parsed catalogs. It is safe for concurrent use.
type Bundle struct {
	codes   []string // Default first, then the others in order
	matcher language.Matcher
	langs   map[string]Lang
	keys    map[string]map[string]bool // language -> its keys
}

// Lang prints the messages of one language.
type Lang struct {
	code string
	p    *message.Printer
	keys map[string]bool
}

// New parses the embedded catalogs.
func New() (*Bundle, error) { return load(catalogFS) }

func load(fsys fs.FS) (*Bundle, error) {
	names, err := fs.Glob(fsys, "catalogs/*.json")
	if err != nil {
		return nil, err
	}
	b := &Bundle{langs: map[string]Lang{}, keys: map[string]map[string]bool{}}
	builder := catalog.NewBuilder(catalog.Fallback(language.English))
	var tags []language.Tag
	for _, name := range names {
		code := strings.TrimSuffix(path.Base(name), ".json")
		tag, err := language.Parse(code)
		if err != nil || tag.String() != code {
			return nil, fmt.Errorf("i18n: %s: %q is not a language code", name, code)
		}
		raw, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		var entries map[string]json.RawMessage
		if err := json.Unmarshal(raw, &entries); err != nil {
			return nil, fmt.Errorf("i18n: %s: %w", name, err)
		}
		keys := map[string]bool{}
		for key, v := range entries {
			if err := set(builder, tag, key, v); err != nil {
				return nil, fmt.Errorf("i18n: %s: %s: %w", name, key, err)
			}
			keys[key] = true
		}
		b.keys[code] = keys
		b.codes = append(b.codes, code)
		tags = append(tags, tag)
	}
	if b.keys[Default] == nil {
		return nil, fmt.Errorf("i18n: no catalog for %s", Default)
	}
	// Default first: the matcher answers with its first tag when nothing matches.
	sort.SliceStable(b.codes, func(i, j int) bool { return b.codes[i] == Default && b.codes[j] != Default })
	sort.SliceStable(tags, func(i, j int) bool { return tags[i].String() == Default && tags[j].String() != Default })
	b.matcher = language.NewMatcher(tags)
	for i, code := range b.codes {
		b.langs[code] = Lang{code: code, p: message.NewPrinter(tags[i], message.Catalog(builder)), keys: b.keys[code]}
	}
	return b, nil
}

// set adds one message: a string, or an object of plural forms.
func set(b *catalog.Builder, tag language.Tag, key string, v json.RawMessage) error {
	var s string
	if err := json.Unmarshal(v, &s); err == nil {
		return b.SetString(tag, key, s)
	}
	var forms map[string]string
	if err := json.Unmarshal(v, &forms); err != nil {
		return fmt.Errorf("neither a string nor an object of plural forms")
	}
	if forms["other"] == "" {
		return fmt.Errorf(`plural forms without "other"`)
	}
	var cases []any
	for _, sel := range pluralOrder(forms) {
		cases = append(cases, sel, forms[sel])
	}
	return b.Set(tag, key, plural.Selectf(1, "%d", cases...))
}

// pluralOrder lists exact selectors (=1) first, "other" last: the first
// case that matches wins.
func pluralOrder(forms map[string]string) []string {
	rank := func(s string) int {
		switch {
		case strings.HasPrefix(s, "="):
			return 0
		case s == "other":
			return 2
		}
		return 1
	}
	out := make([]string, 0, len(forms))
	for sel := range forms {
		out = append(out, sel)
	}
	sort.Slice(out, func(i, j int) bool {
		if rank(out[i]) != rank(out[j]) {
			return rank(out[i]) < rank(out[j])
		}
		return out[i] < out[j]
	})
	return out
}

// Languages are the codes of the catalogs, Default first.
func (b *Bundle) Languages() []string { return append([]string(nil), b.codes...) }

// Keys are a language's message keys, sorted.
func (b *Bundle) Keys(code string) []string {
	var out []string
	for k := range b.keys[code] {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Lang is the printer of a language; an unknown code gets Default's.
func (b *Bundle) Lang(code string) Lang {
	if l, ok := b.langs[code]; ok {
		return l
	}
	return b.langs[Default]
}

// Match picks the language for a visitor: the best of the languages their
// browser accepts (an Accept-Language header) that latchkey speaks, else
// fallback (a portal's default) when it is one, else Default.
func (b *Bundle) Match(acceptLanguage, fallback string) string {
	if code, ok := b.Accepted(acceptLanguage); ok {
		return code
	}
	if _, ok := b.langs[fallback]; ok {
		return fallback
	}
	return Default
}

// Accepted is the best of the languages an Accept-Language header accepts
// that latchkey speaks; false when it accepts none of them.
func (b *Bundle) Accepted(acceptLanguage string) (string, bool) {
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(tags) == 0 {
		return "", false
	}
	if _, i, conf := b.matcher.Match(tags...); conf != language.No {
		return b.codes[i], true
	}
	return "", false
}

// Code is the language's code ("de"), for an HTML lang attribute.
func (l Lang) Code() string { return l.code }

// Has reports whether the language's catalog holds key.
func (l Lang) Has(key string) bool { return l.keys[key] }

// T is the message key with its arguments, as plain text: marks removed,
// nothing escaped.
func (l Lang) T(key string, args ...any) string {
	return stripMarks(l.p.Sprintf(key, args...))
}

// HTML is the message key with its arguments escaped for HTML text and
// its marks kept.
func (l Lang) HTML(key string, args ...any) template.HTML {
	esc := make([]any, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case string:
			esc[i] = htmlEscaper.Replace(v)
		case template.HTML:
			esc[i] = string(v)
		default:
			esc[i] = a
		}
	}
	return template.HTML(l.p.Sprintf(key, esc...))
}

var marks = strings.NewReplacer("<strong>", "", "</strong>", "", "<code>", "", "</code>", "")

func stripMarks(s string) string { return marks.Replace(s) }

// htmlEscaper escapes the way html/template escapes text and quoted
// attribute values, so that a page cut from a template (core/web's fast
// pages) gets the same bytes.
var htmlEscaper = strings.NewReplacer("\x00", "\uFFFD", `"`, "&#34;", "&", "&amp;", "'", "&#39;", "+", "&#43;", "<", "&lt;", ">", "&gt;")

// Has reports whether code is one of the catalogs' languages.
func (b *Bundle) Has(code string) bool {
	_, ok := b.langs[code]
	return ok
}
