package storage

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"latchkey/core"
)

// tx implements core.Tx on a bbolt transaction.
type tx struct {
	t            *bolt.Tx
	cat          *catalog
	uses         *useIndex
	gen          uint64 // the catalog's generation when the transaction began
	wroteCatalog bool
	settled      bool // its catalog writes were committed or rolled back
	users        *userCache
	ugen         uint64   // the user cache's generation when the transaction began
	wroteUsers   []uint64 // users this transaction wrote
	usersSettled bool
	dueOf        map[uint64][]byte // outbox messages this transaction read or wrote: their due index key (nil: not pending)
}

var _ core.Tx = (*tx)(nil)

func (x *tx) b(name []byte) *bolt.Bucket { return x.t.Bucket(name) }

// get decodes the record at key; core.ErrNotFound when there is none.
func get[T any](b *bolt.Bucket, key []byte) (T, error) {
	raw := b.Get(key)
	if raw == nil {
		var zero T
		return zero, core.ErrNotFound
	}
	return decode[T](raw)
}

// decode reads one JSON record (and so copies it out of the database's map).
func decode[T any](raw []byte) (T, error) {
	var v T
	if err := json.Unmarshal(raw, recordOf(&v)); err != nil {
		return v, fmt.Errorf("decode %T: %w", v, err)
	}
	return v, nil
}

// valuesByPrefix decodes the records of b whose keys start with prefix (all
// of them for an empty prefix), in key order.
func valuesByPrefix[T any](b *bolt.Bucket, prefix []byte) ([]T, error) {
	var out []T
	err := scanPrefix(b, prefix, false, func(_, raw []byte) (bool, error) {
		v, err := decode[T](raw)
		if err != nil {
			return false, err
		}
		out = append(out, v)
		return true, nil
	})
	return out, err
}

// newestBefore decodes the records of b, keyed by id, newest first: those
// below beforeID when it is not 0, at most limit of them (0: all).
func newestBefore[T any](b *bolt.Bucket, beforeID uint64, limit int) ([]T, error) {
	var out []T
	c := b.Cursor()
	var k, raw []byte
	if beforeID == 0 {
		k, raw = c.Last()
	} else {
		k, raw = seekBefore(c, u64(beforeID))
	}
	for ; k != nil && (limit <= 0 || len(out) < limit); k, raw = c.Prev() {
		v, err := decode[T](raw)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func put(b *bolt.Bucket, key []byte, v any) error {
	raw, err := json.Marshal(recordOf(v))
	if err != nil {
		return fmt.Errorf("encode %T: %w", v, err)
	}
	return b.Put(key, raw)
}

// getByIndex follows an index entry (key → id) to the record in primary.
func getByIndex[T any](x *tx, index, primary, key []byte) (T, error) {
	id := x.b(index).Get(key)
	if id == nil {
		var zero T
		return zero, core.ErrNotFound
	}
	return get[T](x.b(primary), id)
}

// listByPrefix follows the index entries prefix|id to records in primary, in
// key order or reversed; limit 0 means all.
func listByPrefix[T any](x *tx, index, primary, prefix []byte, reverse bool, limit int) ([]T, error) {
	var out []T
	err := scanPrefix(x.b(index), prefix, reverse, func(k, _ []byte) (bool, error) {
		v, err := get[T](x.b(primary), k[len(k)-8:])
		if err != nil {
			return false, err
		}
		out = append(out, v)
		return limit == 0 || len(out) < limit, nil
	})
	return out, err
}

// scanPrefix visits the keys that start with prefix until fn returns false.
func scanPrefix(b *bolt.Bucket, prefix []byte, reverse bool, fn func(k, v []byte) (bool, error)) error {
	c := b.Cursor()
	var k, v []byte
	if reverse {
		k, v = seekLast(c, prefix)
	} else {
		k, v = c.Seek(prefix)
	}
	for ; k != nil && bytes.HasPrefix(k, prefix); k, v = step(c, reverse) {
		more, err := fn(k, v)
		if err != nil || !more {
			return err
		}
	}
	return nil
}

func step(c *bolt.Cursor, reverse bool) ([]byte, []byte) {
	if reverse {
		return c.Prev()
	}
	return c.Next()
}

// seekLast positions c on the last key that starts with prefix (or before it).
func seekLast(c *bolt.Cursor, prefix []byte) ([]byte, []byte) {
	if len(prefix) == 0 {
		return c.Last()
	}
	end := append([]byte(nil), prefix...)
	for i := len(end) - 1; i >= 0; i-- { // smallest key greater than every key with the prefix
		if end[i] < 0xff {
			end[i]++
			end = end[:i+1]
			return seekBefore(c, end)
		}
	}
	return c.Last()
}

// seekBefore positions c on the last key before key.
func seekBefore(c *bolt.Cursor, key []byte) ([]byte, []byte) {
	if k, _ := c.Seek(key); k == nil {
		return c.Last()
	}
	return c.Prev()
}

func nextID(b *bolt.Bucket, id *uint64) error {
	if *id != 0 {
		return nil
	}
	n, err := b.NextSequence()
	if err != nil {
		return err
	}
	*id = n
	return nil
}

func idBytes(k []byte) uint64 { return binary.BigEndian.Uint64(k[len(k)-8:]) }
