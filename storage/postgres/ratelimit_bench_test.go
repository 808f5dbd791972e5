package postgres_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"latchkey/core"
	"latchkey/storage/postgres/pgtest"
)

// Rate limits are kept per node (README, "Rate limits across nodes"):
// these two measure why. A limit checked in memory, as each node keeps it,
// against the cheapest shared counter PostgreSQL offers (an UNLOGGED table,
// synchronous_commit off, one upsert per request with a token-bucket
// refill in SQL), from parallel goroutines as a node's requests come.
func BenchmarkRateLimitInMemory(b *testing.B) {
	k := core.NewKeyed(core.Limit{Every: time.Nanosecond, Burst: 1 << 30}, time.Now)
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			k.Allow(fmt.Sprint("203.0.113.", i%200))
			i++
		}
	})
}

func BenchmarkRateLimitSharedInPostgres(b *testing.B) {
	cfg, err := pgxpool.ParseConfig(pgtest.NewDatabaseURL(b))
	if err != nil {
		b.Fatal(err)
	}
	cfg.ConnConfig.RuntimeParams["synchronous_commit"] = "off"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, `CREATE UNLOGGED TABLE limits (key text PRIMARY KEY, tokens float8 NOT NULL, at timestamptz NOT NULL)`); err != nil {
		b.Fatal(err)
	}
	const take = `INSERT INTO limits AS l (key, tokens, at) VALUES ($1, $2 - 1, now())
		ON CONFLICT (key) DO UPDATE SET
			tokens = least($2, l.tokens + extract(epoch FROM now() - l.at) * $3) - 1, at = now()
		RETURNING tokens >= 0`
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			var ok bool
			if err := pool.QueryRow(ctx, take, fmt.Sprint("203.0.113.", i%200), 1e9, 1e9).Scan(&ok); err != nil || !ok {
				b.Fatal(ok, err)
			}
			i++
		}
	})
}
