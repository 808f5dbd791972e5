package storage

import (
	"bytes"
	"encoding/binary"

	bolt "go.etcd.io/bbolt"
)

// The three shapes every entity's store repeats, once each.

// followIndex visits an index's entries under prefix, in key order, and
// collects the record each one names: get reads it from the entry's key
// and value (an id at the key's end, a lookup hash in the value, ...).
func followIndex[T any](b *bolt.Bucket, prefix []byte, get func(k, v []byte) (T, error)) ([]T, error) {
	var out []T
	err := scanPrefix(b, prefix, false, func(k, v []byte) (bool, error) {
		rec, err := get(k, v)
		if err != nil {
			return false, err
		}
		out = append(out, rec)
		return true, nil
	})
	return out, err
}

// takenBy reports whether a unique index (an email, a slug, a host name)
// names another record than id under key.
func (x *tx) takenBy(index, key []byte, id uint64) bool {
	owner := x.b(index).Get(key)
	return owner != nil && binary.BigEndian.Uint64(owner) != id
}

// reindex points a unique index at id under key, and drops the entry of
// the record's old key when it changed (old is nil for a new record; an
// empty key is no entry at all, as a portal without a host name).
func (x *tx) reindex(index, old, key []byte, id uint64) error {
	if len(old) > 0 && !bytes.Equal(old, key) {
		if err := x.b(index).Delete(old); err != nil {
			return err
		}
	}
	if len(key) == 0 {
		return nil
	}
	return x.b(index).Put(key, u64(id))
}

// deleteWhere removes the records of b that dead says are, each through
// del (which drops its index entries too), after the scan: a bucket must
// not change under its cursor. It returns how many.
func deleteWhere[T any](b *bolt.Bucket, dead func(T) bool, del func(k []byte) error) (int, error) {
	var keys [][]byte
	err := b.ForEach(func(k, v []byte) error {
		rec, err := decode[T](v)
		if err != nil {
			return err
		}
		if dead(rec) {
			keys = append(keys, append([]byte(nil), k...))
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	for _, k := range keys {
		if err := del(k); err != nil {
			return 0, err
		}
	}
	return len(keys), nil
}
