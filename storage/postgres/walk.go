package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// tables are the schema's entity tables with the columns that order their
// rows (their primary keys), in the order Walk visits them.
var tables = []struct{ name, key string }{
	{"meta", "key"},
	{"users", "id"},
	{"orgs", "id"},
	{"members", "org_id, user_id"},
	{"known_addresses", "org_id, skeleton"},
	{"projects", "id"},
	{"portals", "id"},
	{"access", "portal_id, user_id"},
	{"portal_notices", "portal_id"},
	{"resources", "id"},
	{"updates", "id"},
	{"logos", "hash"},
	{"links", "id"},
	{"link_events", "id"},
	{"invitations", "id"},
	{"tokens", "hash"},
	{"sessions", "hash"},
	{"requests", "id"},
	{"events", "id"},
	{"messages", "id"},
	{"caught_mails", "id"},
	{"ssh_keys", "fingerprint"},
	{"api_tokens", "id"},
	{"idempotency", "key"},
	{"webhooks", "id"},
	{"webhook_deliveries", "id"},
}

// Walk calls fn with every row of every entity table, in one snapshot: the
// table, the row's key and the row as JSON, tables and rows in a fixed
// order (tests compare what two walks saw).
func (s *Store) Walk(fn func(table string, k, v []byte) error) error {
	ctx := context.Background()
	t, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return err
	}
	defer t.Rollback(ctx)
	for _, tb := range tables {
		rows, err := t.Query(ctx, fmt.Sprintf(`SELECT (%s)::text, to_jsonb(r)::text FROM %s r ORDER BY %s`,
			rowKey(tb.key), tb.name, tb.key))
		if err != nil {
			return err
		}
		for rows.Next() {
			var k, v string
			if err := rows.Scan(&k, &v); err != nil {
				rows.Close()
				return err
			}
			if err := fn(tb.name, []byte(k), []byte(v)); err != nil {
				rows.Close()
				return err
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

// rowKey is an expression of a table's key columns as one text value.
func rowKey(cols string) string { return "concat_ws('|', " + cols + ")" }
