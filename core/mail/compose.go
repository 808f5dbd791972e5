package mail

import (
	"bytes"
	"context"
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
	"unicode/utf8"

	"latchkey/core"
	"latchkey/core/i18n"
)

//go:embed templates
var templateFS embed.FS

// Envelope is a rendered message ready for SMTP.
type Envelope struct {
	From      string   // envelope sender (bare address)
	To        []string // envelope recipients, their domains in ASCII (punycode)
	MessageID string   // without angle brackets
	Subject   string
	Data      []byte // the whole RFC 5322 message, CRLF line ends
	// NeedsUTF8: a recipient's part before @ is not ASCII, which only a
	// server offering SMTPUTF8 (RFC 6531) delivers.
	NeedsUTF8 bool
}

// Composer renders outbox rows.
type Composer struct {
	// SSHLogin is the command that opens the SSH console ("ssh -p 2222
	// portal.example.com"), which an access request's email gives its owner
	// to grant it from a terminal; empty when SSH is off. Set it before use.
	SSHLogin string
	// Logos gives the logos that an organization's emails embed (see
	// brand.go); nil: emails carry no logo. A worker sets its service here.
	Logos LogoSource

	from      mail.Address
	publicURL string
	domain    string
	text      *template.Template
	html      *paintedSets // the HTML templates, by accent colour
	i18n      *i18n.Bundle
	// whole renders every message whole, never from precompiled parts
	// (the tests that compare the two).
	whole bool
	logos logoCache // logos by content hash, decoded once
	marks bodyMarks // the stand-ins of cut bodies
	cut   bodyCache // bodies cut at their stand-ins
}

// mailKinds are the kinds of email core queues; each has a template.
var mailKinds = []core.MailKind{core.MailInvitePortal, core.MailInviteJoin, core.MailAccessLink, core.MailNewLink, core.MailAccessRequest,
	core.MailPasswordReset, core.MailPasswordChanged, core.MailAccessDigest, core.MailPortalUpdate, core.MailMyLinks,
	core.MailAccessGranted, core.MailGuestsEnding, core.MailWebhookDisabled}

// NewComposer parses the sender ("latchkey <no-reply@example.com>") and the templates.
func NewComposer(from, publicURL string) (*Composer, error) {
	a, err := mail.ParseAddress(from)
	if err != nil || strings.ContainsAny(from, "\r\n") {
		return nil, fmt.Errorf("mail-from %q is not an email address", from)
	}
	at := strings.LastIndexByte(a.Address, '@')
	c := &Composer{from: *a, publicURL: strings.TrimRight(publicURL, "/"), domain: a.Address[at+1:], marks: newBodyMarks()}
	if c.i18n, err = i18n.New(); err != nil {
		return nil, err
	}
	if c.text, err = template.ParseFS(templateFS, "templates/*.txt"); err != nil {
		return nil, err
	}
	src, err := templateFS.ReadFile("templates/html.html")
	if err != nil {
		return nil, err
	}
	if c.html, err = newPaintedSets(string(src)); err != nil {
		return nil, err
	}
	html, _ := c.html.of(defaultAccent)
	for _, kind := range mailKinds {
		if c.text.Lookup(string(kind)) == nil || html.html.Lookup(string(kind)) == nil {
			return nil, fmt.Errorf("no template for %s mail", kind)
		}
	}
	return c, nil
}

// view is what the templates see.
type view struct {
	Code       string // an access link's code, for the browser that asked
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
	ReplyTo    string // the organization's reply address: replies are read
	// Access requests: the requester's address in ASCII when it is not
	// plain ASCII, and the known address it reads as.
	ASCII     string
	LooksLike string
	// Summaries of requests: how many, and the first addresses.
	Count  int
	Emails []Address
	More   int    // requests beyond those listed
	Since  string // the last notice before the summary
	Links  []PortalLink
	Rule   string        // a request granted by rule: the rule ("acme.com=client")
	Guests []GuestEnding // guests whose access ends soon
	// Portal updates: who wrote it, and what (paragraphs of plain text).
	Author string
	Body   []string
	// A stopped webhook: its address, id and why.
	Hook, HookID, Reason string

	Lang     string // the language it is written in ("de")
	RoleName string // Role in that language
	// The console commands an owner may type (access requests).
	GrantCommand, ListCommand string

	tr i18n.Lang
}

// T is a message of the catalog as plain text.
func (v view) T(key string, args ...any) string { return v.tr.T(key, args...) }

// P is a message of the catalog as a paragraph of the text part: plain,
// wrapped to lines of at most 72 characters.
func (v view) P(key string, args ...any) string { return wrap(v.tr.T(key, args...), 72) }

// H is a message of the catalog for the HTML part.
func (v view) H(key string, args ...any) htmltemplate.HTML { return v.tr.HTML(key, args...) }

// Label is a label of the text part's facts, padded so that the values
// after it line up: "Who:     ".
func (v view) Label(key string) string {
	l := v.tr.T("mail.label", v.tr.T(key))
	return l + strings.Repeat(" ", max(9-utf8.RuneCountInString(l), 1))
}

// button is what the HTML part's button shows.
type button struct {
	URL         string
	Label, Copy htmltemplate.HTML
}

// Button is a button to url labelled with the catalog's key.
func (v view) Button(url, key string) button {
	return button{URL: url, Label: v.tr.HTML(key), Copy: v.tr.HTML("mail.copy_address")}
}

// Address is an address as an owner should read it: with its ASCII form
// beside it when it is not plain ASCII.
type Address struct {
	Email string
	ASCII string
}

// GuestEnding is one guest of a reminder: their address, and when their
// access ends (in the email's language).
type GuestEnding struct {
	Email, Ends string
}

// PortalLink is one portal of a "send me my links" email.
type PortalLink struct {
	Portal, Org, URL string
}

func humanTime(tr i18n.Lang, rfc3339 string) string {
	t, err := time.Parse(time.RFC3339, rfc3339)
	if err != nil {
		return ""
	}
	return tr.DateTime(t)
}

// subject is the message's subject line, in its language.
func subject(v view) string {
	switch v.Kind {
	case core.MailInvitePortal:
		return v.T("mail.subject.invite_portal", v.Org, v.Portal)
	case core.MailInviteJoin:
		return v.T("mail.subject.invite_join", v.Org, v.RoleName)
	case core.MailAccessLink, core.MailNewLink:
		return v.T("mail.subject."+string(v.Kind), v.Portal)
	case core.MailAccessRequest:
		return v.T("mail.subject.access_request", v.Email, v.Portal)
	case core.MailAccessDigest:
		return v.T("mail.subject.access_digest", v.Count, v.Portal)
	case core.MailAccessGranted:
		return v.T("mail.subject.access_granted", v.Email, v.Portal)
	case core.MailGuestsEnding:
		return v.T("mail.subject.guests_ending", v.Count, v.Org)
	case core.MailWebhookDisabled:
		return v.T("mail.subject.webhook_disabled", v.Org)
	case core.MailPortalUpdate:
		return v.T("mail.subject.portal_update", v.Portal, v.Author)
	case core.MailMyLinks:
		if len(v.Links) == 1 {
			return v.T("mail.subject.my_links_one", v.Links[0].Portal)
		}
		return v.T("mail.subject.my_links", len(v.Links))
	}
	return v.T("mail.subject." + string(v.Kind))
}

// Compose renders an outbox row. token is its opened secret ("" when it has none).
func (c *Composer) Compose(m core.Message, token string) (Envelope, error) {
	return c.ComposeContext(context.Background(), m, token)
}

// ComposeContext is Compose, with the context of the logo's lookup.
func (c *Composer) ComposeContext(ctx context.Context, m core.Message, token string) (Envelope, error) {
	d := m.Data
	tr := c.i18n.Lang(m.Lang)
	v := view{tr: tr, Lang: tr.Code(), Kind: m.Kind, Name: clean(m.ToName), Email: clean(d["email"]), Org: clean(d["org"]), Portal: clean(d["portal"]),
		Slug: clean(d["slug"]), By: clean(d["by"]), Role: clean(d["role"]), PublicURL: c.publicURL,
		RestoreURL: c.publicURL + "/restore", Addr: clean(d["addr"]), RequestID: clean(d["request_id"]), SSHLogin: c.SSHLogin,
		ReplyTo: clean(d[core.MailDataReplyTo])}
	if v.Slug != "" {
		v.PortalURL = c.publicURL + "/p/" + v.Slug
	}
	if m.LinkPath != "" {
		if token == "" {
			return Envelope{}, fmt.Errorf("message %d: its link's secret is missing", m.ID)
		}
		v.URL = c.publicURL + m.LinkPath + token
	}
	v.Expires, v.When, v.Since = humanTime(tr, d["expires"]), humanTime(tr, d["at"]), humanTime(tr, d["since"])
	if v.Role != "" {
		v.RoleName = v.Role
		if key := "role." + v.Role; tr.Has(key) {
			v.RoleName = tr.T(key)
		}
	}
	if v.SSHLogin != "" {
		v.GrantCommand, v.ListCommand = v.SSHLogin+" requests grant "+v.RequestID, v.SSHLogin+" requests"
	}
	v.ASCII, v.LooksLike = clean(d["ascii"]), clean(d["looks_like"])
	v.Code = clean(d[mailCodeKey])
	if m.Kind == core.MailAccessDigest {
		v.Count, _ = strconv.Atoi(d["count"])
		for _, e := range strings.Split(d["emails"], "\n") {
			if e = clean(e); e != "" {
				a := Address{Email: e}
				if !core.IsASCII(e) {
					a.ASCII = core.AddressASCII(e)
				}
				v.Emails = append(v.Emails, a)
			}
		}
		v.More = max(v.Count-len(v.Emails), 0)
	}
	v.Rule = clean(d["rule"])
	if m.Kind == core.MailGuestsEnding {
		v.Count, _ = strconv.Atoi(d["count"])
		emails, ends := strings.Split(d["emails"], "\n"), strings.Split(d["ends"], "\n")
		for i, e := range emails {
			if e = clean(e); e != "" && i < len(ends) {
				v.Guests = append(v.Guests, GuestEnding{Email: e, Ends: humanTime(tr, ends[i])})
			}
		}
	}
	if m.Kind == core.MailWebhookDisabled {
		// The address without its scheme: a mail client makes no link of it
		// (the owner has no reason to open it, and it may carry a secret).
		hook := clean(d["url"])
		hook = strings.TrimPrefix(strings.TrimPrefix(hook, "https://"), "http://")
		v.Hook, v.HookID, v.Reason = hook, clean(d["webhook_id"]), tr.T("mail.webhook.failing", clean(d["last"]))
	}
	if m.Kind == core.MailPortalUpdate {
		v.Author = clean(d["author"])
		for _, para := range strings.Split(strings.ReplaceAll(d["body"], "\r\n", "\n"), "\n\n") {
			if para = strings.TrimSpace(para); para != "" {
				v.Body = append(v.Body, para)
			}
		}
	}
	if m.Kind == core.MailMyLinks {
		tokens := strings.Fields(token)
		n, _ := strconv.Atoi(d["links"])
		if n != len(tokens) || n == 0 {
			return Envelope{}, fmt.Errorf("message %d: %d links but %d secrets", m.ID, n, len(tokens))
		}
		for i := range n {
			k := strconv.Itoa(i)
			v.Links = append(v.Links, PortalLink{Portal: clean(d["portal_"+k]), Org: clean(d["org_"+k]), URL: c.publicURL + m.LinkPath + tokens[i]})
		}
		v.URL = ""
	}
	if c.text.Lookup(string(m.Kind)) == nil {
		return Envelope{}, fmt.Errorf("message %d: unknown kind %q", m.ID, m.Kind)
	}
	subject := clean(subject(v))
	b := c.brandOf(ctx, m)
	set, err := c.html.of(b.Accent)
	if err != nil {
		return Envelope{}, err
	}
	text, body, err := c.bodies(set, b.Accent, v, token)
	if err != nil {
		return Envelope{}, err
	}
	htmlOut, err := c.page(set, tr, v, b, subject, body)
	if err != nil {
		return Envelope{}, err
	}
	to := core.AddressASCII(m.To)
	at := strings.LastIndexByte(to, '@')
	env := Envelope{From: c.from.Address, To: []string{to}, Subject: subject, NeedsUTF8: !core.IsASCII(to[:max(at, 0)]),
		MessageID: fmt.Sprintf("%d.%s@%s", m.ID, strconv.FormatInt(m.CreatedAt.UnixNano(), 36), c.domain)}
	env.Data, err = c.build(m, env, b, text, htmlOut)
	return env, err
}

// page is the whole HTML part: the layout around the body, from the
// layout's parts when it has them.
func (c *Composer) page(set *paintedSet, tr i18n.Lang, v view, b mailBrand, subject string, body []byte) ([]byte, error) {
	if !c.whole {
		key := layoutKey{lang: v.Lang, org: v.Org, logo: b.LogoSrc, width: b.Width, height: b.Height, replyTo: b.ReplyTo != ""}
		parts, ok, err := set.layout(key, tr, b)
		if err != nil {
			return nil, err
		}
		if ok {
			out := make([]byte, 0, len(parts.head)+len(subject)+len(parts.middle)+len(body)+len(parts.tail)+16)
			out = append(out, parts.head...)
			out = append(out, textEscaper.Replace(subject)...)
			out = append(out, parts.middle...)
			out = append(out, body...)
			return append(out, parts.tail...), nil
		}
	}
	var html bytes.Buffer
	page := layoutPage{Title: subject, V: v, Body: htmltemplate.HTML(body), Brand: b}
	if err := set.html.ExecuteTemplate(&html, "layout", page); err != nil {
		return nil, err
	}
	return html.Bytes(), nil
}

// build writes the RFC 5322 message: headers, then multipart/alternative
// with a quoted-printable text and HTML part. Everything is derived from the
// row, so rendering a row twice gives the same bytes.
func (c *Composer) build(m core.Message, env Envelope, brand mailBrand, text, html []byte) ([]byte, error) {
	var b bytes.Buffer
	sum := sha256.Sum256([]byte(env.MessageID))
	boundary := "latchkey-" + hex.EncodeToString(sum[:12])
	header := func(name, value string) { fmt.Fprintf(&b, "%s: %s\r\n", name, value) }
	from := c.from.Name
	if brand.Sender != "" {
		from = brand.Sender
	}
	header("From", FormatAddress(from, c.from.Address))
	if brand.ReplyTo != "" {
		header("Reply-To", FormatAddress("", brand.ReplyTo))
	}
	header("To", FormatAddress(m.ToName, env.To[0]))
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
	if err := writeText(mw, "text/plain; charset=utf-8", text); err != nil {
		return nil, err
	}
	if brand.Logo == nil {
		if err := writeText(mw, "text/html; charset=utf-8", html); err != nil {
			return nil, err
		}
	} else if err := writeRelated(mw, boundary, brand, html); err != nil {
		return nil, err
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// writeText writes a quoted-printable text part.
func writeText(mw *multipart.Writer, ctype string, body []byte) error {
	h := textproto.MIMEHeader{}
	h.Set("Content-Type", ctype)
	h.Set("Content-Transfer-Encoding", "quoted-printable")
	w, err := mw.CreatePart(h)
	if err != nil {
		return err
	}
	qp := quotedprintable.NewWriter(w)
	if _, err := qp.Write(crlf(body)); err != nil {
		return err
	}
	return qp.Close()
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

// quotedPair escapes a quoted display name's backslashes and quotes.
var quotedPair = strings.NewReplacer(`\`, `\\`, `"`, `\"`)

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
		name = `"` + quotedPair.Replace(name) + `"`
	} else {
		name = mime.BEncoding.Encode("utf-8", name)
	}
	return fold(name + " <" + address + ">")
}
