package mail_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"latchkey/core"
	lkmail "latchkey/core/mail"
)

// logoSource is a store of logos for the composer.
type logoSource map[string][]byte

func (l logoSource) LogoImage(_ context.Context, hash string, _ bool) ([]byte, error) {
	if b, ok := l[hash]; ok {
		return b, nil
	}
	return nil, core.ErrNotFound
}

// brandedSample is an invitation of a branded organization, as core
// queues it: its brand in the row's data, its logo in the store.
func brandedSample(t *testing.T) (core.Message, logoSource) {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, 200, 50))
	for y := 10; y < 40; y++ {
		for x := 10; x < 190; x++ {
			img.SetNRGBA(x, y, color.NRGBA{0x0b, 0x6e, 0x4f, 0xff})
		}
	}
	var b bytes.Buffer
	png.Encode(&b, img)
	logo, err := core.ProcessLogo(b.Bytes(), time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	m := sample(core.MailInvitePortal)
	m.Data[core.MailDataSender] = "Northwind Studio"
	m.Data[core.MailDataReplyTo] = "hello@northwind.test"
	m.Data[core.MailDataAccent] = "#0b6e4f"
	m.Data[core.MailDataLogo] = logo.Hash
	return m, logoSource{logo.Hash: logo.Image}
}

var (
	imgTag   = regexp.MustCompile(`<img [^>]*>`)
	srcAttr  = regexp.MustCompile(`\ssrc="([^"]*)"`)
	altAttr  = regexp.MustCompile(`\salt="([^"]+)"`)
	remoteRE = regexp.MustCompile(`(?i)(src|background)=["']?(https?:)?//`)
)

func TestBrandedMailMatchesGoldenFile(t *testing.T) {
	c, err := lkmail.NewComposer("latchkey <no-reply@portal.example.com>", publicURL)
	if err != nil {
		t.Fatal(err)
	}
	m, logos := brandedSample(t)
	c.Logos = logos
	env, err := c.Compose(m, fixedToken)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := c.Compose(m, fixedToken)
	if !bytes.Equal(env.Data, again.Data) {
		t.Fatal("rendering the same row twice differs")
	}
	golden := filepath.Join("testdata", "branded_invite_portal.eml")
	if *update {
		os.WriteFile(golden, env.Data, 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./core/mail -run Golden -update)", err)
	}
	if !bytes.Equal(env.Data, want) {
		t.Fatalf("differs from %s (run with -update after checking the change):\n%s", golden, env.Data)
	}

	msg, err := mail.ReadMessage(bytes.NewReader(env.Data))
	if err != nil {
		t.Fatal(err)
	}
	if from := msg.Header.Get("From"); from != `"Northwind Studio" <no-reply@portal.example.com>` {
		t.Errorf("From: %s", from)
	}
	if env.From != "no-reply@portal.example.com" {
		t.Errorf("envelope sender %s: the instance's address, always", env.From)
	}
	if rt := msg.Header.Get("Reply-To"); rt != "<hello@northwind.test>" {
		t.Errorf("Reply-To: %q", rt)
	}

	// multipart/alternative: the text, then multipart/related with the HTML and the logo it shows.
	_, params, _ := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	alt := multipart.NewReader(msg.Body, params["boundary"])
	textPart, err := alt.NextPart()
	if err != nil || !strings.HasPrefix(textPart.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("first part: %v %v", err, textPart.Header)
	}
	text, _ := io.ReadAll(textPart)
	rel, err := alt.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	mt, rparams, _ := mime.ParseMediaType(rel.Header.Get("Content-Type"))
	if mt != "multipart/related" {
		t.Fatalf("second part is %s, want multipart/related", mt)
	}
	rr := multipart.NewReader(rel, rparams["boundary"])
	htmlPart, err := rr.NextPart() // decodes quoted-printable
	if err != nil {
		t.Fatal(err)
	}
	html, _ := io.ReadAll(htmlPart)
	imgPart, err := rr.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	cid := strings.Trim(imgPart.Header.Get("Content-Id"), "<>")
	raw, _ := io.ReadAll(imgPart)
	data, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(string(raw), "\r\n", ""))
	if err != nil || imgPart.Header.Get("Content-Type") != "image/png" || !bytes.Equal(data, logos[m.Data[core.MailDataLogo]]) {
		t.Fatalf("logo part: %v %v", err, imgPart.Header)
	}

	// The checks the catcher's view could run: nothing loaded from
	// elsewhere, every image an inline part with alt text.
	if remoteRE.Match(html) || bytes.Contains(html, []byte("<link")) || bytes.Contains(html, []byte("<script")) {
		t.Error("the HTML part loads something from elsewhere")
	}
	imgs := imgTag.FindAll(html, -1)
	if len(imgs) != 1 {
		t.Fatalf("%d images, want the logo", len(imgs))
	}
	if src := srcAttr.FindSubmatch(imgs[0]); src == nil || string(src[1]) != "cid:"+cid {
		t.Errorf("logo %s does not refer to its part %s", imgs[0], cid)
	}
	if alt := altAttr.FindSubmatch(imgs[0]); alt == nil || string(alt[1]) != "Northwind Studio" {
		t.Errorf("logo without alt text: %s", imgs[0])
	}
	if !bytes.Contains(html, []byte("background:#0b6e4f;")) || bytes.Contains(html, []byte("#1f4fd1")) {
		t.Error("the button and links are not in the accent colour")
	}
	for _, part := range []string{string(html), string(text)} {
		if strings.Contains(part, "latchkey") || !strings.Contains(part, "Sent by Northwind Studio.") || strings.Contains(part, "replies are not read") {
			t.Errorf("the footer names latchkey or refuses replies:\n%s", part)
		}
	}

	// The catcher's view shows the logo from the message itself.
	p, err := lkmail.Parse(env.Data)
	if err != nil || len(p.Inline) != 1 || !strings.Contains(p.InlineHTML(), `src="data:image/png;base64,`) {
		t.Fatalf("parsed: %v, %d inline images", err, len(p.Inline))
	}
}

// A logo the store no longer has leaves the email without one, sent.
func TestBrandedMailWithoutItsLogo(t *testing.T) {
	c, _ := lkmail.NewComposer("latchkey <no-reply@portal.example.com>", publicURL)
	m, _ := brandedSample(t)
	c.Logos = logoSource{}
	env, err := c.Compose(m, fixedToken)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(env.Data, []byte("multipart/related")) || bytes.Contains(env.Data, []byte("<img")) {
		t.Fatal("a logo that is not there is referred to")
	}
	if !bytes.Contains(env.Data, []byte(`From: "Northwind Studio" <no-reply@portal.example.com>`)) {
		t.Fatal("the sender name is lost")
	}
}

// countingLogos counts the reads of the store's logos.
type countingLogos struct {
	logoSource
	reads *int
}

func (l countingLogos) LogoImage(ctx context.Context, hash string, thumb bool) ([]byte, error) {
	*l.reads++
	return l.logoSource.LogoImage(ctx, hash, thumb)
}

// A logo is read from the store once, then served from the composer's
// cache by its content hash: every message after the first embeds the
// same bytes without a read.
func TestLogosAreReadOnce(t *testing.T) {
	c, err := lkmail.NewComposer("latchkey <no-reply@portal.example.com>", publicURL)
	if err != nil {
		t.Fatal(err)
	}
	m, logos := brandedSample(t)
	reads := 0
	c.Logos = countingLogos{logos, &reads}
	first, err := c.Compose(m, fixedToken)
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		again, err := c.Compose(m, fixedToken)
		if err != nil || !bytes.Equal(again.Data, first.Data) {
			t.Fatalf("a message composed from the cache differs (%v)", err)
		}
	}
	if reads != 1 {
		t.Fatalf("the logo was read %d times for 6 messages, want 1", reads)
	}
	if !bytes.Contains(first.Data, []byte("Content-Type: image/png")) {
		t.Fatal("no logo embedded")
	}
}
