package web_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// load sends GETs over conns keep-alive connections for d and returns the
// rate of 200 answers. next gives each request's path.
func load(tb testing.TB, base string, conns int, d time.Duration, next func(i int) string) float64 {
	tb.Helper()
	tr := &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var ok, bad atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for c := 0; c < conns; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			for i := c; ctx.Err() == nil; i += conns {
				resp, err := client.Get(base + next(i))
				if err != nil {
					if ctx.Err() == nil {
						bad.Add(1)
					}
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == 200 {
					ok.Add(1)
				} else {
					bad.Add(1)
				}
			}
		}(c)
	}
	wg.Wait()
	if n := bad.Load(); n > 0 {
		tb.Fatalf("%d requests failed", n)
	}
	return float64(ok.Load()) / time.Since(start).Seconds()
}

// bareServer is the baseline: net/http writing a 1 KB page.
func bareServer(tb testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	page := []byte("<!doctype html><title>bare</title><p>" + strings.Repeat("x", 1024-40) + "</p>")
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page)
	})}
	go srv.Serve(ln)
	tb.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

// BenchmarkLandingVsBare measures the landing page (GET /m/{token}) with
// 1,000,000 links stored against a bare net/http handler writing a 1 KB
// page, both over 64 keep-alive connections on loopback in the same run,
// and reports the ratio (target ≥ 0.5). Run it once:
//
//	go test -run '^$' -bench LandingVsBare -benchtime 1x ./core/web
func BenchmarkLandingVsBare(b *testing.B) {
	const conns, links = 64, 1000000
	d := 5 * time.Second
	s := newSite(b, noLimits)
	tokens := s.FillLinks(s.portal("website-redesign"), links)
	bare := bareServer(b)
	for b.Loop() {
		load(b, bare, conns, time.Second, func(int) string { return "/" }) // warm up both
		load(b, s.url, conns, time.Second, func(i int) string { return "/m/" + tokens[i%len(tokens)] })
		bareRate := load(b, bare, conns, d, func(int) string { return "/" })
		landingRate := load(b, s.url, conns, d, func(i int) string { return "/m/" + tokens[i%len(tokens)] })
		b.ReportMetric(bareRate, "bare-req/s")
		b.ReportMetric(landingRate, "landing-req/s")
		b.ReportMetric(landingRate/bareRate, "ratio")
		fmt.Printf("landing page, %d links, %d connections: %.0f req/s; bare handler: %.0f req/s; ratio %.2f\n",
			links, conns, landingRate, bareRate, landingRate/bareRate)
	}
}
