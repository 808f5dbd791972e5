package web_test

import (
	"bytes"
	"image/png"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"latchkey/core"
)

var logoHref = regexp.MustCompile(`<img class="logo" src="(/static/logo/[0-9a-f]{64}\.png)" alt="">`)

// The demo organization is branded: its pages show its logo, favicon and
// accent, served by latchkey with long caching, under the same strict CSP.
func TestBrandedPortalPage(t *testing.T) {
	s := newSite(t, noLimits)
	c := s.client()
	var org core.Org
	s.View(func(tx core.Tx) (err error) { org, err = tx.OrgBySlug("northwind"); return })
	page := c.get("/p/brand-guidelines").must(t, http.StatusOK, "Northwind Studio",
		`<link rel="stylesheet" href="/static/accent/0b6e4f.css">`,
		`<link rel="icon" type="image/png" href="/static/logo/`+org.Logo+`-icon.png">`,
		`<body class="org">`)
	m := logoHref.FindStringSubmatch(page.body)
	if m == nil || m[1] != org.LogoPath() {
		t.Fatalf("no logo %s on the page:\n%s", org.LogoPath(), page.body)
	}
	if csp := page.header.Get("Content-Security-Policy"); !strings.Contains(csp, "style-src 'self';") || strings.Contains(csp, "unsafe") {
		t.Fatalf("CSP %q", csp)
	}
	// The closed portal's page and a link's landing page are branded too.
	c.get("/p/website-redesign").must(t, http.StatusForbidden, org.LogoPath(), "/static/accent/0b6e4f.css")
	s.client().get("/m/"+s.links["website-redesign"]).must(t, http.StatusOK, org.LogoPath(), "/static/accent/0b6e4f.css", "Open portal")

	for _, path := range []string{org.LogoPath(), org.IconPath()} {
		r := c.get(path).must(t, http.StatusOK)
		if r.header.Get("Content-Type") != "image/png" || r.header.Get("Cache-Control") != "public, max-age=31536000, immutable" {
			t.Fatalf("%s: %v", path, r.header)
		}
		cfg, err := png.DecodeConfig(bytes.NewReader([]byte(r.body)))
		if err != nil || cfg.Width > core.LogoWidth || cfg.Height > core.LogoHeight {
			t.Fatalf("%s: %v %dx%d", path, err, cfg.Width, cfg.Height)
		}
	}
	css := c.get("/static/accent/0b6e4f.css").must(t, http.StatusOK, "--accent:#0b6e4f", "prefers-color-scheme: dark")
	if css.header.Get("Content-Type") != "text/css; charset=utf-8" || css.header.Get("Cache-Control") != "public, max-age=31536000, immutable" {
		t.Fatalf("accent css: %v", css.header)
	}
	for _, path := range []string{
		"/static/logo/" + strings.Repeat("ab", 32) + ".png", // no such logo
		"/static/logo/" + org.Logo + ".svg",
		"/static/logo/" + org.Logo,
		"/static/logo/" + org.Logo[:10] + ".png",
		"/static/accent/ffcc00.css", // a colour no page uses: too light
		"/static/accent/0B6E4F.css",
		"/static/accent/red.css",
	} {
		if r := c.get(path); r.status != http.StatusNotFound || strings.Contains(r.header.Get("Cache-Control"), "immutable") {
			t.Errorf("%s: %d %v", path, r.status, r.header)
		}
	}
}

// After the owner takes the brand away, the pages show latchkey's own
// look again (the old logo's address still serves: it names its content).
func TestUnbrandedPortalPage(t *testing.T) {
	s := newSite(t, noLimits)
	var org core.Org
	s.View(func(tx core.Tx) (err error) { org, err = tx.OrgBySlug("northwind"); return })
	none := ""
	if _, err := s.Svc.ChangeOrg(s.Ctx, s.Admin, org.ID, core.OrgChange{RemoveLogo: true, Accent: &none}); err != nil {
		t.Fatal(err)
	}
	r := s.client().get("/p/brand-guidelines").must(t, http.StatusOK, "Northwind Studio")
	if strings.Contains(r.body, "/static/logo/") || strings.Contains(r.body, "/static/accent/") {
		t.Fatalf("the page still carries the brand:\n%s", r.body)
	}
	s.client().get(org.LogoPath()).must(t, http.StatusOK)
}
