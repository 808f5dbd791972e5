package postgres_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"latchkey/core"
	"latchkey/storage"
	"latchkey/storage/postgres"
	"latchkey/storage/postgres/pgtest"
	"latchkey/storage/storetest"
)

type counter struct {
	mu   sync.Mutex
	sqls []string
}

func (c *counter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	c.mu.Lock()
	c.sqls = append(c.sqls, d.SQL[:min(len(d.SQL), 100)])
	c.mu.Unlock()
	return ctx
}
func (c *counter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// The round trips of a redemption, counted (each statement is one, and
// on PostgreSQL they, not the work, are what a redemption costs): a guard
// against queries creeping in. The README's PostgreSQL figures explain them.
func TestRedemptionRoundTrips(t *testing.T) {
	c := &counter{}
	st, err := postgres.Open(ctx, pgtest.NewDatabaseURL(t), postgres.Options{Tracer: c})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	keys, _, _ := storage.LoadOrCreateKeys(filepath.Join(t.TempDir(), "k"))
	st.BindKeys(ctx, keys)
	svc, _ := core.New(core.Config{Store: st, Keys: keys, PublicURL: "https://x.test", Clock: storetest.NewClock(time.Now().UTC().Truncate(time.Hour)), Options: core.Options{Argon2: storetest.FastArgon}})
	admin := core.AdminActor("t")
	org := storetest.Must(svc.CreateOrg(ctx, admin, core.NewOrg{Name: "Acme", OwnerEmail: "o@acme.test", OwnerName: "O"}))
	proj := storetest.Must(svc.CreateProject(ctx, admin, org.ID, "Site"))
	p := storetest.Must(svc.SetPortal(ctx, admin, proj.ID, core.PortalSettings{Slug: "acme-site", Title: "S", Access: core.AccessClosed}))
	res, err := svc.Invite(ctx, admin, core.InviteInput{OrgID: org.ID, Email: "c@x.test", Role: core.RoleClient, PortalID: p.ID})
	if err != nil || res.Link == nil {
		t.Fatalf("%+v %v", res, err)
	}
	for _, tc := range []struct {
		name string
		most int
	}{{"first", 28}, {"returning", 22}} {
		c.mu.Lock()
		c.sqls = nil
		c.mu.Unlock()
		if _, err := svc.Redeem(ctx, res.Link.Token, core.Visitor{Addr: "1.2.3.4"}); err != nil {
			t.Fatal(err)
		}
		if len(c.sqls) > tc.most {
			t.Errorf("a %s redemption makes %d statements, more than %d:\n%s", tc.name, len(c.sqls), tc.most, strings.Join(c.sqls, "\n"))
		}
	}
}
