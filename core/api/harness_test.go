package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/prometheus/client_golang/prometheus"

	"latchkey/core"
	"latchkey/core/api"
	"latchkey/core/web"
	"latchkey/storage/storetest"
)

// instance is latchkey's listener with the API mounted, over the demo
// data, on 127.0.0.1; every request and answer of a test goes through
// the OpenAPI document's validator.
type instance struct {
	*storetest.Env
	t      testing.TB
	url    string
	client *http.Client
	org    core.Org
	owner  core.Actor
	links  map[string]string // portal slug → a demo magic link's token
}

type apiOption func(*api.Config, *[]storetest.Option)

// withLimit sets the tokens' rate limit.
func withLimit(l core.Limit) apiOption {
	return func(c *api.Config, _ *[]storetest.Option) { c.Limit = l }
}

var (
	specOnce   sync.Once
	specRouter routers.Router
	specErr    error
)

// spec is the served document, loaded once, as the validator reads it.
func spec(t testing.TB) routers.Router {
	specOnce.Do(func() {
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromData(api.OpenAPI())
		if err != nil {
			specErr = err
			return
		}
		if err := doc.Validate(context.Background()); err != nil {
			specErr = err
			return
		}
		doc.Servers = openapi3.Servers{{URL: "http://127.0.0.1/api/v1"}} // any host: routes match by path
		specRouter, specErr = gorillamux.NewRouter(doc)
	})
	if specErr != nil {
		t.Fatalf("the OpenAPI document: %v", specErr)
	}
	return specRouter
}

func newInstance(t testing.TB, opts ...apiOption) *instance {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	acfg := api.Config{}
	coreOpts := []storetest.Option{storetest.PublicURL(base)}
	for _, o := range opts {
		o(&acfg, &coreOpts)
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
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	acfg.Service, acfg.Logger, acfg.Now, acfg.ClientAddr = env.Svc, logger, env.Clock.Now, web.ClientAddr
	h, err := api.New(acfg)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := web.New(web.Config{Service: env.Svc, Logger: logger, Registry: prometheus.NewRegistry(), Now: env.Clock.Now, API: h})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln, 5*time.Second) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	orgs := storetest.Must(env.Svc.Orgs(env.Ctx, env.Admin))
	org := orgs[0]
	ownerM := storetest.Must(env.Svc.Members(env.Ctx, env.Admin, org.ID))
	in := &instance{Env: env, t: t, url: base, org: org, links: links}
	for _, m := range ownerM {
		if m.Member.Role == core.RoleOwner {
			in.owner = core.UserActor(m.User, "test")
		}
	}
	in.client = &http.Client{Transport: &validating{t: t, next: http.DefaultTransport}}
	return in
}

// token makes an API token of the demo's organization with the scopes.
func (in *instance) token(scopes ...core.Scope) string {
	in.t.Helper()
	if len(scopes) == 0 {
		scopes = core.Scopes
	}
	_, secret, err := in.Svc.CreateAPIToken(in.Ctx, in.owner, core.NewAPIToken{OrgID: in.org.ID,
		Name: "test " + strings.Join(func() []string {
			s := make([]string, len(scopes))
			for i, x := range scopes {
				s[i] = string(x)
			}
			return s
		}(), " ") + " " + time.Now().Format(time.RFC3339Nano), Scopes: scopes})
	if err != nil {
		in.t.Fatal(err)
	}
	return secret
}

// answer is a response, read.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(a.body, v); err != nil {
		t.Fatalf("answer %d %s: %v", a.status, a.body, err)
	}
}

// problem is the answer as a problem document.
func (a answer) problem(t testing.TB) problemDoc {
	t.Helper()
	var p problemDoc
	a.json(t, &p)
	if ct := a.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("a %d answered %s, not application/problem+json: %s", a.status, ct, a.body)
	}
	return p
}

type problemDoc struct {
	Type         string `json:"type"`
	Title        string `json:"title"`
	Status       int    `json:"status"`
	MissingScope string `json:"missing_scope"`
	RetryAfter   int    `json:"retry_after"`
	Errors       []struct {
		Field, Reason string
	} `json:"errors"`
}

// do sends a request with the token ("" for none) and headers (name,
// value pairs), body as JSON unless it is a string or []byte.
func (in *instance) do(method, path, token string, body any, headers ...string) answer {
	in.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			in.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, in.url+api.Prefix+path, rd)
	if err != nil {
		in.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := in.client.Do(req)
	if err != nil {
		in.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		in.t.Fatal(err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: b}
}

// validating checks every request and answer against the OpenAPI
// document: a request the document does not describe, or an answer that
// does not match it, fails the test. Requests a test sends malformed on
// purpose (marked with the header X-Test-Malformed) are checked only for
// their answer.
type validating struct {
	t    testing.TB
	next http.RoundTripper
}

func (v *validating) RoundTrip(req *http.Request) (*http.Response, error) {
	router := spec(v.t)
	var reqBody []byte
	if req.Body != nil {
		reqBody, _ = io.ReadAll(req.Body)
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	probe := req.Clone(req.Context())
	probe.Body = io.NopCloser(bytes.NewReader(reqBody))
	route, params, err := router.FindRoute(probe)
	if strings.HasSuffix(req.URL.Path, "/openapi.json") {
		return v.next.RoundTrip(req)
	}
	malformedOnPurpose := req.Header.Get("X-Test-Malformed") != ""
	if err != nil {
		if malformedOnPurpose {
			return v.next.RoundTrip(req)
		}
		v.t.Errorf("%s %s is not in the OpenAPI document: %v", req.Method, req.URL.Path, err)
		return v.next.RoundTrip(req)
	}
	in := &openapi3filter.RequestValidationInput{Request: probe, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
	if err := openapi3filter.ValidateRequest(req.Context(), in); err != nil && !malformedOnPurpose {
		v.t.Errorf("%s %s does not match the OpenAPI document: %v", req.Method, req.URL.Path, err)
	}
	resp, err := v.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true}}
	out.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(req.Context(), out); err != nil {
		v.t.Errorf("the answer %d to %s %s does not match the OpenAPI document: %v\n%s", resp.StatusCode, req.Method, req.URL.Path, err, body)
	}
	return resp, nil
}
