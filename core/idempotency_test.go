package core_test

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"latchkey/core"
)

// A key is claimed in the transaction of the first change: of 16 racing
// requests with one key, one invites and the others change nothing.
func TestIdempotencyKeyClaimedWithTheChange(t *testing.T) {
	e := newEnv(t)
	w := e.world("Acme")
	in := core.InviteInput{OrgID: w.org.ID, Email: "kim@client.test", Role: core.RoleClient, PortalID: w.closed.ID}
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, replays := 0, 0
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := &core.Idempotency{Scope: "token:1", Key: "abc", Fingerprint: []byte("same")}
			_, err := e.Svc.Invite(core.WithIdempotency(e.Ctx, k), w.ownerA, in)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case errors.Is(err, core.ErrIdempotencyReplay):
				replays++
			default:
				t.Errorf("racing invite: %v", err)
			}
		}()
	}
	wg.Wait()
	if ok != 1 || replays != 15 {
		t.Fatalf("%d invited, %d replays; want 1 and 15", ok, replays)
	}
	if n := len(e.MailsTo("kim@client.test", core.MailInvitePortal)); n != 1 {
		t.Fatalf("%d invitations mailed", n)
	}
	k := &core.Idempotency{Scope: "token:1", Key: "abc", Fingerprint: []byte("same")}
	r, err := e.Svc.IdempotentAnswer(e.Ctx, k)
	if err != nil || r.Status != 0 || !r.SameRequest(k) {
		t.Fatalf("record before the answer: %+v %v", r, err)
	}
	must(0, e.Svc.StoreIdempotentAnswer(e.Ctx, k, 201, "application/json", []byte(`{"first":true}`)))
	must(0, e.Svc.StoreIdempotentAnswer(e.Ctx, k, 500, "application/json", []byte(`{"second":true}`)))
	if r := must(e.Svc.IdempotentAnswer(e.Ctx, k)); r.Status != 201 || string(r.Body) != `{"first":true}` {
		t.Fatalf("stored answer %+v", r)
	}
	// Another scope's same key is another key; a refused request claims nothing.
	other := &core.Idempotency{Scope: "token:2", Key: "abc", Fingerprint: []byte("x")}
	bad := in
	bad.Role = "emperor"
	if _, err := e.Svc.Invite(core.WithIdempotency(e.Ctx, other), w.ownerA, bad); !errors.Is(err, core.ErrInvalid) {
		t.Fatal(err)
	}
	if _, err := e.Svc.IdempotentAnswer(e.Ctx, other); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("a refused request claimed its key: %v", err)
	}
	// After a day the key is free again, and Purge removes it.
	e.Clock.Advance(core.IdempotencyTTL + time.Second)
	if _, err := e.Svc.IdempotentAnswer(e.Ctx, k); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("a key older than a day: %v", err)
	}
	must2(e.Svc.Purge(e.Ctx))
	if dump := "\n" + e.Dump(); strings.Contains(dump, "\nidempotency ") {
		t.Fatal("Purge kept an expired idempotency key")
	}
}
