package mail

import (
	"bytes"
	"context"
	"encoding/base64"
	htmltemplate "html/template"
	"image"
	"image/png"
	"io"
	"mime/multipart"
	"net/textproto"
	"strings"
	"sync"

	"latchkey/core"
)

// An organization's email comes from its sender name (at the instance's
// --mail-from address), with Reply-To its reply address when it has one,
// and shows its logo and accent colour. The logo is a part of the message
// (multipart/related, referred to as cid:), never a remote address that
// would tell a sender who opened the mail and when. All of it was written
// into the outbox row when it was queued (core's brand.go).

// LogoSource gives the images of stored logos; *core.Service is one.
type LogoSource interface {
	LogoImage(ctx context.Context, hash string, icon bool) ([]byte, error)
}

// defaultAccent is the colour of buttons and links in html.html.
const defaultAccent = "#1f4fd1"

// Logo heights in the email's header, in CSS pixels, and widest width.
const (
	mailLogoHeight = 48
	mailLogoWidth  = 280
)

// mailBrand is what a message shows of its organization.
type mailBrand struct {
	Sender  string // the From name ("": the instance's)
	ReplyTo string
	Accent  string // #rrggbb ("": latchkey's)
	Logo    []byte // PNG, nil: none
	// logoLines is Logo in base64, in lines of 76 characters ending in
	// CRLF, as the message carries it (encoded once per logo).
	logoLines string
	// The logo in the HTML part: its cid: address, its alt text and size.
	LogoSrc       htmltemplate.URL
	LogoID        string // Content-ID, without angle brackets
	Width, Height int
}

// brandOf reads a message's brand from its row. A logo that cannot be
// had (removed from an old database, a storage error) leaves the
// message without one rather than holding it back.
func (c *Composer) brandOf(ctx context.Context, m core.Message) mailBrand {
	d := m.Data
	b := mailBrand{Sender: clean(d[core.MailDataSender]), ReplyTo: core.AddressASCII(clean(d[core.MailDataReplyTo]))}
	if a, err := core.ParseAccent(d[core.MailDataAccent]); err == nil {
		b.Accent = a
	}
	hash := d[core.MailDataLogo]
	if hash == "" || c.Logos == nil || !core.IsLogoHash(hash) {
		return b
	}
	img, lines, cfg, ok := c.logos.get(hash)
	if !ok {
		var err error
		if img, err = c.Logos.LogoImage(ctx, hash, false); err != nil {
			return b
		}
		if cfg, err = png.DecodeConfig(bytes.NewReader(img)); err != nil || cfg.Width <= 0 || cfg.Height <= 0 {
			return b
		}
		lines = base64Lines(img)
		c.logos.put(hash, cachedLogo{img, lines, cfg})
	}
	b.Height = min(mailLogoHeight, cfg.Height)
	b.Width = max(1, cfg.Width*b.Height/cfg.Height)
	if b.Width > mailLogoWidth {
		b.Width, b.Height = mailLogoWidth, max(1, cfg.Height*mailLogoWidth/cfg.Width)
	}
	b.Logo, b.logoLines = img, lines
	b.LogoID = "logo-" + hash[:16] + "@" + c.domain
	b.LogoSrc = htmltemplate.URL("cid:" + b.LogoID)
	return b
}

// logoCache keeps the logos emails embed, by their content's hash (so an
// entry never goes stale): every message of an organization would
// otherwise read its logo from the store and decode its header again.
type logoCache struct {
	mu      sync.Mutex
	entries map[string]cachedLogo
}

type cachedLogo struct {
	img   []byte
	lines string // base64, as the message carries it
	cfg   image.Config
}

// maxCachedLogos bounds the cache; past it, it starts again empty.
const maxCachedLogos = 64

func (l *logoCache) get(hash string) ([]byte, string, image.Config, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.entries[hash]
	return e.img, e.lines, e.cfg, ok
}

func (l *logoCache) put(hash string, e cachedLogo) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.entries == nil || len(l.entries) >= maxCachedLogos {
		l.entries = map[string]cachedLogo{}
	}
	l.entries[hash] = e
}

// base64Lines is img in base64, in lines of 76 characters (RFC 2045),
// each ending in CRLF.
func base64Lines(img []byte) string {
	enc := base64.StdEncoding.EncodeToString(img)
	var b strings.Builder
	b.Grow(len(enc) + len(enc)/76*2 + 2)
	for len(enc) > 76 {
		b.WriteString(enc[:76])
		b.WriteString("\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc)
	b.WriteString("\r\n")
	return b.String()
}

// writeRelated writes the HTML part with the logo it refers to, as
// multipart/related.
func writeRelated(mw *multipart.Writer, boundary string, b mailBrand, html []byte) error {
	inner := "related-" + strings.TrimPrefix(boundary, "latchkey-") // not one that begins with the outer boundary
	h := textproto.MIMEHeader{}
	h.Set("Content-Type", `multipart/related; boundary="`+inner+`"; type="text/html"`)
	w, err := mw.CreatePart(h)
	if err != nil {
		return err
	}
	rw := multipart.NewWriter(w)
	if err := rw.SetBoundary(inner); err != nil {
		return err
	}
	if err := writeText(rw, "text/html; charset=utf-8", html); err != nil {
		return err
	}
	ih := textproto.MIMEHeader{}
	ih.Set("Content-Type", "image/png")
	ih.Set("Content-Transfer-Encoding", "base64")
	ih.Set("Content-ID", "<"+b.LogoID+">")
	ih.Set("Content-Disposition", `inline; filename="logo.png"`)
	iw, err := rw.CreatePart(ih)
	if err != nil {
		return err
	}
	if _, err := io.WriteString(iw, b.logoLines); err != nil {
		return err
	}
	return rw.Close()
}
