package web

import (
	"context"
	"encoding/hex"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"runtime/debug"
	"strings"
	"time"
)

// maxBody bounds every request body.
const maxBody = 64 << 10

type ctxKey int

const keyInfo ctxKey = iota

// reqInfo is what observe learns of a request, and what the handlers tell
// it back: one value in the request's context.
type reqInfo struct {
	id, addr string
	route    string  // set by handlers the mux does not name (the proxy)
	target   *target // a proxied request's upstream
}

func info(r *http.Request) *reqInfo {
	i, _ := r.Context().Value(keyInfo).(*reqInfo)
	if i == nil {
		return &reqInfo{}
	}
	return i
}

func requestID(r *http.Request) string { return info(r).id }

// clientAddr is the address a request came from, as observe resolved it.
func clientAddr(r *http.Request) string { return info(r).addr }

// ClientAddr is the address a request to the listener came from: the
// connection's peer, or what a trusted proxy said it was.
func ClientAddr(r *http.Request) string { return clientAddr(r) }

// statusWriter remembers the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// observe gives each request an id and its client address, recovers from
// panics, and records its route, status and latency in the log and metrics.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		var b [6]byte // a reference for logs and error pages, not a secret
		n := mrand.Uint64()
		for i := range b {
			b[i] = byte(n >> (8 * i))
		}
		id := hex.EncodeToString(b[:])
		addr := s.resolveClient(r)
		ri := &reqInfo{id: id, addr: addr}
		r = r.WithContext(context.WithValue(r.Context(), keyInfo, ri))
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.Error("panic serving request", "panic", fmt.Sprint(p), "request", id, "stack", string(debug.Stack()))
				if sw.status == 0 {
					s.errorPage(sw, r, http.StatusInternalServerError, "page.panic")
				}
			}
			route := r.Pattern
			switch {
			case route != "":
			case ri.route != "":
				route = ri.route
			default:
				route = "other"
			}
			status := sw.status
			if status == 0 {
				status = http.StatusOK
			}
			end := time.Now()
			d := end.Sub(start)
			o := s.observers.of(route, status)
			o.requests.Inc()
			o.latency.Observe(d.Seconds())
			if s.accessLog != nil {
				s.accessLog.line(end, r.Method, redactPath(r.URL.Path), route, status, d.Round(time.Microsecond), addr, id)
				return
			}
			s.log.LogAttrs(r.Context(), slog.LevelInfo, "request", slog.String("method", r.Method), slog.String("path", redactPath(r.URL.Path)),
				slog.String("route", route), slog.Int("status", status), slog.Duration("duration", d.Round(time.Microsecond)),
				slog.String("client", addr), slog.String("request", id))
		}()
		next.ServeHTTP(sw, r)
	})
}

// secure sets the headers every answer of latchkey's own pages carries
// (not the upstream's answers it proxies) and bounds request bodies.
func (s *Server) secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		setPageHeaders(h, s.cookie.secure)
		if strings.HasPrefix(r.URL.Path, "/static/") {
			h.Del("Cache-Control")
		}
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		}
		next.ServeHTTP(w, r)
	})
}

// pageCSP is the content security policy of latchkey's pages; formTo is
// another origin a form of the page may lead to (through redirects), ""
// for none.
func pageCSP(formTo string) string {
	action := "'self'"
	if formTo != "" {
		action += " " + formTo
	}
	return "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action " + action + "; frame-ancestors 'none'; base-uri 'none'"
}

// pageHeaders are the security headers of latchkey's pages, built once:
// setPageHeaders assigns their slices (each of length and capacity one,
// so that an Add elsewhere copies rather than writes into them) instead of
// canonicalizing and allocating seven values per request.
var pageHeaders = []struct {
	key string
	v   []string
}{
	{"Content-Security-Policy", []string{pageCSP("")}},
	{"X-Content-Type-Options", []string{"nosniff"}},
	{"X-Frame-Options", []string{"DENY"}},
	{"Referrer-Policy", []string{"no-referrer"}},
	{"Cross-Origin-Opener-Policy", []string{"same-origin"}},
	// Pages carry tokens or a person's data: never stored by caches.
	{"Cache-Control", []string{"no-store"}},
}

var hsts = []string{"max-age=31536000"}

// setPageHeaders are the security headers of a page of latchkey's.
func setPageHeaders(h http.Header, https bool) {
	for _, ph := range pageHeaders {
		h[ph.key] = ph.v
	}
	if https {
		h["Strict-Transport-Security"] = hsts
	}
}

// redactPath hides the token of /m/, /restore/ and /join/ addresses in logs.
func redactPath(p string) string {
	for _, prefix := range []string{"/m/", "/restore/", "/join/"} {
		if strings.HasPrefix(p, prefix) && len(p) > len(prefix) {
			return prefix + "[token]"
		}
	}
	if len(p) > 200 {
		return p[:200] + "…"
	}
	return p
}

// resolveClient is the client's address: the connection's peer, or, when
// that peer is a trusted proxy, the nearest untrusted address in
// X-Forwarded-For.
func (s *Server) resolveClient(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	peer = peer.Unmap()
	if !s.trusted(peer) {
		return peer.String()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		a = a.Unmap()
		if !s.trusted(a) {
			return a.String()
		}
	}
	return peer.String()
}

func (s *Server) trusted(a netip.Addr) bool {
	for _, p := range s.proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
