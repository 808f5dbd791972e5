// Package postgres is core.Store on PostgreSQL, through pgx's pool: the
// store of instances that run on more than one machine. One core operation
// is one SQL transaction; the invariants bbolt's indexes hold are the
// schema's constraints (migrations/), and the schema is migrated by goose at
// Open under an advisory lock, so that nodes starting together migrate once.
package postgres

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"latchkey/core"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Options tune the store.
type Options struct {
	// MaxConns bounds the pool (default: pgxpool's, 4 or the CPUs).
	MaxConns int32
	// RetryFor bounds how long a transaction is run again after
	// serialization failures or deadlocks (default 10 s): under heavy
	// contention on one row (every redemption of one link) a transaction
	// may need many tries, never forever.
	RetryFor time.Duration
	// Tracer sees every statement (diagnosis and tests; nil: none).
	Tracer pgx.QueryTracer
}

// Store is core.Store on a PostgreSQL database.
type Store struct {
	pool     *pgxpool.Pool
	retryFor time.Duration
	target   int64 // the newest schema version this binary knows
	retries  atomic.Int64
	node     string // this process's id in change notices
	// listenErrs counts broken LISTEN connections.
	listenErrs atomic.Int64
	sessionIDs idBlock
}

// idBlock hands out session ids from a block the sequence gave this node:
// session_ids counts in steps of sessionIDBlock, so that a new session
// costs no round trip 63 times in 64. The ids of the nodes interleave
// (each is still unique and near the end of the index); a block a node
// did not use up is never handed out again.
type idBlock struct {
	mu        sync.Mutex
	next, end uint64
}

// sessionIDBlock is session_ids' step (migration 00003).
const sessionIDBlock = 64

var _ core.Store = (*Store)(nil)

// IsURL reports whether s names a PostgreSQL database (postgres:// or
// postgresql://), as --store takes it.
func IsURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// Open connects to the database at url and migrates its schema. A
// database whose schema is newer than this binary knows is refused.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("the store address %s: %w", Redact(url), err)
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	cfg.ConnConfig.Tracer = opts.Tracer
	if opts.RetryFor <= 0 {
		opts.RetryFor = 10 * time.Second
	}
	// Times come back in UTC, as bbolt gives them back, whatever the
	// server's or the machine's time zone.
	cfg.AfterConnect = func(_ context.Context, c *pgx.Conn) error {
		c.TypeMap().RegisterType(&pgtype.Type{Name: "timestamptz", OID: pgtype.TimestamptzOID,
			Codec: &pgtype.TimestamptzCodec{ScanLocation: time.UTC}})
		return nil
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", Redact(url), err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to %s: %w", Redact(url), err)
	}
	s := &Store{pool: pool, retryFor: opts.RetryFor, node: newNodeID()}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// Redact is url without its password, for messages and logs.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "postgres://…"
	}
	return u.Redacted()
}

// migrate brings the schema to this binary's version under goose's
// advisory lock: of N nodes starting at once, one migrates and the others
// wait, then find nothing to do.
func (s *Store) migrate(ctx context.Context) error {
	db := stdlib.OpenDBFromPool(s.pool)
	defer db.Close()
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrationFS(),
		goose.WithSessionLocker(locker), goose.WithLogger(goose.NopLogger()))
	if err != nil {
		return fmt.Errorf("read the schema migrations: %w", err)
	}
	defer p.Close()
	sources := p.ListSources()
	s.target = sources[len(sources)-1].Version
	current, err := p.GetDBVersion(ctx)
	if err != nil {
		return fmt.Errorf("read the schema version: %w", err)
	}
	if current > s.target {
		return fmt.Errorf("the database has schema version %d, newer than this latchkey understands (%d); run a newer latchkey", current, s.target)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate the schema: %w", err)
	}
	return nil
}

// SchemaVersion is the database's schema version.
func (s *Store) SchemaVersion(ctx context.Context) (int64, error) {
	var v int64
	err := s.pool.QueryRow(ctx, `SELECT coalesce(max(version_id), 0) FROM goose_db_version WHERE is_applied`).Scan(&v)
	return v, err
}

// Close releases the pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// Pool is the store's connection pool (its statistics feed /metrics).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Ping checks that the database answers (/healthz).
func (s *Store) Ping(ctx context.Context) error { return s.pool.Ping(ctx) }

const keyCheck = "key_check"

// BindKeys checks that the key file belongs to this database: the first
// start records a check value, later starts (of any node) compare it.
func (s *Store) BindKeys(ctx context.Context, keys *core.Keys) error {
	want := keys.CheckValue()
	return s.run(ctx, beginWrite, func(x *tx) error {
		if _, err := x.t.Exec(ctx, `INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`, keyCheck, want); err != nil {
			return err
		}
		var got []byte
		if err := x.t.QueryRow(ctx, `SELECT value FROM meta WHERE key = $1`, keyCheck).Scan(&got); err != nil {
			return err
		}
		if !bytes.Equal(got, want) {
			return errors.New("the key file does not belong to this database, so no link in it could be read; give every node the key file that was created with this database")
		}
		return nil
	})
}

// KeysBound reports whether a key file was bound to this database already.
func (s *Store) KeysBound(ctx context.Context) (bool, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM meta WHERE key = $1`, keyCheck).Scan(&n)
	return n > 0, err
}

// View runs fn in a read-only transaction that sees one snapshot.
func (s *Store) View(ctx context.Context, fn func(core.Tx) error) error {
	return s.run(ctx, beginRead, func(x *tx) error { return fn(x) })
}

// Update runs fn in a serializable transaction, committed when fn returns
// nil. A serialization failure or a deadlock runs fn again (core's
// functions may run more than once), after a short random wait.
func (s *Store) Update(ctx context.Context, fn func(core.Tx) error) error {
	return s.run(ctx, beginWrite, func(x *tx) error { return fn(x) })
}

const (
	beginRead  = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
	beginWrite = "BEGIN ISOLATION LEVEL SERIALIZABLE"
	beginFold  = "BEGIN ISOLATION LEVEL READ COMMITTED"
)

// FoldLinkUsesOnce folds at most limit uses in a READ COMMITTED
// transaction of its own (core.UseFolder). Serializable, the fold read
// every unfolded use and rewrote the links that redemptions read, so
// that redemptions running beside it failed to serialize, and two nodes
// served a third of what one did. It needs no more: SKIP LOCKED and the
// row locks of its UPDATEs keep two folds from folding a use twice, and a
// redemption's snapshot sees a link either before a fold or after it.
func (s *Store) FoldLinkUsesOnce(ctx context.Context, limit int) (int, error) {
	var n int
	err := s.run(ctx, beginFold, func(x *tx) error {
		var err error
		n, err = x.FoldLinkUses(limit)
		return err
	})
	return n, err
}

// run runs fn in a transaction, again while it fails to serialize.
func (s *Store) run(ctx context.Context, begin string, fn func(*tx) error) error {
	wait, deadline := time.Millisecond, time.Now().Add(s.retryFor)
	for {
		err := s.once(ctx, begin, fn)
		if err == nil || !retryable(err) || time.Now().After(deadline) {
			return err
		}
		s.retries.Add(1)
		// Full jitter, doubling: two transactions that collided do not
		// collide again at once.
		select {
		case <-time.After(rand.N(wait) + 100*time.Microsecond):
		case <-ctx.Done():
			return ctx.Err()
		}
		wait = min(2*wait, 50*time.Millisecond)
	}
}

// once runs fn in one transaction on one connection of the pool. The
// change notice a write queued goes in the same round trip as its COMMIT
// (one simple-protocol query: a notice is sent only if the commit holds).
// A connection left inside a transaction (fn panicked, the context ended)
// is closed by the pool, never reused.
func (s *Store) once(ctx context.Context, begin string, fn func(*tx) error) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, begin); err != nil {
		return err
	}
	x := &tx{ctx: ctx, t: conn, node: s.node, sessionIDs: &s.sessionIDs}
	if err := fn(x); err != nil {
		conn.Exec(context.WithoutCancel(ctx), "ROLLBACK")
		return err
	}
	end := "COMMIT"
	if x.notice != "" {
		end = "SELECT pg_notify('" + changesChannel + "', " + quoteLiteral(x.notice) + "); COMMIT"
	}
	_, err = conn.Exec(ctx, end)
	return err
}

// quoteLiteral is s as an SQL string literal (standard_conforming_strings,
// on by default since PostgreSQL 9.1: only quotes are doubled).
func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// retryable: a serialization failure or a deadlock, which running the
// transaction again resolves.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}
