package mail

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	htmltemplate "html/template"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strconv"
	"strings"
	"text/template"
	"time"
	"unicode"

	"latchkey/core"
)

//go:embed templates
var templateFS embed.FS

// Envelope is a rendered message ready for SMTP.
type Envelope struct {
	From      string   // envelope sender (bare address)
	To        []string // envelope recipients
	MessageID string   // without angle brackets
	Subject   string
	Data      []byte // the whole RFC 5322 message, CRLF line ends
}

// Composer renders outbox rows.
type Composer struct {
	// SSHLogin is the command that opens the SSH console ("ssh -p 2222
	// portal.example.com"), which an access request's email gives its owner
	// to grant it from a terminal; empty when SSH is off. Set it before use.
	SSHLogin string

	from      mail.Address
	publicURL string
	domain    string
	text      *template.Template
	html      *htmltemplate.Template
	subjects  map[core.MailKind]*template.Template
}

// subjects of each kind; {{.}} fields are those of view.
var subjectTexts = map[core.MailKind]string{
	core.MailInvitePortal:    "{{.Org}} invited you to {{.Portal}}",
	core.MailInviteJoin:      "{{.Org}} invited you to join as {{.Role}}",
	core.MailAccessLink:      "Your link to {{.Portal}}",
	core.MailNewLink:         "Your new link to {{.Portal}}",
	core.MailAccessRequest:   "{{.Email}} asked for access to {{.Portal}}",
	core.MailPasswordReset:   "Restore your password",
	core.MailPasswordChanged: "Your password was changed",
}

// NewComposer parses the sender ("latchkey <no-reply@example.com>") and the templates.
func NewComposer(from, publicURL string) (*Composer, error) {
	a, err := mail.ParseAddress(from)
	if err != nil || strings.ContainsAny(from, "\r\n") {
		return nil, fmt.Errorf("mail-from %q is not an email address", from)
	}
	at := strings.LastIndexByte(a.Address, '@')
	c := &Composer{from: *a, publicURL: strings.TrimRight(publicURL, "/"), domain: a.Address[at+1:], subjects: map[core.MailKind]*template.Template{}}
	if c.text, err = template.ParseFS(templateFS, "templates/*.txt"); err != nil {
		return nil, err
	}
	funcs := htmltemplate.FuncMap{"button": func(url, label string) any { return struct{ URL, Label string }{url, label} }}
	if c.html, err = htmltemplate.New("mail").Funcs(funcs).ParseFS(templateFS, "templates/*.html"); err != nil {
		return nil, err
	}
	for kind, s := range subjectTexts {
		t, err := template.New(string(kind)).Parse(s)
		if err != nil {
			return nil, err
		}
		c.subjects[kind] = t
		if c.text.Lookup(string(kind)) == nil || c.html.Lookup(string(kind)) == nil {
			return nil, fmt.Errorf("no template for %s mail", kind)
		}
	}
	return c, nil
}

// view is what the templates see.
type view struct {
	Kind       core.MailKind
	Name       string // the recipient's name, or ""
	Email      string // who asked (access requests)
	Org        string
	Portal     string
	Slug       string
	By         string
	Role       string
	URL        string // the link the mail is about
	PublicURL  string
	PortalURL  string
	RestoreURL string
	When       string // a time the mail mentions
	Expires    string
	Addr       string
	RequestID  string
	SSHLogin   string
}

func humanTime(rfc3339 string) string {
	t, err := time.Parse(time.RFC3339, rfc3339)
	if err != nil {
		return ""
	}
	return t.UTC().Format("Monday 2 January 2006, 15:04 UTC")
}

// Compose renders an outbox row. token is its opened secret ("" when it has none).
func (c *Composer) Compose(m core.Message, token string) (Envelope, error) {
	d := m.Data
	v := view{Kind: m.Kind, Name: clean(m.ToName), Email: clean(d["email"]), Org: clean(d["org"]), Portal: clean(d["portal"]),
		Slug: clean(d["slug"]), By: clean(d["by"]), Role: clean(d["role"]), PublicURL: c.publicURL,
		RestoreURL: c.publicURL + "/restore", Addr: clean(d["addr"]), RequestID: clean(d["request_id"]), SSHLogin: c.SSHLogin}
	if v.Slug != "" {
		v.PortalURL = c.publicURL + "/p/" + v.Slug
	}
	if m.LinkPath != "" {
		if token == "" {
			return Envelope{}, fmt.Errorf("message %d: its link's secret is missing", m.ID)
		}
		v.URL = c.publicURL + m.LinkPath + token
	}
	v.Expires, v.When = humanTime(d["expires"]), humanTime(d["at"])
	subj, ok := c.subjects[m.Kind]
	if !ok {
		return Envelope{}, fmt.Errorf("message %d: unknown kind %q", m.ID, m.Kind)
	}
	var subject, text, body, html bytes.Buffer
	if err := subj.Execute(&subject, v); err != nil {
		return Envelope{}, err
	}
	if err := c.text.ExecuteTemplate(&text, string(m.Kind), v); err != nil {
		return Envelope{}, err
	}
	if err := c.html.ExecuteTemplate(&body, string(m.Kind), v); err != nil {
		return Envelope{}, err
	}
	page := struct {
		Title string
		V     view
		Body  htmltemplate.HTML // rendered (and escaped) by the kind's template above
	}{clean(subject.String()), v, htmltemplate.HTML(body.String())}
	if err := c.html.ExecuteTemplate(&html, "layout", page); err != nil {
		return Envelope{}, err
	}
	env := Envelope{From: c.from.Address, To: []string{m.To}, Subject: clean(subject.String()),
		MessageID: fmt.Sprintf("%d.%s@%s", m.ID, strconv.FormatInt(m.CreatedAt.UnixNano(), 36), c.domain)}
	var err error
	env.Data, err = c.build(m, env, text.Bytes(), html.Bytes())
	return env, err
}

// build writes the RFC 5322 message: headers, then multipart/alternative
// with a quoted-printable text and HTML part. Everything is derived from the
// row, so rendering a row twice gives the same bytes.
func (c *Composer) build(m core.Message, env Envelope, text, html []byte) ([]byte, error) {
	var b bytes.Buffer
	sum := sha256.Sum256([]byte(env.MessageID))
	boundary := "latchkey-" + hex.EncodeToString(sum[:12])
	header := func(name, value string) { fmt.Fprintf(&b, "%s: %s\r\n", name, value) }
	header("From", FormatAddress(c.from.Name, c.from.Address))
	header("To", FormatAddress(m.ToName, m.To))
	header("Subject", EncodeHeader(env.Subject))
	header("Date", m.CreatedAt.UTC().Format(time.RFC1123Z))
	header("Message-ID", "<"+env.MessageID+">")
	header("MIME-Version", "1.0")
	header("Auto-Submitted", "auto-generated")
	header("Content-Type", `multipart/alternative; boundary="`+boundary+`"`)
	b.WriteString("\r\n")
	mw := multipart.NewWriter(&b)
	if err := mw.SetBoundary(boundary); err != nil {
		return nil, err
	}
	for _, part := range []struct {
		ctype string
		body  []byte
	}{{"text/plain; charset=utf-8", text}, {"text/html; charset=utf-8", html}} {
		h := textproto.MIMEHeader{}
		h.Set("Content-Type", part.ctype)
		h.Set("Content-Transfer-Encoding", "quoted-printable")
		w, err := mw.CreatePart(h)
		if err != nil {
			return nil, err
		}
		qp := quotedprintable.NewWriter(w)
		if _, err := qp.Write(crlf(part.body)); err != nil {
			return nil, err
		}
		if err := qp.Close(); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func crlf(b []byte) []byte {
	return bytes.ReplaceAll(bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n")), []byte("\n"), []byte("\r\n"))
}

// clean makes a value safe for one line: control characters (CR, LF, NUL,
// tabs) become spaces and runs of space collapse.
func clean(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
	return strings.Join(strings.Fields(s), " ")
}

// EncodeHeader encodes a header value: cleaned to one line, RFC 2047
// encoded-words when it is not plain ASCII, and folded between words so
// that no line grows long. CR and LF appear only as folding ("\r\n ").
func EncodeHeader(s string) string {
	s = clean(s)
	enc := mime.QEncoding.Encode("utf-8", s)
	return fold(enc)
}

// fold joins space-separated words into lines of at most 76 characters.
func fold(s string) string {
	words := strings.Split(s, " ")
	var b strings.Builder
	line := 0
	for i, w := range words {
		if i > 0 {
			if line+1+len(w) > 76 {
				b.WriteString("\r\n ")
				line = 1
			} else {
				b.WriteByte(' ')
				line++
			}
		}
		b.WriteString(w)
		line += len(w)
	}
	return b.String()
}

// FormatAddress formats "Name <address>": an ASCII name as a quoted
// string, any other as RFC 2047 base64 encoded-words (which carry no
// character a parser could misread). The address comes from core
// (normalized, no CR or LF); it is cleaned anyway.
func FormatAddress(name, address string) string {
	name, address = clean(name), clean(address)
	if name == "" {
		return "<" + address + ">"
	}
	ascii := true
	for i := 0; i < len(name); i++ {
		ascii = ascii && name[i] >= 0x20 && name[i] < 0x7f
	}
	if ascii {
		name = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(name) + `"`
	} else {
		name = mime.BEncoding.Encode("utf-8", name)
	}
	return fold(name + " <" + address + ">")
}
