package web_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	"latchkey/core"
)

// BenchmarkProxiedPage: a page of an upstream through latchkey's gate, and
// through a bare httputil.ReverseProxy, over keep-alive connections on
// 127.0.0.1 (the CPU of both ends in one process: for a profile, not a
// figure; make bench has the figure).
func BenchmarkProxiedPage(b *testing.B) {
	page := strings.Repeat("x", 1024)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, page) }))
	defer up.Close()
	s := newSite(b)
	s.setPortal("website-redesign", core.PortalPatch{Upstream: ptr(up.URL)})
	c := s.client()
	c.redeem(s.links["website-redesign"])
	cookie := c.cookie()
	target, _ := url.Parse(up.URL)
	bare := httptest.NewServer(httputil.NewSingleHostReverseProxy(target))
	defer bare.Close()
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	client := &http.Client{Transport: tr}
	run := func(b *testing.B, u string, withCookie bool) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				req, _ := http.NewRequest("GET", u, nil)
				if withCookie {
					req.AddCookie(cookie)
				}
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Fatalf("status %d", resp.StatusCode)
				}
			}
		})
	}
	b.Run("latchkey", func(b *testing.B) { run(b, s.url+"/p/website-redesign/page", true) })
	b.Run("bare", func(b *testing.B) { run(b, bare.URL+"/page", false) })
}
