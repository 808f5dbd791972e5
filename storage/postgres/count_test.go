package postgres_test

import (
	"context"
	"fmt"
	"os"
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

// The round trips of a redemption, an access request and a mail round, counted (each statement is one, and
// on PostgreSQL they, not the work, are what a redemption costs): a guard
// against queries creeping in. The README's PostgreSQL figures explain them.
func TestRoundTrips(t *testing.T) {
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
	measure := func(name string, most int, f func() error) int {
		t.Helper()
		c.mu.Lock()
		c.sqls = nil
		c.mu.Unlock()
		if err := f(); err != nil {
			t.Fatal(err)
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		t.Logf("%s: %d statements", name, len(c.sqls))
		if os.Getenv("SHOWSQL") != "" {
			t.Log(strings.Join(c.sqls, "\n"))
		}
		if len(c.sqls) > most {
			t.Errorf("%s makes %d statements, more than %d:\n%s", name, len(c.sqls), most, strings.Join(c.sqls, "\n"))
		}
		return len(c.sqls)
	}
	redeem := func() error { _, err := svc.Redeem(ctx, res.Link.Token, core.Visitor{Addr: "1.2.3.4"}); return err }
	measure("a first redemption", 26, redeem)
	measure("a returning redemption", 19, redeem)
	// A stranger's request at the closed portal's form (the owner is
	// notified: the request and its mail).
	measure("a stranger's access request", 30, func() error {
		_, err := svc.RequestAccess(ctx, "acme-site", "stranger@x.test", core.Visitor{Addr: "198.51.100.7"})
		return err
	})
	// Mail: one round claims what is due and records every outcome in
	// one transaction; per message, it costs its share of both.
	for i := range 20 {
		if _, err := svc.Invite(ctx, admin, core.InviteInput{OrgID: org.ID, Email: fmt.Sprintf("m%d@x.test", i), Role: core.RoleClient, PortalID: p.ID}); err != nil {
			t.Fatal(err)
		}
	}
	due, err := svc.DueMail(ctx, 0)
	if err != nil || len(due) == 0 {
		t.Fatalf("%d due, %v", len(due), err)
	}
	n := measure("a mail round", 12+6*len(due), func() error {
		ms, err := svc.ClaimMail(ctx, 64, time.Minute, nil)
		if err != nil {
			return err
		}
		ds := make([]core.Delivery, len(ms))
		for i, m := range ms {
			ds[i] = core.Delivery{ID: m.ID, Outcome: core.Delivered, Detail: "accepted"}
		}
		return svc.RecordDeliveries(ctx, ds)
	})
	t.Logf("a mail round of %d messages: %d statements", len(due), n)
	if len(due) > 1 && n >= len(due)*6 {
		t.Errorf("a round costs %d statements for %d messages: one transaction per round should share them", n, len(due))
	}
}
