// Package api is latchkey's HTTP admin API, /api/v1: JSON over HTTP for
// the agency's other systems, authenticated by API tokens, described by
// the OpenAPI document it serves (openapi.json, the truth of the
// interface). Like every adapter it renders core's decisions and
// core.Describe's sentences; it decides nothing itself but which scope an
// endpoint needs.
package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"latchkey/core"
)

// Prefix is where the API is mounted.
const Prefix = "/api/v1"

// MaxBody bounds every request body.
const MaxBody = 64 << 10

//go:embed openapi.json
var openAPIDocument []byte

// OpenAPI is the document that describes the API.
func OpenAPI() []byte { return bytes.Clone(openAPIDocument) }

// DefaultLimit is each token's request budget: 20 a second, with bursts
// of 200.
var DefaultLimit = core.Limit{Every: 50 * time.Millisecond, Burst: 200}

// Config wires the API.
type Config struct {
	Service *core.Service
	Logger  *slog.Logger
	// Limit is each token's rate limit (the zero value: DefaultLimit;
	// LimitsOff turns it off).
	Limit     core.Limit
	LimitsOff bool
	// ClientAddr is the address a request came from (the portal
	// listener's, which knows the trusted proxies); default RemoteAddr.
	ClientAddr func(*http.Request) string
	// Now is the rate limiter's clock (default time.Now).
	Now func() time.Time
}

// Handler serves /api/v1.
type Handler struct {
	svc     *core.Service
	log     *slog.Logger
	limit   *core.Keyed
	addr    func(*http.Request) string
	mux     *http.ServeMux
	pending sync.Map // idempotency keys being answered: StoreKey → struct{}
}

// New builds the API's handler.
func New(c Config) (*Handler, error) {
	if c.Service == nil {
		return nil, errors.New("api: a service is required")
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.ClientAddr == nil {
		c.ClientAddr = func(r *http.Request) string { return r.RemoteAddr }
	}
	lim := c.Limit
	if lim.Off() {
		lim = DefaultLimit
	}
	if c.LimitsOff {
		lim = core.Limit{}
	}
	h := &Handler{svc: c.Service, log: c.Logger.With("component", "api"), limit: core.NewKeyed(lim, c.Now), addr: c.ClientAddr,
		mux: http.NewServeMux()}
	h.routes()
	return h, nil
}

// ServeHTTP answers one API request. Cookies never authenticate it, so
// cross-site request forgery does not apply: only the bearer token does.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	hd.Set("Referrer-Policy", "no-referrer")
	h.mux.ServeHTTP(w, r)
}

// call is one authenticated request: the token, the actor it acts as, and
// the request.
type call struct {
	h     *Handler
	w     http.ResponseWriter
	r     *http.Request
	tok   core.APIToken
	actor core.Actor
	ctx   context.Context
}

// endpoint is an API operation: the scope it needs ("" for none beyond a
// valid token) and what it does. It returns the status and the value to
// write as JSON (nil with 204), or an error to write as a problem.
type endpoint func(c *call) (int, any, error)

// handle registers an authenticated endpoint.
func (h *Handler) handle(pattern string, scope core.Scope, fn endpoint) {
	h.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		c, ok := h.authenticate(w, r)
		if !ok {
			return
		}
		if scope != "" && !c.tok.Has(scope) {
			writeProblem(w, missingScope(scope))
			return
		}
		if key := r.Header.Get("Idempotency-Key"); r.Method == http.MethodPost && key != "" {
			h.idempotent(c, key, fn)
			return
		}
		status, v, err := fn(c)
		if err != nil {
			writeProblem(w, problemOf(err))
			return
		}
		writeJSON(w, status, v)
	})
}

// authenticate reads the bearer token, checks it and its budget; it writes
// the problem and reports false when the request goes no further.
func (h *Handler) authenticate(w http.ResponseWriter, r *http.Request) (*call, bool) {
	auth := r.Header.Get("Authorization")
	scheme, secret, _ := strings.Cut(auth, " ")
	if auth == "" || !strings.EqualFold(scheme, "Bearer") {
		writeProblem(w, &problem{Type: typeUnauthorized, Status: http.StatusUnauthorized,
			Title: "Give an API token: Authorization: Bearer lk_…"})
		return nil, false
	}
	tok, actor, err := h.svc.AuthenticateAPIToken(r.Context(), strings.TrimSpace(secret), "api:"+h.addr(r))
	if err != nil {
		writeProblem(w, problemOf(err))
		return nil, false
	}
	if ok, wait := h.limit.Allow(strconv.FormatUint(tok.ID, 10)); !ok {
		writeProblem(w, problemOf(&core.RateLimitError{What: "requests with this token", Retry: wait}))
		return nil, false
	}
	return &call{h: h, w: w, r: r, tok: tok, actor: actor, ctx: r.Context()}, true
}

// idempotent runs a POST with an Idempotency-Key: a retry gets the first
// answer and changes nothing more (the key is claimed in the transaction
// of the request's first change, see core.WithIdempotency).
func (h *Handler) idempotent(c *call, key string, fn endpoint) {
	if len(key) > 255 || strings.ContainsFunc(key, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
		writeProblem(c.w, &problem{Type: typeInvalid, Status: http.StatusBadRequest,
			Title:  "The Idempotency-Key header must be 1 to 255 visible ASCII characters",
			Errors: []fieldError{{Field: "Idempotency-Key", Reason: "1 to 255 visible ASCII characters, like a UUID"}}})
		return
	}
	body, err := readBody(c.r)
	if err != nil {
		writeProblem(c.w, problemOf(err))
		return
	}
	sum := sha256.New()
	fmt.Fprintf(sum, "%s %s?%s\n", c.r.Method, c.r.URL.Path, c.r.URL.RawQuery)
	sum.Write(body)
	k := &core.Idempotency{Scope: "token:" + strconv.FormatUint(c.tok.ID, 10), Key: key, Fingerprint: sum.Sum(nil)}
	if h.replay(c, k) {
		return
	}
	if _, busy := h.pending.LoadOrStore(k.StoreKey(), struct{}{}); busy {
		writeProblem(c.w, inFlight())
		return
	}
	defer h.pending.Delete(k.StoreKey())
	if h.replay(c, k) { // answered between the first look and the claim of pending
		return
	}
	c.ctx = core.WithIdempotency(c.r.Context(), k)
	status, v, err := fn(c)
	if errors.Is(err, core.ErrIdempotencyReplay) { // another node, or a request before a crash, holds the key
		if !h.replay(c, k) {
			writeProblem(c.w, inFlight())
		}
		return
	}
	var buf bytes.Buffer
	ctype := "application/json"
	if err != nil {
		p := problemOf(err)
		if p.Status >= 500 || p.Status == http.StatusTooManyRequests {
			writeProblem(c.w, p) // not kept: a retry may succeed
			return
		}
		status, ctype = p.Status, "application/problem+json"
		json.NewEncoder(&buf).Encode(p)
	} else if v != nil {
		json.NewEncoder(&buf).Encode(v)
	}
	if err := h.svc.StoreIdempotentAnswer(context.WithoutCancel(c.r.Context()), k, status, ctype, buf.Bytes()); err != nil {
		h.log.Error("store idempotent answer", "err", err)
	}
	writeRaw(c.w, status, ctype, buf.Bytes())
}

// replay writes the stored answer to the key, if there is one, and reports
// whether it did.
func (h *Handler) replay(c *call, k *core.Idempotency) bool {
	rec, err := h.svc.IdempotentAnswer(c.r.Context(), k)
	switch {
	case errors.Is(err, core.ErrNotFound):
		return false
	case err != nil:
		writeProblem(c.w, problemOf(err))
		return true
	case !rec.SameRequest(k):
		writeProblem(c.w, &problem{Type: typeIdempotencyMismatch, Status: http.StatusUnprocessableEntity,
			Title: "This Idempotency-Key was used for a different request in the last 24 hours; use a new key for a new request"})
		return true
	case rec.Status == 0:
		writeProblem(c.w, &problem{Type: typeIdempotencyInFlight, Status: http.StatusConflict,
			Title: "The request with this Idempotency-Key was carried out, but its answer was not kept (the server stopped); read the resource to see its state"})
		return true
	}
	c.w.Header().Set("Idempotent-Replayed", "true")
	writeRaw(c.w, rec.Status, rec.ContentType, rec.Body)
	return true
}

func inFlight() *problem {
	return &problem{Type: typeIdempotencyInFlight, Status: http.StatusConflict,
		Title: "A request with this Idempotency-Key is being answered; retry it in a moment"}
}

// readBody reads a request body of at most MaxBody bytes, once: it stays
// readable for the endpoint.
func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	b, err := readAllLimited(r)
	if err != nil {
		return nil, err
	}
	r.Body = readCloser{bytes.NewReader(b)}
	return b, nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	if v == nil {
		w.WriteHeader(status)
		return
	}
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(v); err != nil {
		writeProblem(w, problemOf(err))
		return
	}
	writeRaw(w, status, "application/json", buf.Bytes())
}

func writeRaw(w http.ResponseWriter, status int, ctype string, body []byte) {
	if len(body) > 0 {
		w.Header().Set("Content-Type", ctype)
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	}
	w.WriteHeader(status)
	w.Write(body)
}
