package postgres

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"latchkey/core"
)

func migrationFS() fs.FS {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		panic(err) // the directory is embedded
	}
	return sub
}

// tx is core.Tx on one SQL transaction.
type tx struct {
	ctx    context.Context
	t      querier
	node   string // the store's node id, for change notices
	notice string // the change notice to send with the commit (Announce)
	// sessionIDs is the store's block of session ids (nil: a round trip
	// each, as a transaction outside a store's has).
	sessionIDs *idBlock
}

// querier is the connection a transaction runs on.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// row is what scanners read: one row of a query's result.
type row interface{ Scan(dest ...any) error }

// exec runs a statement and returns how many rows it touched.
func (x *tx) exec(sql string, args ...any) (int64, error) {
	tag, err := x.t.Exec(x.ctx, sql, args...)
	return tag.RowsAffected(), err
}

// exists reports whether the query (SELECT 1 … or the like) has a row.
func (x *tx) exists(sql string, args ...any) (bool, error) {
	var one int
	err := x.t.QueryRow(x.ctx, sql, args...).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// queryOne is the query's one row through scan, or core.ErrNotFound.
func queryOne[T any](x *tx, scan func(row) (T, error), sql string, args ...any) (T, error) {
	v, err := scan(x.t.QueryRow(x.ctx, sql, args...))
	if errors.Is(err, pgx.ErrNoRows) {
		err = core.ErrNotFound
	}
	return v, err
}

// queryAll is every row of the query through scan; no rows is a nil slice,
// as bbolt's lists give it.
func queryAll[T any](x *tx, scan func(row) (T, error), sql string, args ...any) ([]T, error) {
	rows, err := x.t.Query(x.ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	all, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (T, error) { return scan(r) })
	if len(all) == 0 {
		all = nil
	}
	return all, err
}

// insertID runs an INSERT … RETURNING id and sets *id to it.
func (x *tx) insertID(id *uint64, sql string, args ...any) error {
	return x.t.QueryRow(x.ctx, sql, args...).Scan(id)
}

// ts is a time as the schema keeps it: UTC, to the microsecond (the zero
// time stays zero, 0001-01-01, meaning "not set").
func ts(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// conflict is core.ErrConflict with what conflicts.
func conflict(format string, args ...any) error {
	return fmt.Errorf("%w: %s", core.ErrConflict, fmt.Sprintf(format, args...))
}

// limitOrAll is a LIMIT argument: limit, or no limit (NULL) when 0.
func limitOrAll(limit int) any {
	if limit <= 0 {
		return nil
	}
	return limit
}
