package mail

import (
	htmltemplate "html/template"
	"regexp"
	"strings"
	"sync"

	"latchkey/core/i18n"
)

// The HTML part is rendered from precompiled parts, so that a message
// costs only what is its own:
//   - the templates are parsed once per accent colour, painted in their
//     source (paint), so no rendered message is searched for colours;
//   - the layout around a message's body is rendered once per language,
//     organization and logo (layoutParts), and a message only puts its
//     escaped subject and its body between the pieces;
//   - a logo's base64 lines are encoded once per logo (logoCache).

// styleAttr matches a style attribute of the templates' source. None
// holds an action (TestTemplateStylesHoldNoAction), so painting the
// source paints exactly the style attributes of every rendered message,
// and never text a message interpolates.
var styleAttr = regexp.MustCompile(`style="[^"]*"`)

// paint gives the buttons and links of the HTML templates' source the
// accent colour: latchkey's colour in their style attributes becomes the
// organization's.
func paint(src, accent string) string {
	if accent == "" || accent == defaultAccent {
		return src
	}
	return styleAttr.ReplaceAllStringFunc(src, func(attr string) string {
		return strings.ReplaceAll(attr, defaultAccent, accent)
	})
}

// maxPaintedSets bounds the template sets kept; past it, the cache starts
// again empty (a set is parsed again in well under a millisecond).
const maxPaintedSets = 64

// paintedSets are the HTML templates parsed once per accent colour.
type paintedSets struct {
	src  string // html.html
	mu   sync.Mutex
	sets map[string]*paintedSet
}

// paintedSet is the HTML templates in one accent, with their layouts.
type paintedSet struct {
	html    *htmltemplate.Template
	mu      sync.Mutex
	layouts map[layoutKey]layoutParts
}

func newPaintedSets(src string) (*paintedSets, error) {
	p := &paintedSets{src: src}
	_, err := p.of(defaultAccent) // the templates must parse
	return p, err
}

// of is the set painted in accent ("": latchkey's).
func (p *paintedSets) of(accent string) (*paintedSet, error) {
	if accent == "" {
		accent = defaultAccent
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if s, ok := p.sets[accent]; ok {
		return s, nil
	}
	t, err := htmltemplate.New("mail").Parse(paint(p.src, accent))
	if err != nil {
		return nil, err
	}
	if p.sets == nil || len(p.sets) >= maxPaintedSets {
		p.sets = map[string]*paintedSet{}
	}
	s := &paintedSet{html: t, layouts: map[layoutKey]layoutParts{}}
	p.sets[accent] = s
	return s, nil
}

// layoutKey is everything the layout shows but a message's subject and body.
type layoutKey struct {
	lang, org     string
	logo          htmltemplate.URL
	width, height int
	replyTo       bool
}

// layoutParts is the rendered layout cut where the subject and the body go.
type layoutParts struct {
	head, middle, tail string
}

// Stand-ins the layout is rendered with: letters and digits, which no
// escaper changes. Should the layout show one more than once (an
// organization named with it), the cut would be ambiguous: that message's
// layout is rendered whole.
const (
	titleMark = "LatchkeyTitleMark7f3a9c"
	bodyMark  = "LatchkeyBodyMark7f3a9c"
)

// maxLayouts bounds a set's layouts; past it, they start again empty.
const maxLayouts = 256

// layout is the layout of key, rendered once.
func (s *paintedSet) layout(key layoutKey, tr i18n.Lang, b mailBrand) (layoutParts, bool, error) {
	s.mu.Lock()
	parts, ok := s.layouts[key]
	s.mu.Unlock()
	if ok {
		return parts, true, nil
	}
	var out strings.Builder
	page := layoutPage{Title: titleMark, V: view{tr: tr, Lang: key.lang, Org: key.org}, Body: bodyMark, Brand: b}
	if err := s.html.ExecuteTemplate(&out, "layout", page); err != nil {
		return layoutParts{}, false, err
	}
	head, rest, ok1 := strings.Cut(out.String(), titleMark)
	middle, tail, ok2 := strings.Cut(rest, bodyMark)
	if !ok1 || !ok2 || strings.Contains(head+middle+tail, titleMark) || strings.Contains(head+middle+tail, bodyMark) {
		return layoutParts{}, false, nil // the caller renders this message's layout whole
	}
	parts = layoutParts{head, middle, tail}
	s.mu.Lock()
	if len(s.layouts) >= maxLayouts {
		s.layouts = map[layoutKey]layoutParts{}
	}
	s.layouts[key] = parts
	s.mu.Unlock()
	return parts, true, nil
}

// layoutPage is what the layout template sees.
type layoutPage struct {
	Title string
	V     view
	Body  htmltemplate.HTML // rendered (and escaped) by the kind's template
	Brand mailBrand
}

// titleEscaper escapes text inside <title> exactly as html/template does
// (its RCDATA escaper over a string); TestLayoutPartsRenderAsTheLayout
// compares the two.
var titleEscaper = strings.NewReplacer("\x00", "\uFFFD", `"`, "&#34;", "&", "&amp;", "'", "&#39;", "+", "&#43;", "<", "&lt;", ">", "&gt;")
