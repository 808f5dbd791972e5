// Package storetest builds real latchkey services for tests: a bbolt file in
// a temp dir (or, with LATCHKEY_TEST_STORE=postgres, a fresh database on a
// throwaway PostgreSQL cluster), a real key file, a settable clock, and
// helpers that read the outbox and the audit log the way a person checking
// the product would. Only tests import it.
package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	mrand "math/rand/v2"
	"os"
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

// Backend is the store a test runs on: core's Store, and a walk over every
// record for comparing states.
type Backend interface {
	core.Store
	// Walk visits every record: its bucket (bbolt) or table (PostgreSQL),
	// its key and its stored form, in a fixed order.
	Walk(fn func(bucket string, k, v []byte) error) error
	Close() error
}

// OnPostgres reports whether the tests of this run use PostgreSQL
// (LATCHKEY_TEST_STORE=postgres) rather than bbolt: make test runs core's
// tests both ways. A package whose tests call New must stop the shared
// cluster after them: func TestMain(m *testing.M) { pgtest.Main(m) }.
func OnPostgres() bool { return os.Getenv("LATCHKEY_TEST_STORE") == "postgres" }

// Clock is a settable clock.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock starts a clock at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// FastArgon keeps password hashing cheap in tests; production uses core.DefaultArgon2.
var FastArgon = core.Argon2Params{Time: 1, Memory: 64, Threads: 1}

// Env is a service on a real store.
type Env struct {
	T     testing.TB
	Ctx   context.Context
	Dir   string
	Store Backend
	Svc   *core.Service
	Clock *Clock
	Keys  *core.Keys
	Admin core.Actor
}

// Option adjusts the service's or the store's configuration.
type Option func(*core.Config, *storage.Options)

// Uniform turns on --uniform-responses.
func Uniform(c *core.Config, _ *storage.Options) { c.Options.UniformResponses = true }

// NoRateLimits turns off the limits core keeps (strangers' requests per
// portal), as --rate-limits off does.
func NoRateLimits(c *core.Config, _ *storage.Options) { c.Options.RateLimitsOff = true }

// GroupCommit makes the store share commits between concurrent updates.
func GroupCommit(_ *core.Config, so *storage.Options) {
	so.GroupCommit = true
}

// PublicURL sets the URL links are built from.
func PublicURL(u string) Option {
	return func(c *core.Config, _ *storage.Options) { c.PublicURL = u }
}

// At starts the settable clock at t.
func At(t time.Time) Option {
	return func(c *core.Config, _ *storage.Options) { c.Clock.(*Clock).t = t }
}

// Seeded makes tokens and session ids repeatable (screens with links in
// golden files); never for anything but tests.
func Seeded(seed uint64) Option {
	return func(c *core.Config, _ *storage.Options) {
		c.Random = mrand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), byte(seed >> 16), byte(seed >> 24)})
	}
}

// RealClock uses the system clock instead of the settable one.
// FoldLater leaves link uses unfolded for an hour (FoldLinkUses folds
// them), so that a test sees the counters as reads add the uses up.
func FoldLater(c *core.Config, _ *storage.Options) { c.Options.FoldAfter = time.Hour }

func RealClock(c *core.Config, _ *storage.Options) { c.Clock = core.SystemClock{} }

// New opens a real bbolt file in a temp dir with a real key file. Updates
// are not fsynced (the durability of bbolt is not what these tests test).
// With LATCHKEY_TEST_STORE=postgres it opens a fresh database of the
// shared throwaway cluster instead (the store options then do not apply).
func New(t testing.TB, opts ...Option) *Env {
	t.Helper()
	dir := t.TempDir()
	clock := NewClock(time.Now().UTC().Truncate(time.Hour)) // near real time: cookie jars judge expiry by it
	cfg := core.Config{PublicURL: "https://portal.example.com", Options: core.Options{Argon2: FastArgon}, Clock: clock}
	so := storage.Options{NoSync: true}
	for _, f := range opts {
		f(&cfg, &so)
	}
	keys, _, err := storage.LoadOrCreateKeys(filepath.Join(dir, "latchkey.key"))
	if err != nil {
		t.Fatal(err)
	}
	var st Backend
	if OnPostgres() {
		pg, err := postgres.Open(context.Background(), pgtest.NewDatabaseURL(t), postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { pg.Close() })
		if err := pg.BindKeys(context.Background(), keys); err != nil {
			t.Fatal(err)
		}
		st = pg
	} else {
		bb, err := storage.Open(filepath.Join(dir, "latchkey.db"), so)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { bb.Close() })
		if err := bb.BindKeys(keys); err != nil {
			t.Fatal(err)
		}
		st = bb
	}
	cfg.Store, cfg.Keys = st, keys
	svc, err := core.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { // before the store closes (cleanups run last first)
		svc.FlushViews(context.Background())
		svc.FoldLinkUses(context.Background())
	})
	return &Env{T: t, Ctx: context.Background(), Dir: dir, Store: st, Svc: svc, Clock: clock, Keys: keys, Admin: core.AdminActor("test")}
}

// Bolt is the bbolt store, for tests of what only bbolt has (its backup
// file); it fails the test on PostgreSQL.
func (e *Env) Bolt() *storage.Store {
	e.T.Helper()
	bb, ok := e.Store.(*storage.Store)
	if !ok {
		e.T.Fatalf("this test needs bbolt, not %T", e.Store)
	}
	return bb
}

// View runs fn in a read transaction and fails the test on error.
func (e *Env) View(fn func(core.Tx) error) {
	e.T.Helper()
	if err := e.Store.View(e.Ctx, fn); err != nil {
		e.T.Fatal(err)
	}
}

// User is the account with this email.
func (e *Env) User(email string) core.User {
	e.T.Helper()
	var u core.User
	e.View(func(tx core.Tx) (err error) { u, err = tx.UserByEmail(email); return })
	return u
}

// Messages lists the outbox, oldest first.
func (e *Env) Messages() []core.Message {
	e.T.Helper()
	var ms []core.Message
	e.View(func(tx core.Tx) (err error) { ms, err = tx.Messages(0, 0); return })
	for i, j := 0, len(ms)-1; i < j; i, j = i+1, j-1 {
		ms[i], ms[j] = ms[j], ms[i]
	}
	return ms
}

// MailsTo lists the outbox messages of kind to an address, oldest first.
func (e *Env) MailsTo(to string, kind core.MailKind) []core.Message {
	var out []core.Message
	for _, m := range e.Messages() {
		if m.To == to && m.Kind == kind {
			out = append(out, m)
		}
	}
	return out
}

// LastMail is the newest message of kind to an address; the test fails if there is none.
func (e *Env) LastMail(to string, kind core.MailKind) core.Message {
	e.T.Helper()
	var found *core.Message
	e.View(func(tx core.Tx) error {
		before := uint64(0)
		for found == nil {
			page, err := tx.Messages(before, 64)
			if err != nil || len(page) == 0 {
				return err
			}
			for i := range page {
				if page[i].To == to && page[i].Kind == kind {
					found = &page[i]
					break
				}
			}
			before = page[len(page)-1].ID
		}
		return nil
	})
	if found == nil {
		e.T.Fatalf("no %s mail to %s", kind, to)
	}
	return *found
}

// LastToken is the secret sealed in the newest mail of kind to an address.
func (e *Env) LastToken(to string, kind core.MailKind) string {
	e.T.Helper()
	tok, err := e.Svc.OpenSealedMail(e.LastMail(to, kind))
	if err != nil {
		e.T.Fatal(err)
	}
	return tok
}

// Events lists the audit log, newest first.
func (e *Env) Events() []core.Event {
	e.T.Helper()
	var evs []core.Event
	e.View(func(tx core.Tx) (err error) { evs, err = tx.Events(core.AuditQuery{}); return })
	return evs
}

// HasEvent reports whether the audit log holds action on target.
func (e *Env) HasEvent(action, target string) bool {
	for _, ev := range e.Events() {
		if ev.Action == action && ev.Target == target {
			return true
		}
	}
	return false
}

// Dump is every bucket's every key and value, as text, for comparing
// states. It may be called from fuzz targets (it never calls e.T).
func (e *Env) Dump() string {
	var b strings.Builder
	if err := e.Store.Walk(func(bucket string, k, v []byte) error {
		fmt.Fprintf(&b, "%s %x %x\n", bucket, k, v)
		return nil
	}); err != nil {
		panic(err)
	}
	return b.String()
}

// RawDump is every key and value concatenated, to search for secrets.
func (e *Env) RawDump() []byte {
	var b bytes.Buffer
	e.Store.Walk(func(bucket string, k, v []byte) error {
		b.Write(k)
		b.WriteByte(0)
		b.Write(v)
		b.WriteByte(0)
		return nil
	})
	return b.Bytes()
}

// Count is the number of keys in a bucket.
func (e *Env) Count(bucket string) int {
	n := 0
	e.Store.Walk(func(b string, _, _ []byte) error {
		if b == bucket {
			n++
		}
		return nil
	})
	return n
}

// FillLinks stores n active links for distinct emails in portal p, in large
// transactions, and returns up to 1,000 of their tokens, spread over all n.
func (e *Env) FillLinks(p core.Portal, n int) []string {
	var sample []string
	const perTx = 20000
	for start := 0; start < n; start += perTx {
		var batch []string
		err := e.Store.Update(e.Ctx, func(tx core.Tx) error {
			batch = batch[:0]
			for i := start; i < start+perTx && i < n; i++ {
				tok, err := core.NewToken(rand.Reader)
				if err != nil {
					return err
				}
				l := core.Link{OrgID: p.OrgID, PortalID: p.ID, Email: fmt.Sprintf("bulk%d@x.test", i), Role: core.RoleClient,
					State: core.LinkActive, Lookup: e.Keys.Lookup(tok), Sealed: e.Keys.Seal(tok, "link"), CreatedAt: e.Clock.Now(), CreatedBy: "fill"}
				if err := tx.PutLink(&l); err != nil {
					return err
				}
				if i%(n/1000+1) == 0 {
					batch = append(batch, tok)
				}
			}
			return nil
		})
		if err != nil {
			e.T.Fatal(err)
		}
		sample = append(sample, batch...)
	}
	if len(sample) > 1000 {
		sample = sample[:1000]
	}
	return sample
}

// FillMembers adds n people to the organization, each a client with access
// to portal p, in large transactions.
func (e *Env) FillMembers(p core.Portal, n int) {
	const perTx = 5000
	for start := 0; start < n; start += perTx {
		err := e.Store.Update(e.Ctx, func(tx core.Tx) error {
			for i := start; i < start+perTx && i < n; i++ {
				u := core.User{Email: fmt.Sprintf("member%d@x.test", i), Name: fmt.Sprintf("Member %d", i), CreatedAt: e.Clock.Now()}
				if err := tx.PutUser(&u); err != nil {
					return err
				}
				if err := tx.PutMember(core.Member{OrgID: p.OrgID, UserID: u.ID, Role: core.RoleClient, CreatedAt: e.Clock.Now()}); err != nil {
					return err
				}
				if err := tx.PutAccess(core.Access{PortalID: p.ID, UserID: u.ID, GrantedAt: e.Clock.Now(), Via: "fill"}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			e.T.Fatal(err)
		}
	}
}

// FillAudit appends n audit events for the organization.
func (e *Env) FillAudit(orgID uint64, n int) {
	const perTx = 50000
	for start := 0; start < n; start += perTx {
		err := e.Store.Update(e.Ctx, func(tx core.Tx) error {
			for i := start; i < start+perTx && i < n; i++ {
				ev := core.Event{At: e.Clock.Now(), OrgID: orgID, Actor: "fill", Source: "fill", Action: "link.redeemed", Target: fmt.Sprintf("member%d@x.test", i%10000)}
				if err := tx.AppendEvent(&ev); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			e.T.Fatal(err)
		}
	}
}

// Must returns v, failing (by panic, which fails the test) on err.
func Must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TokenOf is the token at the end of a link URL.
func TokenOf(url string) string { return url[strings.LastIndexByte(url, '/')+1:] }

// SyncBuffer is a bytes.Buffer that a server goroutine may write while a
// test reads it.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
