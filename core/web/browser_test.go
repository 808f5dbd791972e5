package web_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"latchkey/core"
)

// browser drives Debian's chromium with a fresh profile. make test installs
// chromium when it is missing; without it these tests fail and say so.
type browser struct {
	t   *testing.T
	ctx context.Context
}

func chromiumPath(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("chromium is not installed: run `make test` (it installs it) or `apt-get install -y chromium`")
	return ""
}

// newBrowser starts chromium. On a busy machine chromium now and then dies
// as it starts ("chrome failed to start", crashpad's "no stack mapping"),
// before it has loaded any page: such a start is tried again, up to three
// times, and any other failure fails the test.
func newBrowser(t *testing.T) *browser {
	t.Helper()
	path := chromiumPath(t)
	for attempt := 1; ; attempt++ {
		opts := []chromedp.ExecAllocatorOption{
			chromedp.ExecPath(path),
			chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
			chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-sync", true),
			chromedp.Flag("disable-quic", true),
			chromedp.Flag("no-default-browser-check", true),
			chromedp.UserDataDir(t.TempDir()),
			chromedp.WindowSize(390, 844), // a phone
		}
		actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		ctx, cancelCtx := chromedp.NewContext(actx)
		ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
		stop := func() { cancelTimeout(); cancelCtx(); cancelAlloc() }
		err := chromedp.Do(ctx) // start the browser and its first tab
		if err == nil {
			t.Cleanup(stop)
			return &browser{t: t, ctx: ctx}
		}
		stop()
		if attempt == 3 || !strings.Contains(err.Error(), "failed to start") {
			t.Fatalf("starting chromium (attempt %d): %v", attempt, err)
		}
		t.Logf("chromium died as it started (attempt %d), trying again: %.200s", attempt, err)
	}
}

// fail saves a screenshot of the page for the person reading the failure.
func (b *browser) fail(format string, args ...any) {
	b.t.Helper()
	dir := filepath.Join(os.TempDir(), "latchkey-browser-tests")
	path := filepath.Join(dir, strings.ReplaceAll(b.t.Name(), "/", "_")+".png")
	// Only a browser that started can take one: running again on a context
	// whose browser failed to start would start a second one (and chromedp
	// panics when both end).
	if c := chromedp.FromContext(b.ctx); c == nil || c.Browser == nil {
		b.t.Fatalf(format, args...)
	}
	if shot, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(90)); err == nil {
		os.MkdirAll(dir, 0o755)
		if os.WriteFile(path, shot, 0o644) == nil {
			format += " (screenshot: " + path + ")"
		}
	}
	b.t.Fatalf(format, args...)
}

func (b *browser) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.fail("browser: %v", err)
	}
}

// submit clicks a button that sends a form and waits for the next page.
func (b *browser) submit(sel string) int64 {
	b.t.Helper()
	resp, err := chromedp.RunResponse(b.ctx, chromedp.Click(chromedp.CSS(sel)))
	if err != nil {
		b.fail("submit %s: %v", sel, err)
	}
	return resp.Status
}

func (b *browser) open(url string) int64 {
	b.t.Helper()
	resp, err := chromedp.Run(b.ctx, chromedp.NavigateResponse(url))
	if err != nil {
		b.fail("open %s: %v", url, err)
	}
	return resp.Status
}

func (b *browser) text() string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS("body")))
	if err != nil {
		b.fail("read page: %v", err)
	}
	return s
}

func (b *browser) location() string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		b.fail("location: %v", err)
	}
	return s
}

func (b *browser) expect(status, want int64, texts ...string) {
	b.t.Helper()
	if status != want {
		b.fail("status %d, want %d; page: %s", status, want, b.text())
	}
	page := b.text()
	for _, s := range texts {
		if !strings.Contains(page, s) {
			b.fail("page lacks %q: %s", s, page)
		}
	}
}

// A client opens the demo link, presses Open portal, lands on the portal
// and, coming back the next day, is still signed in.
func TestBrowserOpenPortalWithLink(t *testing.T) {
	s := newSite(t)
	b := newBrowser(t)
	b.expect(b.open(s.url+"/m/"+s.links["website-redesign"]), 200, "Open Website Redesign as client@acme.test")
	b.expect(b.submit(`button[type=submit]`), 200, "Website Redesign", "Casey Client", "Sign out")
	if loc := b.location(); loc != s.url+"/p/website-redesign" {
		b.fail("landed on %s; the token must leave the address bar", loc)
	}
	s.Clock.Advance(26 * time.Hour)
	resp, err := chromedp.RunResponse(b.ctx, chromedp.Reload())
	if err != nil {
		b.fail("reload: %v", err)
	}
	b.expect(resp.Status, 200, "Signed in as client@acme.test", "the latest designs")
}

// A stranger on the closed portal gets an error and the owner is notified;
// a client with access gets a link.
func TestBrowserClosedPortalForm(t *testing.T) {
	s := newSite(t)
	b := newBrowser(t)
	b.expect(b.open(s.url+"/p/website-redesign"), 403, "This portal is closed")
	b.do(chromedp.SendKeys(chromedp.CSS("#email"), "stranger@example.com"))
	b.expect(b.submit(`button[type=submit]`), 403, "stranger@example.com has no access to Website Redesign")
	if m := s.LastMail("owner@northwind.test", core.MailAccessRequest); m.Data["email"] != "stranger@example.com" {
		t.Fatalf("owner notification %+v", m)
	}
	b.expect(b.open(s.url+"/p/website-redesign"), 403, "This portal is closed")
	b.do(chromedp.SendKeys(chromedp.CSS("#email"), "client@acme.test"))
	b.expect(b.submit(`button[type=submit]`), 200, "We sent you a link")
	if len(s.MailsTo("client@acme.test", core.MailAccessLink)) != 1 {
		t.Fatal("no access link queued")
	}
}

// Restore password end to end, then sign in with email and password.
func TestBrowserRestoreThenLogin(t *testing.T) {
	s := newSite(t)
	b := newBrowser(t)
	b.expect(b.open(s.url+"/restore"), 200, "Restore password")
	b.do(chromedp.SendKeys(chromedp.CSS("#email"), "client@acme.test"))
	b.expect(b.submit(`button[type=submit]`), 200, "If an account exists for client@acme.test")
	token := s.LastToken("client@acme.test", core.MailPasswordReset)
	b.expect(b.open(s.url+"/restore/"+token), 200, "Set a new password")
	b.do(chromedp.SendKeys(chromedp.CSS("#password"), "a brand new password"), chromedp.SendKeys(chromedp.CSS("#confirm"), "a brand new password"))
	b.expect(b.submit(`button[type=submit]`), 200, "Your portals", "Website Redesign")
	b.expect(b.submit(`header form button`), 200, "You are signed out")
	b.do(chromedp.SendKeys(chromedp.CSS("#email"), "client@acme.test"), chromedp.SendKeys(chromedp.CSS("#password"), "a brand new password"))
	b.expect(b.submit(`form[action="/login"] button[type=submit]`), 200, "Your portals", "Brand Guidelines")
}

// A deactivated link opens the dead-link page with the form.
func TestBrowserDeactivatedLink(t *testing.T) {
	s := newSite(t)
	b := newBrowser(t)
	if err := s.Svc.DeactivateLink(s.Ctx, s.Admin, s.portal("website-redesign").ID, "client@acme.test"); err != nil {
		t.Fatal(err)
	}
	b.expect(b.open(s.url+"/m/"+s.links["website-redesign"]), 410, "This link is no longer active", "Send access link")
}

// Issue 13, point 12: Sign out and the footer's links are at least 24 px
// square (WCAG 2.2, 2.5.8), the focus ring stands out 3:1 from what is
// around it, and a dark colour scheme gives dark pages that keep text at
// 4.5:1, in chromium at phone width.
func TestBrowserTargetSizesFocusRingAndDarkScheme(t *testing.T) {
	s := newSite(t)
	b := newBrowser(t)
	b.expect(b.open(s.url+"/m/"+s.links["website-redesign"]), 200, "Open portal")
	b.expect(b.submit(`button[type=submit]`), 200, "Sign out")
	type box struct{ W, H float64 }
	for _, sel := range []string{`header form button`, `footer.site a`} {
		r, err := chromedp.Run(b.ctx, chromedp.Evaluate[box](`(() => { const r = document.querySelector(`+"`"+sel+"`"+`).getBoundingClientRect(); return {W: r.width, H: r.height}; })()`))
		if err != nil {
			b.fail("measure %s: %v", sel, err)
		}
		if r.W < 24 || r.H < 24 {
			b.fail("%s is %.0f×%.0f px, under WCAG 2.2's 24 px target size", sel, r.W, r.H)
		}
	}
	type colours struct{ Ink, Paper, Wash, Focus, Muted, Accent, AccentInk string }
	read := func() colours {
		b.t.Helper()
		c, err := chromedp.Run(b.ctx, chromedp.Evaluate[colours](`(() => {
			const v = n => getComputedStyle(document.documentElement).getPropertyValue(n).trim();
			const probe = document.createElement('div'); document.body.appendChild(probe);
			const rgb = c => { probe.style.color = c; return getComputedStyle(probe).color; };
			const out = {Ink: rgb(v('--ink')), Paper: rgb(v('--paper')), Wash: rgb(v('--wash')), Focus: rgb(v('--focus')),
				Muted: rgb(v('--muted')), Accent: rgb(v('--accent')), AccentInk: rgb(v('--accent-ink'))};
			probe.remove(); return out; })()`))
		if err != nil {
			b.fail("read colours: %v", err)
		}
		return c
	}
	check := func(scheme string, c colours) {
		b.t.Helper()
		for _, pair := range []struct {
			what, fg, bg string
			min          float64
		}{
			{"text on a card", c.Ink, c.Paper, 4.5}, {"muted text on a card", c.Muted, c.Paper, 4.5},
			{"muted text on the page", c.Muted, c.Wash, 4.5}, {"links on a card", c.Accent, c.Paper, 4.5},
			{"button text", c.AccentInk, c.Accent, 4.5},
			{"focus ring on a card", c.Focus, c.Paper, 3}, {"focus ring on the page", c.Focus, c.Wash, 3},
		} {
			if got := contrast(t, pair.fg, pair.bg); got < pair.min {
				b.fail("%s scheme: %s is %.2f:1 (%s on %s), under %.1f:1", scheme, pair.what, got, pair.fg, pair.bg, pair.min)
			}
		}
	}
	light := read()
	check("light", light)
	// The focus ring is the one the stylesheet defines, on a real focused field.
	// A headless window is never the focused one, so :focus would match
	// nothing there; focus emulation makes the page behave as the front tab.
	b.do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true})
		return err
	}))
	b.expect(b.open(s.url+"/p/onboarding"), 200, "Send access link")
	outline, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`(() => { const e = document.querySelector('#email'); e.focus(); return getComputedStyle(e).outlineColor; })()`))
	if err != nil || outline != light.Focus {
		b.fail("a focused field's outline is %q, want the focus colour %q (%v)", outline, light.Focus, err)
	}
	b.do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}})
		return err
	}))
	b.expect(b.open(s.url+"/p/onboarding"), 200, "Send access link")
	dark := read()
	if dark.Paper == light.Paper || luminance(t, dark.Wash) > 0.05 {
		b.fail("the dark scheme changes nothing: page %s, card %s", dark.Wash, dark.Paper)
	}
	check("dark", dark)
	bg, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`getComputedStyle(document.body).backgroundColor`))
	if err != nil || bg != dark.Wash {
		b.fail("the page's background in the dark scheme is %q, want %q (%v)", bg, dark.Wash, err)
	}
}

// luminance is WCAG's relative luminance of an "rgb(r, g, b)" colour.
func luminance(t *testing.T, rgb string) float64 {
	t.Helper()
	var r, g, b float64
	if _, err := fmt.Sscanf(rgb, "rgb(%f, %f, %f)", &r, &g, &b); err != nil {
		t.Fatalf("colour %q: %v", rgb, err)
	}
	lin := func(c float64) float64 {
		c /= 255
		if c <= 0.04045 {
			return c / 12.92
		}
		return math.Pow((c+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(r) + 0.7152*lin(g) + 0.0722*lin(b)
}

// contrast is WCAG's contrast ratio of two colours.
func contrast(t *testing.T, a, b string) float64 {
	la, lb := luminance(t, a), luminance(t, b)
	return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)
}
