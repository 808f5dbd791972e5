package postgres_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"latchkey/core"
	"latchkey/storage"
	"latchkey/storage/postgres"
	"latchkey/storage/postgres/pgtest"
	"latchkey/storage/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var ctx = context.Background()

// nodes opens n services on one fresh database, as n latchkey processes
// sharing it would: the same key file, the same clock, a store each.
func nodes(t *testing.T, n int) ([]*core.Service, []*postgres.Store, *storetest.Clock) {
	t.Helper()
	url := pgtest.NewDatabaseURL(t)
	keys, _, err := storage.LoadOrCreateKeys(filepath.Join(t.TempDir(), "latchkey.key"))
	if err != nil {
		t.Fatal(err)
	}
	clock := storetest.NewClock(time.Now().UTC().Truncate(time.Hour))
	var svcs []*core.Service
	var stores []*postgres.Store
	for range n {
		st, err := postgres.Open(ctx, url, postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		if err := st.BindKeys(ctx, keys); err != nil {
			t.Fatal(err)
		}
		svc, err := core.New(core.Config{Store: st, Keys: keys, PublicURL: "https://portal.example.com", Clock: clock,
			Options: core.Options{Argon2: storetest.FastArgon}})
		if err != nil {
			t.Fatal(err)
		}
		svcs, stores = append(svcs, svc), append(stores, st)
	}
	return svcs, stores, clock
}

// listen makes node i hear the others' commits until the test ends.
func listen(t *testing.T, st *postgres.Store, svc *core.Service) {
	lctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { st.Listen(lctx, svc.ApplyRemote); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

func eventually(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatalf("not within a second: %s", what)
}

// A portal closed on node A is closed on node B at its next request, though
// B kept the decision it made while the portal was open; a node that does
// not listen keeps it (which is what listening is for). B's console hears
// the change.
func TestNodesDropKeptDecisionsOnOtherNodesCommits(t *testing.T) {
	svcs, stores, _ := nodes(t, 3)
	a, b, deaf := svcs[0], svcs[1], svcs[2]
	listen(t, stores[1], b)
	admin := core.AdminActor("test")
	org, err := a.CreateOrg(ctx, admin, core.NewOrg{Name: "Acme", OwnerEmail: "owner@acme.test", OwnerName: "Owner"})
	if err != nil {
		t.Fatal(err)
	}
	proj, err := a.CreateProject(ctx, admin, org.ID, "Site")
	if err != nil {
		t.Fatal(err)
	}
	open := core.PortalSettings{Slug: "acme-site", Title: "Site", Access: core.AccessOpen}
	if _, err := a.SetPortal(ctx, admin, proj.ID, open); err != nil {
		t.Fatal(err)
	}
	allowed := func(svc *core.Service) bool {
		g, err := svc.GateBySlug(ctx, "acme-site", "")
		if err != nil {
			t.Fatal(err)
		}
		return g.Allowed
	}
	if !allowed(b) || !allowed(deaf) {
		t.Fatal("the open portal is not open")
	}
	changes, unsubscribe := b.Events().Subscribe()
	defer unsubscribe()
	closed := open
	closed.Access = core.AccessClosed
	if _, err := a.SetPortal(ctx, admin, proj.ID, closed); err != nil {
		t.Fatal(err)
	}
	eventually(t, "node B sees the portal closed", func() bool { return !allowed(b) })
	if !allowed(deaf) {
		t.Fatal("a node that does not listen read the portal again: the test shows nothing")
	}
	select {
	case c := <-changes:
		if c.OrgID != org.ID && c.OrgID != 0 {
			t.Fatalf("B heard %+v", c)
		}
	case <-time.After(time.Second):
		t.Fatal("B's broker heard nothing of A's change")
	}
}

// Workers on two nodes claim disjoint sets of the due mail and together
// all of it; what is claimed is nobody else's until its lease ends.
func TestNodesClaimDisjointMail(t *testing.T) {
	svcs, _, clock := nodes(t, 2)
	a, b := svcs[0], svcs[1]
	admin := core.AdminActor("test")
	org, err := a.CreateOrg(ctx, admin, core.NewOrg{Name: "Acme", OwnerEmail: "owner@acme.test", OwnerName: "Owner"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 60 {
		if _, err := a.Invite(ctx, admin, core.InviteInput{OrgID: org.ID, Email: fmt.Sprintf("c%d@x.test", i), Role: core.RoleMember}); err != nil {
			t.Fatal(err)
		}
	}
	due, err := a.DueMail(ctx, 0)
	if err != nil || len(due) < 60 {
		t.Fatalf("%d due, %v", len(due), err)
	}
	type claim struct {
		ms  []core.Message
		err error
	}
	results := make(chan claim, 2)
	for _, svc := range []*core.Service{a, b} {
		go func() {
			var got []core.Message
			for {
				ms, err := svc.ClaimMail(ctx, 7, time.Minute, nil)
				if err != nil || len(ms) == 0 {
					results <- claim{got, err}
					return
				}
				got = append(got, ms...)
			}
		}()
	}
	seen := map[uint64]bool{}
	for range 2 {
		r := <-results
		if r.err != nil {
			t.Fatal(r.err)
		}
		for _, m := range r.ms {
			if seen[m.ID] {
				t.Fatalf("message %d claimed twice", m.ID)
			}
			seen[m.ID] = true
		}
	}
	if len(seen) != len(due) {
		t.Fatalf("claimed %d of %d", len(seen), len(due))
	}
	if ms, _ := b.ClaimMail(ctx, 0, time.Minute, nil); len(ms) != 0 {
		t.Fatalf("%d claimed again within the lease", len(ms))
	}
	// A worker sleeps until the leases end, rather than spinning on mail
	// that is due but held.
	if next, err := b.NextMailDue(ctx); err != nil || !next.Equal(clock.Now().Add(time.Minute)) {
		t.Fatalf("next due %v (%v), want the leases' end %v", next, err, clock.Now().Add(time.Minute))
	}
	clock.Advance(time.Minute)
	again, err := b.ClaimMail(ctx, 0, time.Minute, nil)
	if err != nil || len(again) != len(due) {
		t.Fatalf("after the lease %d were due again (%v), want %d", len(again), err, len(due))
	}
	if !slices.IsSortedFunc(again, func(x, y core.Message) int { return x.NextAttemptAt.Compare(y.NextAttemptAt) }) {
		t.Fatal("claims are not earliest first")
	}
}
