package web_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"latchkey/core/coretest"
	"latchkey/storage"
	"latchkey/core"
)

func durable(c *core.Config, so *storage.Options) { so.NoSync = false; so.GroupCommit = true; so.MaxBatchDelay = 2 * time.Millisecond }

func TestDbgRedeemLoad(t *testing.T) {
	s := newSite(t, noLimits, withCore(durable), withCore(coretest.RealClock))
	tokens := s.FillLinks(s.portal("website-redesign"), 1000000)
	r := load(t, s.url, 64, 3*time.Second, func(i int) string { return "/m/" + tokens[i%len(tokens)] })
	t.Logf("GET rate %.0f", r)
	n := 0
	start := time.Now()
	done := make(chan int, 64)
	for c := 0; c < 64; c++ {
		go func(c int) {
			k := 0
			client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			for i := c; time.Since(start) < 3*time.Second; i += 64 {
				resp, err := client.Post(s.url+"/m/"+tokens[i%len(tokens)], "application/x-www-form-urlencoded", strings.NewReader(""))
				if err == nil {
					resp.Body.Close()
					if resp.StatusCode == 303 {
						k++
					}
				}
			}
			done <- k
		}(c)
	}
	for c := 0; c < 64; c++ {
		n += <-done
	}
	t.Logf("POST rate %.0f/s", float64(n)/time.Since(start).Seconds())
}
