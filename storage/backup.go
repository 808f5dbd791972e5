package storage

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Consistent copies of the database: streamed (WriteTo, the SSH backup
// command), into a directory with rotation (BackupInto), and of a stopped
// instance's file (Backup); Walk and Check read every bucket.

// WriteTo writes a consistent copy of the whole database to w.
func (s *Store) WriteTo(w io.Writer) (int64, error) {
	var n int64
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	return n, err
}

// Check runs bbolt's consistency check and returns every problem found.
func (s *Store) Check() error {
	return s.db.View(func(tx *bolt.Tx) error {
		var errs []error
		for err := range tx.Check() {
			errs = append(errs, err)
		}
		return errors.Join(errs...)
	})
}

// Walk calls fn for every key and value of every bucket, in bucket order.
// For tests and diagnostics: it sees exactly what the file holds.
func (s *Store) Walk(fn func(bucket string, k, v []byte) error) error {
	return s.db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			return b.ForEach(func(k, v []byte) error { return fn(string(name), k, v) })
		})
	})
}

// Backup writes a consistent copy of the database at dbPath to dest (via a
// temporary file, fsync and rename). The database must not be held by a
// running instance; for those, the SSH command backup streams a copy.
func Backup(dbPath, dest string) (int64, error) {
	if _, err := os.Stat(dbPath); err != nil {
		return 0, fmt.Errorf("no database at %s: %w", dbPath, err)
	}
	s, err := Open(dbPath, Options{ReadOnly: true})
	if err != nil {
		return 0, err
	}
	defer s.Close()
	var n int64
	err = writeAtomic(dest, 0o600, false, func(w io.Writer) error {
		var err error
		n, err = s.WriteTo(w)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("write backup %s: %w", dest, err)
	}
	return n, nil
}

// BackupInto writes a consistent copy of the open database into dir as
// latchkey-YYYYMMDDTHHMMSS.nnnnnnnnnZ.db (through a temporary file that is
// synced and linked into place, then the directory synced), then deletes the oldest copies so
// that keep remain. Readers and writers go on meanwhile. It returns the
// copy's path.
func (s *Store) BackupInto(dir string, now time.Time, keep int) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("backup directory: %w", err)
	}
	path := filepath.Join(dir, backupPrefix+now.UTC().Format("20060102T150405.000000000Z")+".db")
	if err := writeAtomic(path, 0o600, true, func(w io.Writer) error {
		_, err := s.WriteTo(w)
		return err
	}); err != nil {
		return "", fmt.Errorf("write backup: %w", err)
	}
	if err := PruneBackups(dir, keep); err != nil {
		return path, err
	}
	return path, nil
}

const backupPrefix = "latchkey-"

// Backups lists the copies in dir, oldest first.
func Backups(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		n := e.Name()
		if e.Type().IsRegular() && strings.HasPrefix(n, backupPrefix) && strings.HasSuffix(n, ".db") {
			out = append(out, filepath.Join(dir, n))
		}
	}
	sort.Strings(out) // the names sort by time
	return out, nil
}

// PruneBackups deletes the oldest copies in dir so that keep remain.
func PruneBackups(dir string, keep int) error {
	all, err := Backups(dir)
	if err != nil {
		return err
	}
	for len(all) > keep {
		if err := os.Remove(all[0]); err != nil {
			return fmt.Errorf("delete old backup: %w", err)
		}
		all = all[1:]
	}
	return syncDir(dir)
}
