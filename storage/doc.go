// Package storage implements core's Store on one bbolt file, and owns the
// data directory's other files: the key file and the lock's pid file.
//
// Layout: one bucket per entity keyed by big-endian uint64 ids from
// NextSequence (so cursor order is id order), or by hash for sessions and
// tokens; secondary index buckets map emails, slugs, lookup hashes and
// composite keys to ids. Every bucket is created in one transaction at open;
// records are JSON (links a compact binary form, see EncodeLink), decoded
// (and so copied) before a transaction ends. The
// schema version lives in the meta bucket and migrations run at open.
//
// Files: store.go (schema, migrations, open and lock), backup.go, tx.go
// (the transaction and its generic helpers), helpers.go (following an
// index, keeping a unique index, deleting what a scan found), records.go
// (the on-disk form of every entity: storage's own types, so that a change
// in core cannot silently change the file), and one file per entity.
//
// It decides nothing: every rule is core's. Nothing outside this package
// imports bbolt.
package storage
