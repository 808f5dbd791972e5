package core_test

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"strings"
	"testing"

	"latchkey/core"
)

// pngOf draws a w×h picture: a dark bar on a transparent field.
func pngOf(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := h / 4; y < 3*h/4; y++ {
		for x := 0; x < w; x++ {
			img.SetNRGBA(x, y, color.NRGBA{0x0b, 0x6e, 0x4f, 0xff})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// bombPNG is a valid 1×1 PNG whose header claims w×h pixels: a few hundred
// bytes that would take w×h×4 bytes of memory to decode.
func bombPNG(t testing.TB, w, h uint32) []byte {
	t.Helper()
	b := pngOf(t, 1, 1)
	ihdr := b[8+8 : 8+8+13] // after the signature, the chunk's length and type
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	crc := crc32.ChecksumIEEE(b[8+4 : 8+8+13])
	binary.BigEndian.PutUint32(b[8+8+13:], crc)
	return b
}

// noisePNG is a real image of about n bytes: noise does not compress.
func noisePNG(t testing.TB, n int) []byte {
	t.Helper()
	side := 1
	for side*side*4 < n {
		side++
	}
	img := image.NewNRGBA(image.Rect(0, 0, side, side))
	r := rand.New(rand.NewPCG(1, 2))
	for i := range img.Pix {
		img.Pix[i] = byte(r.Uint32())
	}
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}

// tinyWebP is a 1×1 lossless WebP (Go's libraries decode WebP but cannot write it).
var tinyWebP, _ = base64.StdEncoding.DecodeString("UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==")

const svgLogo = `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="100" height="40"><script>alert(document.cookie)</script><rect width="100" height="40"/></svg>`

func TestChangeOrgBrand(t *testing.T) {
	e := newEnv(t)
	w := e.world("Acme Agency")
	logo := pngOf(t, 1200, 300)
	accent, reply, sender := "#0B6E4F", "Hello@Acme-Agency.test", "Acme's client team"
	o := must(e.Svc.ChangeOrg(e.Ctx, w.ownerA, w.org.ID, core.OrgChange{Logo: logo, Accent: &accent, ReplyTo: &reply, SenderName: &sender}))
	if !core.IsLogoHash(o.Logo) || o.Accent != "#0b6e4f" || o.ReplyTo != "hello@acme-agency.test" || o.Sender() != sender {
		t.Fatalf("brand not set: %+v", o)
	}
	shown := must(e.Svc.LogoImage(e.Ctx, o.Logo, false))
	cfg, err := png.DecodeConfig(bytes.NewReader(shown))
	if err != nil || cfg.Width != 640 || cfg.Height != 160 {
		t.Fatalf("shown logo: %v %dx%d, want 640x160 (1200x300 fitted)", err, cfg.Width, cfg.Height)
	}
	icon := must(e.Svc.LogoImage(e.Ctx, o.Logo, true))
	if cfg, err := png.DecodeConfig(bytes.NewReader(icon)); err != nil || cfg.Width != 64 || cfg.Height != 64 {
		t.Fatalf("icon: %v %dx%d, want 64x64", err, cfg.Width, cfg.Height)
	}
	ev := e.Events()[0]
	if ev.Action != "org.changed" || !strings.Contains(ev.Detail, "logo added") || !strings.Contains(ev.Detail, "accent none → #0b6e4f") ||
		!strings.Contains(ev.Detail, "reply-to none → hello@acme-agency.test") || !strings.Contains(ev.Detail, "sender name") {
		t.Fatalf("audit: %+v", ev)
	}

	// The brand goes with every email of the organization, as it was when queued.
	must(e.Svc.Invite(e.Ctx, w.ownerA, core.InviteInput{OrgID: w.org.ID, Email: "client@example.test", Role: core.RoleClient, PortalID: w.closed.ID}))
	m := e.LastMail("client@example.test", core.MailInvitePortal)
	if m.Data[core.MailDataSender] != sender || m.Data[core.MailDataReplyTo] != "hello@acme-agency.test" ||
		m.Data[core.MailDataAccent] != "#0b6e4f" || m.Data[core.MailDataLogo] != o.Logo {
		t.Fatalf("mail data: %v", m.Data)
	}

	// Clearing: back to latchkey's colour, no reply address, the name as sender.
	none := ""
	o = must(e.Svc.ChangeOrg(e.Ctx, w.ownerA, w.org.ID, core.OrgChange{RemoveLogo: true, Accent: &none, ReplyTo: &none, SenderName: &none}))
	if o.Logo != "" || o.Accent != "" || o.ReplyTo != "" || o.Sender() != "Acme Agency" {
		t.Fatalf("brand not cleared: %+v", o)
	}
	// A change that changes nothing stores and audits nothing.
	before, n := e.Dump(), len(e.Events())
	must(e.Svc.ChangeOrg(e.Ctx, w.ownerA, w.org.ID, core.OrgChange{Accent: &none}))
	if e.Dump() != before || len(e.Events()) != n {
		t.Fatal("an empty change wrote something")
	}
	// The instance admin may; a JPEG and a WebP are logos too.
	var jb bytes.Buffer
	jpeg.Encode(&jb, image.NewGray(image.Rect(0, 0, 40, 40)), nil)
	for _, img := range [][]byte{jb.Bytes(), tinyWebP} {
		if o := must(e.Svc.ChangeOrg(e.Ctx, e.Admin, w.org.ID, core.OrgChange{Logo: img})); o.Logo == "" {
			t.Fatal("no logo")
		}
	}
	name := "  Acme   Agency Ltd "
	if o := must(e.Svc.ChangeOrg(e.Ctx, w.ownerA, w.org.ID, core.OrgChange{Name: &name})); o.Name != "Acme Agency Ltd" {
		t.Fatalf("name %q", o.Name)
	}
}

func TestChangeOrgOwnerOnly(t *testing.T) {
	e := newEnv(t)
	w := e.world("Acme Agency")
	other := e.world("Other Studio")
	accent := "#0b6e4f"
	before := e.Dump()
	for _, c := range []struct {
		name string
		a    core.Actor
		want error
	}{
		{"manager", w.managerA, core.ErrForbidden},
		{"member", core.UserActor(w.member, "test"), core.ErrNotFound},
		{"another organization's owner", other.ownerA, core.ErrNotFound},
		{"nobody", core.Actor{Source: "test"}, core.ErrNotFound},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := e.Svc.ChangeOrg(e.Ctx, c.a, w.org.ID, core.OrgChange{Accent: &accent, Logo: pngOf(t, 10, 10)})
			if !errors.Is(err, c.want) {
				t.Fatalf("err %v, want %v", err, c.want)
			}
		})
	}
	if e.Dump() != before {
		t.Fatal("a refused change stored something")
	}
}

func TestChangeOrgRefusesBadInput(t *testing.T) {
	e := newEnv(t)
	w := e.world("Acme Agency")
	str := func(s string) *string { return &s }
	for _, c := range []struct {
		name  string
		ch    core.OrgChange
		field string
		says  []string
	}{
		{"not an image", core.OrgChange{Logo: []byte("hello, I am a text file\n")}, "logo", []string{"not a PNG, JPEG or WebP image"}},
		{"empty file", core.OrgChange{Logo: []byte{}}, "logo", []string{"is empty"}},
		{"SVG", core.OrgChange{Logo: []byte(svgLogo)}, "logo", []string{"SVG", "scripts", "PNG"}},
		{"SVG without XML declaration", core.OrgChange{Logo: []byte("\n  <svg xmlns='http://www.w3.org/2000/svg'/>")}, "logo", []string{"SVG"}},
		{"5 MB image", core.OrgChange{Logo: noisePNG(t, 5<<20)}, "logo", []string{"MB", "at most 512 KB"}},
		{"decompression bomb", core.OrgChange{Logo: bombPNG(t, 20000, 20000)}, "logo", []string{"20000×20000 pixels", "at most 4096"}},
		{"too many pixels", core.OrgChange{Logo: bombPNG(t, 4096, 4096)}, "logo", []string{"megapixels"}},
		{"cut short", core.OrgChange{Logo: pngOf(t, 300, 100)[:60]}, "logo", []string{"PNG", "damaged or cut short"}},
		{"colour without #", core.OrgChange{Accent: str("0b6e4f")}, "accent", []string{"not a colour like #0b6e4f"}},
		{"colour name", core.OrgChange{Accent: str("green")}, "accent", []string{"not a colour"}},
		{"short colour", core.OrgChange{Accent: str("#0b6")}, "accent", []string{"not a colour"}},
		{"not hex", core.OrgChange{Accent: str("#0g6e4f")}, "accent", []string{"not a colour"}},
		{"low contrast", core.OrgChange{Accent: str("#ffcc00")}, "accent",
			[]string{"#ffcc00 on white text has a contrast of 1.5:1; buttons need at least 4.5:1 — pick a darker colour"}},
		{"just below 4.5", core.OrgChange{Accent: str("#7a7a7a")}, "accent", []string{"4.2:1"}},
		{"reply-to", core.OrgChange{ReplyTo: str("not an address")}, "reply_to", nil},
		{"sender name like an address", core.OrgChange{SenderName: str("support@bank.test")}, "sender_name", []string{"@"}},
		{"sender name on two lines", core.OrgChange{SenderName: str("Acme\r\nBcc: x@y.test")}, "sender_name", nil},
		{"empty name", core.OrgChange{Name: str("  ")}, "name", []string{"must not be empty"}},
		{"a good colour with a bad logo", core.OrgChange{Accent: str("#0b6e4f"), Logo: []byte(svgLogo)}, "logo", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := e.Dump()
			_, err := e.Svc.ChangeOrg(e.Ctx, w.ownerA, w.org.ID, c.ch)
			var ve *core.ValidationError
			if !errors.As(err, &ve) || ve.Field != c.field {
				t.Fatalf("err %v, want a ValidationError of %s", err, c.field)
			}
			for _, s := range c.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("%q does not say %q", err, s)
				}
			}
			if e.Dump() != before {
				t.Fatal("a refused change stored something")
			}
		})
	}
	if _, err := e.Svc.LogoImage(e.Ctx, strings.Repeat("ab", 32), false); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("unknown logo: %v", err)
	}
}

func TestAccentContrast(t *testing.T) {
	for _, c := range []struct {
		rgb  string
		want float64
	}{{"#ffffff", 1}, {"#000000", 21}, {"#0b6e4f", 6.3}, {"#1f4fd1", 6.78}, {"#767676", 4.54}} {
		if got := core.ContrastWithWhite(c.rgb); got < c.want-0.05 || got > c.want+0.05 {
			t.Errorf("%s: %.2f, want %.2f", c.rgb, got, c.want)
		}
	}
	if _, err := core.ParseAccent("#767676"); err != nil { // the lightest grey that passes
		t.Fatal(err)
	}
}
