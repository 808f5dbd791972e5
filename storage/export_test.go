package storage_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"latchkey/core"
	"latchkey/storage"
	"latchkey/storage/storetest"
)

// bucketOf is the bucket that holds each kind's records.
var bucketOf = map[string]string{
	"users": "users", "orgs": "orgs", "members": "members", "known_addresses": "known_addresses",
	"projects": "projects", "portals": "portals", "access": "access", "portal_notices": "portal_notices",
	"resources": "resources", "updates": "updates", "logos": "logos", "links": "links",
	"link_events": "link_events", "invitations": "invitations", "tokens": "tokens", "sessions": "sessions",
	"requests": "requests", "audit_events": "audit", "outbox": "outbox", "caught_mail": "caught",
	"ssh_keys": "ssh_keys", "api_tokens": "api_tokens", "idempotency": "idempotency", "webhooks": "webhooks",
	"webhook_deliveries": "webhook_deliveries",
}

// indexBuckets hold no records of their own: indexes into the buckets
// above, and the meta bucket (schema version, key check).
var indexBuckets = map[string]bool{
	"meta": true, "users_by_email": true, "orgs_by_slug": true, "members_by_user": true, "orgs_owner": true,
	"projects_by_org": true, "portals_by_slug": true, "portals_by_project": true, "portals_by_org": true,
	"access_by_user": true, "links_by_id": true, "links_active": true, "links_latest": true, "links_by_portal": true,
	"invitations_latest": true, "invitations_by_org": true, "invitations_by_email": true, "sessions_by_user": true,
	"requests_latest": true, "requests_by_org": true, "audit_by_org": true, "outbox_due": true, "ssh_keys_by_user": true,
	"portals_by_host": true, "resources_by_portal": true, "updates_by_portal": true, "link_events_by_time": true,
	"api_tokens_by_hash": true, "api_tokens_by_org": true, "webhooks_by_org": true, "webhook_deliveries_due": true,
	"webhook_deliveries_by_hook": true,
}

func must[T any](v T, err error) T { return storetest.Must(v, err) }

// exportEnv is a bbolt service holding every kind of record, made
// through core; it returns the id of a resource deleted as the newest.
func exportEnv(t *testing.T) (*storetest.Env, uint64) {
	t.Setenv("LATCHKEY_TEST_STORE", "")
	e := storetest.New(t)
	ctx := e.Ctx
	if _, err := e.Svc.LoadDemo(ctx); err != nil {
		t.Fatal(err)
	}
	org := must(e.Svc.CreateOrg(ctx, e.Admin, core.NewOrg{Name: "Acme", OwnerEmail: "owner@acme.test"}))
	owner := core.UserActor(e.User("owner@acme.test"), "test")
	proj := must(e.Svc.CreateProject(ctx, owner, org.ID, "Site"))
	portal := must(e.Svc.SetPortal(ctx, owner, proj.ID, core.PortalSettings{Slug: "acme-site", Title: "Site", Access: core.AccessClosed}))
	inv := must(e.Svc.Invite(core.WithIdempotency(ctx, &core.Idempotency{Scope: "token:1", Key: "k", Fingerprint: []byte("f")}), owner,
		core.InviteInput{OrgID: org.ID, Email: "cleo@client.test", Role: core.RoleClient, PortalID: portal.ID}))
	must(e.Svc.Redeem(ctx, inv.Link.Token, core.Visitor{Addr: "203.0.113.9"}))
	must(e.Svc.RequestAccess(ctx, portal.Slug, "stranger@else.test", core.Visitor{Addr: "198.51.100.7"}))
	if _, _, err := e.Svc.CreateAPIToken(ctx, owner, core.NewAPIToken{OrgID: org.ID, Name: "crm", Scopes: []core.Scope{core.ScopeMembersRead}}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.Svc.CreateWebhook(ctx, owner, core.NewWebhook{OrgID: org.ID, URL: "https://203.0.113.7/hook", Events: core.WebhookEvents}); err != nil {
		t.Fatal(err)
	}
	must(e.Svc.AddSSHKey(ctx, owner, "owner@acme.test", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOBIXr28IKmVOC4aN1aoLtRWZCLgwZY8FQl/Q2j1v0/p olivia@laptop"))
	must(e.Svc.StoreCaught(ctx, core.CaughtMail{From: "a@b.test", To: []string{"c@d.test"}, Subject: "hi", Raw: []byte("hi")}))
	gone := must(e.Svc.AddResource(ctx, owner, portal.ID, core.ResourceInput{Title: "Old", URL: "https://old.example/"}))
	if err := e.Svc.RemoveResource(ctx, owner, portal.ID, gone.ID); err != nil {
		t.Fatal(err)
	}
	return e, gone.ID
}

// stored is the record as the store's own lookups give it.
func stored(tx core.Tx, v any) (any, error) {
	switch r := v.(type) {
	case core.User:
		return tx.User(r.ID)
	case core.Org:
		return tx.Org(r.ID)
	case core.Member:
		return tx.Member(r.OrgID, r.UserID)
	case storage.KnownAddress:
		email, err := tx.KnownAddress(r.OrgID, r.Skeleton)
		return storage.KnownAddress{OrgID: r.OrgID, Skeleton: r.Skeleton, Email: email}, err
	case core.Project:
		return tx.Project(r.ID)
	case core.Portal:
		return tx.Portal(r.ID)
	case core.Access:
		return tx.Access(r.PortalID, r.UserID)
	case core.PortalNotices:
		return tx.Notices(r.PortalID)
	case core.Resource:
		return tx.Resource(r.ID)
	case core.Update:
		return tx.Update(r.ID)
	case core.Logo:
		return tx.Logo(r.Hash)
	case core.Link:
		return tx.Link(r.ID)
	case core.LinkEvent:
		evs, err := tx.LinkEvents(r.LinkID)
		for _, e := range evs {
			if e.ID == r.ID {
				return e, nil
			}
		}
		return nil, errors.Join(err, core.ErrNotFound)
	case core.Invitation:
		return tx.Invitation(r.ID)
	case core.Token:
		return tx.Token(r.Hash)
	case core.Session:
		return tx.Session(r.Hash)
	case core.Request:
		return tx.Request(r.ID)
	case core.Event:
		evs, err := tx.Events(core.AuditQuery{BeforeID: r.ID + 1, Limit: 1})
		if err != nil || len(evs) == 0 {
			return nil, errors.Join(err, core.ErrNotFound)
		}
		return evs[0], nil
	case core.Message:
		return tx.Message(r.ID)
	case core.CaughtMail:
		return tx.Caught(r.ID)
	case core.SSHKey:
		return tx.SSHKey(r.Fingerprint)
	case core.APIToken:
		return tx.APIToken(r.ID)
	case core.IdempotencyRecord:
		return tx.IdempotencyRecord(r.Key)
	case core.Webhook:
		return tx.Webhook(r.ID)
	case core.WebhookDelivery:
		return tx.WebhookDelivery(r.ID)
	}
	return nil, errors.New("no lookup")
}

// checkRecords checks that Records visits every record of st's buckets
// once, kind by kind in Kinds' order, each kind in key order under the
// record's own key, each as the store's lookups read it; with everyKind,
// that no kind is empty.
func checkRecords(t *testing.T, st *storage.Store, everyKind bool) {
	t.Helper()
	if _, err := st.FoldLinkUses(t.Context()); err != nil { // as Records does first
		t.Fatal(err)
	}
	inBucket := map[string]int{}
	if err := st.Walk(func(bucket string, _, _ []byte) error { inBucket[bucket]++; return nil }); err != nil {
		t.Fatal(err)
	}
	type record struct {
		kind string
		key  []byte
		v    any
	}
	var all []record
	if err := st.Records(func(kind string, key []byte, v any) error {
		all = append(all, record{kind, key, v})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var order []string
	seen := map[string]int{}
	for i, r := range all {
		if len(order) == 0 || order[len(order)-1] != r.kind {
			order = append(order, r.kind)
		} else if bytes.Compare(r.key, all[i-1].key) <= 0 {
			t.Errorf("%s key %x after %x", r.kind, r.key, all[i-1].key)
		}
		seen[r.kind]++
		if own, err := storage.RecordKey(r.v); err != nil || !bytes.Equal(own, r.key) {
			t.Errorf("%s record under %x has key %x (%v)", r.kind, r.key, own, err)
		}
	}
	kinds := storage.Kinds()
	if !slices.Equal(order, slices.DeleteFunc(slices.Clone(kinds), func(k string) bool { return seen[k] == 0 })) {
		t.Errorf("kinds visited in the order %v, want %v", order, kinds)
	}
	primary := map[string]bool{}
	for kind, bucket := range bucketOf {
		primary[bucket] = true
		if seen[kind] != inBucket[bucket] {
			t.Errorf("%s: %d records visited, %d in bucket %s", kind, seen[kind], inBucket[bucket], bucket)
		}
	}
	for bucket := range inBucket {
		if !primary[bucket] && !indexBuckets[bucket] {
			t.Errorf("bucket %s holds records that Records does not visit (or is an index this test does not know)", bucket)
		}
	}
	for _, kind := range kinds {
		if everyKind && seen[kind] == 0 {
			t.Errorf("no %s records: their export goes untested", kind)
		}
	}
	if len(bucketOf) != len(kinds) {
		t.Errorf("the test knows %d kinds, storage %d", len(bucketOf), len(kinds))
	}
	err := st.View(t.Context(), func(tx core.Tx) error {
		for _, r := range all {
			want, err := stored(tx, r.v)
			if err != nil {
				t.Errorf("%s %x: lookup: %v", r.kind, r.key, err)
			} else if !reflect.DeepEqual(r.v, want) {
				t.Errorf("%s %x: Records gives\n%+v\nthe store reads\n%+v", r.kind, r.key, r.v, want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestRecordsVisitsEveryRecordOnceAsTheStoreReadsIt(t *testing.T) {
	e, _ := exportEnv(t)
	checkRecords(t, e.Bolt(), true)
}

// The golden database, written by the code of the day the format was
// fixed, exports as its lookups read it too.
func TestRecordsOfTheGoldenDatabase(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"golden.db", "golden.key"} {
		raw, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), raw, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	st, _ := openGolden(t, dir)
	checkRecords(t, st, false)
}

func TestKeyCheckAndSequences(t *testing.T) {
	e, deleted := exportEnv(t)
	st := e.Bolt()
	if got := must(st.KeyCheck()); !bytes.Equal(got, e.Keys.CheckValue()) {
		t.Fatalf("key check %x, the key file's %x", got, e.Keys.CheckValue())
	}
	fresh, err := storage.Open(filepath.Join(t.TempDir(), "fresh.db"), storage.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	if got := must(fresh.KeyCheck()); got != nil {
		t.Fatalf("a database no key file was bound to has the key check %x", got)
	}
	seqs := must(st.Sequences())
	maxID := map[string]uint64{}
	st.Records(func(kind string, _ []byte, v any) error {
		id := reflect.ValueOf(v).FieldByName("ID")
		if id.IsValid() {
			maxID[kind] = max(maxID[kind], id.Uint())
		}
		return nil
	})
	for _, kind := range []string{"users", "orgs", "links", "invitations", "audit_events", "outbox", "api_tokens", "webhooks"} {
		if seqs[kind] != maxID[kind] || seqs[kind] == 0 {
			t.Errorf("%s: sequence %d, largest id %d", kind, seqs[kind], maxID[kind])
		}
	}
	if seqs["resources"] != deleted || maxID["resources"] >= deleted {
		t.Errorf("resources: sequence %d, largest id %d, the deleted newest %d", seqs["resources"], maxID["resources"], deleted)
	}
	if _, ok := seqs["tokens"]; ok {
		t.Error("tokens have a sequence: they are keyed by hash")
	}
}

// tally is the checksum of one record of a kind.
func tally(t *testing.T, kind string, v any) [32]byte {
	t.Helper()
	tl := storage.NewTallier()
	key, err := storage.RecordKey(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := tl.Add(kind, key, v); err != nil {
		t.Fatal(err)
	}
	for _, x := range tl.Tallies() {
		if x.Kind == kind {
			if x.Count != 1 {
				t.Fatalf("%s counted %d", kind, x.Count)
			}
			return x.Checksum
		}
	}
	t.Fatalf("no tally of %s", kind)
	return [32]byte{}
}

// Times compare as instants to the microsecond, as PostgreSQL keeps them;
// an empty slice is a nil one; nothing else is equal.
func TestTallyEquivalences(t *testing.T) {
	base := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC).Add(7 * time.Microsecond)
	at := func(tm time.Time) core.Event { return core.Event{ID: 1, At: tm, Actor: "a"} }
	same := func(a, b any, kind string) bool { return tally(t, kind, a) == tally(t, kind, b) }
	if !same(at(base.Add(1)), at(base.Add(999)), "audit_events") {
		t.Error("times within one microsecond differ")
	}
	if !same(at(base), at(base.In(time.FixedZone("X", 3600))), "audit_events") {
		t.Error("one instant in two zones differs")
	}
	if same(at(base), at(base.Add(time.Microsecond)), "audit_events") {
		t.Error("times a microsecond apart are equal")
	}
	if same(at(time.Time{}), at(time.Unix(0, 0)), "audit_events") {
		t.Error("the zero time is the Unix epoch")
	}
	m := core.CaughtMail{ID: 1, Subject: "s"}
	empty := m
	empty.To, empty.Sealed = []string{}, []byte{}
	if !same(m, empty, "caught_mail") {
		t.Error("nil and empty slices differ")
	}
	one := m
	one.To = []string{""}
	if same(m, one, "caught_mail") {
		t.Error("a list of one empty string is the empty list")
	}
	msg := core.Message{ID: 1, Data: map[string]string{"a": "1", "b": "2"}}
	msg2 := core.Message{ID: 1, Data: map[string]string{"b": "2", "a": "1"}}
	if !same(msg, msg2, "outbox") {
		t.Error("equal maps differ")
	}
	msg2.Data["a"] = "2"
	if same(msg, msg2, "outbox") {
		t.Error("different maps are equal")
	}
}

// samples are a zero record of every kind.
var samples = map[string]any{
	"users": core.User{}, "orgs": core.Org{}, "members": core.Member{}, "known_addresses": storage.KnownAddress{},
	"projects": core.Project{}, "portals": core.Portal{}, "access": core.Access{}, "portal_notices": core.PortalNotices{},
	"resources": core.Resource{}, "updates": core.Update{}, "logos": core.Logo{}, "links": core.Link{},
	"link_events": core.LinkEvent{}, "invitations": core.Invitation{}, "tokens": core.Token{}, "sessions": core.Session{},
	"requests": core.Request{}, "audit_events": core.Event{}, "outbox": core.Message{}, "caught_mail": core.CaughtMail{},
	"ssh_keys": core.SSHKey{}, "api_tokens": core.APIToken{}, "idempotency": core.IdempotencyRecord{},
	"webhooks": core.Webhook{}, "webhook_deliveries": core.WebhookDelivery{},
}

var timeType = reflect.TypeFor[time.Time]()

// leaves calls fn with the index path of every field below t that holds a
// value (a time is one value, as is a slice or a map).
func leaves(t reflect.Type, path []int, fn func([]int)) {
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		p := append(slices.Clone(path), i)
		if f.Type.Kind() == reflect.Struct && f.Type != timeType {
			leaves(f.Type, p, fn)
			continue
		}
		fn(p)
	}
}

// change sets v to a value other than its zero one.
func change(t *testing.T, v reflect.Value) {
	switch {
	case v.Type() == timeType:
		v.Set(reflect.ValueOf(time.Unix(1, 0)))
	case v.Kind() == reflect.String:
		v.SetString("x")
	case v.Kind() == reflect.Bool:
		v.SetBool(true)
	case v.CanInt():
		v.SetInt(1)
	case v.CanUint():
		v.SetUint(1)
	case v.Kind() == reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		if v.Type().Elem().Kind() == reflect.Uint8 {
			s.Index(0).SetUint(1)
		}
		v.Set(s)
	case v.Kind() == reflect.Map:
		m := reflect.MakeMap(v.Type())
		m.SetMapIndex(reflect.Zero(v.Type().Key()), reflect.Zero(v.Type().Elem()))
		v.Set(m)
	default:
		t.Fatalf("cannot change a %s", v.Type())
	}
}

// A change to any field of any record changes its kind's checksum: the
// canonical form leaves nothing out.
func TestTallyCoversEveryField(t *testing.T) {
	for _, kind := range storage.Kinds() {
		zero, ok := samples[kind]
		if !ok {
			t.Fatalf("no sample of %s", kind)
		}
		base := tally(t, kind, zero)
		n := 0
		leaves(reflect.TypeOf(zero), nil, func(path []int) {
			v := reflect.New(reflect.TypeOf(zero)).Elem()
			f := v.FieldByIndex(path)
			change(t, f)
			if tally(t, kind, v.Interface()) == base {
				t.Errorf("%s: changing %s leaves the checksum as it was", kind, reflect.TypeOf(zero).FieldByIndex(path).Name)
			}
			n++
		})
		if n < 2 {
			t.Errorf("%s: only %d fields", kind, n)
		}
	}
}

func TestTallierRefusesWhatItCannotCompare(t *testing.T) {
	u1, u2 := core.User{ID: 1}, core.User{ID: 2}
	key := func(v any) []byte { return must(storage.RecordKey(v)) }
	tl := storage.NewTallier()
	if err := tl.Add("users", key(u2), u2); err != nil {
		t.Fatal(err)
	}
	if err := tl.Add("users", key(u1), u1); !errors.Is(err, storage.ErrKeyOrder) {
		t.Fatalf("a smaller key after a larger one: %v", err)
	}
	if err := tl.Add("users", key(u2), u2); !errors.Is(err, storage.ErrKeyOrder) {
		t.Fatalf("a key twice: %v", err)
	}
	if err := tl.Add("orgs", key(u1), core.Org{ID: 5}); !errors.Is(err, storage.ErrKeyOrder) {
		t.Fatalf("a record under another's key: %v", err)
	}
	if err := tl.Add("planets", key(u1), u1); err == nil {
		t.Fatal("an unknown kind is counted")
	}
	if _, err := storage.RecordKey(struct{}{}); err == nil {
		t.Fatal("a key for no record")
	}
	// Kinds interleave: each keeps its own order.
	if err := tl.Add("orgs", key(core.Org{ID: 1}), core.Org{ID: 1}); err != nil {
		t.Fatal(err)
	}
	for _, x := range tl.Tallies() {
		if want := map[string]int{"users": 1, "orgs": 1}[x.Kind]; x.Count != want {
			t.Errorf("%s counted %d, want %d", x.Kind, x.Count, want)
		}
	}
}
