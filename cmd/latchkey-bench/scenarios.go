package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// The scenarios of the table: each measures latchkey and its baseline in
// the same run and adds their rows.

// landing: GET /m/{token} with 1,000,000 links against a bare 1 KB page,
// and its cost growth from 10,000 to 1,000,000 links.
func landing(ctx context.Context, c *benchConfig, big, small *dataDir, add func(row)) error {
	addr := freeAddr()
	bare, _, err := start(c.dir, "bare", addr, "/", c.self, "serve-bare", addr)
	if err != nil {
		return err
	}
	defer bare.stop()
	lkBig, _, err := runLatchkey(c, big, "landing-1m")
	if err != nil {
		return err
	}
	defer lkBig.stop()
	lkSmall, _, err := runLatchkey(c, small, "landing-10k")
	if err != nil {
		return err
	}
	defer lkSmall.stop()
	tokBig, tokSmall := pick(big.landing), pick(small.landing)
	rs := interleave(ctx, c, target{bare, status(200), get(func(int) string { return "/" })},
		target{lkBig, status(200), get(func(i int) string { return "/m/" + tokBig(i) })},
		target{lkSmall, status(200), get(func(i int) string { return "/m/" + tokSmall(i) })})
	baseline, atBig, atSmall := rs[0], rs[1], rs[2]
	c.bare = baseline.rate
	if atBig.errs+atSmall.errs+baseline.errs > 0 {
		return fmt.Errorf("landing load had errors: %d, %d, %d", atBig.errs, atSmall.errs, baseline.errs)
	}
	ratio := atBig.rate / baseline.rate
	add(row{Scenario: "landing page GET /m/{token}, 1,000,000 links, req/s", Measured: atBig.rate, Baseline: baseline.rate, Ratio: ratio, Target: ">= 0.80", Met: ratio >= 0.80})
	growth := atSmall.rate / atBig.rate
	add(row{Scenario: "cost growth: landing page at 1,000,000 vs 10,000 links", Measured: atBig.rate, Baseline: atSmall.rate, Ratio: growth, Target: "<= 1.15", Met: growth <= 1.15})
	return nil
}

// durableBaseline runs the bare durable-write server through the same load.
func durableBaseline(ctx context.Context, c *benchConfig, name string) (result, error) {
	addr := freeAddr()
	p, _, err := start(c.dir, name, addr, "/", c.self, "serve-durable", addr, filepath.Join(c.dir, name+".db"))
	if err != nil {
		return result{}, err
	}
	defer p.stop()
	r := warmThenLoad(ctx, c, p, status(200), post(func(int) string { return "/" }, nil))
	if r.errs > 0 {
		return r, fmt.Errorf("%s: %d errors", name, r.errs)
	}
	return r, nil
}

// redemption: POST /m/{token}, durable, against one durable write per
// request, in two rows: returning visitors (each link redeemed once by its
// person before the load: the account, membership and access exist, and a
// redemption appends a session and a use) and first use (each request a
// link never pressed: it creates the account, the membership and the
// access too).
func redemption(ctx context.Context, c *benchConfig, big, _ *dataDir, add func(row)) error {
	base, err := durableBaseline(ctx, c, "durable-redeem")
	if err != nil {
		return err
	}
	lk, _, err := runLatchkey(c, big, "redeem")
	if err != nil {
		return err
	}
	defer lk.stop()
	if err := redeemEach(ctx, lk.base, big.redeem); err != nil {
		return err
	}
	tok := pick(big.redeem)
	r := warmThenLoad(ctx, c, lk, status(http.StatusSeeOther), post(func(i int) string { return "/m/" + tok(i) }, nil))
	if r.errs > 0 {
		return fmt.Errorf("redemption load had %d errors", r.errs)
	}
	ratio := r.rate / base.rate
	add(row{Scenario: "redemption POST /m/{token}, returning visitor (durable), req/s", Measured: r.rate, Baseline: base.rate, Ratio: ratio, Target: ">= 0.80", Met: ratio >= 0.80})
	p99 := ms(r.p99)
	add(row{Scenario: "redemption p99 latency, returning visitor, ms", Measured: p99, Baseline: ms(base.p99), Ratio: p99 / math.Max(ms(base.p99), 0.001), Target: "<= 15 ms", Met: p99 <= 15})

	// First use: every request takes the next unused link, warm-up included.
	lk.name = "redeem-first" // its own line and profile
	var next atomic.Int64
	fresh := func(base string, _ int) (*http.Request, error) {
		n := int(next.Add(1)) - 1
		if n >= len(big.first) {
			return nil, fmt.Errorf("only %d links never used: lengthen the sample", len(big.first))
		}
		return post(func(int) string { return "/m/" + big.first[n] }, nil)(base, 0)
	}
	f := warmThenLoad(ctx, c, lk, status(http.StatusSeeOther), fresh)
	if f.errs > 0 {
		return fmt.Errorf("first-use load had %d errors (%d links used of %d)", f.errs, next.Load(), len(big.first))
	}
	ratio = f.rate / base.rate
	add(row{Scenario: "redemption POST /m/{token}, first use (durable), req/s", Measured: f.rate, Baseline: base.rate, Ratio: ratio, Target: ">= 0.50", Met: ratio >= 0.50})
	return nil
}

// redeemEach presses Open portal once with each token, 16 at a time.
func redeemEach(ctx context.Context, base string, tokens []string) error {
	client := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	var next atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for ctx.Err() == nil {
				n := int(next.Add(1)) - 1
				if n >= len(tokens) {
					return
				}
				resp, err := client.PostForm(base+"/m/"+tokens[n], nil)
				if err != nil {
					failed.Store(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusSeeOther {
					failed.Store(fmt.Errorf("redeeming a link before the load: %s", resp.Status))
					return
				}
			}
		})
	}
	wg.Wait()
	if err, ok := failed.Load().(error); ok {
		return err
	}
	return ctx.Err()
}

// floors measures, after every scenario of the table (so that nothing they
// write disturbs it), the bare handlers that do only the least a scenario
// needs, each in turns with its baseline: serveFloorLanding against the bare
// page, and serveFloor, on a copy of the big database, against the durable
// write. They are printed, not added to the table.
func floors(ctx context.Context, c *benchConfig, big, _ *dataDir, _ func(row)) error {
	if !c.floor {
		return nil
	}
	addr := freeAddr()
	bare, _, err := start(c.dir, "bare-floor", addr, "/", c.self, "serve-bare", addr)
	if err != nil {
		return err
	}
	defer bare.stop()
	// The least the landing page needs, then the same answering as
	// latchkey's page does: its security headers and a page of its size.
	tok := pick(big.landing)
	for _, f := range []struct{ name, mode, what string }{
		{"floor-landing", "", "MAC of the token + one bbolt read among 1,000,000 links + the 1 KB page"},
		{"floor-landing-answer", "answer", "the same + latchkey's six page headers and a 1,550-byte page"},
	} {
		addr = freeAddr()
		argv := []string{c.self, "serve-floor-landing", addr, big.path}
		if f.mode != "" {
			argv = append(argv, f.mode)
		}
		fl, _, err := start(c.dir, f.name, addr, "/", argv...)
		if err != nil {
			return err
		}
		rs := interleave(ctx, c, target{bare, status(200), get(func(int) string { return "/" })},
			target{fl, status(200), get(func(i int) string { return "/m/" + tok(i) })})
		fl.stop()
		if rs[0].errs+rs[1].errs > 0 {
			return fmt.Errorf("%s: %d, %d errors", f.name, rs[0].errs, rs[1].errs)
		}
		say("floor: %s: %.1f req/s, ratio %.2f to the bare page", f.what, rs[1].rate, rs[1].rate/rs[0].rate)
	}
	bare.stop()

	cp := filepath.Join(c.dir, "floor.db")
	if err := copyFile(filepath.Join(big.path, "latchkey.db"), cp); err != nil {
		return err
	}
	defer os.Remove(cp)
	syscall.Sync()
	addr = freeAddr()
	durable, _, err := start(c.dir, "durable-floor", addr, "/", c.self, "serve-durable", addr, filepath.Join(c.dir, "durable-floor.db"))
	if err != nil {
		return err
	}
	defer durable.stop()
	// The redemption as it was (the link rewritten in place), today's
	// returning visitor (the link read, three appends and an index entry),
	// and a first use (the same, and the account, membership and access it
	// creates), each in turns with the durable write.
	for _, f := range []struct{ name, mode, what string }{
		{"floor-redeem", "", "one link of 1,000,000 rewritten in place + two appends"},
		{"floor-redeem-append", "append", "one link of 1,000,000 read + three appends + one index entry by user"},
		{"floor-redeem-first", "first", "the same + an account, its email index entry, a membership and an access with their indexes by user"},
	} {
		addr = freeAddr()
		argv := []string{c.self, "serve-floor", addr, cp}
		if f.mode != "" {
			argv = append(argv, f.mode)
		}
		fl, _, err := start(c.dir, f.name, addr, "/", argv...)
		if err != nil {
			return err
		}
		rs := interleave(ctx, c, target{durable, status(200), post(func(int) string { return "/" }, nil)},
			target{fl, status(200), post(func(int) string { return "/" }, nil)})
		fl.stop()
		if rs[0].errs+rs[1].errs > 0 {
			return fmt.Errorf("%s: %d, %d errors", f.name, rs[0].errs, rs[1].errs)
		}
		say("floor: %s, durable: %.1f req/s, ratio %.2f to the durable write; p99 %.1f ms (the durable write's: %.1f ms)",
			f.what, rs[1].rate, rs[1].rate/rs[0].rate, ms(rs[1].p99), ms(rs[0].p99))
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// accessForm: POST /p/{slug}/access, with emails that have access and
// emails that do not, delivering the links it mails to a relay, against
// one durable write per request.
func accessForm(ctx context.Context, c *benchConfig, big, _ *dataDir, add func(row)) error {
	base, err := durableBaseline(ctx, c, "durable-access")
	if err != nil {
		return err
	}
	// The links the form mails go to a relay, as in production; the
	// catcher's own cost is a row of its own (mailDelivery).
	sink, err := startDiscardRelay()
	if err != nil {
		return err
	}
	defer sink.stop()
	lk, _, err := runLatchkey(c, big, "access", "--smtp-relay", "smtp://"+sink.addr+"?starttls=off")
	if err != nil {
		return err
	}
	defer lk.stop()
	email := pick(big.emails)
	form := func(i int) url.Values {
		if i%2 == 0 {
			return url.Values{"email": {email(i)}} // has access: 200, a link mailed
		}
		return url.Values{"email": {fmt.Sprintf("stranger%d@acme.test", i%20000)}} // 403, a request recorded
	}
	// Both answers are right: 200 (a link mailed) and 403 (a request recorded).
	r := warmThenLoad(ctx, c, lk, status(200, 403), post(func(int) string { return "/p/website-redesign/access" }, form))
	if r.errs > 0 {
		return fmt.Errorf("access form load had %d errors", r.errs)
	}
	say("access form: the relay received %d messages during the load", sink.count.Load())
	ratio := r.rate / base.rate
	add(row{Scenario: "closed-portal form POST /p/{slug}/access, delivering to a relay, req/s", Measured: r.rate, Baseline: base.rate, Ratio: ratio, Target: ">= 0.70", Met: ratio >= 0.70})
	return nil
}

// startup: time from exec to the first 200 on /healthz with 1,000,000 links,
// against a bare program opening the same bbolt file (medians of five).
func startup(ctx context.Context, c *benchConfig, big, _ *dataDir, add func(row)) error {
	var ours, bare []time.Duration
	for i := 0; i < 5; i++ {
		p, d, err := runLatchkey(c, big, fmt.Sprintf("startup-%d", i))
		if err != nil {
			return err
		}
		p.stop()
		ours = append(ours, d)
		addr := freeAddr()
		b, d, err := start(c.dir, fmt.Sprintf("open-db-%d", i), addr, "/", c.self, "open-db", filepath.Join(big.path, "latchkey.db"), addr)
		if err != nil {
			return err
		}
		b.stop()
		bare = append(bare, d)
	}
	slices.Sort(ours)
	slices.Sort(bare)
	m, b := ms(ours[2]), ms(bare[2])
	add(row{Scenario: "time from exec to first 200 on /healthz, 1,000,000 links, ms", Measured: m, Baseline: b, Ratio: m / b, Target: "<= 5x", Met: m/b <= 5})
	return nil
}
