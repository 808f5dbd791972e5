package storage_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"latchkey/core"
	"latchkey/storage"
)

// The golden database is one of every entity, written by the code of the
// day the file format was last fixed (storage/testdata/golden.db with its
// key file). Reading it back must give the same entities, and writing
// each entity again must give the same bytes: a rename in core (or in
// storage's records) that would change the format on disk fails here.
var writeGolden = flag.Bool("golden", false, "write storage/testdata/golden.* from the current code")

const goldenDir = "testdata"

func TestGoldenDatabaseReadsBack(t *testing.T) {
	if *writeGolden {
		makeGolden(t)
	}
	dir := t.TempDir()
	for _, name := range []string{"golden.db", "golden.key"} {
		raw, err := os.ReadFile(filepath.Join(goldenDir, name))
		if err != nil {
			t.Fatalf("%v (go test ./storage -run Golden -golden writes it)", err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), raw, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	st, keys := openGolden(t, dir)
	before := rawDump(t, st)
	want, err := os.ReadFile(filepath.Join(goldenDir, "golden.entities.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if got := entities(t, st, keys); got != string(want) {
		t.Fatalf("the golden database reads back differently:\n%s", firstDiff(string(want), got))
	}
	// Writing every entity again changes no byte.
	rewrite(t, st)
	if after := rawDump(t, st); after != before {
		t.Fatalf("writing the entities again changed the file:\n%s", firstDiff(before, after))
	}
}

func openGolden(t *testing.T, dir string) (*storage.Store, *core.Keys) {
	t.Helper()
	st, err := storage.Open(filepath.Join(dir, "golden.db"), storage.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	keys, _, err := storage.LoadOrCreateKeys(filepath.Join(dir, "golden.key"))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.BindKeys(keys); err != nil {
		t.Fatal(err)
	}
	return st, keys
}

type fixedClock struct{ t time.Time }

func (c *fixedClock) Now() time.Time { return c.t }

// makeGolden writes the demo organization and a little more (a code, an
// email action, a view, caught mail, an SSH key) through the real service.
func makeGolden(t *testing.T) {
	os.Remove(filepath.Join(goldenDir, "golden.db"))
	os.Remove(filepath.Join(goldenDir, "golden.key"))
	st, err := storage.Open(filepath.Join(goldenDir, "golden.db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	keys, _, err := storage.LoadOrCreateKeys(filepath.Join(goldenDir, "golden.key"))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.BindKeys(keys); err != nil {
		t.Fatal(err)
	}
	clock := &fixedClock{time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)}
	svc, err := core.New(core.Config{Store: st, Keys: keys, PublicURL: "https://portal.example.com", Clock: clock,
		Options: core.Options{Argon2: core.Argon2Params{Time: 1, Memory: 64, Threads: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	demo, err := svc.LoadDemo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	url := demo[0].URL
	if _, err := svc.Redeem(ctx, url[strings.LastIndexByte(url, '/')+1:], core.Visitor{Addr: "192.0.2.6", UserAgent: "golden"}); err != nil {
		t.Fatal(err) // a session
	}
	admin := core.AdminActor("golden")
	ref, err := svc.PortalBySlug(ctx, admin, "onboarding")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.RequestAccess(ctx, ref.Portal.Slug, "golden@example.org", core.Visitor{Addr: "192.0.2.7", Browser: "golden-browser", Lang: "de"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.RequestAccess(ctx, "website-redesign", "stranger@example.org", core.Visitor{Addr: "192.0.2.8"}); err != nil {
		t.Fatal(err)
	}
	const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOBIXr28IKmVOC4aN1aoLtRWZCLgwZY8FQl/Q2j1v0/p olivia@laptop"
	if _, err := svc.AddSSHKey(ctx, admin, "owner@northwind.test", key); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.StoreCaught(ctx, core.CaughtMail{ReceivedAt: clock.t, From: "a@example.org", To: []string{"b@example.org"}, Subject: "hello",
		Raw: []byte("From: a@example.org\r\nTo: b@example.org\r\nSubject: hello\r\n\r\nhi\r\n")}); err != nil {
		t.Fatal(err)
	}
	pm, err := svc.PortalMembers(ctx, admin, ref.Portal.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range pm {
		if m.Email == "golden@example.org" {
			hist, _ := svc.LinkHistoryOf(ctx, admin, ref.Portal.ID, m.Email)
			svc.NoteView(hist[0].Link.ID, core.Visitor{Addr: "192.0.2.9", UserAgent: "golden"}, "GET", true)
		}
	}
	if err := svc.FlushViews(ctx); err != nil {
		t.Fatal(err)
	}
	ents := entities(t, st, keys)
	st.Close()
	if err := os.WriteFile(filepath.Join(goldenDir, "golden.entities.txt"), []byte(ents), 0o644); err != nil {
		t.Fatal(err)
	}
}

// entities reads every entity through the store's API, as JSON lines.
func entities(t *testing.T, st *storage.Store, keys *core.Keys) string {
	t.Helper()
	var b strings.Builder
	line := func(kind string, v any) {
		raw, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s %s\n", kind, raw)
	}
	err := st.View(context.Background(), func(tx core.Tx) error {
		orgs, err := tx.Orgs()
		if err != nil {
			return err
		}
		users := map[uint64]bool{}
		for _, o := range orgs {
			line("org", o)
			if o.Logo != "" {
				l, err := tx.Logo(o.Logo)
				if err != nil {
					return err
				}
				line("logo", l)
			}
			ms, err := tx.Members(o.ID)
			if err != nil {
				return err
			}
			for _, m := range ms {
				line("member", m)
				users[m.UserID] = true
			}
			ps, err := tx.Projects(o.ID)
			if err != nil {
				return err
			}
			for _, p := range ps {
				line("project", p)
			}
			invs, err := tx.Invitations(o.ID)
			if err != nil {
				return err
			}
			for _, inv := range invs {
				line("invitation", inv)
			}
			reqs, err := tx.Requests(o.ID)
			if err != nil {
				return err
			}
			for _, r := range reqs {
				line("request", r)
			}
			evs, err := tx.Events(core.AuditQuery{OrgID: o.ID})
			if err != nil {
				return err
			}
			for _, e := range evs {
				line("event", e)
			}
			portals, err := tx.Portals(o.ID)
			if err != nil {
				return err
			}
			for _, p := range portals {
				line("portal", p)
				acc, err := tx.AccessList(p.ID)
				if err != nil {
					return err
				}
				for _, a := range acc {
					line("access", a)
					users[a.UserID] = true
				}
				links, err := tx.Links(p.ID)
				if err != nil {
					return err
				}
				for _, l := range links {
					line("link", l)
					evs, err := tx.LinkEvents(l.ID)
					if err != nil {
						return err
					}
					for _, e := range evs {
						line("link_event", e)
					}
				}
				rs, err := tx.Resources(p.ID)
				if err != nil {
					return err
				}
				for _, r := range rs {
					line("resource", r)
				}
				us, err := tx.Updates(p.ID, 0)
				if err != nil {
					return err
				}
				for _, u := range us {
					line("update", u)
				}
				if n, err := tx.Notices(p.ID); err == nil {
					line("notices", n)
				}
			}
		}
		ids := make([]uint64, 0, len(users))
		for id := range users {
			ids = append(ids, id)
		}
		sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
		for _, id := range ids {
			u, err := tx.User(id)
			if err != nil {
				return err
			}
			line("user", u)
			ss, err := tx.SessionsOfUser(id)
			if err != nil {
				return err
			}
			for _, s := range ss {
				line("session", s)
			}
			ks, err := tx.SSHKeysOf(id)
			if err != nil {
				return err
			}
			for _, k := range ks {
				line("ssh_key", k)
			}
		}
		msgs, err := tx.Messages(0, 0)
		if err != nil {
			return err
		}
		for _, m := range msgs {
			line("message", m)
		}
		caught, err := tx.CaughtMails(0, 0)
		if err != nil {
			return err
		}
		for _, c := range caught {
			line("caught", c)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Tokens are found by their hashes only: walk their bucket's keys.
	var hashes [][]byte
	st.Walk(func(bucket string, k, _ []byte) error {
		if bucket == "tokens" {
			hashes = append(hashes, append([]byte(nil), k...))
		}
		return nil
	})
	st.View(context.Background(), func(tx core.Tx) error {
		for _, h := range hashes {
			tok, err := tx.Token(h)
			if err != nil {
				t.Fatal(err)
			}
			line("token", tok)
		}
		return nil
	})
	return b.String()
}

// rewrite puts every entity back as it was read.
func rewrite(t *testing.T, st *storage.Store) {
	t.Helper()
	err := st.Update(context.Background(), func(tx core.Tx) error {
		orgs, err := tx.Orgs()
		if err != nil {
			return err
		}
		for _, o := range orgs {
			if err := tx.PutOrg(&o); err != nil {
				return err
			}
			ms, _ := tx.Members(o.ID)
			for _, m := range ms {
				if err := tx.PutMember(m); err != nil {
					return err
				}
				u, err := tx.User(m.UserID)
				if err != nil {
					return err
				}
				if err := tx.PutUser(&u); err != nil {
					return err
				}
			}
			ps, _ := tx.Projects(o.ID)
			for _, p := range ps {
				if err := tx.PutProject(&p); err != nil {
					return err
				}
			}
			invs, _ := tx.Invitations(o.ID)
			for _, inv := range invs {
				if err := tx.PutInvitation(&inv); err != nil {
					return err
				}
			}
			reqs, _ := tx.Requests(o.ID)
			for _, r := range reqs {
				if err := tx.PutRequest(&r); err != nil {
					return err
				}
			}
			portals, _ := tx.Portals(o.ID)
			for _, p := range portals {
				if err := tx.PutPortal(&p); err != nil {
					return err
				}
				links, _ := tx.Links(p.ID)
				for _, l := range links {
					if err := tx.PutLink(&l); err != nil {
						return err
					}
				}
				rs, _ := tx.Resources(p.ID)
				for _, r := range rs {
					if err := tx.PutResource(&r); err != nil {
						return err
					}
				}
				us, _ := tx.Updates(p.ID, 0)
				for _, u := range us {
					if err := tx.PutUpdate(&u); err != nil {
						return err
					}
				}
				acc, _ := tx.AccessList(p.ID)
				for _, a := range acc {
					if err := tx.PutAccess(a); err != nil {
						return err
					}
				}
			}
		}
		msgs, _ := tx.Messages(0, 0)
		for _, m := range msgs {
			if err := tx.PutMessage(&m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func rawDump(t *testing.T, st *storage.Store) string {
	t.Helper()
	var b strings.Builder
	if err := st.Walk(func(bucket string, k, v []byte) error {
		fmt.Fprintf(&b, "%s %x %x\n", bucket, k, v)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// firstDiff is the first line where two dumps differ, with its neighbour.
func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return fmt.Sprintf("line %d\nwant %.400s\ngot  %.400s", i+1, x, y)
		}
	}
	return "(same lines, other bytes)" + fmt.Sprint(bytes.Equal([]byte(a), []byte(b)))
}
