package storage

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"math"
	"reflect"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"latchkey/core"
)

// Every record of the database, decoded into core's types, for copying it
// into another store (latchkey migrate), and the tallies (count and
// checksum per entity) that tell whether two stores hold the same records.
// The tallies live here, where PostgreSQL's side can use them too: package
// postgres may import storage, never the other way round.

// KnownAddress is one address an organization knows, under its UTS #39
// skeleton (core.OrgStore's KnownAddress); core has no type for it.
type KnownAddress struct {
	OrgID    uint64
	Skeleton string
	Email    string
}

// exportKind is one entity as Records visits it: its kind, the bucket that
// holds its records (its primary one, not an index), the bucket whose
// NextSequence hands out its ids (nil: it has none), and how a stored
// record is decoded.
type exportKind struct {
	kind   string
	bucket []byte
	seq    []byte
	decode func(k, v []byte) (any, error)
}

func decodeAs[T any](_, v []byte) (any, error) { return decode[T](v) }

var exportKinds = []exportKind{
	{"users", bUsers, bUsers, decodeAs[core.User]},
	{"orgs", bOrgs, bOrgs, decodeAs[core.Org]},
	{"members", bMembers, nil, decodeAs[core.Member]},
	{"known_addresses", bKnown, nil, func(k, v []byte) (any, error) {
		if len(k) < 8 {
			return nil, fmt.Errorf("known address key %x: too short", k)
		}
		return KnownAddress{OrgID: binary.BigEndian.Uint64(k), Skeleton: string(k[8:]), Email: string(v)}, nil
	}},
	{"projects", bProjects, bProjects, decodeAs[core.Project]},
	{"portals", bPortals, bPortals, decodeAs[core.Portal]},
	{"access", bAccess, nil, decodeAs[core.Access]},
	{"portal_notices", bNotices, nil, decodeAs[core.PortalNotices]},
	{"resources", bResources, bResources, decodeAs[core.Resource]},
	{"updates", bUpdates, bUpdates, decodeAs[core.Update]},
	{"logos", bLogos, nil, decodeAs[core.Logo]},
	{"links", bLinks, bLinksID, func(_, v []byte) (any, error) { return DecodeLink(v) }},
	{"link_events", bLinkEvents, bLinkEvents, func(_, v []byte) (any, error) {
		r, err := decode[linkEventRecord](v)
		return r.core(), err
	}},
	{"invitations", bInvitations, bInvitations, decodeAs[core.Invitation]},
	{"tokens", bTokens, nil, decodeAs[core.Token]},
	{"sessions", bSessions, bSessions, decodeAs[core.Session]},
	{"requests", bRequests, bRequests, decodeAs[core.Request]},
	{"audit_events", bAudit, bAudit, decodeAs[core.Event]},
	{"outbox", bOutbox, bOutbox, decodeAs[core.Message]},
	{"caught_mail", bCaught, bCaught, decodeAs[core.CaughtMail]},
	{"ssh_keys", bSSHKeys, nil, decodeAs[core.SSHKey]},
	{"api_tokens", bAPITokens, bAPITokens, decodeAs[core.APIToken]},
	{"idempotency", bIdempotency, nil, decodeAs[core.IdempotencyRecord]},
	{"webhooks", bWebhooks, bWebhooks, decodeAs[core.Webhook]},
	{"webhook_deliveries", bWebhookDeliveries, bWebhookDeliveries, decodeAs[core.WebhookDelivery]},
}

// Kinds names every entity Records visits, in the order it visits them.
func Kinds() []string {
	out := make([]string, len(exportKinds))
	for i, k := range exportKinds {
		out[i] = k.kind
	}
	return out
}

// Records calls fn with every record of every entity, in one read
// transaction: its kind (one of Kinds, in that order), its key (RecordKey:
// its key in its bucket, so in ascending order within a kind) and the
// record decoded into core's type (core.User, ..., or KnownAddress), by
// value. Key and record stay valid after fn returns.
//
// It first folds the link uses not folded yet (FoldLinkUses), so that the
// links and their histories hold every use; a store opened read-only with
// uses to fold fails.
func (s *Store) Records(fn func(kind string, key []byte, v any) error) error {
	if !s.db.IsReadOnly() {
		if _, err := s.FoldLinkUses(context.Background()); err != nil {
			return err
		}
	}
	return s.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bLinkUses); b != nil {
			if n := b.Stats().KeyN; n > 0 {
				return fmt.Errorf("records: %d link uses are not folded into their links yet: open the database writable to fold them", n)
			}
		}
		for _, k := range exportKinds {
			b := tx.Bucket(k.bucket)
			if b == nil {
				return fmt.Errorf("records: no bucket %s", k.bucket)
			}
			err := b.ForEach(func(key, raw []byte) error {
				v, err := k.decode(key, raw)
				if err != nil {
					return fmt.Errorf("%s record %x: %w", k.kind, key, err)
				}
				return fn(k.kind, bytes.Clone(key), v)
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// KeyCheck is the check value of the key file bound to the database (see
// BindKeys); nil when none was bound.
func (s *Store) KeyCheck() ([]byte, error) {
	var v []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		v = bytes.Clone(tx.Bucket(bMeta).Get(keyKeyCheck))
		return nil
	})
	return v, err
}

// Sequences are, for each kind whose ids a sequence hands out, the last id
// handed out. It may be above the largest id stored (deleted records, caught
// mail trimmed): those ids are never handed out again.
func (s *Store) Sequences() (map[string]uint64, error) {
	out := map[string]uint64{}
	err := s.db.View(func(tx *bolt.Tx) error {
		for _, k := range exportKinds {
			if k.seq != nil {
				out[k.kind] = tx.Bucket(k.seq).Sequence()
			}
		}
		return nil
	})
	return out, err
}

// RecordKey is the key of a record (as Records gives them) in its bbolt
// bucket: ids big-endian, composite keys their parts one after the other.
// Both stores order a kind's records by it for their tallies.
func RecordKey(v any) ([]byte, error) {
	switch r := v.(type) {
	case core.User:
		return u64(r.ID), nil
	case core.Org:
		return u64(r.ID), nil
	case core.Member:
		return cat(u64(r.OrgID), u64(r.UserID)), nil
	case KnownAddress:
		return cat(u64(r.OrgID), []byte(r.Skeleton)), nil
	case core.Project:
		return u64(r.ID), nil
	case core.Portal:
		return u64(r.ID), nil
	case core.Access:
		return cat(u64(r.PortalID), u64(r.UserID)), nil
	case core.PortalNotices:
		return u64(r.PortalID), nil
	case core.Resource:
		return u64(r.ID), nil
	case core.Update:
		return u64(r.ID), nil
	case core.Logo:
		return []byte(r.Hash), nil
	case core.Link:
		return bytes.Clone(r.Lookup), nil
	case core.LinkEvent:
		return cat(u64(r.LinkID), u64(r.ID)), nil
	case core.Invitation:
		return u64(r.ID), nil
	case core.Token:
		return bytes.Clone(r.Hash), nil
	case core.Session:
		return bytes.Clone(r.Hash), nil
	case core.Request:
		return u64(r.ID), nil
	case core.Event:
		return u64(r.ID), nil
	case core.Message:
		return u64(r.ID), nil
	case core.CaughtMail:
		return u64(r.ID), nil
	case core.SSHKey:
		return []byte(r.Fingerprint), nil
	case core.APIToken:
		return u64(r.ID), nil
	case core.IdempotencyRecord:
		return []byte(r.Key), nil
	case core.Webhook:
		return u64(r.ID), nil
	case core.WebhookDelivery:
		return u64(r.ID), nil
	}
	return nil, fmt.Errorf("record key: %T is no record", v)
}

// Tally is one kind's records as a store holds them: how many, and the
// SHA-256 of their keys and canonical forms in key order.
type Tally struct {
	Kind     string
	Count    int
	Checksum [sha256.Size]byte
}

// Tallier adds records up into a Tally per kind. Each kind's records must
// come in ascending key order (their kinds may interleave).
type Tallier struct {
	order []string
	kinds map[string]*tallying
	buf   []byte
}

type tallying struct {
	count int
	h     hash.Hash
	last  []byte
}

// NewTallier starts a tally of every kind of Kinds at zero.
func NewTallier() *Tallier {
	t := &Tallier{order: Kinds(), kinds: map[string]*tallying{}}
	for _, k := range t.order {
		t.kinds[k] = &tallying{h: sha256.New()}
	}
	return t
}

// ErrKeyOrder: a store gave a kind's records out of key order, or under a
// key that is not theirs, so its tally cannot be compared.
var ErrKeyOrder = errors.New("records out of key order")

// Add counts one record: key is where the store keeps it, which must be
// the record's own (RecordKey) and above the kind's previous one.
func (t *Tallier) Add(kind string, key []byte, v any) error {
	k, ok := t.kinds[kind]
	if !ok {
		return fmt.Errorf("tally: unknown kind %q", kind)
	}
	own, err := RecordKey(v)
	if err != nil {
		return fmt.Errorf("tally %s: %w", kind, err)
	}
	if !bytes.Equal(own, key) {
		return fmt.Errorf("%w: a %s record under key %x has key %x", ErrKeyOrder, kind, key, own)
	}
	if k.count > 0 && bytes.Compare(key, k.last) <= 0 {
		return fmt.Errorf("%w: %s key %x after %x", ErrKeyOrder, kind, key, k.last)
	}
	k.last = append(k.last[:0], key...)
	t.buf = binary.AppendUvarint(t.buf[:0], uint64(len(key)))
	t.buf = append(t.buf, key...)
	t.buf = appendCanonical(t.buf, reflect.ValueOf(v))
	k.h.Write(t.buf)
	k.count++
	return nil
}

// Tallies are the tallies so far, of every kind in Kinds' order.
func (t *Tallier) Tallies() []Tally {
	out := make([]Tally, 0, len(t.order))
	for _, kind := range t.order {
		k := t.kinds[kind]
		tl := Tally{Kind: kind, Count: k.count}
		k.h.Sum(tl.Checksum[:0])
		out = append(out, tl)
	}
	return out
}

var timeType = reflect.TypeFor[time.Time]()

// appendCanonical appends the canonical form of v: every exported field of
// a struct by name, in declaration order, each value tagged with its kind
// and length-prefixed where its length varies, map entries sorted, so that
// equal records have equal forms however each store decoded them. Two
// equivalences, and no other loss:
//   - Times are instants to the microsecond: bbolt keeps nanoseconds and
//     the zone offset, PostgreSQL's timestamptz microseconds in UTC, so a
//     time compares as its Unix microseconds (monotonic reading and zone
//     left out).
//   - An empty slice or map is the same as a nil one: bbolt's JSON omits
//     empty fields (they read back nil), PostgreSQL stores an empty bytea
//     or array for them.
func appendCanonical(b []byte, v reflect.Value) []byte {
	if v.Type() == timeType {
		t := v.Interface().(time.Time)
		return binary.BigEndian.AppendUint64(append(b, 't'), uint64(t.UnixMicro()))
	}
	switch v.Kind() {
	case reflect.String:
		b = binary.AppendUvarint(append(b, 's'), uint64(v.Len()))
		return append(b, v.String()...)
	case reflect.Bool:
		if v.Bool() {
			return append(b, 'T')
		}
		return append(b, 'F')
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return binary.BigEndian.AppendUint64(append(b, 'i'), uint64(v.Int()))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return binary.BigEndian.AppendUint64(append(b, 'u'), v.Uint())
	case reflect.Float32, reflect.Float64:
		return binary.BigEndian.AppendUint64(append(b, 'f'), math.Float64bits(v.Float()))
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			b = binary.AppendUvarint(append(b, 'b'), uint64(v.Len()))
			if v.Kind() == reflect.Slice {
				return append(b, v.Bytes()...)
			}
			for i := range v.Len() {
				b = append(b, byte(v.Index(i).Uint()))
			}
			return b
		}
		b = binary.AppendUvarint(append(b, 'l'), uint64(v.Len()))
		for i := range v.Len() {
			b = appendCanonical(b, v.Index(i))
		}
		return b
	case reflect.Map:
		type entry struct{ k, v []byte }
		entries := make([]entry, 0, v.Len())
		for it := v.MapRange(); it.Next(); {
			entries = append(entries, entry{appendCanonical(nil, it.Key()), appendCanonical(nil, it.Value())})
		}
		slices.SortFunc(entries, func(x, y entry) int { return bytes.Compare(x.k, y.k) })
		b = binary.AppendUvarint(append(b, 'm'), uint64(len(entries)))
		for _, e := range entries {
			b = append(append(b, e.k...), e.v...)
		}
		return b
	case reflect.Struct:
		b = append(b, '{')
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			b = binary.AppendUvarint(b, uint64(len(f.Name)))
			b = append(b, f.Name...)
			b = appendCanonical(b, v.Field(i))
		}
		return append(b, '}')
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return append(b, 'n')
		}
		return appendCanonical(append(b, 'p'), v.Elem())
	}
	panic(fmt.Sprintf("storage: no canonical form for %s", v.Type()))
}
