package web_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
