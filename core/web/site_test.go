package web_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"latchkey/core"
	"latchkey/core/web"
	"latchkey/storage/storetest"
)

// site is the real portal listener on 127.0.0.1 over a real store with the demo data.
type site struct {
	*storetest.Env
	url   string
	srv   *web.Server
	links map[string]string // portal slug → client@acme.test's token
	logs  *storetest.SyncBuffer
	stop  func()
}

type siteOption func(*web.Config, *[]storetest.Option)

func withLimits(l web.Limits) siteOption {
	return func(c *web.Config, _ *[]storetest.Option) { c.Limits = &l }
}

func withProxies(p ...string) siteOption {
	return func(c *web.Config, _ *[]storetest.Option) {
		for _, s := range p {
			c.TrustedProxies = append(c.TrustedProxies, netip.MustParsePrefix(s))
		}
	}
}

func withCore(o storetest.Option) siteOption {
	return func(_ *web.Config, opts *[]storetest.Option) { *opts = append(*opts, o) }
}

// noLimits lets a test send as much as it likes.
var noLimits = withLimits(web.Limits{})

func newSite(t testing.TB, opts ...siteOption) *site {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	cfg := web.Config{Registry: prometheus.NewRegistry()}
	coreOpts := []storetest.Option{storetest.PublicURL(base)}
	for _, o := range opts {
		o(&cfg, &coreOpts)
	}
	env := storetest.New(t, coreOpts...)
	demo, err := env.Svc.LoadDemo(env.Ctx)
	if err != nil {
		t.Fatal(err)
	}
	links := map[string]string{}
	for _, l := range demo {
		links[l.Portal] = storetest.TokenOf(l.URL)
	}
	logs := &storetest.SyncBuffer{}
	cfg.Service, cfg.Logger, cfg.Now = env.Svc, slog.New(slog.NewTextHandler(logs, nil)), env.Clock.Now
	srv, err := web.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln, 5*time.Second) }()
	s := &site{Env: env, url: base, srv: srv, links: links, logs: logs}
	var once sync.Once
	s.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("serve: %v", err)
			}
		})
	}
	t.Cleanup(s.stop)
	return s
}

// client is one browser: it keeps cookies and does not follow redirects.
type client struct {
	t    testing.TB
	s    *site
	http *http.Client
	addr string // X-Forwarded-For to send, for proxy tests
}

func (s *site) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: s.T, s: s, http: &http.Client{
		Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

type response struct {
	status int
	header http.Header
	body   string
}

func (c *client) do(req *http.Request) response {
	c.t.Helper()
	if c.addr != "" {
		req.Header.Set("X-Forwarded-For", c.addr)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, string(b)}
}

// at is the address of path on the site, or path itself when it is a URL
// (of a portal's own host).
func (c *client) at(path string) string {
	if strings.HasPrefix(path, "http://") {
		return path
	}
	return c.s.url + path
}

func (c *client) get(path string) response {
	req, _ := http.NewRequest(http.MethodGet, c.at(path), nil)
	return c.do(req)
}

func (c *client) head(path string) response {
	req, _ := http.NewRequest(http.MethodHead, c.s.url+path, nil)
	return c.do(req)
}

// post sends a form the way a browser does from one of the site's pages.
func (c *client) post(path string, form url.Values) response {
	req, _ := http.NewRequest(http.MethodPost, c.at(path), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", c.s.url)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return c.do(req)
}

func (c *client) cookie() *http.Cookie {
	u, _ := url.Parse(c.s.url)
	for _, ck := range c.http.Jar.Cookies(u) {
		if ck.Name == "latchkey_session" {
			return ck
		}
	}
	return nil
}

// redeem presses Open portal on a link and follows the redirect.
func (c *client) redeem(token string) response {
	c.t.Helper()
	r := c.post("/m/"+token, nil)
	if r.status != http.StatusSeeOther {
		c.t.Fatalf("Open portal: %d %s", r.status, r.body)
	}
	return c.get(r.header.Get("Location"))
}

func (r response) must(t testing.TB, status int, texts ...string) response {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body:\n%s", r.status, status, r.body)
	}
	for _, s := range texts {
		if !strings.Contains(r.body, s) {
			t.Fatalf("page lacks %q:\n%s", s, r.body)
		}
	}
	return r
}

// portalID is the id of a demo portal.
func (s *site) portal(slug string) core.Portal {
	s.T.Helper()
	var p core.Portal
	s.View(func(tx core.Tx) (err error) { p, err = tx.PortalBySlug(slug); return })
	return p
}
