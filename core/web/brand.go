package web

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"

	"latchkey/core"
)

// An organization's brand on its pages: its logo (and favicon) at
// /static/logo/{hash}.png and {hash}-icon.png, and its accent colour as a
// tiny stylesheet at /static/accent/{rrggbb}.css that sets the colour
// variables style.css uses. Both are files of latchkey's own origin, so
// the pages' content security policy stays as strict as it is (style-src
// and img-src 'self', no inline styles). Their addresses name their
// content, so browsers may keep them for good.

const immutable = "public, max-age=31536000, immutable"

// brand fills a page's header with an organization: its name, logo and accent.
func (p *page) brand(o core.Org) {
	p.Org, p.Logo, p.Accent = o.Name, o.Logo, strings.TrimPrefix(o.Accent, "#")
}

// logoFile serves /static/logo/{hash}.png and /static/logo/{hash}-icon.png.
func (s *Server) logoFile(w http.ResponseWriter, r *http.Request, file string) {
	name, ok := strings.CutSuffix(file, ".png")
	hash, icon := strings.CutSuffix(name, "-icon")
	if !ok || !core.IsLogoHash(hash) {
		s.notFound(w, r)
		return
	}
	img, err := s.svc.LogoImage(r.Context(), hash, icon)
	switch {
	case err == nil:
	case errors.Is(err, core.ErrNotFound):
		s.notFound(w, r)
		return
	default:
		s.internalError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "image/png")
	h.Set("Content-Length", strconv.Itoa(len(img)))
	h.Set("Cache-Control", immutable)
	w.Write(img)
}

// accentFile serves /static/accent/{rrggbb}.css: the accent colour for
// buttons and links, and in dark mode a lighter shade of it that reads
// on the dark page.
func (s *Server) accentFile(w http.ResponseWriter, r *http.Request, file string) {
	hex, ok := strings.CutSuffix(file, ".css")
	accent, err := core.ParseAccent("#" + hex)
	if !ok || err != nil || accent != "#"+hex {
		s.notFound(w, r)
		return
	}
	css := accentCSS(accent)
	h := w.Header()
	h.Set("Content-Type", "text/css; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(css)))
	h.Set("Cache-Control", immutable)
	w.Write([]byte(css))
}

// accentCSS is the stylesheet of an accent colour (one that white text
// reads on, as core.ParseAccent checked).
func accentCSS(accent string) string {
	rgb := parseRGB(accent)
	darker := mix(rgb, [3]float64{0, 0, 0}, 0.25)
	// On the dark page (#161c26) links and buttons take the accent mixed
	// with white until it reads there, with dark text on buttons.
	light := rgb
	for t := 0.0; t <= 1; t += 0.05 {
		light = mix(rgb, [3]float64{255, 255, 255}, t)
		if contrast(light, [3]float64{0x16, 0x1c, 0x26}) >= core.MinAccentContrast {
			break
		}
	}
	lighter := mix(light, [3]float64{255, 255, 255}, 0.3)
	return fmt.Sprintf(":root{--accent:%s;--accent-ink:#ffffff;--accent-dark:%s}\n"+
		"@media (prefers-color-scheme: dark){:root{--accent:%s;--accent-ink:#0b1220;--accent-dark:%s}}\n",
		accent, hexOf(darker), hexOf(light), hexOf(lighter))
}

func parseRGB(s string) [3]float64 {
	n, _ := strconv.ParseUint(strings.TrimPrefix(s, "#"), 16, 32)
	return [3]float64{float64(n >> 16 & 0xff), float64(n >> 8 & 0xff), float64(n & 0xff)}
}

func mix(a, b [3]float64, t float64) [3]float64 {
	return [3]float64{a[0] + (b[0]-a[0])*t, a[1] + (b[1]-a[1])*t, a[2] + (b[2]-a[2])*t}
}

func hexOf(c [3]float64) string {
	return fmt.Sprintf("#%02x%02x%02x", int(math.Round(c[0])), int(math.Round(c[1])), int(math.Round(c[2])))
}

// contrast is WCAG 2's contrast ratio of two colours.
func contrast(a, b [3]float64) float64 {
	la, lb := 1.05/core.ContrastWithWhite(hexOf(a))-0.05, 1.05/core.ContrastWithWhite(hexOf(b))-0.05
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}
