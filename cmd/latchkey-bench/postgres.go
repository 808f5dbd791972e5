package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"latchkey/core"
	"latchkey/storage"
	"latchkey/storage/postgres"
	"latchkey/storage/postgres/pgtest"
)

// pgLinks is how many links the PostgreSQL scenarios' database holds.
const pgLinks = 20000

// benchPostgres is make bench STORE=postgres: latchkey on a durable
// PostgreSQL (on disk, PostgreSQL's default settings: fsync and
// synchronous_commit on), started for the run and removed after it.
func benchPostgres(ctx context.Context, c *benchConfig, add func(row)) error {
	poolSize := os.Getenv("PGBENCH_POOL")
	say("starting a durable PostgreSQL cluster (PostgreSQL's defaults, synchronous_commit on)")
	cluster, err := pgtest.StartDurable()
	if err != nil {
		return err
	}
	defer cluster.Stop()
	for _, db := range []string{"latchkey", "baseline"} {
		if err := createDatabase(ctx, cluster, db); err != nil {
			return err
		}
	}
	say("preparing data: the demo and %d links in PostgreSQL", pgLinks)
	d, err := preparePostgres(ctx, filepath.Join(c.dir, "pg"), withPool(cluster.URL("latchkey"), poolSize), pgLinks)
	if err != nil {
		return err
	}
	addr := freeAddr()
	base, _, err := start(c.dir, "durable-pg", addr, "/", c.self, "serve-durable-pg", addr, withPool(cluster.URL("baseline"), poolSize))
	if err != nil {
		return err
	}
	one, _, err := runLatchkey(c, d, "redeem-pg", "--store", withPool(cluster.URL("latchkey"), poolSize))
	if err != nil {
		base.stop()
		return err
	}
	defer one.stop()
	// Each redemption presses a different link, from the start of the
	// sample on: the links of the first run are pressed again by the next
	// (a returning visitor's redemption, the common case).
	tok := pick(d.redeem)
	press := post(func(i int) string { return "/m/" + tok(i) }, nil)
	rs := interleave(ctx, c, target{base, status(200), post(func(int) string { return "/" }, nil)},
		target{one, status(http.StatusSeeOther), press})
	base.stop()
	if rs[0].errs > 0 || rs[1].errs > 0 {
		return fmt.Errorf("PostgreSQL redemption: %d errors in the baseline, %d in latchkey", rs[0].errs, rs[1].errs)
	}
	say("redeem-pg: %.2f transactions run again per redemption (serialization failures, deadlocks)",
		scrape(one.base, "latchkey_db_transaction_retries_total")/float64(len(rs[1].lat)))
	if c.floor {
		if err := floorPostgres(ctx, c, withPool(cluster.URL("baseline"), poolSize), rs[0].rate); err != nil {
			return err
		}
	}
	ratio := rs[1].rate / rs[0].rate
	add(row{Scenario: "redemption POST /m/{token} on PostgreSQL (durable), req/s", Measured: rs[1].rate, Baseline: rs[0].rate, Ratio: ratio, Target: ">= 0.50", Met: ratio >= 0.50})

	if err := costsPostgres(ctx, c, one, press, withPool(cluster.URL("latchkey"), poolSize)); err != nil {
		return err
	}

	// Two nodes on the same database and the same two cores, half of the
	// connections to each, against the one node alone.
	two, _, err := runLatchkey(c, d, "redeem-pg-2nd", "--store", withPool(cluster.URL("latchkey"), poolSize))
	if err != nil {
		return err
	}
	defer two.stop()
	both := func(_ string, i int) (*http.Request, error) {
		node := one
		if i%2 == 1 {
			node = two
		}
		return press(node.base, i)
	}
	rs = interleave(ctx, c, target{one, status(http.StatusSeeOther), press}, target{one, status(http.StatusSeeOther), both})
	if rs[0].errs > 0 || rs[1].errs > 0 {
		return fmt.Errorf("two nodes: %d errors on one node, %d on two", rs[0].errs, rs[1].errs)
	}
	ratio = rs[1].rate / rs[0].rate
	add(row{Scenario: "redemption on 2 nodes vs 1 node, one PostgreSQL, the same 2 cores, req/s", Measured: rs[1].rate, Baseline: rs[0].rate, Ratio: ratio, Target: ">= 0.90", Met: ratio >= 0.90})
	return nil
}

// createDatabase makes an empty database on the cluster.
func createDatabase(ctx context.Context, cluster *pgtest.Cluster, name string) error {
	conn, err := pgx.Connect(ctx, cluster.URL("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	return err
}

// preparePostgres loads the demo and n links into the database at url, and
// writes the key file into dir, which latchkey serves with --data.
func preparePostgres(ctx context.Context, dir, url string, n int) (*dataDir, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	st, err := postgres.Open(ctx, url, postgres.Options{})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	keys, _, err := storage.LoadOrCreateKeys(filepath.Join(dir, "latchkey.key"))
	if err != nil {
		return nil, err
	}
	if err := st.BindKeys(ctx, keys); err != nil {
		return nil, err
	}
	svc, err := core.New(core.Config{Store: st, Keys: keys, PublicURL: "http://127.0.0.1", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, err
	}
	if _, err := svc.LoadDemo(ctx); err != nil {
		return nil, err
	}
	ref, err := svc.PortalBySlug(ctx, core.AdminActor("bench"), "website-redesign")
	if err != nil {
		return nil, err
	}
	d := &dataDir{path: dir}
	rng := mrand.New(mrand.NewPCG(uint64(n), 7))
	now := time.Now().UTC()
	const perTx = 2000
	for from := 0; from < n; from += perTx {
		var sample []string
		err := st.Update(ctx, func(tx core.Tx) error {
			sample = sample[:0]
			for i := from; i < from+perTx && i < n; i++ {
				tok, err := core.NewToken(rand.Reader)
				if err != nil {
					return err
				}
				l := core.Link{OrgID: ref.Org.ID, PortalID: ref.Portal.ID, Email: fmt.Sprintf("bulk%d@acme.test", i), Role: core.RoleClient,
					State: core.LinkActive, Lookup: keys.Lookup(tok), Sealed: keys.Seal(tok, "link"), CreatedAt: now, CreatedBy: "bench"}
				if err := tx.PutLink(&l); err != nil {
					return err
				}
				if rng.IntN(2) == 0 {
					sample = append(sample, tok)
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		d.redeem = append(d.redeem, sample...)
	}
	if len(d.redeem) == 0 {
		return nil, errors.New("the sample of links is empty")
	}
	return d, nil
}

// serveDurablePG is the PostgreSQL write baseline: every request is one
// durable INSERT (its own transaction, committed with synchronous_commit
// on) through a pgx pool configured as latchkey's is (pgxpool's defaults).
func serveDurablePG(ctx context.Context, args []string) error {
	if len(args) != 2 {
		return errors.New("usage: serve-durable-pg ADDR URL")
	}
	pool, value, err := baselineTable(ctx, args[1])
	if err != nil {
		return err
	}
	defer pool.Close()
	return serve(ctx, args[0], http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := pool.Exec(r.Context(), `INSERT INTO b (v) VALUES ($1)`, value); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte("ok\n"))
	}))
}

func withPool(url, size string) string {
	if size == "" {
		return url
	}
	return url + "&pool_max_conns=" + size
}

// floorPostgres measures (printed, not in the table) a bare handler making a
// returning redemption's round trips and nothing else: in one serializable
// transaction, 17 reads by primary key and 3 inserts, then the commit (22
// statements with BEGIN and COMMIT, as TestRoundTrips counts
// latchkey's), against the one-INSERT baseline measured before it.
func floorPostgres(ctx context.Context, c *benchConfig, url string, baseline float64) error {
	addr := freeAddr()
	p, _, err := start(c.dir, "floor-pg", addr, "/", c.self, "serve-floor-pg", addr, url)
	if err != nil {
		return err
	}
	defer p.stop()
	r := warmThenLoad(ctx, c, p, status(200), post(func(int) string { return "/" }, nil))
	if r.errs > 0 {
		return fmt.Errorf("floor-pg: %d errors", r.errs)
	}
	say("floor on PostgreSQL, 22 statements in a serializable transaction: %.0f req/s, %.2f of the one-INSERT baseline", r.rate, r.rate/baseline)
	return nil
}

// serveFloorPG is floorPostgres's handler.
func serveFloorPG(ctx context.Context, args []string) error {
	if len(args) != 2 {
		return errors.New("usage: serve-floor-pg ADDR URL")
	}
	pool, value, err := baselineTable(ctx, args[1])
	if err != nil {
		return err
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, `INSERT INTO b (v) SELECT $1 FROM generate_series(1, 1000)`, value); err != nil {
		return err
	}
	var n atomic.Int64
	return serve(ctx, args[0], http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := pgx.BeginTxFunc(r.Context(), pool, pgx.TxOptions{IsoLevel: pgx.Serializable}, func(tx pgx.Tx) error {
			for i := range 17 {
				var v string
				if err := tx.QueryRow(r.Context(), `SELECT v FROM b WHERE id = $1`, (n.Add(1)+int64(i))%1000+1).Scan(&v); err != nil {
					return err
				}
			}
			for range 3 {
				if _, err := tx.Exec(r.Context(), `INSERT INTO b (v) VALUES ($1)`, value); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte("ok\n"))
	}))
}

// costsPostgres loads one node alone once more and prints what each
// redemption costs on both sides: latchkey's CPU, PostgreSQL's (every
// postgres process of the machine: the bench's cluster is the only one
// running), and the WAL flushes (pg_stat_wal), the figures of the README's
// sizing model.
func costsPostgres(ctx context.Context, c *benchConfig, node *process, press request, url string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	syncs := func() (n int64) {
		conn.QueryRow(ctx, `SELECT wal_sync FROM pg_stat_wal`).Scan(&n)
		return n
	}
	load(ctx, node.base, c.conns, time.Second, status(http.StatusSeeOther), press)
	s0, pg0, w0 := cpuOf(node.cmd.Process.Pid), postgresCPU(), syncs()
	r := load(ctx, node.base, c.conns, c.duration, status(http.StatusSeeOther), press)
	s1, pg1, w1 := cpuOf(node.cmd.Process.Pid), postgresCPU(), syncs()
	n := float64(len(r.lat))
	if n == 0 || r.errs > 0 {
		return fmt.Errorf("PostgreSQL costs: %d redemptions, %d errors", len(r.lat), r.errs)
	}
	say("redeem-pg costs: %.0f req/s; per redemption latchkey %.0f µs CPU, PostgreSQL %.0f µs CPU, %.2f WAL flushes",
		r.rate, (s1-s0)/n*1e6, (pg1-pg0)/n*1e6, float64(w1-w0)/n)
	return nil
}

func cpuOf(pid int) float64 {
	s, _ := cpuSeconds(pid)
	return s
}

// postgresCPU is the CPU time of every postgres process of the machine.
func postgresCPU() float64 {
	dirs, _ := os.ReadDir("/proc")
	sum := 0.0
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		if comm, err := os.ReadFile("/proc/" + d.Name() + "/comm"); err == nil && strings.TrimSpace(string(comm)) == "postgres" {
			sum += cpuOf(pid)
		}
	}
	return sum
}

// baselineTable opens a pool like latchkey's (pgxpool's defaults) on the
// baseline database, with its table, and the 256-byte value its rows hold.
func baselineTable(ctx context.Context, url string) (*pgxpool.Pool, string, error) {
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return nil, "", err
	}
	if _, err := pool.Exec(ctx, `CREATE TABLE IF NOT EXISTS b (id bigserial PRIMARY KEY, v text NOT NULL)`); err != nil {
		pool.Close()
		return nil, "", err
	}
	return pool, fmt.Sprintf("%0256d", 0), nil
}
