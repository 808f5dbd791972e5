package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"latchkey/core"
	"latchkey/storage"
)

// row is one line of the table and one object of bench-results.json.
type row struct {
	Scenario string  `json:"scenario"`
	Measured float64 `json:"measured"`
	Baseline float64 `json:"baseline"`
	Ratio    float64 `json:"ratio"`
	Target   string  `json:"target"`
	Met      bool    `json:"met"`
	// Share is a rate as a share of the bare handler's (the landing row's
	// 1 KB page, in the same run), to set beside other systems measured
	// the same way; 0 when the row is no rate or the page was not measured.
	Share float64 `json:"share_of_bare_handler,omitempty"`
}

type benchConfig struct {
	bare     float64 // the bare 1 KB page's rate, once the landing row measured it
	latchkey string
	out      string
	duration time.Duration
	conns    int
	self     string
	dir      string
	profile  string // if set, CPU profiles of latchkey under load go here
	floor    bool   // also measure the floor under the durable scenarios
}

func bench(ctx context.Context, args []string) error {
	var c benchConfig
	fs := flag.NewFlagSet("latchkey-bench", flag.ContinueOnError)
	fs.StringVar(&c.latchkey, "latchkey", "bin/latchkey", "the latchkey binary to measure")
	fs.StringVar(&c.out, "out", "bench-results.json", "where to write the results")
	fs.DurationVar(&c.duration, "duration", 5*time.Second, "how long each load runs (after a 1 s warm-up)")
	fs.IntVar(&c.conns, "conns", 64, "keep-alive connections of the load generator")
	only := fs.String("only", "", "run only the scenarios whose step name contains this (landing, redemption, access, mail, proxy, api, startup, floors)")
	fs.StringVar(&c.profile, "profile", "", "write a CPU profile of latchkey under each load into this `dir`ectory (go tool pprof reads them)")
	fs.BoolVar(&c.floor, "floor", false, "at the end, also measure bare handlers that do only the least the landing page and a redemption need (printed, not part of the table)")
	store := fs.String("store", "", "postgres: measure latchkey on a durable PostgreSQL cluster (started for the run) instead of bbolt")
	keep := fs.Bool("keep", false, "keep the temporary directory (data and server logs) for a look afterwards")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *only == "floors" {
		c.floor = true // asked for by name
	}
	if _, err := os.Stat(c.latchkey); err != nil {
		return fmt.Errorf("no latchkey binary at %s: run make bench (it builds one), or pass --latchkey", c.latchkey)
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	c.self = self
	if c.dir, err = os.MkdirTemp("", "latchkey-bench-"); err != nil {
		return err
	}
	if c.profile != "" {
		if err := os.MkdirAll(c.profile, 0o755); err != nil {
			return err
		}
	}
	if *keep {
		say("keeping %s", c.dir)
	} else {
		defer os.RemoveAll(c.dir)
	}
	deadline := time.Now().Add(5 * time.Minute)
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	var rows []row
	add := func(r row) {
		rows = append(rows, r)
		say("%-58s %10.1f vs %10.1f  ratio %.2f  %s", r.Scenario, r.Measured, r.Baseline, r.Ratio, map[bool]string{true: "met", false: "NOT MET"}[r.Met])
	}
	switch *store {
	case "":
		err = benchBolt(ctx, &c, *only, add)
	case "postgres":
		err = benchPostgres(ctx, &c, add)
	default:
		err = fmt.Errorf("--store %q: want postgres, or nothing for bbolt", *store)
	}
	if err != nil {
		return err
	}
	for i, r := range rows {
		if c.bare > 0 && (strings.HasSuffix(r.Scenario, "req/s") || strings.HasSuffix(r.Scenario, "msgs/s")) {
			rows[i].Share = r.Measured / c.bare
		}
	}
	printTable(os.Stdout, rows)
	b, _ := json.MarshalIndent(rows, "", "  ")
	if err := os.WriteFile(c.out, append(b, '\n'), 0o644); err != nil {
		return err
	}
	say("wrote %s", c.out)
	for _, r := range rows {
		if !r.Met {
			return fmt.Errorf("a target was not met: %s", r.Scenario)
		}
	}
	return nil
}

// benchBolt runs the scenarios on bbolt (whose names contain only).
func benchBolt(ctx context.Context, c *benchConfig, only string, add func(row)) error {
	say("preparing data: 1,000,000 links and 10,000 links")
	big, err := prepare(filepath.Join(c.dir, "big"), 1000000)
	if err != nil {
		return err
	}
	small, err := prepare(filepath.Join(c.dir, "small"), 10000)
	if err != nil {
		return err
	}
	// The data were written without fsync: flush them now, or the kernel's
	// writeback would run during (and skew) the first measurements.
	syscall.Sync()
	steps := []struct {
		name string
		run  func(context.Context, *benchConfig, *dataDir, *dataDir, func(row)) error
	}{{"landing", landing}, {"redemption", redemption}, {"access", accessForm}, {"mail", mailDelivery}, {"proxy", proxied}, {"api", apiInvites}, {"startup", startup}, {"floors", floors}}
	for _, step := range steps {
		if !strings.Contains(step.name, only) {
			continue
		}
		if err := step.run(ctx, c, big, small, add); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return errors.New("the five-minute budget ran out")
		}
	}
	return nil
}

func say(format string, args ...any) {
	fmt.Fprintf(os.Stderr, time.Now().Format("15:04:05 ")+format+"\n", args...)
}

func printTable(w io.Writer, rows []row) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\tmeasured\tbaseline\tratio\ttarget\tmet\tof the bare handler")
	for _, r := range rows {
		share := "-"
		if r.Share > 0 {
			share = fmt.Sprintf("%.1f%%", r.Share*100)
		}
		fmt.Fprintf(tw, "%s\t%.1f\t%.1f\t%.2f\t%s\t%v\t%s\n", r.Scenario, r.Measured, r.Baseline, r.Ratio, r.Target, r.Met, share)
	}
	tw.Flush()
}

// dataDir is a latchkey data directory and tokens of its links.

type dataDir struct {
	path    string
	landing []string // tokens to look at
	redeem  []string // tokens to press Open portal with, again and again
	first   []string // tokens pressed once each: a first use
	emails  []string // emails with access, for the access form
}

// prepare creates a data directory with the demo and n links.
func prepare(dir string, n int) (*dataDir, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	st, err := storage.Open(filepath.Join(dir, "latchkey.db"), storage.Options{NoSync: true})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	keys, _, err := storage.LoadOrCreateKeys(filepath.Join(dir, "latchkey.key"))
	if err != nil {
		return nil, err
	}
	if err := st.BindKeys(keys); err != nil {
		return nil, err
	}
	svc, err := core.New(core.Config{Store: st, Keys: keys, PublicURL: "http://127.0.0.1", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	if _, err := svc.LoadDemo(ctx); err != nil {
		return nil, err
	}
	ref, err := svc.PortalBySlug(ctx, core.AdminActor("bench"), "website-redesign")
	if err != nil {
		return nil, err
	}
	d := &dataDir{path: dir}
	rng := mrand.New(mrand.NewPCG(uint64(n), 7))
	const perTx = 25000
	now := time.Now().UTC()
	for from := 0; from < n; from += perTx {
		var landing, redeem, first []string
		var emails []string
		err := st.Update(ctx, func(tx core.Tx) error {
			landing, redeem, first, emails = nil, nil, nil, nil
			for i := from; i < from+perTx && i < n; i++ {
				tok, err := core.NewToken(rand.Reader)
				if err != nil {
					return err
				}
				email := fmt.Sprintf("bulk%d@acme.test", i)
				l := core.Link{OrgID: ref.Org.ID, PortalID: ref.Portal.ID, Email: email, Role: core.RoleClient, State: core.LinkActive,
					Lookup: keys.Lookup(tok), Sealed: keys.Seal(tok, "link"), CreatedAt: now, CreatedBy: "bench"}
				if err := tx.PutLink(&l); err != nil {
					return err
				}
				switch x := rng.IntN(3 * max(n, 10000)); { // about 10,000 links in each sample at most
				case x < 10000:
					landing = append(landing, tok)
				case x < 20000:
					redeem = append(redeem, tok)
				case x < 30000:
					emails = append(emails, email)
				case x < 190000:
					first = append(first, tok)
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		d.landing, d.redeem, d.emails = append(d.landing, landing...), append(d.redeem, redeem...), append(d.emails, emails...)
		d.first = append(d.first, first...)
	}
	if len(d.landing) == 0 || len(d.redeem) == 0 || len(d.emails) == 0 {
		return nil, errors.New("the sample of links is empty")
	}
	return d, nil
}

// runLatchkey starts the binary on a data directory with rate limits off,
// and the extra flags.
func runLatchkey(c *benchConfig, d *dataDir, name string, extra ...string) (*process, time.Duration, error) {
	addr := freeAddr()
	argv := []string{c.latchkey, "serve", "--data", d.path, "--http", addr, "--public-url", "http://" + addr,
		"--ssh", "off", "--smtp-catcher", freeAddr(), "--rate-limits", "off"}
	argv = append(argv, extra...)
	var pprofAddr string
	if c.profile != "" {
		pprofAddr = freeAddr()
		argv = append(argv, "--pprof", pprofAddr)
	}
	p, d0, err := start(c.dir, name, addr, "/healthz", argv...)
	if p != nil {
		p.pprof = pprofAddr
	}
	return p, d0, err
}

func status(codes ...int) func(int) bool {
	return func(s int) bool { return slices.Contains(codes, s) }
}

// target is one server under one load.
type target struct {
	p    *process
	ok   func(int) bool
	next request
}

// interleave warms each target for a second, then measures them in turns:
// rounds of one slot each, c.duration per target in all. Taking turns
// spreads the machine's drift (other tenants, the disk's write-back) over
// every target alike, so the ratios between them move less from run to run
// than when each is measured at a different time. A CPU profile of each
// latchkey is taken in its first slot when asked for.
func interleave(ctx context.Context, c *benchConfig, ts ...target) []result {
	for _, t := range ts {
		load(ctx, t.p.base, c.conns, time.Second, t.ok, t.next)
	}
	const rounds = 3
	slot := c.duration / rounds
	out := make([]result, len(ts))
	server, gen := make([]float64, len(ts)), make([]float64, len(ts))
	cpuOK := true
	for r := 0; r < rounds; r++ {
		for i, t := range ts {
			var done chan struct{}
			if r == 0 && c.profile != "" && t.p.pprof != "" {
				done = make(chan struct{})
				go func() { defer close(done); t.p.cpuProfile(slot, filepath.Join(c.profile, t.p.name+".pprof")) }()
			}
			s0, ok0 := cpuSeconds(t.p.cmd.Process.Pid)
			g0, _ := cpuSeconds(os.Getpid())
			out[i].add(load(ctx, t.p.base, c.conns, slot, t.ok, t.next))
			s1, ok1 := cpuSeconds(t.p.cmd.Process.Pid)
			g1, _ := cpuSeconds(os.Getpid())
			server[i], gen[i], cpuOK = server[i]+s1-s0, gen[i]+g1-g0, cpuOK && ok0 && ok1
			if done != nil {
				<-done
			}
		}
	}
	for i, t := range ts {
		if n := float64(len(out[i].lat)); cpuOK && n > 0 {
			say("%s: %.0f req/s; CPU per request: server %.1f µs, load generator %.1f µs", t.p.name, out[i].rate, server[i]/n*1e6, gen[i]/n*1e6)
		}
	}
	return out
}

// warmThenLoad measures one target on its own.
func warmThenLoad(ctx context.Context, c *benchConfig, p *process, ok func(int) bool, next request) result {
	return interleave(ctx, c, target{p, ok, next})[0]
}

func get(path func(i int) string) request {
	return func(base string, i int) (*http.Request, error) {
		return http.NewRequest(http.MethodGet, base+path(i), nil)
	}
}

func post(path func(i int) string, form func(i int) url.Values) request {
	return func(base string, i int) (*http.Request, error) {
		body := ""
		if form != nil {
			body = form(i).Encode()
		}
		req, err := http.NewRequest(http.MethodPost, base+path(i), strings.NewReader(body))
		if err == nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		return req, err
	}
}

func pick(list []string) func(i int) string {
	return func(i int) string { return list[(i*7919)%len(list)] }
}
