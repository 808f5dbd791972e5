package storage

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"latchkey/core"
)

func randomLink(r *rand.Rand) core.Link {
	at := func() time.Time {
		switch r.IntN(3) {
		case 0:
			return time.Time{}
		case 1:
			return time.Unix(r.Int64N(1<<40), r.Int64N(1e9)).UTC()
		}
		off := 60 * (r.IntN(1500) - 750)
		if off == -60 { // the one offset time's binary form cannot hold: kept as the same instant in UTC
			off = 60
		}
		return time.Unix(r.Int64N(1<<40), 0).In(time.FixedZone("", off))
	}
	bytes := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return b
	}
	return core.Link{
		ID: r.Uint64(), OrgID: r.Uint64N(1 << 20), PortalID: r.Uint64N(300),
		Email: strings.Repeat("é", r.IntN(4)) + "someone@example.com", Role: core.RoleGuest, GuestUntil: at(),
		State: core.LinkDeactivated, Lookup: bytes(32), Sealed: bytes(60), CreatedAt: at(), CreatedBy: "ssh:SHA256:abc",
		EndedAt: at(), EndedBy: strings.Repeat("x", r.IntN(200)), ReplacedBy: r.Uint64(), UseCount: r.Uint64N(1 << 33), LastUsedAt: at(),
	}
}

// Every field survives the round trip, and the zero time stays zero.
func TestLinkCodecRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 2000; i++ {
		l := randomLink(r)
		got, err := DecodeLink(EncodeLink(&l))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range []struct{ a, b time.Time }{{l.GuestUntil, got.GuestUntil}, {l.CreatedAt, got.CreatedAt}, {l.EndedAt, got.EndedAt}, {l.LastUsedAt, got.LastUsedAt}} {
			if !p.a.Equal(p.b) || p.a.IsZero() != p.b.IsZero() {
				t.Fatalf("time %v came back as %v", p.a, p.b)
			}
			_, off1 := p.a.Zone()
			_, off2 := p.b.Zone()
			if off1 != off2 {
				t.Fatalf("zone offset %d came back as %d", off1, off2)
			}
		}
		l.GuestUntil, l.CreatedAt, l.EndedAt, l.LastUsedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
		got.GuestUntil, got.CreatedAt, got.EndedAt, got.LastUsedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
		if !reflect.DeepEqual(l, got) {
			t.Fatalf("round trip:\n%+v\n%+v", l, got)
		}
	}
}

// Every field of core.Link survives the round trip: a field added to the
// type and not to the codec fails here.
func TestLinkCodecCoversEveryField(t *testing.T) {
	var l core.Link
	v := reflect.ValueOf(&l).Elem()
	for i := 0; i < v.NumField(); i++ {
		f, name := v.Field(i), v.Type().Field(i).Name
		switch {
		case f.Type() == reflect.TypeFor[time.Time]():
			f.Set(reflect.ValueOf(time.Unix(int64(1e9+i), int64(i)).UTC()))
		case f.Kind() == reflect.Uint64:
			f.SetUint(uint64(1000 + i))
		case f.Kind() == reflect.String:
			f.SetString("value of " + name)
		case f.Kind() == reflect.Bool:
			f.SetBool(true)
		case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.Uint8:
			f.SetBytes([]byte("bytes of " + name))
		default:
			t.Fatalf("core.Link.%s is a %s, which the link codec does not know: teach EncodeLink and DecodeLink", name, f.Type())
		}
	}
	got, err := DecodeLink(EncodeLink(&l))
	if err != nil {
		t.Fatal(err)
	}
	gv := reflect.ValueOf(got)
	for i := 0; i < v.NumField(); i++ {
		a, b := v.Field(i).Interface(), gv.Field(i).Interface()
		if ta, ok := a.(time.Time); ok {
			if !ta.Equal(b.(time.Time)) {
				t.Errorf("%s: %v came back as %v", v.Type().Field(i).Name, a, b)
			}
			continue
		}
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s: %v came back as %v", v.Type().Field(i).Name, a, b)
		}
	}
}

// Links written as JSON before the binary form existed still read.
func TestLinkCodecReadsJSON(t *testing.T) {
	l := core.Link{ID: 7, OrgID: 1, PortalID: 2, Email: "a@b.test", Role: core.RoleClient, State: core.LinkActive,
		Lookup: []byte{1, 2, 3}, Sealed: []byte{4, 5}, CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), UseCount: 9}
	raw, err := json.Marshal(l)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeLink(raw)
	if err != nil || !reflect.DeepEqual(got, l) {
		t.Fatalf("got %+v, %v; want %+v", got, err, l)
	}
}

// A damaged record is an error, never a panic or a half-filled link.
func TestLinkCodecRejectsDamage(t *testing.T) {
	l := randomLink(rand.New(rand.NewPCG(3, 4)))
	enc := EncodeLink(&l)
	for _, bad := range [][]byte{nil, {}, {9}, enc[:len(enc)-1], append(append([]byte(nil), enc...), 0), []byte("{not json")} {
		if got, err := DecodeLink(bad); err == nil {
			t.Fatalf("%q decoded as %+v", bad, got)
		}
	}
}

// The decoded link shares no memory with the record: bbolt's values live
// in its map only while the transaction lasts.
func TestLinkCodecCopies(t *testing.T) {
	l := randomLink(rand.New(rand.NewPCG(5, 6)))
	enc := EncodeLink(&l)
	got, err := DecodeLink(enc)
	if err != nil {
		t.Fatal(err)
	}
	for i := range enc {
		enc[i] = 0xff
	}
	if !reflect.DeepEqual(got.Lookup, l.Lookup) || !reflect.DeepEqual(got.Sealed, l.Sealed) || got.Email != l.Email {
		t.Fatal("the decoded link changed with the record's bytes")
	}
}

func BenchmarkDecodeLink(b *testing.B) {
	now := time.Now().UTC()
	l := core.Link{ID: 123456, OrgID: 1, PortalID: 2, Email: "bulk123456@acme.test", Role: core.RoleClient, State: core.LinkActive,
		Lookup: make([]byte, 32), Sealed: make([]byte, 60), CreatedAt: now, CreatedBy: "bench", UseCount: 3, LastUsedAt: now}
	raw := EncodeLink(&l)
	js, err := json.Marshal(l)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("binary", func(b *testing.B) {
		for b.Loop() {
			DecodeLink(raw)
		}
		b.ReportMetric(float64(len(raw)), "bytes")
	})
	b.Run("json", func(b *testing.B) {
		for b.Loop() {
			DecodeLink(js)
		}
		b.ReportMetric(float64(len(js)), "bytes")
	})
}
