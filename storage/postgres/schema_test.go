package postgres_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"latchkey/storage/postgres"
	"latchkey/storage/postgres/pgtest"
)

// Nodes starting together on an empty database migrate it once: goose's
// advisory lock makes the others wait, then find nothing to do.
func TestNodesStartingTogetherMigrateOnce(t *testing.T) {
	url := pgtest.NewDatabaseURL(t)
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for range 6 {
		wg.Go(func() {
			st, err := postgres.Open(ctx, url, postgres.Options{})
			if err == nil {
				st.Close()
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var applied, distinct int
	if err := conn.QueryRow(ctx, `SELECT count(*), count(DISTINCT version_id) FROM goose_db_version WHERE version_id > 0`).Scan(&applied, &distinct); err != nil {
		t.Fatal(err)
	}
	if applied != distinct || applied < 2 {
		t.Fatalf("%d migrations recorded for %d versions: some ran twice", applied, distinct)
	}
}

// A database migrated by a newer latchkey is refused, and left alone.
func TestANewerSchemaIsRefused(t *testing.T) {
	url := pgtest.NewDatabaseURL(t)
	st, err := postgres.Open(ctx, url, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	v, _ := st.SchemaVersion(ctx)
	st.Close()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `INSERT INTO goose_db_version (version_id, is_applied) VALUES ($1, true)`, v+1); err != nil {
		t.Fatal(err)
	}
	_, err = postgres.Open(ctx, url, postgres.Options{})
	if err == nil || !strings.Contains(err.Error(), "newer than this latchkey understands") {
		t.Fatalf("a newer schema opened: %v", err)
	}
}
