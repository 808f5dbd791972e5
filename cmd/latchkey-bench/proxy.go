package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync"

	"latchkey/core"
	"latchkey/storage"
)

// serveBareProxy is the proxy's baseline: httputil.ReverseProxy to the
// upstream with no checks at all, but pooled copy buffers and kept
// connections as latchkey's has, so that the ratio is the cost of the
// checks, not of proxying.
//
// With "identity", it also sets the six identity headers latchkey sends,
// fixed values of the same sizes (an assertion of 450 bytes): the floor of
// what fronting an app with identity costs, without checking anything.
func serveBareProxy(ctx context.Context, args []string) error {
	if len(args) < 2 || len(args) > 3 || len(args) == 3 && args[2] != "identity" {
		return errors.New("usage: serve-bare-proxy ADDR UPSTREAM [identity]")
	}
	up, err := url.Parse(args[1])
	if err != nil {
		return err
	}
	identity := len(args) == 3
	assertion := strings.Repeat("A", 450)
	rp := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.Out.URL.Path = strings.TrimPrefix(pr.In.URL.Path, "/p/website-redesign")
		pr.SetURL(up)
		pr.SetXForwarded()
		if identity {
			h := pr.Out.Header
			h["X-Latchkey-User"], h["X-Latchkey-Email"], h["X-Latchkey-Name"] = []string{"4"}, []string{"client@acme.test"}, []string{"Casey Client"}
			h["X-Latchkey-Role"], h["X-Latchkey-Portal"], h["X-Latchkey-Assertion"] = []string{"client"}, []string{"website-redesign"}, []string{assertion}
		}
	}, Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 128}, BufferPool: &buffers{}}
	return serve(ctx, args[0], rp)
}

// proxied: a page of an upstream through latchkey (the session checked,
// the identity headers and assertion set, on every request) against a bare
// httputil.ReverseProxy to the same upstream; the upstream fetched directly
// is printed beside them.
func proxied(ctx context.Context, c *benchConfig, _, small *dataDir, add func(row)) error {
	addr := freeAddr()
	upstream, _, err := start(c.dir, "upstream", addr, "/", c.self, "serve-bare", addr)
	if err != nil {
		return err
	}
	defer upstream.stop()
	data, err := prepare(filepath.Join(c.dir, "proxy"), 1000)
	if err != nil {
		return err
	}
	if err := setUpstream(data, upstream.base); err != nil {
		return err
	}
	addr = freeAddr()
	bare, _, err := start(c.dir, "bare-proxy", addr, "/", c.self, "serve-bare-proxy", addr, upstream.base)
	if err != nil {
		return err
	}
	defer bare.stop()
	lk, _, err := runLatchkey(c, data, "proxy")
	if err != nil {
		return err
	}
	defer lk.stop()
	cookie, err := signIn(lk.base, data.redeem[0])
	if err != nil {
		return err
	}
	page := func(int) string { return "/p/website-redesign/page" }
	withCookie := func(base string, i int) (*http.Request, error) {
		req, err := http.NewRequest(http.MethodGet, base+page(i), nil)
		if err == nil {
			req.Header.Set("Cookie", cookie)
		}
		return req, err
	}
	targets := []target{{bare, status(200), get(page)}, {lk, status(200), withCookie},
		{upstream, status(200), get(func(int) string { return "/page" })}}
	if c.floor {
		addr = freeAddr()
		floor, _, err := start(c.dir, "floor-proxy", addr, "/", c.self, "serve-bare-proxy", addr, upstream.base, "identity")
		if err != nil {
			return err
		}
		defer floor.stop()
		targets = append(targets, target{floor, status(200), get(page)})
	}
	rs := interleave(ctx, c, targets...)
	for i, r := range rs {
		if r.errs > 0 {
			return fmt.Errorf("proxy load %d had %d errors", i, r.errs)
		}
	}
	say("the upstream fetched directly: %.0f req/s", rs[2].rate)
	if c.floor {
		say("floor: the bare proxy adding latchkey's six identity headers (fixed values of their sizes): %.1f req/s, ratio %.2f to the bare proxy",
			rs[3].rate, rs[3].rate/rs[0].rate)
	}
	ratio := rs[1].rate / rs[0].rate
	add(row{Scenario: "proxied page GET /p/{slug}/… (session checked each request), req/s", Measured: rs[1].rate, Baseline: rs[0].rate,
		Ratio: ratio, Target: ">= 0.85", Met: ratio >= 0.85})
	return nil
}

// setUpstream makes the data's website-redesign portal front upstream.
func setUpstream(d *dataDir, upstream string) error {
	st, err := storage.Open(filepath.Join(d.path, "latchkey.db"), storage.Options{NoSync: true})
	if err != nil {
		return err
	}
	defer st.Close()
	keys, _, err := storage.LoadOrCreateKeys(filepath.Join(d.path, "latchkey.key"))
	if err != nil {
		return err
	}
	svc, err := core.New(core.Config{Store: st, Keys: keys, PublicURL: "http://127.0.0.1", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}
	ctx := context.Background()
	ref, err := svc.PortalBySlug(ctx, core.AdminActor("bench"), "website-redesign")
	if err != nil {
		return err
	}
	_, err = svc.PatchPortal(ctx, core.AdminActor("bench"), ref.Portal.ID, core.PortalPatch{Upstream: &upstream})
	return err
}

// signIn presses Open portal with a link and returns the session cookie.
func signIn(base, token string) (string, error) {
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.PostForm(base+"/m/"+token, nil)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if strings.HasSuffix(c.Name, "latchkey_session") {
			return c.Name + "=" + c.Value, nil
		}
	}
	return "", fmt.Errorf("Open portal answered %d without a session", resp.StatusCode)
}

// buffers lends the 32 KB buffers that copy bodies.
type buffers struct{ p sync.Pool }

func (b *buffers) Get() []byte {
	if v, ok := b.p.Get().(*[]byte); ok {
		return *v
	}
	return make([]byte, 32<<10)
}
func (b *buffers) Put(v []byte) { b.p.Put(&v) }
