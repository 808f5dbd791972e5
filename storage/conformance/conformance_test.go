// Package conformance holds the tests every implementation of core's Store
// must pass: each runs against bbolt (package storage) and PostgreSQL
// (package storage/postgres, on a throwaway cluster). core's own flow tests
// run on both as well (make test sets LATCHKEY_TEST_STORE=postgres for their
// second run).
package conformance_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"latchkey/core"
	"latchkey/storage"
	"latchkey/storage/postgres"
	"latchkey/storage/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var ctx = context.Background()

// store is what the suite drives: core's Store and a walk over every record.
type store interface {
	core.Store
	Walk(fn func(bucket string, k, v []byte) error) error
}

// each runs test against a fresh store of each backend.
func each(t *testing.T, test func(t *testing.T, s store)) {
	t.Run("bbolt", func(t *testing.T) {
		s, err := storage.Open(filepath.Join(t.TempDir(), "latchkey.db"), storage.Options{NoSync: true, GroupCommit: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		test(t, s)
	})
	t.Run("postgres", func(t *testing.T) {
		s, err := postgres.Open(ctx, pgtest.NewDatabaseURL(t), postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		test(t, s)
	})
}

// dump is every record as text, to compare states.
func dump(t *testing.T, s store) string {
	t.Helper()
	var b strings.Builder
	if err := s.Walk(func(bucket string, k, v []byte) error {
		fmt.Fprintf(&b, "%s %x %x\n", bucket, k, v)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func update(t *testing.T, s store, fn func(tx core.Tx) error) {
	t.Helper()
	if err := s.Update(ctx, fn); err != nil {
		t.Fatal(err)
	}
}

func TestOneActiveLinkPerPortalEmail(t *testing.T) {
	each(t, func(t *testing.T, s store) {
		update(t, s, func(tx core.Tx) error {
			a := core.Link{PortalID: 1, Email: "a@x.test", State: core.LinkActive, Lookup: []byte("la")}
			if err := tx.PutLink(&a); err != nil {
				return err
			}
			b := core.Link{PortalID: 1, Email: "a@x.test", State: core.LinkActive, Lookup: []byte("lb")}
			if err := tx.PutLink(&b); !errors.Is(err, core.ErrConflict) {
				return fmt.Errorf("second active link: %v", err)
			}
			dup := core.Link{PortalID: 3, Email: "d@x.test", State: core.LinkActive, Lookup: []byte("la")}
			if err := tx.PutLink(&dup); !errors.Is(err, core.ErrConflict) {
				return fmt.Errorf("a second link with the same lookup: %v", err)
			}
			other := core.Link{PortalID: 2, Email: "a@x.test", State: core.LinkActive, Lookup: []byte("lc")}
			if err := tx.PutLink(&other); err != nil {
				return fmt.Errorf("another portal: %v", err)
			}
			a.State = core.LinkReplaced
			if err := tx.PutLink(&a); err != nil {
				return err
			}
			b.ID = 0
			if err := tx.PutLink(&b); err != nil {
				return fmt.Errorf("after replacing: %v", err)
			}
			b.Role = core.RoleClient // rewriting the active link: it stays the active one
			if err := tx.PutLink(&b); err != nil {
				return fmt.Errorf("rewriting the active link: %v", err)
			}
			if got, err := tx.ActiveLink(1, "a@x.test"); err != nil || got.ID != b.ID || got.Role != core.RoleClient {
				return fmt.Errorf("active = %+v, %v", got, err)
			}
			if got, err := tx.LatestLink(1, "a@x.test"); err != nil || got.ID != b.ID {
				return fmt.Errorf("latest = %d, %v", got.ID, err)
			}
			if got, err := tx.LinkByLookup([]byte("la")); err != nil || got.State != core.LinkReplaced {
				return fmt.Errorf("by lookup = %+v, %v", got, err)
			}
			if links, err := tx.Links(1); err != nil || len(links) != 2 || links[0].ID != a.ID || links[1].ID != b.ID {
				return fmt.Errorf("portal 1's links, oldest first: %+v, %v", links, err)
			}
			return nil
		})
	})
}

// Every uniqueness rule refuses with ErrConflict, writes nothing, and
// leaves the transaction usable: core may carry on after a conflict and
// commit what else it did.
func TestConflictsChangeNothing(t *testing.T) {
	each(t, func(t *testing.T, s store) {
		t0 := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
		update(t, s, func(tx core.Tx) error {
			for _, err := range []error{
				tx.PutUser(&core.User{Email: "a@x.test", CreatedAt: t0}),
				tx.PutUser(&core.User{Email: "b@x.test", CreatedAt: t0}),
				tx.PutOrg(&core.Org{Slug: "acme", Name: "Acme", CreatedAt: t0}),
				tx.PutMember(core.Member{OrgID: 1, UserID: 1, Role: core.RoleOwner, CreatedAt: t0}),
				tx.PutProject(&core.Project{OrgID: 1, Name: "Site", CreatedAt: t0}),
				tx.PutProject(&core.Project{OrgID: 1, Name: "Brand", CreatedAt: t0}),
				tx.PutPortal(&core.Portal{OrgID: 1, ProjectID: 1, Slug: "site", Title: "Site", Access: core.AccessClosed, Host: "site.acme.test", CreatedAt: t0}),
				tx.PutSSHKey(core.SSHKey{Fingerprint: "SHA256:one", UserID: 1, PublicKey: "ssh-ed25519 AAAA", AddedAt: t0}),
			} {
				if err != nil {
					return err
				}
			}
			return nil
		})
		before := dump(t, s)
		cases := []struct {
			name string
			put  func(tx core.Tx) error
		}{
			{"an email of another account", func(tx core.Tx) error { return tx.PutUser(&core.User{ID: 2, Email: "a@x.test", CreatedAt: t0}) }},
			{"a new account with a taken email", func(tx core.Tx) error { return tx.PutUser(&core.User{Email: "a@x.test", CreatedAt: t0}) }},
			{"a taken organization slug", func(tx core.Tx) error {
				return tx.PutOrg(&core.Org{Slug: "acme", Name: "Other", CreatedAt: t0})
			}},
			{"a second owner", func(tx core.Tx) error {
				return tx.PutMember(core.Member{OrgID: 1, UserID: 2, Role: core.RoleOwner, CreatedAt: t0})
			}},
			{"a taken portal slug", func(tx core.Tx) error {
				return tx.PutPortal(&core.Portal{OrgID: 1, ProjectID: 2, Slug: "site", Title: "B", Access: core.AccessClosed, CreatedAt: t0})
			}},
			{"a second portal of a project", func(tx core.Tx) error {
				return tx.PutPortal(&core.Portal{OrgID: 1, ProjectID: 1, Slug: "other", Title: "B", Access: core.AccessClosed, CreatedAt: t0})
			}},
			{"a taken host", func(tx core.Tx) error {
				return tx.PutPortal(&core.Portal{OrgID: 1, ProjectID: 2, Slug: "brand", Title: "B", Access: core.AccessClosed, Host: "site.acme.test", CreatedAt: t0})
			}},
			{"another account's key", func(tx core.Tx) error {
				return tx.PutSSHKey(core.SSHKey{Fingerprint: "SHA256:one", UserID: 2, PublicKey: "ssh-ed25519 AAAA", AddedAt: t0})
			}},
		}
		for _, tc := range cases {
			err := s.Update(ctx, func(tx core.Tx) error {
				if err := tc.put(tx); !errors.Is(err, core.ErrConflict) {
					return fmt.Errorf("want a conflict, got %v", err)
				}
				return errors.New("roll back")
			})
			if err == nil || err.Error() != "roll back" {
				t.Errorf("%s: %v", tc.name, err)
			}
			if got := dump(t, s); got != before {
				t.Errorf("%s changed the store", tc.name)
			}
		}
		// After a conflict the same transaction goes on and commits.
		update(t, s, func(tx core.Tx) error {
			if err := tx.PutOrg(&core.Org{Slug: "acme", Name: "Other", CreatedAt: t0}); !errors.Is(err, core.ErrConflict) {
				return fmt.Errorf("want a conflict, got %v", err)
			}
			return tx.PutOrg(&core.Org{Slug: "globex", Name: "Globex", CreatedAt: t0})
		})
		s.View(ctx, func(tx core.Tx) error {
			if o, err := tx.OrgBySlug("globex"); err != nil || o.Name != "Globex" {
				t.Errorf("the write after a conflict: %+v, %v", o, err)
			}
			if o, err := tx.OrgBySlug("acme"); err != nil || o.Name != "Acme" {
				t.Errorf("the first organization: %+v, %v", o, err)
			}
			return nil
		})
	})
}

// A failed update leaves nothing behind; what a read returns is a copy
// that later writes never change.
func TestRollbackAndCopies(t *testing.T) {
	each(t, func(t *testing.T, s store) {
		before := dump(t, s)
		err := s.Update(ctx, func(tx core.Tx) error {
			if err := tx.PutUser(&core.User{Email: "a@x.test"}); err != nil {
				return err
			}
			if err := tx.AppendEvent(&core.Event{Action: "x"}); err != nil {
				return err
			}
			return errors.New("no")
		})
		if err == nil || dump(t, s) != before {
			t.Fatalf("a failed update left %v", err)
		}
		lookup := bytes.Repeat([]byte{7}, 32)
		update(t, s, func(tx core.Tx) error {
			return tx.PutLink(&core.Link{PortalID: 1, Email: "a@x.test", State: core.LinkActive, Lookup: lookup, Sealed: []byte("sealed")})
		})
		update(t, s, func(tx core.Tx) error {
			return tx.PutSession(core.Session{Hash: bytes.Repeat([]byte{9}, 32), UserID: 5, LinkID: 1})
		})
		var l core.Link
		var sessions []core.Session
		s.View(ctx, func(tx core.Tx) (err error) {
			l, err = tx.LinkByLookup(lookup)
			sessions, _ = tx.SessionsOfUser(5)
			return err
		})
		for range 10 { // bbolt: grow the file well past its first mapping
			update(t, s, func(tx core.Tx) error {
				for range 500 {
					if err := tx.AppendEvent(&core.Event{Action: strings.Repeat("x", 200)}); err != nil {
						return err
					}
				}
				return nil
			})
		}
		update(t, s, func(tx core.Tx) error {
			l2, err := tx.LinkByLookup(lookup)
			l2.Sealed = []byte("changed")
			if err == nil {
				err = tx.PutLink(&l2)
			}
			return err
		})
		if !bytes.Equal(l.Lookup, lookup) || string(l.Sealed) != "sealed" || len(sessions) != 1 || !bytes.Equal(sessions[0].Hash, bytes.Repeat([]byte{9}, 32)) {
			t.Fatal("a value read earlier changed")
		}
	})
}

func TestListsAndIndexes(t *testing.T) {
	each(t, func(t *testing.T, s store) {
		t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		update(t, s, func(tx core.Tx) error {
			for i := 1; i <= 30; i++ {
				if err := tx.AppendEvent(&core.Event{OrgID: uint64(i%3 + 1), Action: fmt.Sprint(i), At: t0}); err != nil {
					return err
				}
			}
			for i := range 5 {
				m := core.Message{To: fmt.Sprint(i), State: core.MessageQueued, NextAttemptAt: t0.Add(time.Duration(5-i) * time.Minute)}
				if err := tx.PutMessage(&m); err != nil {
					return err
				}
			}
			return nil
		})
		s.View(ctx, func(tx core.Tx) error {
			all, _ := tx.Events(core.AuditQuery{Limit: 5})
			if len(all) != 5 || all[0].ID != 30 || all[4].ID != 26 {
				t.Errorf("newest five: %+v", all)
			}
			page, _ := tx.Events(core.AuditQuery{BeforeID: 26, Limit: 3})
			if len(page) != 3 || page[0].ID != 25 {
				t.Errorf("next page: %+v", page)
			}
			org, _ := tx.Events(core.AuditQuery{OrgID: 2, Limit: 4})
			if len(org) != 4 || org[0].ID != 28 || org[1].ID != 25 { // org 2 holds 1, 4, …, 28
				t.Errorf("org 2: %+v", org)
			}
			orgPage, _ := tx.Events(core.AuditQuery{OrgID: 2, BeforeID: 27})
			if len(orgPage) != 9 || orgPage[0].ID != 25 {
				t.Errorf("org 2 before 27: %d events", len(orgPage))
			}
			due, _ := tx.DueMessages(t0.Add(3*time.Minute), 0)
			if len(due) != 3 || due[0].To != "4" || due[2].To != "2" {
				t.Errorf("due: %+v", due)
			}
			if due, _ := tx.DueMessages(t0.Add(3*time.Minute), 2); len(due) != 2 || due[1].To != "3" {
				t.Errorf("the first two due: %+v", due)
			}
			if next, _ := tx.NextDue(); !next.Equal(t0.Add(time.Minute)) {
				t.Errorf("next due %v", next)
			}
			msgs, _ := tx.Messages(4, 2)
			if len(msgs) != 2 || msgs[0].ID != 3 || msgs[1].ID != 2 {
				t.Errorf("messages before 4: %+v", msgs)
			}
			return nil
		})
		// Sending a message takes it off the due list.
		update(t, s, func(tx core.Tx) error {
			m, _ := tx.Message(5)
			m.State = core.MessageSent
			return tx.PutMessage(&m)
		})
		s.View(ctx, func(tx core.Tx) error {
			if due, _ := tx.DueMessages(t0.Add(time.Hour), 0); len(due) != 4 {
				t.Errorf("due after sending one: %d", len(due))
			}
			return nil
		})
	})
}

// Times read back as they were written (to the microsecond, in UTC), and
// a time never set reads back as the zero time.
func TestTimesReadBackAsWritten(t *testing.T) {
	each(t, func(t *testing.T, s store) {
		at := time.Date(2026, 3, 2, 9, 30, 15, 123456000, time.FixedZone("CET", 3600))
		update(t, s, func(tx core.Tx) error {
			return tx.PutUser(&core.User{Email: "a@x.test", CreatedAt: at})
		})
		s.View(ctx, func(tx core.Tx) error {
			u, err := tx.UserByEmail("a@x.test")
			if err != nil || !u.CreatedAt.Equal(at) || !u.PasswordChangedAt.IsZero() {
				t.Errorf("read back %+v, %v", u, err)
			}
			return nil
		})
	})
}

// Concurrent read-modify-write updates of one record lose nothing: bbolt
// has one writer; PostgreSQL's serializable transactions fail to
// serialize and are run again.
func TestConcurrentUpdatesLoseNothing(t *testing.T) {
	each(t, func(t *testing.T, s store) {
		update(t, s, func(tx core.Tx) error {
			return tx.PutToken(core.Token{Hash: []byte("h"), Kind: core.TokenCode, Email: "a@x.test"})
		})
		const workers, each = 8, 25
		var wg sync.WaitGroup
		errs := make(chan error, workers*each)
		for range workers {
			wg.Go(func() {
				for range each {
					errs <- s.Update(ctx, func(tx core.Tx) error {
						tok, err := tx.Token([]byte("h"))
						if err != nil {
							return err
						}
						tok.Tries++
						return tx.PutToken(tok)
					})
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		s.View(ctx, func(tx core.Tx) error {
			if tok, err := tx.Token([]byte("h")); err != nil || tok.Tries != workers*each {
				t.Errorf("tries %d, want %d (%v)", tok.Tries, workers*each, err)
			}
			return nil
		})
	})
}

// The Delete…Before methods remove exactly what is older and say how many.
func TestDeletesBeforeCount(t *testing.T) {
	each(t, func(t *testing.T, s store) {
		t0 := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
		update(t, s, func(tx core.Tx) error {
			for i := range 4 {
				at := t0.Add(time.Duration(i) * time.Hour)
				for _, err := range []error{
					tx.PutToken(core.Token{Hash: []byte{byte(i)}, Kind: core.TokenReset, Email: "a@x.test", CreatedAt: at, ExpiresAt: at}),
					tx.PutSession(core.Session{Hash: []byte{byte(i)}, UserID: 1, CreatedAt: at, LastSeenAt: at, ExpiresAt: at.Add(24 * time.Hour)}),
					tx.PutLinkEvent(&core.LinkEvent{LinkID: 1, Kind: core.LinkEventViewed, At: at}),
					tx.PutIdempotencyRecord(core.IdempotencyRecord{Key: fmt.Sprint(i), Fingerprint: []byte("f"), CreatedAt: at}),
				} {
					if err != nil {
						return err
					}
				}
			}
			return nil
		})
		cut := t0.Add(2 * time.Hour) // two of each are older
		update(t, s, func(tx core.Tx) error {
			for name, del := range map[string]func() (int, error){
				"tokens":       func() (int, error) { return tx.DeleteTokensBefore(cut) },
				"link events":  func() (int, error) { return tx.DeleteLinkEventsBefore(cut) },
				"idempotency":  func() (int, error) { return tx.DeleteIdempotencyBefore(cut) },
				"idle session": func() (int, error) { return tx.DeleteSessionsBefore(t0, cut.Add(-time.Nanosecond)) },
			} {
				if n, err := del(); err != nil || n != 2 {
					t.Errorf("%s: removed %d, %v; want 2", name, n, err)
				}
			}
			return nil
		})
		s.View(ctx, func(tx core.Tx) error {
			if _, err := tx.Token([]byte{1}); !errors.Is(err, core.ErrNotFound) {
				t.Errorf("an old token: %v", err)
			}
			if _, err := tx.Token([]byte{2}); err != nil {
				t.Errorf("a newer token: %v", err)
			}
			if evs, err := tx.LinkEvents(1); err != nil || len(evs) != 2 || !evs[0].At.Equal(cut) {
				t.Errorf("events left: %+v, %v", evs, err)
			}
			if ss, err := tx.SessionsOfUser(1); err != nil || len(ss) != 2 {
				t.Errorf("sessions left: %d, %v", len(ss), err)
			}
			return nil
		})
	})
}

// A link's uses count at once, in every read, and a fold moves them into
// the stored counters without changing a figure; PutLink never moves the
// counters; a use that rolls back counts for nothing; uses take their
// place among the link's other events.
func TestLinkUsesCountAtOnceAndFold(t *testing.T) {
	each(t, func(t *testing.T, s store) {
		t0 := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
		update(t, s, func(tx core.Tx) error {
			return tx.PutLink(&core.Link{PortalID: 1, Email: "a@x.test", State: core.LinkActive, Lookup: []byte("l")})
		})
		use := func(at time.Time) {
			update(t, s, func(tx core.Tx) error {
				return tx.PutLinkUse(&core.LinkEvent{LinkID: 1, Kind: core.LinkEventRedeemed, At: at, Addr: "198.51.100.7"})
			})
		}
		check := func(what string, uses uint64, last time.Time, kinds ...core.LinkEventKind) {
			t.Helper()
			s.View(ctx, func(tx core.Tx) error {
				for _, get := range []func() (core.Link, error){
					func() (core.Link, error) { return tx.Link(1) },
					func() (core.Link, error) { return tx.LinkByLookup([]byte("l")) },
					func() (core.Link, error) { return tx.LatestLink(1, "a@x.test") },
					func() (core.Link, error) {
						ls, err := tx.Links(1)
						if err != nil || len(ls) != 1 {
							return core.Link{}, fmt.Errorf("links %v, %v", ls, err)
						}
						return ls[0], nil
					},
				} {
					l, err := get()
					if err != nil || l.UseCount != uses || !l.LastUsedAt.Equal(last) {
						t.Errorf("%s: uses %d, last used %v (%v), want %d, %v", what, l.UseCount, l.LastUsedAt, err, uses, last)
					}
				}
				events, err := tx.LinkEvents(1)
				var got []core.LinkEventKind
				for _, e := range events {
					got = append(got, e.Kind)
				}
				if err != nil || fmt.Sprint(got) != fmt.Sprint(kinds) {
					t.Errorf("%s: history %v (%v), want %v", what, got, err, kinds)
				}
				return nil
			})
		}
		use(t0)
		update(t, s, func(tx core.Tx) error {
			return tx.PutLinkEvent(&core.LinkEvent{LinkID: 1, Kind: core.LinkEventEmailed, At: t0})
		})
		use(t0.Add(time.Minute))
		use(t0.Add(2 * time.Minute))
		R, E := core.LinkEventRedeemed, core.LinkEventEmailed
		check("unfolded", 3, t0.Add(2*time.Minute), R, E, R, R)

		// A use whose transaction fails leaves nothing.
		boom := errors.New("boom")
		if err := s.Update(ctx, func(tx core.Tx) error {
			if err := tx.PutLinkUse(&core.LinkEvent{LinkID: 1, Kind: core.LinkEventRedeemed, At: t0.Add(time.Hour)}); err != nil {
				return err
			}
			return boom
		}); !errors.Is(err, boom) {
			t.Fatal(err)
		}
		check("after a rollback", 3, t0.Add(2*time.Minute), R, E, R, R)

		// PutLink of a link read with its uses does not count them twice.
		update(t, s, func(tx core.Tx) error {
			l, err := tx.Link(1)
			if err != nil {
				return err
			}
			l.Role = core.RoleClient
			return tx.PutLink(&l)
		})
		check("rewritten", 3, t0.Add(2*time.Minute), R, E, R, R)

		fold := func(limit, want int) {
			t.Helper()
			update(t, s, func(tx core.Tx) error {
				n, err := tx.FoldLinkUses(limit)
				if err == nil && n != want {
					err = fmt.Errorf("folded %d, want %d", n, want)
				}
				return err
			})
		}
		fold(2, 2)
		check("partly folded", 3, t0.Add(2*time.Minute), R, E, R, R)
		use(t0.Add(3 * time.Minute))
		fold(10, 2)
		fold(10, 0)
		check("folded", 4, t0.Add(3*time.Minute), R, E, R, R, R)
	})
}

// Redemptions and folds running together count every use exactly once.
func TestLinkUsesUnderConcurrentFolds(t *testing.T) {
	each(t, func(t *testing.T, s store) {
		update(t, s, func(tx core.Tx) error {
			return tx.PutLink(&core.Link{PortalID: 1, Email: "a@x.test", State: core.LinkActive, Lookup: []byte("l")})
		})
		const workers, each = 6, 30
		var wg sync.WaitGroup
		errs := make(chan error, workers*each*2)
		at := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
		for range workers {
			wg.Go(func() {
				for range each {
					errs <- s.Update(ctx, func(tx core.Tx) error {
						return tx.PutLinkUse(&core.LinkEvent{LinkID: 1, Kind: core.LinkEventRedeemed, At: at})
					})
					errs <- s.Update(ctx, func(tx core.Tx) error { _, err := tx.FoldLinkUses(7); return err })
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		s.View(ctx, func(tx core.Tx) error {
			if l, err := tx.Link(1); err != nil || l.UseCount != workers*each {
				t.Errorf("uses %d, want %d (%v)", l.UseCount, workers*each, err)
			}
			if ev, err := tx.LinkEvents(1); err != nil || len(ev) != workers*each {
				t.Errorf("history of %d events, want %d (%v)", len(ev), workers*each, err)
			}
			return nil
		})
	})
}
