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
// Nothing outside this package imports bbolt.
package storage
