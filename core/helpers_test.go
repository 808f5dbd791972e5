package core_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"latchkey/core"
	"latchkey/storage"
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fastArgon keeps password hashing cheap in tests; production uses DefaultArgon2.
var fastArgon = core.Argon2Params{Time: 1, Memory: 64, Threads: 1}

type env struct {
	t     testing.TB
	ctx   context.Context
	store *storage.Store
	svc   *core.Service
	clock *fakeClock
	admin core.Actor
	keys  *core.Keys
}

type envOption func(*core.Options, *storage.Options)

func uniform(o *core.Options, _ *storage.Options) { o.UniformResponses = true }
func groupCommit(_ *core.Options, so *storage.Options) {
	so.GroupCommit = true
	so.MaxBatchDelay = time.Millisecond
}

// newEnv opens a real bbolt file in a temp dir with a real key file.
func newEnv(t testing.TB, opts ...envOption) *env {
	t.Helper()
	dir := t.TempDir()
	o := core.Options{Argon2: fastArgon}
	so := storage.Options{NoSync: true}
	for _, f := range opts {
		f(&o, &so)
	}
	st, err := storage.Open(filepath.Join(dir, "latchkey.db"), so)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	keys, _, err := storage.LoadOrCreateKeys(filepath.Join(dir, "latchkey.key"))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.BindKeys(keys); err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	svc, err := core.New(core.Config{Store: st, Keys: keys, PublicURL: "https://portal.example.com", Options: o, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, ctx: context.Background(), store: st, svc: svc, clock: clock, admin: core.AdminActor("test"), keys: keys}
}

// world is a small organization: an owner, a manager, a member, a closed,
// an email and an open portal.
type world struct {
	org                    core.Org
	owner, manager, member core.User
	ownerA, managerA       core.Actor
	closed, email, open    core.Portal
}

func (e *env) world(name string) world {
	e.t.Helper()
	slug := core.Slugify(name)
	org := must(e.svc.CreateOrg(e.ctx, e.admin, core.NewOrg{Name: name, OwnerEmail: "owner@" + slug + ".test", OwnerName: "Owner"}))
	w := world{org: org}
	w.owner = e.user("owner@" + slug + ".test")
	w.ownerA = core.UserActor(w.owner, "test")
	w.manager = e.join(org, w.ownerA, "manager@"+slug+".test", core.RoleManager)
	w.managerA = core.UserActor(w.manager, "test")
	w.member = e.join(org, w.ownerA, "member@"+slug+".test", core.RoleMember)
	mk := func(p string, level core.AccessLevel) core.Portal {
		proj := must(e.svc.CreateProject(e.ctx, w.ownerA, org.ID, p))
		return must(e.svc.SetPortal(e.ctx, w.ownerA, proj.ID, core.PortalSettings{Slug: slug + "-" + p, Title: p + " portal", Access: level}))
	}
	w.closed, w.email, w.open = mk("closed", core.AccessClosed), mk("email", core.AccessEmail), mk("open", core.AccessOpen)
	return w
}

// join invites email without a portal and accepts with the join link.
func (e *env) join(org core.Org, by core.Actor, email string, role core.Role) core.User {
	e.t.Helper()
	must(e.svc.Invite(e.ctx, by, core.InviteInput{OrgID: org.ID, Email: email, Role: role}))
	token := e.lastToken(email, core.MailInviteJoin)
	must(e.svc.Join(e.ctx, token, "Name of "+email, "correct horse battery", core.Visitor{Addr: "192.0.2.1"}))
	return e.user(email)
}

func (e *env) user(email string) core.User {
	e.t.Helper()
	var u core.User
	e.view(func(tx core.Tx) (err error) { u, err = tx.UserByEmail(email); return })
	return u
}

func (e *env) view(fn func(core.Tx) error) {
	e.t.Helper()
	if err := e.store.View(e.ctx, fn); err != nil {
		e.t.Fatal(err)
	}
}

// messages lists the outbox, oldest first.
func (e *env) messages() []core.Message {
	e.t.Helper()
	var ms []core.Message
	e.view(func(tx core.Tx) (err error) { ms, err = tx.Messages(0, 0); return })
	sort.Slice(ms, func(i, j int) bool { return ms[i].ID < ms[j].ID })
	return ms
}

func (e *env) mailsTo(to string, kind core.MailKind) []core.Message {
	var out []core.Message
	for _, m := range e.messages() {
		if m.To == to && m.Kind == kind {
			out = append(out, m)
		}
	}
	return out
}

// lastToken is the secret sealed in the newest mail of kind to email.
func (e *env) lastToken(to string, kind core.MailKind) string {
	e.t.Helper()
	var found *core.Message
	e.view(func(tx core.Tx) error {
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
		e.t.Fatalf("no %s mail to %s", kind, to)
	}
	tok, err := e.svc.OpenSealedMail(*found)
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

func (e *env) events() []core.Event {
	e.t.Helper()
	var evs []core.Event
	e.view(func(tx core.Tx) (err error) { evs, err = tx.Events(core.AuditQuery{}); return })
	return evs
}

func (e *env) hasEvent(action, target string) bool {
	for _, ev := range e.events() {
		if ev.Action == action && ev.Target == target {
			return true
		}
	}
	return false
}

// dump is every bucket's every key and value, as text, for comparing states.
func (e *env) dump() string {
	e.t.Helper()
	var b strings.Builder
	if err := e.store.Walk(func(bucket string, k, v []byte) error {
		fmt.Fprintf(&b, "%s %x %x\n", bucket, k, v)
		return nil
	}); err != nil {
		e.t.Fatal(err)
	}
	return b.String()
}

// count is the number of keys in a bucket.
func (e *env) count(bucket string) int {
	n := 0
	e.store.Walk(func(b string, _, _ []byte) error {
		if b == bucket {
			n++
		}
		return nil
	})
	return n
}

// rawDump is every key and value concatenated, to search for secrets.
func (e *env) rawDump() []byte {
	var b bytes.Buffer
	e.store.Walk(func(bucket string, k, v []byte) error {
		b.Write(k)
		b.WriteByte(0)
		b.Write(v)
		b.WriteByte(0)
		return nil
	})
	return b.Bytes()
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

var visitor = core.Visitor{Addr: "203.0.113.9", UserAgent: "test"}

const testKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOBIXr28IKmVOC4aN1aoLtRWZCLgwZY8FQl/Q2j1v0/p olivia@laptop"
