package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"
)

// soak runs a mixed load at a fixed rate against the real binary and
// checks that it makes no errors and that memory and goroutines do not grow.
func soak(ctx context.Context, args []string) error {
	var c benchConfig
	var rate, conns int
	fs := flag.NewFlagSet("soak", flag.ContinueOnError)
	fs.StringVar(&c.latchkey, "latchkey", "bin/latchkey", "the latchkey binary")
	fs.DurationVar(&c.duration, "duration", 10*time.Minute, "how long to run")
	fs.IntVar(&rate, "rate", 200, "requests per second")
	fs.IntVar(&conns, "conns", 16, "concurrent connections")
	if err := fs.Parse(args); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "latchkey-soak-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	c.dir = dir
	say("preparing 10,000 links")
	d, err := prepare(filepath.Join(dir, "data"), 10000)
	if err != nil {
		return err
	}
	p, _, err := runLatchkey(&c, d, "soak")
	if err != nil {
		return err
	}
	defer p.stop()

	type route struct {
		name string
		ok   func(int) bool
		req  request
	}
	tok, red, em := pick(d.landing), pick(d.redeem), pick(d.emails)
	routes := []route{
		{"GET /m/{token}", status(200), get(func(i int) string { return "/m/" + tok(i) })},
		{"POST /m/{token}", status(303), post(func(i int) string { return "/m/" + red(i) }, nil)},
		{"POST /p/{slug}/access", status(200, 403), post(func(int) string { return "/p/website-redesign/access" }, func(i int) url.Values {
			if i%2 == 0 {
				return url.Values{"email": {em(i)}}
			}
			return url.Values{"email": {fmt.Sprintf("soak%d@acme.test", i%5000)}}
		})},
		{"GET /p/{slug}", status(403), get(func(int) string { return "/p/website-redesign" })},
		{"GET /healthz", status(200), get(func(int) string { return "/healthz" })},
	}
	mix := []int{0, 0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4} // landing-heavy, as links are clicked more than forms are sent

	tr := &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	warm := 15 * time.Second
	say("warming up for %s", warm)
	run := func(d time.Duration, record bool) (map[string][]time.Duration, int) {
		lat := map[string][]time.Duration{}
		errs := 0
		var mu sync.Mutex
		jobs := make(chan int, conns)
		var wg sync.WaitGroup
		for k := 0; k < conns; k++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range jobs {
					r := routes[mix[i%len(mix)]]
					req, _ := r.req(p.base, i)
					t0 := time.Now()
					resp, err := client.Do(req)
					bad := err != nil
					if err == nil {
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						bad = !r.ok(resp.StatusCode)
					}
					if record {
						mu.Lock()
						if bad {
							errs++
						} else {
							lat[r.name] = append(lat[r.name], time.Since(t0))
						}
						mu.Unlock()
					}
				}
			}()
		}
		tick := time.NewTicker(time.Second / time.Duration(rate))
		end := time.After(d)
	loop:
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				break loop
			case <-end:
				break loop
			case <-tick.C:
				select {
				case jobs <- i:
				default: // the server is behind: count it as an error
					if record {
						mu.Lock()
						errs++
						mu.Unlock()
					}
				}
			}
		}
		tick.Stop()
		close(jobs)
		wg.Wait()
		return lat, errs
	}
	run(warm, false)
	memStart, gorStart := scrape(p.base, "go_memstats_heap_inuse_bytes"), scrape(p.base, "go_goroutines")
	say("soaking for %s at %d requests/s", c.duration, rate)
	lat, errs := run(c.duration, true)
	memEnd, gorEnd := scrape(p.base, "go_memstats_heap_inuse_bytes"), scrape(p.base, "go_goroutines")

	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "route\trequests\tp50\tp99")
	for _, r := range routes {
		l := lat[r.name]
		slices.Sort(l)
		if len(l) == 0 {
			fmt.Fprintf(tw, "%s\t0\t-\t-\n", r.name)
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%v\t%v\n", r.name, len(l), l[len(l)/2].Round(10*time.Microsecond), l[len(l)*99/100].Round(10*time.Microsecond))
	}
	tw.Flush()
	fmt.Printf("errors: %d\nheap in use: %.1f MB at the start, %.1f MB at the end\ngoroutines: %.0f at the start, %.0f at the end\n",
		errs, memStart/(1<<20), memEnd/(1<<20), gorStart, gorEnd)
	var problems []string
	if errs > 0 {
		problems = append(problems, fmt.Sprintf("%d errors", errs))
	}
	if memEnd > memStart*1.10 {
		problems = append(problems, fmt.Sprintf("heap grew %.0f%%", (memEnd/memStart-1)*100))
	}
	if gorEnd > gorStart*1.10 {
		problems = append(problems, fmt.Sprintf("goroutines grew from %.0f to %.0f", gorStart, gorEnd))
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// scrape reads one value from /metrics (-1 if absent).
func scrape(base, name string) float64 {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	return -1
}
