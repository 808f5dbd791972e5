package mail

import (
	"bytes"
	htmltemplate "html/template"
	"math/rand/v2"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"latchkey/core"
	"latchkey/core/i18n"
)

// The HTML part is rendered from precompiled parts, so that a message
// costs only what is its own:
//   - the templates are parsed once per accent colour, painted in their
//     source (paint), so no rendered message is searched for colours;
//   - the layout around a message's body is rendered once per language,
//     organization and logo (layoutParts), and a message only puts its
//     escaped subject and its body between the pieces;
//   - a kind's bodies are rendered once per batch of messages that differ
//     only in their recipient's name and link's secret (bodyParts);
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

// textEscaper escapes text exactly as html/template does inside <title>
// (its RCDATA escaper over a string) and as the catalog's H escapes its
// arguments; TestLayoutPartsRenderAsTheLayout compares them.
var textEscaper = strings.NewReplacer("\x00", "\uFFFD", `"`, "&#34;", "&", "&amp;", "'", "&#39;", "+", "&#43;", "<", "&lt;", ">", "&gt;")

// A message's text and HTML bodies differ from the next one's of the same
// batch (an invitation to one portal sent to many) only in the
// recipient's name and the link's secret. So the bodies are rendered once
// per everything else (bodyKey), with stand-ins for those two, and cut
// where they go; a message puts its name and secret in the cuts.
//
// The stand-ins are letters drawn at random per Composer, which no escaper
// changes and no one can put in a message to be mistaken for one (a
// message holding one anyway is rendered whole). The secret's stand-in has
// the secret's length, so a wrapped paragraph breaks where it would; the
// name is written only by "hello", through T (the text part, as it is) and
// H (the HTML part, escaped as textEscaper does).

// bodyKinds are the kinds sent in batches, whose bodies are cut.
var bodyKinds = map[core.MailKind]bool{core.MailInvitePortal: true, core.MailInviteJoin: true, core.MailNewLink: true, core.MailAccessLink: true}

// maxBodies bounds the bodies kept; past it, they start again empty.
const maxBodies = 256

// minCutToken is the shortest secret cut: a shorter stand-in could occur
// in a rendered body by chance.
const minCutToken = 16

// bodyMarks are a Composer's stand-ins.
type bodyMarks struct {
	name  string // 24 letters
	token string // 64 letters; a secret's stand-in is its first len(secret)
}

func newBodyMarks() bodyMarks {
	letters := func(n int) string {
		const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		b := make([]byte, n)
		for i := range b {
			b[i] = alphabet[rand.IntN(len(alphabet))] // math/rand/v2: seeded from the OS per process
		}
		return string(b)
	}
	return bodyMarks{name: letters(24), token: letters(64)}
}

// cutBody is a body cut at its stand-ins: pieces, with slots between them.
type cutBody struct {
	pieces []string
	slots  []bool // between pieces i and i+1: true the name, false the secret
}

func (m bodyMarks) cut(body, tokenMark string) cutBody {
	var c cutBody
	for {
		n, t := strings.Index(body, m.name), -1
		if tokenMark != "" {
			t = strings.Index(body, tokenMark)
		}
		switch {
		case n < 0 && t < 0:
			c.pieces = append(c.pieces, body)
			return c
		case n >= 0 && (t < 0 || n < t):
			c.pieces, c.slots = append(c.pieces, body[:n]), append(c.slots, true)
			body = body[n+len(m.name):]
		default:
			c.pieces, c.slots = append(c.pieces, body[:t]), append(c.slots, false)
			body = body[t+len(tokenMark):]
		}
	}
}

// fill is the body with name and token in its slots.
func (c cutBody) fill(name, token string) []byte {
	size := 0
	for _, p := range c.pieces {
		size += len(p)
	}
	for _, s := range c.slots {
		if s {
			size += len(name)
		} else {
			size += len(token)
		}
	}
	out := make([]byte, 0, size)
	for i, p := range c.pieces {
		out = append(out, p...)
		if i < len(c.slots) {
			if c.slots[i] {
				out = append(out, name...)
			} else {
				out = append(out, token...)
			}
		}
	}
	return out
}

// bodyParts are a kind's two bodies, cut.
type bodyParts struct {
	text, html cutBody
}

// bodyCache holds the cut bodies by bodyKey.
type bodyCache struct {
	mu     sync.Mutex
	bodies map[string]bodyParts
	cuts   int // bodies cut since the start (the tests count them)
}

// bodyKey is everything a message's bodies show but its recipient's name
// and its link's secret: every field of its view, by reflection, so that a
// field added to view is in the key without a second list to keep. ok is
// false when the message's bodies are not cut: lists (a digest, links), a
// secret that is short or not of the characters no escaper changes, or a
// field holding a stand-in.
func (m bodyMarks) bodyKey(accent string, v view, token string) (string, bool) {
	if !bodyKinds[v.Kind] || len(token) < minCutToken || len(token) > len(m.token) || !strings.HasSuffix(v.URL, token) {
		return "", false
	}
	for i := 0; i < len(token); i++ {
		if c := token[i]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return "", false
		}
	}
	key := make([]byte, 0, 512)
	add := func(s string) {
		key = strconv.AppendInt(key, int64(len(s)), 10)
		key = append(key, ':')
		key = append(key, s...)
	}
	add(accent)
	key = strconv.AppendInt(key, int64(len(token)), 10)
	rv := reflect.ValueOf(v)
	rt := rv.Type()
	for i := range rt.NumField() {
		f := rt.Field(i)
		if !f.IsExported() {
			continue // tr: the language, which Lang names
		}
		fv := rv.Field(i)
		switch fv.Kind() {
		case reflect.String:
			s := fv.String()
			if strings.Contains(s, m.name) || strings.Contains(s, m.token[:minCutToken]) {
				return "", false
			}
			switch f.Name {
			case "Name":
				s = strconv.FormatBool(s != "") // "hello" asks only whether there is one
			case "URL":
				s = strings.TrimSuffix(s, token)
			}
			add(s)
		case reflect.Int:
			key = strconv.AppendInt(key, fv.Int(), 10)
			key = append(key, ';')
		case reflect.Slice:
			if fv.Len() > 0 {
				return "", false
			}
		default:
			return "", false // a kind of field this key does not know
		}
	}
	return string(key), true
}

// bodies renders v's text and HTML bodies: from their cut parts when the
// message has them, whole otherwise.
func (c *Composer) bodies(set *paintedSet, accent string, v view, token string) (text, html []byte, err error) {
	key, ok := c.marks.bodyKey(accent, v, token)
	if !ok || c.whole {
		return c.renderBodies(set, v)
	}
	c.cut.mu.Lock()
	parts, hit := c.cut.bodies[key]
	c.cut.mu.Unlock()
	if !hit {
		tokenMark := c.marks.token[:len(token)]
		mv := v
		mv.URL = strings.TrimSuffix(v.URL, token) + tokenMark
		if mv.Name != "" {
			mv.Name = c.marks.name
		}
		text, html, err := c.renderBodies(set, mv)
		if err != nil {
			return nil, nil, err
		}
		parts = bodyParts{text: c.marks.cut(string(text), tokenMark), html: c.marks.cut(string(html), tokenMark)}
		c.cut.mu.Lock()
		if c.cut.bodies == nil || len(c.cut.bodies) >= maxBodies {
			c.cut.bodies = map[string]bodyParts{}
		}
		c.cut.bodies[key] = parts
		c.cut.cuts++
		c.cut.mu.Unlock()
	}
	return parts.text.fill(v.Name, token), parts.html.fill(textEscaper.Replace(v.Name), token), nil
}

// renderBodies executes v's kind's text and HTML templates.
func (c *Composer) renderBodies(set *paintedSet, v view) (text, html []byte, err error) {
	var t, h bytes.Buffer
	if err := c.text.ExecuteTemplate(&t, string(v.Kind), v); err != nil {
		return nil, nil, err
	}
	if err := set.html.ExecuteTemplate(&h, string(v.Kind), v); err != nil {
		return nil, nil, err
	}
	return t.Bytes(), h.Bytes(), nil
}
