package web

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"latchkey/core"
)

// The gate in front of an agency's own web app. A portal with an upstream
// is proxied at /p/{slug}/… (path mode) and, when it has a host name of its
// own, at every path of that host (host mode); only people with access get
// through (anyone, for an open portal), and access is checked on every
// request. The upstream learns who is asking from X-Latchkey-* headers and
// a signed assertion; whatever of those the client sent is removed, and so
// is latchkey's own cookie, both ways.

// Proxy timeouts: connecting, waiting for the upstream's answer to begin,
// and keeping idle connections.
const (
	upstreamDial    = 5 * time.Second
	upstreamHeaders = 60 * time.Second
	upstreamIdle    = 90 * time.Second
)

// identityHeaders are the headers latchkey sets for the upstream; any the
// client sent with a name starting X-Latchkey- is removed first.
const identityPrefix = "X-Latchkey-"

// target is what the proxy needs for one request, in its context.
type target struct {
	upstream *url.URL
	prefix   string // "/p/{slug}" in path mode, "" in host mode
	base     string // the portal's address as the client sees it: public URL + prefix, or the host's URL
	gate     core.Gate
	start    time.Time
	metrics  *portalMetrics
}

// proxyState is what the proxy resolves once per upstream and per portal:
// the upstream's parsed address and the portal's metrics.
type proxyState struct {
	mu        sync.RWMutex
	upstreams map[string]*url.URL
	portals   map[string]*portalMetrics
}

type portalMetrics struct {
	latency prometheus.Observer
	ok      prometheus.Counter // 200s, the most common by far
}

func (ps *proxyState) upstream(raw string) (*url.URL, error) {
	ps.mu.RLock()
	u := ps.upstreams[raw]
	ps.mu.RUnlock()
	if u != nil {
		return u, nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	ps.mu.Lock()
	if len(ps.upstreams) > 10_000 {
		ps.upstreams = map[string]*url.URL{}
	}
	ps.upstreams[raw] = u
	ps.mu.Unlock()
	return u, nil
}

func (s *Server) portalMetrics(slug string) *portalMetrics {
	ps := &s.proxyState
	ps.mu.RLock()
	m := ps.portals[slug]
	ps.mu.RUnlock()
	if m != nil {
		return m
	}
	m = &portalMetrics{latency: s.metrics.upstreamLatency.WithLabelValues(slug), ok: s.metrics.proxied.WithLabelValues(slug, "200")}
	ps.mu.Lock()
	ps.portals[slug] = m
	ps.mu.Unlock()
	return m
}

func newReverseProxy(s *Server) *httputil.ReverseProxy {
	transport := &http.Transport{
		Proxy:                 nil, // the upstream is reached directly, never through an environment proxy
		DialContext:           (&net.Dialer{Timeout: upstreamDial, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   128,
		IdleConnTimeout:       upstreamIdle,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: upstreamHeaders,
		ExpectContinueTimeout: time.Second,
	}
	return &httputil.ReverseProxy{
		Transport:      transport,
		Rewrite:        s.rewrite,
		ModifyResponse: s.modifyResponse,
		ErrorHandler:   s.upstreamError,
		BufferPool:     newBufferPool(),
		// Answers of unknown length (streams) and event streams are flushed
		// as they come (the standard library does so); others need no timer.
		FlushInterval: 0,
		ErrorLog:      nil,
	}
}

// bufferPool lends the 32 KB buffers that copy bodies both ways.
type bufferPool struct{ p sync.Pool }

func newBufferPool() *bufferPool {
	return &bufferPool{p: sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}}
}
func (b *bufferPool) Get() []byte  { return *(b.p.Get().(*[]byte)) }
func (b *bufferPool) Put(v []byte) { b.p.Put(&v) }

// rewrite builds the upstream request: the path without the portal's
// prefix, the forwarding headers the upstream expects, the identity
// headers and assertion of the person (none for an anonymous visitor of an
// open portal), and no latchkey cookie.
func (s *Server) rewrite(pr *httputil.ProxyRequest) {
	t := info(pr.In).target
	out := pr.Out
	out.URL.Path = strings.TrimPrefix(pr.In.URL.Path, t.prefix)
	out.URL.RawPath = ""
	if raw := pr.In.URL.RawPath; raw != "" {
		out.URL.RawPath = strings.TrimPrefix(raw, t.prefix)
	}
	if out.URL.Path == "" {
		out.URL.Path = "/"
	}
	pr.SetURL(t.upstream)
	for name := range out.Header { // keys are canonical: net/http read them so
		if strings.HasPrefix(name, identityPrefix) {
			delete(out.Header, name)
		}
	}
	out.Header.Del("X-Forwarded-Prefix")
	out.Header.Set("X-Forwarded-For", clientAddr(pr.In))
	out.Header.Set("X-Forwarded-Host", pr.In.Host)
	out.Header.Set("X-Forwarded-Proto", s.pub.Scheme)
	if t.prefix != "" {
		out.Header.Set("X-Forwarded-Prefix", t.prefix)
	}
	s.stripOwnCookie(out.Header)
	// A referrer from latchkey's own pages (a hand-over code, a magic link)
	// is not the upstream's to see.
	if ref := out.Header.Get("Referer"); strings.Contains(ref, ownPrefix+"/") || strings.Contains(ref, "/m/") {
		out.Header.Del("Referer")
	}
	g := t.gate
	if g.User == nil || !g.HasAccess {
		return
	}
	id, err := s.assertions.get(g)
	if err != nil {
		s.log.Error("sign upstream assertion", "err", err, "portal", g.Portal.Slug)
		return
	}
	h := out.Header
	h["X-Latchkey-User"] = []string{id.user}
	h["X-Latchkey-Email"] = []string{id.email}
	if id.name != "" {
		h["X-Latchkey-Name"] = []string{id.name}
	}
	h["X-Latchkey-Role"] = []string{id.role}
	h["X-Latchkey-Portal"] = []string{id.portal}
	h["X-Latchkey-Assertion"] = []string{id.jwt}
}

// headerText is a header value as RFC 2047 says for text that is not ASCII.
func headerText(s string) string {
	if core.IsASCII(s) {
		return s
	}
	return mime.QEncoding.Encode("utf-8", s)
}

// stripOwnCookie removes latchkey's session cookie from a Cookie header,
// keeping the upstream's own cookies.
func (s *Server) stripOwnCookie(h http.Header) {
	lines := h.Values("Cookie")
	if len(lines) == 0 {
		return
	}
	var kept []string
	for _, line := range lines {
		for _, part := range strings.Split(line, ";") {
			name, _, _ := strings.Cut(strings.TrimSpace(part), "=")
			if name != "" && name != s.cookie.name {
				kept = append(kept, strings.TrimSpace(part))
			}
		}
	}
	h.Del("Cookie")
	if len(kept) > 0 {
		h.Set("Cookie", strings.Join(kept, "; "))
	}
}

// modifyResponse drops an upstream's Set-Cookie for latchkey's cookie,
// points redirects to the upstream's own address at the portal's, and
// records the upstream's latency.
func (s *Server) modifyResponse(res *http.Response) error {
	t := info(res.Request).target
	t.metrics.latency.Observe(time.Since(t.start).Seconds())
	if cookies := res.Header.Values("Set-Cookie"); len(cookies) > 0 {
		res.Header.Del("Set-Cookie")
		for _, c := range cookies {
			if name, _, _ := strings.Cut(c, "="); strings.TrimSpace(name) != s.cookie.name {
				res.Header.Add("Set-Cookie", c)
			}
		}
	}
	if loc := res.Header.Get("Location"); loc != "" {
		res.Header.Set("Location", rewriteLocation(loc, t))
	}
	return nil
}

// rewriteLocation turns a redirect to the upstream's own absolute address
// into one to the portal's, and in path mode keeps a redirect to a path of
// the upstream under the portal's prefix.
func rewriteLocation(loc string, t *target) string {
	u, err := url.Parse(loc)
	if err != nil {
		return loc
	}
	up := t.upstream
	if u.IsAbs() {
		if !strings.EqualFold(u.Scheme, up.Scheme) || !strings.EqualFold(u.Host, up.Host) {
			return loc // somewhere else: the upstream's business
		}
		rest, ok := strings.CutPrefix(u.Path, up.Path)
		if !ok || rest != "" && rest[0] != '/' {
			return loc
		}
		if rest == "" {
			rest = "/"
		}
		out := t.base + rest
		if u.RawQuery != "" {
			out += "?" + u.RawQuery
		}
		if u.Fragment != "" {
			out += "#" + u.Fragment
		}
		return out
	}
	if t.prefix != "" && strings.HasPrefix(loc, "/") && !strings.HasPrefix(loc, "//") &&
		loc != t.prefix && !strings.HasPrefix(loc, t.prefix+"/") && !strings.HasPrefix(loc, t.prefix+"?") {
		return t.prefix + loc
	}
	return loc
}

// upstreamError answers for an upstream that is down or slow: a branded
// 502 or 504 page, never Go's error text, logged with the upstream's
// address.
func (s *Server) upstreamError(w http.ResponseWriter, r *http.Request, err error) {
	t := info(r).target
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		return // the client left
	}
	status, key := http.StatusBadGateway, "page.upstream_down"
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
		status, key = http.StatusGatewayTimeout, "page.upstream_slow"
	}
	s.log.Warn("upstream failed", "portal", t.gate.Portal.Slug, "upstream", t.upstream.Redacted(), "status", status, "err", err, "request", requestID(r))
	t.metrics.latency.Observe(time.Since(t.start).Seconds())
	setPageHeaders(w.Header(), s.cookie.secure)
	p := s.newPage(r, t.gate.Portal.LanguageIn(t.gate.Org))
	p.Status, p.Title, p.Message = status, p.tr.T(key+".title"), p.tr.T(key+".body", t.gate.Org.Name)
	p.brand(t.gate.Org)
	p.Portal, p.PortalSlug, p.Static, p.User = t.gate.Portal.Title, t.gate.Portal.Slug, s.staticBase(t), t.gate.User
	s.render(w, r, status, "error", p)
}

// staticBase is where this host serves latchkey's stylesheet.
func (s *Server) staticBase(t *target) string {
	if t != nil && t.prefix == "" {
		return ownPrefix + "/static"
	}
	return "/static"
}

// proxy passes the request to the portal's upstream. The listener's read
// and write timeouts, meant for latchkey's pages, do not apply: uploads,
// downloads, streams and WebSockets take the time they take (the upstream
// transport has its own timeouts).
func (s *Server) proxy(w http.ResponseWriter, r *http.Request, g core.Gate, prefix, base string) {
	up, err := s.proxyState.upstream(g.Portal.Upstream)
	if err != nil { // core checked it when it was set
		s.internalError(w, r, fmt.Errorf("portal %s: upstream %q: %w", g.Portal.Slug, g.Portal.Upstream, err))
		return
	}
	rc := http.NewResponseController(w)
	rc.SetReadDeadline(time.Time{})
	rc.SetWriteDeadline(time.Time{})
	ri := info(r)
	t := &target{upstream: up, prefix: prefix, base: base, gate: g, start: time.Now(), metrics: s.portalMetrics(g.Portal.Slug)}
	ri.target, ri.route = t, "proxy"
	sw := &statusWriter{ResponseWriter: w}
	s.rp.ServeHTTP(sw, r)
	switch status := sw.status; status {
	case 0, http.StatusOK:
		t.metrics.ok.Inc()
	default:
		s.metrics.proxied.WithLabelValues(g.Portal.Slug, strconv.Itoa(status)).Inc()
	}
}
