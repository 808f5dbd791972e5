package core

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"math"
	"strings"
	"time"

	xdraw "golang.org/x/image/draw"
	"golang.org/x/image/webp"
)

// An organization's logo, as people upload it and as latchkey serves it.
//
// An upload is a PNG, JPEG or WebP file (told apart by its first bytes,
// never by a name or a declared type) of at most MaxLogoBytes. SVG is
// refused: it is a document that can carry script, not a picture. The
// image's size is read from its header before anything is decoded, so that
// a small file that claims a huge picture (a decompression bomb) is
// refused without allocating it. The picture is then decoded and drawn
// afresh, which drops whatever else the file carried (metadata, trailing
// bytes): latchkey serves only PNGs it wrote itself.
const (
	MaxLogoBytes  = 512 << 10
	MaxLogoSide   = 4096    // pixels, either side
	MaxLogoPixels = 8 << 20 // width × height
	// The shown logo fits into LogoWidth × LogoHeight (never enlarged);
	// the icon (the favicon) is a LogoIconSize square.
	LogoWidth    = 640
	LogoHeight   = 160
	LogoIconSize = 64
)

// Logo is a processed logo, stored by the hash of its shown image.
type Logo struct {
	Hash      string    `json:"hash"` // hex SHA-256 of Image
	Image     []byte    `json:"image"`
	Icon      []byte    `json:"icon"`
	Width     int       `json:"width"` // of Image
	Height    int       `json:"height"`
	CreatedAt time.Time `json:"created_at"`
}

// IsLogoHash reports whether s has the form of a logo's hash (64 lower-case
// hex digits), so that an address that is not one is refused unread.
func IsLogoHash(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// logoFormat names what the first bytes of data say it is: "png", "jpeg",
// "webp", "svg", or "" for anything else.
func logoFormat(data []byte) string {
	switch {
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		return "png"
	case bytes.HasPrefix(data, []byte{0xff, 0xd8, 0xff}):
		return "jpeg"
	case len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WEBP":
		return "webp"
	}
	head := data[:min(len(data), 1024)]
	head = bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))
	lower := strings.ToLower(string(bytes.TrimSpace(head)))
	if strings.HasPrefix(lower, "<svg") || strings.HasPrefix(lower, "<?xml") && strings.Contains(lower, "<svg") ||
		strings.HasPrefix(lower, "<!doctype svg") || strings.HasPrefix(lower, "<!--") && strings.Contains(lower, "<svg") {
		return "svg"
	}
	// gzip-compressed SVG (.svgz) cannot be told from other gzip files
	// without inflating it; it is "not an image" like them.
	return ""
}

// humanBytes says a file size the way a person would: "812 bytes", "96 KB", "5.0 MB".
func humanBytes(n int) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d bytes", n)
	case n < 1<<20:
		return fmt.Sprintf("%d KB", (n+1<<10-1)>>10)
	default:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	}
}

// ProcessLogo checks an uploaded logo and makes the images latchkey
// serves: the logo fitted into LogoWidth × LogoHeight and a square icon,
// both PNG. Every refusal is a ValidationError of the field "logo" that
// says what to do.
func ProcessLogo(data []byte, now time.Time) (Logo, error) {
	if len(data) == 0 {
		return Logo{}, invalid("logo", "is empty; send a PNG, JPEG or WebP image")
	}
	if len(data) > MaxLogoBytes {
		return Logo{}, invalid("logo", "is %s; a logo may be at most %d KB: export it smaller", humanBytes(len(data)), MaxLogoBytes>>10)
	}
	format := logoFormat(data)
	var decodeConfig func([]byte) (image.Config, error)
	var decode func([]byte) (image.Image, error)
	switch format {
	case "svg":
		return Logo{}, invalid("logo", "is an SVG image, which can carry scripts, so latchkey takes only PNG, JPEG or WebP: export the logo as PNG")
	case "png":
		decodeConfig = func(b []byte) (image.Config, error) { return png.DecodeConfig(bytes.NewReader(b)) }
		decode = func(b []byte) (image.Image, error) { return png.Decode(bytes.NewReader(b)) }
	case "jpeg":
		decodeConfig = func(b []byte) (image.Config, error) { return jpeg.DecodeConfig(bytes.NewReader(b)) }
		decode = func(b []byte) (image.Image, error) { return jpeg.Decode(bytes.NewReader(b)) }
	case "webp":
		decodeConfig = func(b []byte) (image.Config, error) { return webp.DecodeConfig(bytes.NewReader(b)) }
		decode = func(b []byte) (image.Image, error) { return webp.Decode(bytes.NewReader(b)) }
	default:
		return Logo{}, invalid("logo", "is not a PNG, JPEG or WebP image")
	}
	name := strings.ToUpper(format)
	if format == "webp" {
		name = "WebP"
	}
	cfg, err := decodeConfig(data)
	if err != nil {
		return Logo{}, invalid("logo", "looks like a %s image but cannot be read (it is damaged or cut short)", name)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return Logo{}, invalid("logo", "is a %s image without pixels", name)
	}
	if cfg.Width > MaxLogoSide || cfg.Height > MaxLogoSide || cfg.Width*cfg.Height > MaxLogoPixels {
		return Logo{}, invalid("logo", "is %d×%d pixels; a logo may be at most %d pixels on a side and %d megapixels: export it smaller",
			cfg.Width, cfg.Height, MaxLogoSide, MaxLogoPixels>>20)
	}
	img, err := decode(data)
	if err != nil {
		return Logo{}, invalid("logo", "looks like a %s image but cannot be read (it is damaged or cut short)", name)
	}
	shown := fit(img, LogoWidth, LogoHeight, false)
	icon := fit(img, LogoIconSize, LogoIconSize, true)
	var a, b bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&a, shown); err != nil {
		return Logo{}, fmt.Errorf("encode logo: %w", err)
	}
	if err := enc.Encode(&b, icon); err != nil {
		return Logo{}, fmt.Errorf("encode logo icon: %w", err)
	}
	sum := sha256.Sum256(a.Bytes())
	return Logo{Hash: hex.EncodeToString(sum[:]), Image: a.Bytes(), Icon: b.Bytes(),
		Width: shown.Bounds().Dx(), Height: shown.Bounds().Dy(), CreatedAt: now}, nil
}

// fit draws img scaled down (never up) to fit into w × h, keeping its
// proportions. square centres it on a transparent w × h canvas instead
// of trimming the canvas to the picture.
func fit(img image.Image, w, h int, square bool) *image.NRGBA {
	sb := img.Bounds()
	scale := math.Min(1, math.Min(float64(w)/float64(sb.Dx()), float64(h)/float64(sb.Dy())))
	if square {
		scale = math.Min(float64(w)/float64(sb.Dx()), float64(h)/float64(sb.Dy())) // an icon is always the full square
	}
	dw, dh := max(1, int(math.Round(float64(sb.Dx())*scale))), max(1, int(math.Round(float64(sb.Dy())*scale)))
	cw, ch := dw, dh
	if square {
		cw, ch = w, h
	}
	dst := image.NewNRGBA(image.Rect(0, 0, cw, ch))
	at := image.Rect((cw-dw)/2, (ch-dh)/2, (cw-dw)/2+dw, (ch-dh)/2+dh)
	xdraw.CatmullRom.Scale(dst, at, img, sb, xdraw.Src, nil)
	return dst
}

// MinAccentContrast is WCAG's contrast for normal text (AA): white text
// on an accent-coloured button, and accent-coloured links on white, need
// at least this much.
const MinAccentContrast = 4.5

// ParseAccent reads an accent colour, #RRGGBB (as #rrggbb), and refuses
// one on which white text would be hard to read.
func ParseAccent(s string) (string, error) {
	s = strings.TrimSpace(s)
	if len(s) != 7 || s[0] != '#' {
		return "", invalid("accent", "%q is not a colour like #0b6e4f (# and six hex digits)", clip(s))
	}
	s = strings.ToLower(s)
	if _, err := hex.DecodeString(s[1:]); err != nil {
		return "", invalid("accent", "%q is not a colour like #0b6e4f (# and six hex digits)", clip(s))
	}
	if c := ContrastWithWhite(s); c < MinAccentContrast {
		// Rounded down, so that a refused colour never reads as 4.5:1.
		return "", invalid("accent", "%s on white text has a contrast of %.1f:1; buttons need at least %.1f:1 — pick a darker colour",
			s, math.Floor(c*10)/10, MinAccentContrast)
	}
	return s, nil
}

// ContrastWithWhite is WCAG 2's contrast ratio between white and the
// colour #rrggbb: from 1 (white) to 21 (black).
func ContrastWithWhite(rgb string) float64 {
	b, err := hex.DecodeString(strings.TrimPrefix(rgb, "#"))
	if err != nil || len(b) != 3 {
		return 1
	}
	lin := func(c byte) float64 {
		v := float64(c) / 255
		if v <= 0.04045 {
			return v / 12.92
		}
		return math.Pow((v+0.055)/1.055, 2.4)
	}
	l := 0.2126*lin(b[0]) + 0.7152*lin(b[1]) + 0.0722*lin(b[2])
	return 1.05 / (l + 0.05)
}
