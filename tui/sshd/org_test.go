package sshd_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"strings"
	"testing"

	gossh "golang.org/x/crypto/ssh"

	"latchkey/storage/storetest"
)

func pngImage(t testing.TB, w, h int, noise bool) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	r := rand.New(rand.NewPCG(3, 4))
	for i := range img.Pix {
		if noise {
			img.Pix[i] = byte(r.Uint32())
		}
	}
	img.SetNRGBA(0, 0, color.NRGBA{0x0b, 0x6e, 0x4f, 0xff})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// bomb is a tiny PNG whose header claims 20000×20000 pixels.
func bomb(t testing.TB) []byte {
	b := pngImage(t, 1, 1, false)
	binary.BigEndian.PutUint32(b[16:], 20000)
	binary.BigEndian.PutUint32(b[20:], 20000)
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	return b
}

func TestOrgShowAndSet(t *testing.T) {
	in := startInstance(t)
	olivia, line := newKey(t)
	storetest.Must(in.env.Svc.AddSSHKey(in.env.Ctx, in.env.Admin, "owner@northwind.test", line))

	r := in.run(olivia, "org show")
	if r.code != 0 || !strings.Contains(r.stdout, "name\tNorthwind Studio\n") || !strings.Contains(r.stdout, "accent\t#0b6e4f\n") ||
		!strings.Contains(r.stdout, "reply-to\thello@northwind.test\n") || !strings.Contains(r.stdout, "logo\thttp://127.0.0.1:8080/static/logo/") ||
		!strings.Contains(r.stdout, "sender name\tNorthwind Studio\n") {
		t.Fatalf("org show: %+v", r)
	}
	r = in.run(olivia, `org set --accent '#1F4FD1' --reply-to none --sender-name "Northwind client team"`)
	if r.code != 0 || !strings.Contains(r.stdout, "accent\t#1f4fd1\n") || !strings.Contains(r.stdout, "reply-to\t-\n") ||
		!strings.Contains(r.stdout, "sender name\tNorthwind client team\n") {
		t.Fatalf("org set: %+v", r)
	}
	logo := pngImage(t, 800, 200, false)
	r = in.runWith(olivia, "org set --logo - --json", string(logo))
	var rows []struct {
		Slug, Name, Logo, Icon, Accent string
		SenderName                     string `json:"sender_name"`
	}
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &rows) != nil || len(rows) != 1 || !strings.HasSuffix(rows[0].Icon, "-icon.png") {
		t.Fatalf("org set --logo: %+v", r)
	}
	hash := strings.TrimSuffix(rows[0].Logo[strings.LastIndexByte(rows[0].Logo, '/')+1:], ".png")
	if img := storetest.Must(in.env.Svc.LogoImage(in.env.Ctx, hash, false)); len(img) == 0 {
		t.Fatal("the logo is not stored")
	}
	if !in.env.HasEvent("org.changed", "Northwind Studio") {
		t.Fatal("not audited")
	}
	r = in.run(olivia, "org set --logo none --accent none")
	if r.code != 0 || !strings.Contains(r.stdout, "logo\t-\n") || !strings.Contains(r.stdout, "accent\t-\n") {
		t.Fatalf("org set none: %+v", r)
	}
	// An instance admin names the organization among several.
	r = in.run(in.admin, `org set --org northwind --name "Northwind Studio Ltd"`)
	if r.code != 0 || !strings.Contains(r.stdout, "name\tNorthwind Studio Ltd\n") {
		t.Fatalf("admin org set: %+v", r)
	}
}

func TestOrgSetRefusals(t *testing.T) {
	in := startInstance(t)
	olivia, line := newKey(t)
	storetest.Must(in.env.Svc.AddSSHKey(in.env.Ctx, in.env.Admin, "owner@northwind.test", line))
	svg := `<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`
	for _, c := range []struct {
		name  string
		key   string
		cmd   string
		stdin []byte
		code  int
		says  string
	}{
		{"not an image", "owner", "org set --logo -", []byte("just some text\n"), 1, "not a PNG, JPEG or WebP image"},
		{"SVG", "owner", "org set --logo -", []byte(svg), 1, "SVG image, which can carry scripts"},
		{"5 MB image", "owner", "org set --logo -", pngImage(t, 1150, 1150, true), 1, "a logo may be at most 512 KB"},
		{"decompression bomb", "owner", "org set --logo -", bomb(t), 1, "is 20000×20000 pixels"},
		{"malformed colour", "owner", "org set --accent green", nil, 2, "is not a colour"},
		{"unquoted #", "owner", "org set --accent", nil, 2, "--accent needs a value"},
		{"low contrast", "owner", "org set --accent '#ffcc00'", nil, 1, "#ffcc00 on white text has a contrast of 1.5:1; buttons need at least 4.5:1"},
		{"bad reply-to", "owner", "org set --reply-to nobody", nil, 1, "reply-to address:"},
		{"logo from a file name", "owner", "org set --logo logo.png", nil, 2, "--logo takes -"},
		{"nothing to set", "owner", "org set", nil, 2, "needs at least one of"},
		{"show with set's flags", "owner", "org show --accent '#0b6e4f'", nil, 2, "org show takes no --accent"},
		{"no verb", "owner", "org", nil, 2, "usage: org show"},
		{"unknown flag", "owner", "org set --colour red", nil, 2, "unknown flag --colour"},
		{"manager", "mia", "org set --accent '#0b6e4f'", nil, 1, "only the owner changes the organization's name and brand"},
		{"another organization's owner", "other", "org set --org northwind --accent '#0b6e4f'", nil, 1, `no organization "northwind"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			key := map[string]gossh.Signer{"owner": olivia, "mia": in.mia, "other": in.other}[c.key]
			before := in.env.Dump()
			r := in.runWith(key, c.cmd, string(c.stdin))
			if r.code != c.code || !strings.Contains(r.stderr, c.says) {
				t.Fatalf("%q: exit %d, stderr %q; want %d and %q", c.cmd, r.code, r.stderr, c.code, c.says)
			}
			if in.env.Dump() != before {
				t.Fatal("a refused command stored something")
			}
		})
	}
	// A manager sees the brand; the owner of another organization does not.
	if r := in.run(in.mia, "org show"); r.code != 0 || !strings.Contains(r.stdout, "Northwind Studio") {
		t.Fatalf("manager's org show: %+v", r)
	}
	if r := in.run(in.other, "org show --org northwind"); r.code != 1 {
		t.Fatalf("other org show: %+v", r)
	}
}
