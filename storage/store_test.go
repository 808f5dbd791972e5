package storage

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"latchkey/core"
)

var ctx = context.Background()

func openTemp(t *testing.T, opts Options) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "latchkey.db")
	opts.NoSync = true
	s, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func TestOpenCreatesEveryBucketAndSchema(t *testing.T) {
	s, _ := openTemp(t, Options{})
	v, err := s.SchemaVersion()
	if err != nil || v != SchemaVersion {
		t.Fatalf("schema version %d, %v", v, err)
	}
	err = s.db.View(func(tx *bolt.Tx) error {
		for _, b := range allBuckets {
			if tx.Bucket(b) == nil {
				return fmt.Errorf("bucket %s missing", b)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestSecondProcessGetsAClearError(t *testing.T) {
	_, path := openTemp(t, Options{})
	start := time.Now()
	_, err := Open(path, Options{Timeout: 200 * time.Millisecond})
	if !errors.Is(err, ErrInUse) {
		t.Fatalf("second open: %v", err)
	}
	if want := fmt.Sprintf("pid %d", os.Getpid()); !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "in use by another latchkey") {
		t.Fatalf("message %q should name %s", err, want)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatal("second open hung")
	}
}

func TestMigrationHook(t *testing.T) {
	path := filepath.Join(t.TempDir(), "latchkey.db")
	s, err := Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	ran := 0
	next := uint64(SchemaVersion + 1)
	more := append(slices.Clone(migrations), migration{To: next, Name: "add marker", Run: func(tx *bolt.Tx) error {
		ran++
		return tx.Bucket(bMeta).Put([]byte("marker"), []byte("next"))
	}})
	s, err = Open(path, Options{NoSync: true, migrations: more})
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := s.SchemaVersion(); v != next || ran != 1 {
		t.Fatalf("version %d after %d runs", v, ran)
	}
	s.Close()
	// Opening again does not re-run it.
	s, err = Open(path, Options{NoSync: true, migrations: more})
	if err != nil || ran != 1 {
		t.Fatalf("reopen: %v, %d runs", err, ran)
	}
	s.Close()
	// An older build refuses a newer database instead of damaging it.
	_, err = Open(path, Options{NoSync: true})
	if err == nil || !strings.Contains(err.Error(), "newer than this latchkey") {
		t.Fatalf("old build on new schema: %v", err)
	}
	// A failing migration leaves the database as it was.
	path2 := filepath.Join(t.TempDir(), "b.db")
	s, _ = Open(path2, Options{NoSync: true})
	s.Close()
	bad := append(slices.Clone(migrations), migration{To: next, Name: "broken", Run: func(tx *bolt.Tx) error { return errors.New("boom") }})
	if _, err := Open(path2, Options{NoSync: true, migrations: bad}); err == nil || !strings.Contains(err.Error(), "broken") {
		t.Fatalf("broken migration: %v", err)
	}
	s, err = Open(path2, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v, _ := s.SchemaVersion(); v != SchemaVersion {
		t.Fatalf("version %d after a failed migration", v)
	}
}

// A database of schema version 1 (with its index of sessions by link and
// links stored as JSON) opens at the current version without that index,
// keeping its sessions and its links. (That ending a link ends the sessions
// it opened is core's TestRotateAndDeactivateEndLinkAndSessions.)
func TestMigrateFromVersion1(t *testing.T) {
	path := filepath.Join(t.TempDir(), "latchkey.db")
	s, err := Open(path, Options{NoSync: true, migrations: []migration{}})
	if err != nil {
		t.Fatal(err)
	}
	hash, lookup := bytes.Repeat([]byte{3}, 32), bytes.Repeat([]byte{4}, 32)
	err = s.db.Update(func(tx *bolt.Tx) error {
		if v := binary.BigEndian.Uint64(tx.Bucket(bMeta).Get(keySchema)); v != 1 {
			return fmt.Errorf("started at version %d", v)
		}
		idx, err := tx.CreateBucket(bSessionsLinkV1)
		if err != nil {
			return err
		}
		if err := idx.Put(cat(u64(1), hash), nil); err != nil {
			return err
		}
		old := core.Link{ID: 1, PortalID: 2, Email: "c@x.test", State: core.LinkActive, Lookup: lookup, Sealed: []byte("sealed"), UseCount: 3}
		return put(tx.Bucket(bLinks), lookup, old) // as version 1 wrote it
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Update(ctx, func(tx core.Tx) error {
		return tx.PutSession(core.Session{Hash: hash, UserID: 4, LinkID: 1})
	}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s, err = Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v, _ := s.SchemaVersion(); v != SchemaVersion {
		t.Fatalf("version %d, want %d", v, SchemaVersion)
	}
	s.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bSessionsLinkV1) != nil {
			t.Error("the index of sessions by link is still there")
		}
		return nil
	})
	s.View(ctx, func(tx core.Tx) error {
		if got, err := tx.SessionsOfUser(4); err != nil || len(got) != 1 || got[0].LinkID != 1 {
			t.Errorf("sessions of the user after the migration: %+v, %v", got, err)
		}
		if l, err := tx.LinkByLookup(lookup); err != nil || l.Email != "c@x.test" || l.UseCount != 3 || string(l.Sealed) != "sealed" {
			t.Errorf("the JSON link after the migration: %+v, %v", l, err)
		}
		return nil
	})
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
}

func TestKeyFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "latchkey.key")
	k1, created, err := LoadOrCreateKeys(path)
	if err != nil || !created {
		t.Fatalf("create: %v %v", created, err)
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %o", st.Mode().Perm())
	}
	k2, created, err := LoadOrCreateKeys(path)
	if err != nil || created || !bytes.Equal(k1.Lookup("t"), k2.Lookup("t")) {
		t.Fatalf("reload: %v %v", created, err)
	}
	if got, err := k2.Open(k1.Seal("secret", "p"), "p"); err != nil || got != "secret" {
		t.Fatal("reloaded data key differs")
	}
	os.Chmod(path, 0o644)
	if _, _, err := LoadOrCreateKeys(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("readable key file: %v", err)
	}
	os.WriteFile(path, []byte("lookup-key: nope\n"), 0o600)
	if _, _, err := LoadOrCreateKeys(path); err == nil {
		t.Fatal("malformed key file accepted")
	}

	s, _ := openTemp(t, Options{})
	if bound, _ := s.KeysBound(); bound {
		t.Fatal("new database bound")
	}
	if err := s.BindKeys(k1); err != nil {
		t.Fatal(err)
	}
	if err := s.BindKeys(k1); err != nil {
		t.Fatalf("same keys again: %v", err)
	}
	other, _, _ := LoadOrCreateKeys(filepath.Join(dir, "other.key"))
	if err := s.BindKeys(other); err == nil || !strings.Contains(err.Error(), "does not belong") {
		t.Fatalf("foreign keys: %v", err)
	}
}

func TestBackup(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "latchkey.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Update(ctx, func(tx core.Tx) error {
		return tx.PutUser(&core.User{Email: "a@x.test", Name: "A"})
	})
	if _, err := Backup(path, filepath.Join(dir, "copy.db")); !errors.Is(err, ErrInUse) {
		t.Fatalf("backup of a running database: %v", err)
	}
	var live bytes.Buffer
	if _, err := s.WriteTo(&live); err != nil {
		t.Fatal(err)
	}
	s.Close()
	n, err := Backup(path, filepath.Join(dir, "copy.db"))
	if err != nil || n == 0 {
		t.Fatalf("backup: %d, %v", n, err)
	}
	c, err := Open(filepath.Join(dir, "copy.db"), Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Check(); err != nil {
		t.Fatal(err)
	}
	c.View(ctx, func(tx core.Tx) error {
		if u, err := tx.UserByEmail("a@x.test"); err != nil || u.Name != "A" {
			t.Errorf("copy: %+v %v", u, err)
		}
		return nil
	})
	if _, err := Backup(filepath.Join(dir, "missing.db"), filepath.Join(dir, "x.db")); err == nil {
		t.Fatal("backup of a missing database")
	}
}

// The catalog cache never serves a value older than the last commit to a
// read that begins after that commit.
func TestCatalogCacheFollowsCommits(t *testing.T) {
	s, _ := openTemp(t, Options{})
	p := core.Portal{Slug: "one", Title: "First", ProjectID: 1, OrgID: 1}
	s.Update(ctx, func(tx core.Tx) error { return tx.PutPortal(&p) })
	read := func() core.Portal {
		var got core.Portal
		s.View(ctx, func(tx core.Tx) (err error) { got, err = tx.PortalBySlug("one"); return })
		return got
	}
	if read().Title != "First" || read().Title != "First" { // the second read comes from the cache
		t.Fatal("first read")
	}
	for _, title := range []string{"Second", "Third"} {
		p.Title = title
		if err := s.Update(ctx, func(tx core.Tx) error {
			if err := tx.PutPortal(&p); err != nil {
				return err
			}
			// Inside the writing transaction the new value is what it reads.
			got, err := tx.Portal(p.ID)
			if err == nil && got.Title != title {
				err = fmt.Errorf("write transaction reads %q", got.Title)
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if got := read().Title; got != title {
			t.Fatalf("after commit a read sees %q, want %q", got, title)
		}
	}
	// A rolled-back write leaves the cache as it was.
	s.Update(ctx, func(tx core.Tx) error {
		p.Title = "Rolled back"
		tx.PutPortal(&p)
		return errors.New("roll back")
	})
	if got := read().Title; got != "Third" {
		t.Fatalf("after a rollback a read sees %q", got)
	}
}

// Writers read the catalog through the cache too: under concurrent
// writers (sharing commits) and readers filling the cache, every writer
// reads the latest committed portal, a writer that rolled back leaves the
// cache usable by writers, and the writers' reads do come from the cache.
func TestWritersReadTheCatalogAsCommitted(t *testing.T) {
	s, _ := openTemp(t, Options{GroupCommit: true})
	p := core.Portal{Slug: "one", Title: "0", ProjectID: 1, OrgID: 1}
	s.Update(ctx, func(tx core.Tx) error { return tx.PutPortal(&p) })
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for range 4 { // readers keep filling the cache from their snapshots
		readers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				s.View(ctx, func(tx core.Tx) error { _, err := tx.Portal(p.ID); return err })
			}
		})
	}
	for i := 1; i <= 200; i++ {
		title := fmt.Sprint(i)
		var wg sync.WaitGroup
		for range 4 { // writers that only read, sharing commits with the one that writes
			wg.Go(func() {
				s.Update(ctx, func(tx core.Tx) error { _, err := tx.Portal(p.ID); return err })
			})
		}
		q := p
		q.Title = title
		if err := s.Update(ctx, func(tx core.Tx) error { return tx.PutPortal(&q) }); err != nil {
			t.Fatal(err)
		}
		if i%10 == 0 { // a rollback now and then
			s.Update(ctx, func(tx core.Tx) error {
				r := q
				r.Title = "rolled back"
				tx.PutPortal(&r)
				return errors.New("roll back")
			})
		}
		if err := s.Update(ctx, func(tx core.Tx) error {
			got, err := tx.Portal(p.ID)
			if err == nil && got.Title != title {
				err = fmt.Errorf("a writer after commit %d reads %q", i, got.Title)
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
	}
	close(stop)
	readers.Wait()
	if n := s.cat.unsettled; n != 0 {
		t.Fatalf("%d writes left unsettled: writers would never use the cache again", n)
	}
	// A quiet writer's second read is the cache's own value.
	s.Update(ctx, func(tx core.Tx) error { _, err := tx.Portal(p.ID); return err })
	if _, ok := cacheGet(s.cat, portalsOf, p.ID, true); !ok {
		t.Fatal("writers do not read through the cache")
	}
}

// Users are read through their cache: every transaction, writer or reader,
// reads the latest committed account, a rolled-back write leaves nothing,
// a renamed email moves the lookup, and quiet reads do come from the cache.
func TestUsersReadAsCommitted(t *testing.T) {
	s, _ := openTemp(t, Options{GroupCommit: true})
	u := core.User{Email: "a@x.test", Name: "0"}
	s.Update(ctx, func(tx core.Tx) error { return tx.PutUser(&u) })
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for range 3 {
		readers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				s.View(ctx, func(tx core.Tx) error { _, err := tx.UserByEmail("a@x.test"); return err })
			}
		})
	}
	check := func(what, want string) {
		t.Helper()
		for _, run := range []func(func(core.Tx) error) error{
			func(f func(core.Tx) error) error { return s.Update(ctx, f) },
			func(f func(core.Tx) error) error { return s.View(ctx, f) },
		} {
			if err := run(func(tx core.Tx) error {
				a, err := tx.User(u.ID)
				if err != nil {
					return err
				}
				b, err := tx.UserByEmail("a@x.test")
				if err == nil && (a.Name != want || b.Name != want) {
					err = fmt.Errorf("%s: reads %q and %q, want %q", what, a.Name, b.Name, want)
				}
				return err
			}); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i := 1; i <= 150; i++ {
		name := fmt.Sprint(i)
		v := u
		v.Name = name
		var wg sync.WaitGroup
		for range 3 { // writers that only read, sharing commits with the one that writes
			wg.Go(func() { s.Update(ctx, func(tx core.Tx) error { _, err := tx.User(u.ID); return err }) })
		}
		if err := s.Update(ctx, func(tx core.Tx) error {
			if err := tx.PutUser(&v); err != nil {
				return err
			}
			if got, err := tx.User(u.ID); err != nil || got.Name != name { // its own write
				return fmt.Errorf("the writing transaction reads %q (%v)", got.Name, err)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if i%10 == 0 {
			s.Update(ctx, func(tx core.Tx) error {
				r := v
				r.Name = "rolled back"
				tx.PutUser(&r)
				return errors.New("roll back")
			})
		}
		check(fmt.Sprint("after commit ", i), name)
		wg.Wait()
	}
	close(stop)
	readers.Wait()
	if n := len(s.users.pending); n != 0 {
		t.Fatalf("%d users left pending: writers would never use their entries again", n)
	}
	s.View(ctx, func(tx core.Tx) error { _, err := tx.User(u.ID); return err })
	if _, ok := s.users.get(u.ID, true); !ok {
		t.Fatal("users are not read through the cache")
	}
	v := u
	v.Name, v.Email = "150", "b@x.test"
	if err := s.Update(ctx, func(tx core.Tx) error { return tx.PutUser(&v) }); err != nil {
		t.Fatal(err)
	}
	s.View(ctx, func(tx core.Tx) error {
		if _, err := tx.UserByEmail("a@x.test"); !errors.Is(err, core.ErrNotFound) {
			t.Errorf("the old email still finds the account: %v", err)
		}
		if got, err := tx.UserByEmail("b@x.test"); err != nil || got.Email != "b@x.test" {
			t.Errorf("the new email: %+v, %v", got, err)
		}
		return nil
	})
}

// API tokens are read through the cache (every API call reads its token):
// a revocation is seen by the next read, and a caller changing the scopes
// it got changes nobody else's.
func TestCachedTokensFollowCommits(t *testing.T) {
	s, _ := openTemp(t, Options{})
	tok := core.APIToken{OrgID: 1, Name: "CRM", Scopes: []core.Scope{"members:read"}, Hash: []byte("h")}
	if err := s.Update(ctx, func(tx core.Tx) error { return tx.PutAPIToken(&tok) }); err != nil {
		t.Fatal(err)
	}
	read := func() core.APIToken {
		var got core.APIToken
		if err := s.View(ctx, func(tx core.Tx) (err error) { got, err = tx.APITokenByHash([]byte("h")); return }); err != nil {
			t.Fatal(err)
		}
		return got
	}
	read().Scopes[0] = "webhooks:write"
	if got := read(); got.Scopes[0] != "members:read" || !got.RevokedAt.IsZero() {
		t.Fatalf("cached token %+v", got)
	}
	tok.RevokedAt = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	if err := s.Update(ctx, func(tx core.Tx) error { return tx.PutAPIToken(&tok) }); err != nil {
		t.Fatal(err)
	}
	if got := read(); !got.RevokedAt.Equal(tok.RevokedAt) {
		t.Fatalf("after the revocation a read sees %+v", got)
	}
}

func TestBackupIntoKeepsTheNewest(t *testing.T) {
	s, _ := openTemp(t, Options{})
	s.Update(ctx, func(tx core.Tx) error { return tx.PutUser(&core.User{Email: "a@x.test"}) })
	dir := filepath.Join(t.TempDir(), "backups")
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	var paths []string
	for i := 0; i < 5; i++ {
		p, err := s.BackupInto(dir, t0.Add(time.Duration(i)*time.Hour), 3)
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	left, _ := Backups(dir)
	if len(left) != 3 || left[0] != paths[2] || left[2] != paths[4] {
		t.Fatalf("kept %v", left)
	}
	if st, _ := os.Stat(left[2]); st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %o", st.Mode().Perm())
	}
	c, err := Open(left[2], Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Check(); err != nil {
		t.Fatal(err)
	}
	c.View(ctx, func(tx core.Tx) error {
		if _, err := tx.UserByEmail("a@x.test"); err != nil {
			t.Errorf("copy lacks the user: %v", err)
		}
		return nil
	})
	if entries, _ := os.ReadDir(dir); len(entries) != 3 {
		t.Fatalf("temporary files left behind: %d entries", len(entries))
	}
}

// A database of schema version 2 gets the index of known addresses at open:
// every member's address and every address with a link, under its
// organization, by skeleton (the plain ASCII address where two read alike).
func TestMigrationIndexesKnownAddresses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "latchkey.db")
	s, err := Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Update(ctx, func(x core.Tx) error {
		u := core.User{Email: "owner@acme.test"}
		if err := x.PutUser(&u); err != nil {
			return err
		}
		if err := x.PutMember(core.Member{OrgID: 7, UserID: u.ID, Role: core.RoleOwner}); err != nil {
			return err
		}
		for i, email := range []string{"client@аcme.test", "client@acme.test"} { // Cyrillic а first
			l := core.Link{OrgID: 7, PortalID: 3, Email: email, Role: core.RoleClient, State: core.LinkActive, Lookup: []byte{byte(i), 1, 2, 3}}
			if err := x.PutLink(&l); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Back to version 2, without the index.
	if err := s.db.Update(func(t *bolt.Tx) error {
		if err := t.DeleteBucket(bKnown); err != nil {
			return err
		}
		return t.Bucket(bMeta).Put(keySchema, u64(2))
	}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.View(ctx, func(x core.Tx) error {
		for addr, want := range map[string]string{"owner@acme.test": "owner@acme.test", "client@аcme.test": "client@acme.test", "client@acme.test": "client@acme.test"} {
			if got, err := x.KnownAddress(7, core.AddressSkeleton(addr)); err != nil || got != want {
				t.Errorf("known %s: %q, %v; want %q", addr, got, err, want)
			}
		}
		if _, err := x.KnownAddress(8, core.AddressSkeleton("owner@acme.test")); !errors.Is(err, core.ErrNotFound) {
			t.Errorf("another organization knows the owner: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A key file written before latchkey signed upstream assertions gets a
// signing key at the next start; the lookup and data keys stay, so every
// link resolves as before, and the file stays 0600.
func TestOldKeyFileGetsASigningKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "latchkey.key")
	old := keyFileHeader + "lookup-key: " + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32)) + "\n" +
		"data-key: " + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{2}, 32)) + "\n"
	if err := os.WriteFile(path, []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	before, err := core.NewKeys(bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32), bytes.Repeat([]byte{9}, 32))
	if err != nil {
		t.Fatal(err)
	}
	keys, created, err := LoadOrCreateKeys(path)
	if err != nil || created {
		t.Fatalf("load: %v, created %v", err, created)
	}
	if !bytes.Equal(keys.CheckValue(), before.CheckValue()) || !bytes.Equal(keys.Lookup("tok"), before.Lookup("tok")) {
		t.Fatal("the lookup key changed")
	}
	if opened, err := keys.Open(before.Seal("secret", "link"), "link"); err != nil || opened != "secret" {
		t.Fatalf("the data key changed: %v", err)
	}
	data, _ := os.ReadFile(path)
	st, _ := os.Stat(path)
	if !strings.Contains(string(data), "signing-key: ") || st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %o, file:\n%s", st.Mode().Perm(), data)
	}
	again, _, err := LoadOrCreateKeys(path)
	if err != nil {
		t.Fatal(err)
	}
	k1, id1 := keys.SigningKey()
	k2, id2 := again.SigningKey()
	if !k1.Equal(k2) || id1 != id2 || id1 == "" {
		t.Fatal("the signing key is not kept")
	}
}

// The worker reads a message and writes it back in one transaction, and a
// claim skips what the worker holds without reading it: the due index must
// keep exactly one entry per pending message, at its latest time, however
// often it is written in one transaction.
func TestOutboxDueIndexFollowsWritesInOneTransaction(t *testing.T) {
	s, _ := openTemp(t, Options{})
	t0 := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	var ids []uint64
	err := s.Update(ctx, func(x core.Tx) error {
		for i := range 4 {
			m := core.Message{Kind: "invite", To: fmt.Sprintf("c%d@example.com", i), State: core.MessageQueued, NextAttemptAt: t0, CreatedAt: t0}
			if err := x.PutMessage(&m); err != nil {
				return err
			}
			ids = append(ids, m.ID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Update(ctx, func(x core.Tx) error {
		m, err := x.Message(ids[0]) // read, then retried twice in the same transaction
		if err != nil {
			return err
		}
		for _, later := range []time.Duration{time.Minute, time.Hour} {
			m.State, m.NextAttemptAt = core.MessageRetrying, t0.Add(later)
			if err := x.PutMessage(&m); err != nil {
				return err
			}
		}
		m, err = x.Message(ids[1]) // read, then sent
		if err != nil {
			return err
		}
		m.State = core.MessageSent
		if err := x.PutMessage(&m); err != nil {
			return err
		}
		m = core.Message{ID: ids[2], Kind: "invite", To: "c2@example.com", State: core.MessageSent, CreatedAt: t0} // written unread
		return x.PutMessage(&m)
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.View(ctx, func(x core.Tx) error {
		due, err := x.DueMessages(t0.Add(24*time.Hour), 0)
		if err != nil {
			return err
		}
		var got []string
		for _, m := range due {
			got = append(got, fmt.Sprintf("%d@%s", m.ID, m.NextAttemptAt.Sub(t0)))
		}
		if want := []string{fmt.Sprintf("%d@0s", ids[3]), fmt.Sprintf("%d@1h0m0s", ids[0])}; !slices.Equal(got, want) {
			t.Errorf("due after the writes: %v, want %v", got, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Update(ctx, func(x core.Tx) error {
		claimed, err := x.ClaimDueMessages(t0.Add(24*time.Hour), t0.Add(25*time.Hour), 1, map[uint64]struct{}{ids[3]: {}})
		if err != nil {
			return err
		}
		if len(claimed) != 1 || claimed[0].ID != ids[0] {
			t.Errorf("a claim of one holding message %d returned %v, want message %d", ids[3], claimed, ids[0])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
