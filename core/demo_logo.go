package core

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/png"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// The demo organization's brand: a wordmark drawn here (the repository
// ships no image files), its accent and the address replies go to.
const (
	demoAccent  = "#0b6e4f"
	demoReplyTo = "hello@northwind.test"
)

// demoLogoPNG draws Northwind Studio's wordmark: a green square with a
// white N (a compass needle's zig-zag) beside the name in dark letters.
func demoLogoPNG() []byte {
	const h = 120
	img := image.NewNRGBA(image.Rect(0, 0, 520, h))
	green := color.NRGBA{0x0b, 0x6e, 0x4f, 0xff}
	ink := color.NRGBA{0x1c, 0x24, 0x30, 0xff}
	draw.Draw(img, image.Rect(0, 0, h, h), image.NewUniform(green), image.Point{}, draw.Src)
	white := image.NewUniform(color.White)
	// The N: two uprights and the diagonal between them.
	draw.Draw(img, image.Rect(28, 24, 44, 96), white, image.Point{}, draw.Src)
	draw.Draw(img, image.Rect(76, 24, 92, 96), white, image.Point{}, draw.Src)
	for y := 24; y < 96; y++ {
		x := 28 + (y-24)*(92-28-16)/(96-24)
		draw.Draw(img, image.Rect(x, y, x+16, y+1), white, image.Point{}, draw.Src)
	}
	// The name in the 7×13 bitmap face, drawn small and scaled up 4×.
	small := image.NewNRGBA(image.Rect(0, 0, 96, 26))
	fd := font.Drawer{Dst: small, Src: image.NewUniform(ink), Face: basicfont.Face7x13}
	fd.Dot = fixed.P(1, 11)
	fd.DrawString("Northwind")
	fd.Dot = fixed.P(1, 24)
	fd.DrawString("studio")
	for y := range small.Bounds().Dy() {
		for x := range small.Bounds().Dx() {
			if c := small.NRGBAAt(x, y); c.A != 0 {
				draw.Draw(img, image.Rect(h+20+4*x, 8+4*y, h+24+4*x, 12+4*y), image.NewUniform(c), image.Point{}, draw.Src)
			}
		}
	}
	var b bytes.Buffer
	png.Encode(&b, img) // an in-memory image: encoding cannot fail
	return b.Bytes()
}

// brandDemo gives the demo organization its logo, accent and reply-to address.
func (d *demo) brandDemo(org *Org) error {
	logo, err := ProcessLogo(demoLogoPNG(), d.op.now)
	if err != nil {
		return err
	}
	if err := d.op.PutLogo(logo); err != nil {
		return err
	}
	org.Logo, org.Accent, org.ReplyTo = logo.Hash, demoAccent, demoReplyTo
	if err := d.op.PutOrg(org); err != nil {
		return err
	}
	return d.op.audit(d.a, org.ID, "org.changed", org.Name, "logo added; accent none → "+demoAccent+"; reply-to none → "+demoReplyTo)
}
