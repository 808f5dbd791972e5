package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"latchkey/core"
	"latchkey/core/i18n"
)

// Config wires the portal listener.
type Config struct {
	Service *core.Service
	Logger  *slog.Logger
	// Registry receives the listener's metrics and is served at /metrics.
	Registry *prometheus.Registry
	// TrustedProxies are the addresses whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	// Limits are the rate limits; the zero value means DefaultLimits.
	Limits *Limits
	// MailViewer mounts /_mail, the built-in catcher's messages. Turn it on
	// only while the catcher runs and the listener binds a loopback address:
	// caught mail holds live magic links.
	MailViewer bool
	// Now is the clock of the rate limiters (default time.Now).
	Now func() time.Time
	// API serves /api/ (see core/api): authenticated by bearer tokens, so
	// outside the pages' cross-origin protection and security headers.
	API http.Handler
	// AccessLog, when set, receives each request's log line, formatted by
	// hand as the Logger's text handler would (one Write a line) instead of
	// through the Logger; give it the Logger's writer, and only when the
	// Logger's level lets info through.
	AccessLog io.Writer
}

// Server is the portal listener.
type Server struct {
	svc        *core.Service
	log        *slog.Logger
	i18n       *i18n.Bundle
	tmpl       *templates
	fast       fastPages
	results    map[resultShape]*fastPage // the access form's answers; see serveResult
	md         *markdown
	metrics    *metrics
	reg        *prometheus.Registry
	limits     *limiters
	proxies    []netip.Prefix
	cookie     cookieConfig
	pub        *url.URL // the public URL
	pubHost    string   // its host name, lower case, without a port
	rp         *httputil.ReverseProxy
	assertions *assertions
	csrf       *http.CrossOriginProtection
	pages      http.Handler // latchkey's own pages, behind their security headers and CSRF protection
	proxyState proxyState
	api        http.Handler
	handler    http.Handler
	accessLog  *accessLog // nil: request lines go through log
	observers  observers
}

// New builds the listener's handler.
func New(c Config) (*Server, error) {
	if c.Service == nil {
		return nil, errors.New("web: a service is required")
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Registry == nil {
		c.Registry = prometheus.NewRegistry()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	lim := DefaultLimits()
	if c.Limits != nil {
		lim = *c.Limits
	}
	bundle, err := i18n.New()
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	tmpl, err := parseTemplates()
	if err != nil {
		return nil, fmt.Errorf("web: templates: %w", err)
	}
	fast, err := compileFastPages(tmpl, bundle)
	if err != nil {
		return nil, fmt.Errorf("web: templates: %w", err)
	}
	results, err := compileFastResults(tmpl, bundle)
	if err != nil {
		return nil, fmt.Errorf("web: templates: %w", err)
	}
	m, err := newMetrics(c.Registry)
	if err != nil {
		return nil, err
	}
	pub, err := url.Parse(c.Service.PublicURL())
	if err != nil || pub.Host == "" {
		return nil, fmt.Errorf("web: public URL %q: not a URL", c.Service.PublicURL())
	}
	s := &Server{
		svc: c.Service, i18n: bundle, log: c.Logger.With("component", "web"), tmpl: tmpl, fast: fast, results: results, md: newMarkdown(), metrics: m, reg: c.Registry,
		limits: newLimiters(lim, c.Now), proxies: c.TrustedProxies, api: c.API,
		cookie: newCookieConfig(c.Service.PublicURL()), pub: pub, pubHost: strings.ToLower(pub.Hostname()),
		observers: observers{m: m},
	}
	if c.AccessLog != nil {
		s.accessLog = newAccessLog(c.AccessLog)
	}
	if s.assertions, err = newAssertions(c.Service.Keys(), c.Service.PublicURL(), c.Service.Now); err != nil {
		return nil, fmt.Errorf("web: assertion signer: %w", err)
	}
	s.rp = newReverseProxy(s)
	s.proxyState.upstreams, s.proxyState.portals = map[string]*url.URL{}, map[string]*portalMetrics{}
	mux := http.NewServeMux()
	s.routes(mux, c.MailViewer)
	s.csrf = http.NewCrossOriginProtection()
	if err := s.csrf.AddTrustedOrigin(c.Service.PublicURL()); err != nil {
		return nil, fmt.Errorf("web: public URL as trusted origin: %w", err)
	}
	s.csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.errorPage(w, r, http.StatusForbidden, "page.cross_site")
	}))
	s.pages = s.secure(s.csrf.Handler(mux))
	s.handler = s.observe(http.HandlerFunc(s.route))
	return s, nil
}

// Handler is the listener's whole HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

func (s *Server) routes(mux *http.ServeMux, mailViewer bool) {
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/portals", http.StatusSeeOther) })
	mux.HandleFunc("GET /static/style.css", s.style)
	mux.HandleFunc("GET /static/logo/{file}", func(w http.ResponseWriter, r *http.Request) { s.logoFile(w, r, r.PathValue("file")) })
	mux.HandleFunc("GET /static/accent/{file}", func(w http.ResponseWriter, r *http.Request) { s.accentFile(w, r, r.PathValue("file")) })
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /.well-known/jwks.json", s.jwks)
	mux.HandleFunc("GET "+ownPrefix+"/authorize", s.authorize)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /m/{token}", s.landing)
	mux.HandleFunc("POST /m/{token}", s.redeem)
	mux.HandleFunc("GET /p/{slug}", s.portal)
	mux.HandleFunc("POST /p/{slug}/access", s.access)
	mux.HandleFunc("POST "+codePath, s.useCode)
	mux.HandleFunc("GET /requests/{token}", s.requestAction)
	mux.HandleFunc("POST /requests/{token}", s.answerRequest)
	mux.HandleFunc("GET /portals", s.portals)
	mux.HandleFunc("GET /links", s.myLinksForm)
	mux.HandleFunc("POST /links", s.myLinks)
	mux.HandleFunc("GET /login", s.loginForm)
	mux.HandleFunc("POST /login", s.login)
	mux.HandleFunc("POST /logout", s.logout)
	// Signing out is a POST (a link or an image must not end a session);
	// someone who types the address lands where the Sign out button is.
	mux.HandleFunc("GET /logout", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/portals", http.StatusSeeOther) })
	mux.HandleFunc("GET /restore", s.restoreForm)
	mux.HandleFunc("POST /restore", s.restore)
	mux.HandleFunc("GET /restore/{token}", s.restoreTokenForm)
	mux.HandleFunc("POST /restore/{token}", s.restoreToken)
	mux.HandleFunc("GET /join/{token}", s.joinForm)
	mux.HandleFunc("POST /join/{token}", s.join)
	if mailViewer {
		mux.HandleFunc("GET /_mail", s.mailList)
		mux.HandleFunc("GET /_mail/{id}", s.mailView)
		mux.HandleFunc("GET /_mail/{id}/html", s.mailHTML)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			s.errorPage(w, r, http.StatusMethodNotAllowed, "page.not_allowed")
			return
		}
		s.notFound(w, r)
	})
}

func (s *Server) style(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Write(styleCSS)
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.svc.Ping(ctx); err != nil {
		s.log.Error("health check", "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, `{"status":"unavailable","storage":"not reachable"}`)
		return
	}
	fmt.Fprintln(w, `{"status":"ok","storage":"ok"}`)
}

// Serve runs the listener on ln until ctx ends, then shuts down gracefully:
// requests in flight get up to grace to finish.
func (s *Server) Serve(ctx context.Context, ln net.Listener, grace time.Duration) error {
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
		return fmt.Errorf("web: shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// ParseTrustedProxies reads a comma-separated list of addresses and CIDR prefixes.
func ParseTrustedProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("%q is neither an IP address nor a CIDR prefix", f)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}
