package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"latchkey/core"
	"latchkey/storage"
	"latchkey/storage/postgres"
	"latchkey/storage/postgres/pgtest"
	"latchkey/storage/storetest"
)

// TestMain (nodes_test.go) stops the throwaway cluster after the tests.

// tableOf is the PostgreSQL table of each kind of record.
var tableOf = map[string]string{
	"users": "users", "orgs": "orgs", "members": "members", "known_addresses": "known_addresses",
	"projects": "projects", "portals": "portals", "access": "access", "portal_notices": "portal_notices",
	"resources": "resources", "updates": "updates", "logos": "logos", "links": "links",
	"link_events": "link_events", "invitations": "invitations", "tokens": "tokens", "sessions": "sessions",
	"requests": "requests", "audit_events": "events", "outbox": "messages", "caught_mail": "caught_mails",
	"ssh_keys": "ssh_keys", "api_tokens": "api_tokens", "idempotency": "idempotency", "webhooks": "webhooks",
	"webhook_deliveries": "webhook_deliveries",
}

const (
	publicHook = "https://203.0.113.7/hooks/latchkey" // a documentation network: public, never looked up
	ownerKey   = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOBIXr28IKmVOC4aN1aoLtRWZCLgwZY8FQl/Q2j1v0/p olivia@laptop"
)

// bolt is a service on bbolt (whatever LATCHKEY_TEST_STORE says) whose
// clock has nanoseconds, which PostgreSQL does not keep.
func bolt(t *testing.T) *storetest.Env {
	t.Setenv("LATCHKEY_TEST_STORE", "")
	return storetest.New(t, storetest.At(time.Now().UTC().Truncate(time.Hour).Add(1234567891)))
}

func must[T any](v T, err error) T { return storetest.Must(v, err) }

// world is what a copy must carry, made through core: the demo (brand and
// logo, portals with content, links, a redeemed one), and an organization
// with an invitation redeemed into a session, a guest, an access request
// with its owner notice, mail delivered and mail pending, caught mail, an
// API token, a webhook with a delivery attempted, an idempotency record,
// an SSH key, a link's views, and a deleted resource whose id must not be
// handed out again.
type world struct {
	portal     core.Portal // Acme's closed portal
	owner      core.Actor
	session    string // opened before the copy
	sessionFor string
	deletedRes uint64
}

func makeWorld(t *testing.T, e *storetest.Env) world {
	t.Helper()
	ctx := e.Ctx
	if _, err := e.Svc.LoadDemo(ctx); err != nil {
		t.Fatal(err)
	}
	tick := func() { e.Clock.Advance(1234567 * time.Nanosecond) }
	org := must(e.Svc.CreateOrg(ctx, e.Admin, core.NewOrg{Name: "Acme", OwnerEmail: "owner@acme.test", OwnerName: "Owner"}))
	owner := core.UserActor(e.User("owner@acme.test"), "test")
	tick()
	proj := must(e.Svc.CreateProject(ctx, owner, org.ID, "Site"))
	portal := must(e.Svc.SetPortal(ctx, owner, proj.ID, core.PortalSettings{Slug: "acme-site", Title: "Site", Access: core.AccessClosed}))
	tick()
	inv := must(e.Svc.Invite(ctx, owner, core.InviteInput{OrgID: org.ID, Email: "cleo@client.test", Role: core.RoleClient, PortalID: portal.ID}))
	tick()
	e.Svc.NoteView(inv.Link.Link.ID, core.Visitor{Addr: "203.0.113.9", UserAgent: "test"}, "GET", false)
	if err := e.Svc.FlushViews(ctx); err != nil {
		t.Fatal(err)
	}
	red := must(e.Svc.Redeem(ctx, inv.Link.Token, core.Visitor{Addr: "203.0.113.9", UserAgent: "test"}))
	tick()
	must(e.Svc.Invite(ctx, owner, core.InviteInput{OrgID: org.ID, Email: "gus@guest.test", Role: core.RoleGuest, PortalID: portal.ID,
		GuestUntil: e.Clock.Now().Add(72*time.Hour + 17)}))
	must(e.Svc.Invite(core.WithIdempotency(ctx, &core.Idempotency{Scope: "token:1", Key: "k1", Fingerprint: []byte("f")}), owner,
		core.InviteInput{OrgID: org.ID, Email: "mgr@acme.test", Role: core.RoleManager}))
	tick()
	must(e.Svc.RequestAccess(ctx, portal.Slug, "stranger@else.test", core.Visitor{Addr: "198.51.100.7", UserAgent: "test"}))
	tick()
	must2(e.Svc.CreateAPIToken(ctx, owner, core.NewAPIToken{OrgID: org.ID, Name: "crm", Scopes: []core.Scope{core.ScopeMembersRead, core.ScopeLinksWrite}}))
	must2(e.Svc.CreateWebhook(ctx, owner, core.NewWebhook{OrgID: org.ID, URL: publicHook, Events: core.WebhookEvents}))
	due := must(e.Svc.DueWebhooks(ctx, 10))
	if len(due) == 0 {
		t.Fatal("the webhook's ping is not due")
	}
	if err := e.Svc.RecordWebhookAttempts(ctx, []core.WebhookAttempt{{DeliveryID: due[0].ID, At: e.Clock.Now(), Status: 503,
		Latency: 12345 * time.Microsecond, Response: "busy", Next: e.Clock.Now().Add(time.Minute)}}); err != nil {
		t.Fatal(err)
	}
	must(e.Svc.AddSSHKey(ctx, owner, "owner@acme.test", ownerKey))
	must(e.Svc.StoreCaught(ctx, core.CaughtMail{From: "a@b.test", To: []string{"c@d.test", "e@f.test"}, Subject: "hi", Raw: []byte("Subject: hi\r\n\r\nbody")}))
	mails := e.Messages()
	if err := e.Svc.RecordDeliveries(ctx, []core.Delivery{{ID: mails[0].ID, Outcome: core.Delivered, Detail: "250 ok"}}); err != nil {
		t.Fatal(err)
	}
	tick()
	must(e.Svc.AddResource(ctx, owner, portal.ID, core.ResourceInput{Title: "Drive", URL: "https://drive.example/x"}))
	gone := must(e.Svc.AddResource(ctx, owner, portal.ID, core.ResourceInput{Title: "Old", URL: "https://old.example/"}))
	if err := e.Svc.RemoveResource(ctx, owner, portal.ID, gone.ID); err != nil {
		t.Fatal(err)
	}
	must(e.Svc.PostUpdate(ctx, owner, portal.ID, "Designs are up.", true))
	return world{portal: portal, owner: owner, session: red.SessionID, sessionFor: "cleo@client.test", deletedRes: gone.ID}
}

func must2[A, B any](a A, b B, err error) (A, B) {
	if err != nil {
		panic(err)
	}
	return a, b
}

// counts are the records of each kind the source holds.
func sourceCounts(t *testing.T, src *storage.Store) map[string]int {
	t.Helper()
	n := map[string]int{}
	if err := src.Records(func(kind string, _ []byte, _ any) error { n[kind]++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

// tableCounts are the rows of each kind's table.
func tableCounts(t *testing.T, conn *pgx.Conn) map[string]int {
	t.Helper()
	n := map[string]int{}
	for kind, table := range tableOf {
		var c int
		if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM `+table).Scan(&c); err != nil {
			t.Fatal(err)
		}
		n[kind] = c
	}
	return n
}

func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func openPG(t *testing.T, url string) *postgres.Store {
	t.Helper()
	pg, err := postgres.Open(context.Background(), url, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pg.Close() })
	return pg
}

// A world and 100,000 links copied from bbolt into PostgreSQL check out
// entity by entity, and PostgreSQL then serves them: the same key file
// binds (another does not), every record is there, a copied link redeems,
// the session opened before the copy is valid, the newest audit events are
// the same, and new records take ids above every copied one (and above a
// deleted one).
func TestImportCopiesEverythingAndTheCopyServes(t *testing.T) {
	e := bolt(t)
	w := makeWorld(t, e)
	const bulk = 100_000
	tokens := e.FillLinks(w.portal, bulk)
	src := e.Bolt()
	before := sourceCounts(t, src)
	for _, kind := range storage.Kinds() {
		if before[kind] == 0 {
			t.Errorf("the world has no %s: the copy of that entity goes untested", kind)
		}
	}
	if before["links"] < bulk {
		t.Fatalf("%d links in the source", before["links"])
	}
	nanos := false
	src.Records(func(kind string, _ []byte, v any) error {
		if l, ok := v.(core.Link); ok && l.CreatedAt.Nanosecond()%1000 != 0 {
			nanos = true
		}
		return nil
	})
	if !nanos {
		t.Fatal("no time in the source has nanoseconds: the microsecond comparison goes untested")
	}
	newestBefore := e.Events()[:5]

	url := pgtest.NewDatabaseURL(t)
	pg := openPG(t, url)
	start := time.Now()
	checks, err := pg.Import(e.Ctx, src)
	took := time.Since(start)
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	t.Logf("copied and verified %d records (%d links) in %s", sum(before), before["links"], took.Round(time.Millisecond))
	want := append(storage.Kinds(), postgres.KeyCheckKind)
	var got []string
	for _, c := range checks {
		got = append(got, c.Kind)
		if !c.OK() || c.SourceCount != c.TargetCount {
			t.Errorf("check %+v not ok", c)
		}
		if c.Kind != postgres.KeyCheckKind && c.SourceCount != before[c.Kind] {
			t.Errorf("%s: checked %d records, the source has %d", c.Kind, c.SourceCount, before[c.Kind])
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("checked %v, want %v", got, want)
	}
	if took > 30*time.Second {
		t.Errorf("the copy took %s", took)
	}
	conn := connect(t, url)
	if after := tableCounts(t, conn); !mapsEqual(after, before) {
		t.Fatalf("rows per entity %v, the source has %v", after, before)
	}

	// The same key file binds; another does not.
	if err := pg.BindKeys(e.Ctx, e.Keys); err != nil {
		t.Fatalf("the instance's key file: %v", err)
	}
	other, _, err := storage.LoadOrCreateKeys(filepath.Join(t.TempDir(), "other.key"))
	if err != nil {
		t.Fatal(err)
	}
	if err := pg.BindKeys(e.Ctx, other); err == nil {
		t.Fatal("another key file binds to the copy: the key check was not copied")
	}

	svc, err := core.New(core.Config{Store: pg, Keys: e.Keys, PublicURL: "https://portal.example.com", Clock: e.Clock,
		Options: core.Options{Argon2: storetest.FastArgon}})
	if err != nil {
		t.Fatal(err)
	}
	info, err := svc.Session(e.Ctx, w.session)
	if err != nil || info.User.Email != w.sessionFor {
		t.Fatalf("the session opened before the copy: %+v %v", info.User, err)
	}
	var newestAfter []core.Event
	if err := pg.View(e.Ctx, func(tx core.Tx) (err error) {
		newestAfter, err = tx.Events(core.AuditQuery{Limit: 5})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if ids(newestAfter) != ids(newestBefore) {
		t.Fatalf("newest audit events %s on PostgreSQL, %s on bbolt", ids(newestAfter), ids(newestBefore))
	}
	red, err := svc.Redeem(e.Ctx, tokens[len(tokens)/2], core.Visitor{Addr: "203.0.113.10", UserAgent: "test"})
	if err != nil {
		t.Fatalf("a copied link does not redeem: %v", err)
	}
	if _, err := svc.Session(e.Ctx, red.SessionID); err != nil {
		t.Fatalf("the session the copied link opened: %v", err)
	}

	// New records after the copy get fresh ids.
	maxInv, maxLink, maxEvent := uint64(0), uint64(0), newestBefore[0].ID
	src.Records(func(kind string, _ []byte, v any) error {
		switch r := v.(type) {
		case core.Invitation:
			maxInv = max(maxInv, r.ID)
		case core.Link:
			maxLink = max(maxLink, r.ID)
		}
		return nil
	})
	res, err := svc.Invite(e.Ctx, w.owner, core.InviteInput{OrgID: w.portal.OrgID, Email: "after@client.test", Role: core.RoleClient, PortalID: w.portal.ID})
	if err != nil {
		t.Fatalf("an invitation after the copy: %v", err)
	}
	if res.Invitation.ID <= maxInv || res.Link.Link.ID <= maxLink {
		t.Fatalf("new invitation %d (copied up to %d), link %d (copied up to %d)", res.Invitation.ID, maxInv, res.Link.Link.ID, maxLink)
	}
	res2 := must(svc.AddResource(e.Ctx, w.owner, w.portal.ID, core.ResourceInput{Title: "New", URL: "https://new.example/"}))
	if res2.ID <= w.deletedRes {
		t.Fatalf("a new resource took id %d; %d was handed out (and deleted) before the copy", res2.ID, w.deletedRes)
	}
	var newest []core.Event
	pg.View(e.Ctx, func(tx core.Tx) (err error) { newest, err = tx.Events(core.AuditQuery{Limit: 1}); return })
	if len(newest) != 1 || newest[0].ID <= maxEvent {
		t.Fatalf("the newest audit event after the copy: %+v (copied up to %d)", newest, maxEvent)
	}
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func ids(evs []core.Event) string {
	var b strings.Builder
	for _, e := range evs {
		fmt.Fprintf(&b, "%d %s; ", e.ID, e.Action)
	}
	return b.String()
}

// small is a source with the demo and a little more, for the tests that
// need a copy but not a large one.
func small(t *testing.T) (*storetest.Env, world) {
	e := bolt(t)
	return e, makeWorld(t, e)
}

// dump is every row of the database, to compare its states.
func dump(t *testing.T, pg *postgres.Store) string {
	t.Helper()
	var b strings.Builder
	if err := pg.Walk(func(table string, k, v []byte) error {
		fmt.Fprintf(&b, "%s %s %s\n", table, k, v)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// A database with anything in it (only the key check, or a copy) is
// refused, and stays as it was.
func TestImportRefusesADatabaseThatIsNotEmpty(t *testing.T) {
	e, _ := small(t)
	for _, c := range []struct {
		name  string
		fill  func(*postgres.Store) error
		table string
	}{
		{"only a key check", func(pg *postgres.Store) error { return pg.BindKeys(e.Ctx, e.Keys) }, "meta"},
		{"a copy", func(pg *postgres.Store) error { _, err := pg.Import(e.Ctx, e.Bolt()); return err }, "users"},
	} {
		t.Run(c.name, func(t *testing.T) {
			pg := openPG(t, pgtest.NewDatabaseURL(t))
			if err := c.fill(pg); err != nil {
				t.Fatal(err)
			}
			before := dump(t, pg)
			checks, err := pg.Import(e.Ctx, e.Bolt())
			if !errors.Is(err, postgres.ErrNotEmpty) || !strings.Contains(err.Error(), c.table) {
				t.Fatalf("import into a database with %s: %v", c.name, err)
			}
			if checks != nil {
				t.Fatalf("a refused copy reports checks %v", checks)
			}
			if after := dump(t, pg); after != before {
				t.Fatalf("the refused copy changed the database:\n%s\nnow:\n%s", before, after)
			}
		})
	}
}

// failingSource fails after visiting some records.
type failingSource struct {
	*storage.Store
	after int
}

var errSource = errors.New("the source broke")

func (f failingSource) Records(fn func(kind string, key []byte, v any) error) error {
	n := 0
	return f.Store.Records(func(kind string, key []byte, v any) error {
		if n++; n > f.after {
			return errSource
		}
		return fn(kind, key, v)
	})
}

// A copy that fails half-way leaves the database empty: it is one
// transaction.
func TestAFailedImportLeavesTheDatabaseEmpty(t *testing.T) {
	e, _ := small(t)
	total := sum(sourceCounts(t, e.Bolt()))
	pg := openPG(t, pgtest.NewDatabaseURL(t))
	if _, err := pg.Import(e.Ctx, failingSource{e.Bolt(), total / 2}); !errors.Is(err, errSource) {
		t.Fatalf("import from a failing source: %v", err)
	}
	if d := dump(t, pg); d != "" {
		t.Fatalf("a failed copy left rows behind:\n%s", d)
	}
	// The database is still a valid target.
	if _, err := pg.Import(e.Ctx, e.Bolt()); err != nil {
		t.Fatalf("import after a failed one: %v", err)
	}
}

// Verification alone finds a copy changed after the fact, and names the
// entity that differs; an untouched copy verifies.
func TestVerifyNamesTheEntityThatDiffers(t *testing.T) {
	e, _ := small(t)
	for _, c := range []struct {
		name, sql, kind string
		sameCount       bool
	}{
		{"untouched", ``, "", true},
		{"an email changed", `UPDATE links SET email = 'x' || email WHERE id = (SELECT min(id) FROM links)`, "links", true},
		{"a time a microsecond off", `UPDATE events SET at = at + interval '1 microsecond' WHERE id = (SELECT max(id) FROM events)`, "audit_events", true},
		{"a row deleted", `DELETE FROM sessions WHERE hash = (SELECT hash FROM sessions ORDER BY hash LIMIT 1)`, "sessions", false},
		{"a row added", `INSERT INTO known_addresses (org_id, skeleton, email) VALUES (999, 'zz', 'zz@x.test')`, "known_addresses", false},
		{"a byte of a token", `UPDATE api_tokens SET hash = '\x00'::bytea || hash`, "api_tokens", true},
		{"the data of a mail", `UPDATE messages SET data = data || '{"extra": "1"}' WHERE id = (SELECT min(id) FROM messages)`, "outbox", true},
		{"the key check", `UPDATE meta SET value = '\x00'::bytea WHERE key = 'key_check'`, postgres.KeyCheckKind, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			url := pgtest.NewDatabaseURL(t)
			pg := openPG(t, url)
			if _, err := pg.Import(e.Ctx, e.Bolt()); err != nil {
				t.Fatal(err)
			}
			if c.sql != "" {
				tag, err := connect(t, url).Exec(e.Ctx, c.sql)
				if err != nil || tag.RowsAffected() == 0 {
					t.Fatalf("%s: %v (%d rows)", c.sql, err, tag.RowsAffected())
				}
			}
			checks, err := pg.Verify(e.Ctx, e.Bolt())
			if len(checks) != len(storage.Kinds())+1 {
				t.Fatalf("%d checks", len(checks))
			}
			if c.kind == "" {
				if err != nil {
					t.Fatalf("an untouched copy: %v", err)
				}
				return
			}
			var me *postgres.MismatchError
			if !errors.As(err, &me) || len(me.Checks) != 1 || me.Checks[0].Kind != c.kind || !strings.Contains(err.Error(), c.kind) {
				t.Fatalf("verify: %v, want a mismatch of %s only", err, c.kind)
			}
			if got := me.Checks[0].SourceCount == me.Checks[0].TargetCount; got != c.sameCount {
				t.Fatalf("counts %d and %d", me.Checks[0].SourceCount, me.Checks[0].TargetCount)
			}
		})
	}
}
