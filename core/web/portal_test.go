package web_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"latchkey/core"
	"latchkey/storage/storetest"
)

// setPortal changes a demo portal's settings as an owner would.
func (s *site) setPortal(slug string, patch core.PortalPatch) core.Portal {
	s.T.Helper()
	return storetest.Must(s.Svc.PatchPortal(s.Ctx, s.Admin, s.portal(slug).ID, patch))
}

func ptr[T any](v T) *T { return &v }

// The built-in page at phone width, in chromium: the welcome's Markdown is
// rendered, script and raw HTML in it are shown as text and never run,
// resources and updates are listed, the contact is named; the portal's
// title appears once on the page.
func TestBrowserBuiltInPortalPage(t *testing.T) {
	s := newSite(t)
	s.setPortal("website-redesign", core.PortalPatch{Welcome: ptr("## Where we are\n\n- **Designs** ready\n- [Staging](https://staging.acme.example/)\n\n<script>document.title='owned'</script>\n<img src=x onerror=\"document.title='owned'\">")})
	b := newBrowser(t)
	b.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	b.expect(b.open(s.url+"/m/"+s.links["website-redesign"]), 200, "Open portal")
	b.expect(b.submit(`button[type=submit]`), 200, "Where we are", "Updates", "Resources", "Your contact", "Mia Manager", "mia@northwind.test",
		"Staging site", "Round 2 is up", "<script>document.title='owned'</script>", `<img src=x onerror="document.title='owned'">`)
	type shape struct {
		H2, Strong, Scripts, Imgs, Links, Titles int
		DocTitle, Rel                            string
		Width                                    float64
	}
	got, err := chromedp.Run(b.ctx, chromedp.Evaluate[shape](`(() => ({
		H2: document.querySelectorAll('.prose h2').length, Strong: document.querySelectorAll('.prose strong').length,
		Scripts: document.querySelectorAll('main script').length, Imgs: document.querySelectorAll('main img').length,
		Links: document.querySelectorAll('ul.resources a').length,
		Titles: [...document.querySelectorAll('h1, header .brand *')].filter(e => e.textContent.trim() === 'Website Redesign').length,
		DocTitle: document.title, Rel: document.querySelector('.prose a').rel,
		Width: document.documentElement.scrollWidth }))()`))
	if err != nil {
		b.fail("inspect: %v", err)
	}
	if got.H2 < 1 || got.Strong < 1 || got.Scripts != 0 || got.Imgs != 0 || got.Links != 5 || got.DocTitle == "owned" || got.Rel != "noopener noreferrer" {
		b.fail("the built-in page: %+v", got)
	}
	if got.Titles != 1 {
		b.fail("the portal's title shows %d times in the page's header and heading", got.Titles)
	}
	if got.Width > 390 {
		b.fail("the page is %.0f px wide on a 390 px phone", got.Width)
	}
}

// An open portal's built-in page shows its content to visitors, with a
// sign-in offer.
func TestOpenPortalShowsItsContentToVisitors(t *testing.T) {
	s := newSite(t)
	c := s.client()
	c.get("/p/brand-guidelines").must(t, http.StatusOK, "Logo pack", "a dark version of the logo", "Olivia Owner", "Sign in to Brand Guidelines", "Send access link")
	// A closed portal shows nothing of its content to a stranger.
	r := c.get("/p/website-redesign").must(t, http.StatusForbidden, "This portal is closed")
	if strings.Contains(r.body, "Staging site") || strings.Contains(r.body, "Round 2") {
		t.Fatal("the closed page shows the portal's content")
	}
}

// Host mode in chromium: a portal with its own host (a *.localhost name,
// which chromium resolves to this machine) sends a visitor without a
// session there to the main address; once signed in through a link, the
// hop comes back with a one-minute code and lands on the upstream's page.
func TestBrowserHostModeSignInHop(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "<!doctype html><title>Acme app</title><h1>Hello %s</h1><p>path %s</p>", r.Header.Get("X-Latchkey-Name"), r.URL.Path)
	}))
	t.Cleanup(up.Close)
	s := newSite(t)
	s.setPortal("website-redesign", core.PortalPatch{Upstream: ptr(up.URL), Host: ptr("acme-portal.localhost")})
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(s.url, "http://"))
	host := "http://acme-portal.localhost:" + port
	b := newBrowser(t)
	// Not signed in: the portal's closed page on the main address.
	b.expect(b.open(host+"/reports"), 403, "This portal is closed", "Send access link")
	if loc := b.location(); !strings.HasPrefix(loc, s.url+"/p/website-redesign") {
		b.fail("a visitor without a session landed on %s", loc)
	}
	// Signed in with the link: Open portal hops to the portal's host.
	b.expect(b.open(s.url+"/m/"+s.links["website-redesign"]), 200, "Open portal")
	b.expect(b.submit(`button[type=submit]`), 200, "Hello Casey Client", "path /")
	if loc := b.location(); loc != host+"/" {
		b.fail("after the hop the browser is at %s", loc)
	}
	b.expect(b.open(host+"/reports"), 200, "Hello Casey Client", "path /reports")
	// Sign out on the portal's host ends the session on both hosts.
	resp, err := http.Post(host+"/_latchkey/signout", "application/x-www-form-urlencoded", nil) // another client, no cookie: nothing to end
	if err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	b.expect(b.open(s.url+"/p/website-redesign"), 200, "Hello Casey Client") // still signed in: hops again
}

// hostClient is a browser for a site and the portal hosts on its port.
func (s *site) hostClient() *client {
	c := s.client()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(s.url, "http://"))
	d := &net.Dialer{}
	c.http.Transport = &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return d.DialContext(ctx, network, "127.0.0.1:"+port)
	}}
	return c
}

// Host mode's hand-over: a code works once, for its host only, within a
// minute; signing out on the portal's host ends the session on the main
// host too; latchkey's own paths there are its own.
func TestHostModeHandOver(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprintf(w, "app %s", r.URL.Path) }))
	t.Cleanup(up.Close)
	s := newSite(t)
	s.setPortal("website-redesign", core.PortalPatch{Upstream: ptr(up.URL), Host: ptr("acme.localhost")})
	s.setPortal("brand-guidelines", core.PortalPatch{Upstream: ptr(up.URL), Host: ptr("brand.localhost")})
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(s.url, "http://"))
	host := "http://acme.localhost:" + port
	c := s.hostClient()
	c.redeem(s.links["website-redesign"])
	r := c.get(s.url + "/_latchkey/authorize?portal=website-redesign&return=%2Fdocs")
	loc := r.header.Get("Location")
	if r.status != http.StatusFound || !strings.HasPrefix(loc, host+"/_latchkey/callback?code=") {
		t.Fatalf("authorize: %d to %q", r.status, loc)
	}
	code := loc[strings.Index(loc, "code=")+5:]
	// Not for another portal's host.
	c.get("http://brand.localhost:"+port+"/_latchkey/callback?code="+code).must(t, http.StatusBadRequest, "This sign-in has expired")
	// Too late.
	s.Clock.Advance(61 * time.Second)
	c.get(host+"/_latchkey/callback?code="+code).must(t, http.StatusBadRequest, "This sign-in has expired")
	// In time, once.
	code = func() string {
		l := c.get(s.url + "/_latchkey/authorize?portal=website-redesign&return=%2Fdocs").header.Get("Location")
		return l[strings.Index(l, "code=")+5:]
	}()
	if r := c.get(host + "/_latchkey/callback?code=" + code); r.status != http.StatusSeeOther || r.header.Get("Location") != "/docs" {
		t.Fatalf("callback: %d to %q", r.status, r.header.Get("Location"))
	}
	c.get(host+"/_latchkey/callback?code="+code).must(t, http.StatusBadRequest, "This sign-in has expired")
	c.get(host+"/docs").must(t, http.StatusOK, "app /docs")
	c.get(host+"/_latchkey/static/style.css").must(t, http.StatusOK, "--accent")
	c.get(host+"/_latchkey/nothing").must(t, http.StatusNotFound, "Page not found")
	// A return that leaves the host is refused.
	if l := c.get(s.url + "/_latchkey/authorize?portal=website-redesign&return=//evil.test/").header.Get("Location"); !strings.Contains(l, "code=") {
		t.Fatalf("authorize with a foreign return: %q", l)
	}
	// Sign out on the portal's host: both hosts are signed out.
	if r := c.post(host+"/_latchkey/signout", nil); r.status != http.StatusSeeOther || r.header.Get("Location") != s.url+"/p/website-redesign?signed_out=1" {
		t.Fatalf("signout: %d to %q", r.status, r.header.Get("Location"))
	}
	if r := c.get(host + "/docs"); r.status != http.StatusFound || !strings.HasPrefix(r.header.Get("Location"), s.url+"/_latchkey/authorize") {
		t.Fatalf("the portal host after sign-out: %d to %q", r.status, r.header.Get("Location"))
	}
	if r := c.get(s.url + "/portals"); r.status != http.StatusSeeOther {
		t.Fatalf("the main host after sign-out on the portal host: %d", r.status)
	}
}
