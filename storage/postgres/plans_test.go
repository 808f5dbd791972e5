package postgres_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"latchkey/core"
	"latchkey/storage/postgres"
	"latchkey/storage/postgres/pgtest"
)

// lastSQL keeps the text of the last statement run that reads links.
type lastSQL struct {
	mu  sync.Mutex
	sql string
}

func (l *lastSQL) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	if strings.Contains(d.SQL, "FROM links") {
		l.mu.Lock()
		l.sql = d.SQL
		l.mu.Unlock()
	}
	return ctx
}
func (l *lastSQL) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// A link's read counts its unfolded uses in the link's own range of
// link_events_by_link, whatever the table's statistics say: its plan as
// pgx runs it (generic, after five executions) never walks another index
// of link_events. Once the history held many events a link, max(at) on its
// own was planned as a backward walk of link_events_by_time, reading the
// newer events of every link; under load its predicate locks failed
// concurrent redemptions, and two nodes served 0.4 of what one did.
func TestLinkReadStaysInItsLinksRange(t *testing.T) {
	url := pgtest.NewDatabaseURL(t)
	last := &lastSQL{}
	st, err := postgres.Open(ctx, url, postgres.Options{Tracer: last})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	// 100 links pressed 40 times each, the newer half unfolded: few
	// links with many events each, as a bench's or a busy portal's first
	// minutes leave it (the statistics under which the rewrite won).
	if _, err := conn.Exec(ctx, `INSERT INTO link_events (link_id, kind, at, unfolded)
		SELECT i % 100 + 1, 'used', now() - (4000 - i) * interval '1 second', i >= 2000
		FROM generate_series(0, 3999) AS i`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `ANALYZE link_events`); err != nil {
		t.Fatal(err)
	}
	reads := map[string]func(core.Tx) error{
		"by lookup": func(tx core.Tx) error { _, err := tx.LinkByLookup([]byte("no such link")); return err },
		"by id":     func(tx core.Tx) error { _, err := tx.Link(1); return err },
		"of a portal": func(tx core.Tx) error {
			_, err := tx.Links(1)
			return err
		},
	}
	for name, read := range reads {
		if err := st.View(ctx, func(tx core.Tx) error {
			if err := read(tx); err != nil && err != core.ErrNotFound {
				return err
			}
			return nil
		}); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		last.mu.Lock()
		sql := last.sql
		last.mu.Unlock()
		plan := explainGeneric(t, conn, sql)
		if strings.Contains(plan, "link_events_by_time") || strings.Contains(plan, "link_events_unfolded") ||
			strings.Contains(plan, "Seq Scan on link_events") || !strings.Contains(plan, "link_events_by_link") {
			t.Errorf("the link read %s does not stay in its link's range of link_events_by_link:\n%s\n%s", name, sql, plan)
		}
	}
}

// explainGeneric is the plan of sql, a statement of one parameter, as
// PostgreSQL caches it for a prepared statement (the generic plan).
func explainGeneric(t *testing.T, conn *pgx.Conn, sql string) string {
	t.Helper()
	if _, err := conn.Exec(ctx, `SET plan_cache_mode = force_generic_plan`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `DEALLOCATE ALL`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `PREPARE q AS `+sql); err != nil {
		t.Fatalf("prepare %s: %v", sql, err)
	}
	var arg string
	switch {
	case strings.Contains(sql, "lookup = $1"):
		arg = `'\x00'::bytea`
	default:
		arg = `1`
	}
	rows, err := conn.Query(ctx, `EXPLAIN EXECUTE q(`+arg+`)`, pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for rows.Next() {
		var l string
		if err := rows.Scan(&l); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, l)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n")
}
