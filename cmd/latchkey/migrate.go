package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"latchkey/storage"
	"latchkey/storage/postgres"
)

// runMigrate handles "migrate --to URL": it copies a stopped instance's
// bbolt database (in --data) into an empty PostgreSQL database, with every
// id and the key check, in one transaction that commits only once the copy
// checks out entity by entity, and prints the checks.
func runMigrate(ctx context.Context, c config, args []string, e env) error {
	to, err := migrateTarget(c.MigrateTo, args)
	if err != nil {
		return err
	}
	if c.Store != "" {
		return usageError{"migrate copies the bbolt database in --data into the one --to names; leave --store (LATCHKEY_STORE) out"}
	}
	path := filepath.Join(c.Data, dbFile)
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("no database at %s: --data names the data directory of the instance to copy", path)
	}
	// Writable, to fold the link uses a crash may have left unfolded into
	// their links' counters first; the lock also proves the instance stopped.
	src, err := storage.Open(path, storage.Options{})
	if err != nil {
		return err // a running instance holds the lock: the error says to stop it
	}
	defer src.Close()
	if _, err := src.FoldLinkUses(ctx); err != nil {
		return fmt.Errorf("fold the link uses into their links: %w", err)
	}
	if err := checkSource(src, path, filepath.Join(c.Data, keyFile)); err != nil {
		return err
	}
	pg, err := postgres.Open(ctx, to, postgres.Options{})
	if err != nil {
		return err
	}
	defer pg.Close()
	start := time.Now()
	checks, err := pg.Import(ctx, src)
	if errors.Is(err, postgres.ErrNotEmpty) {
		return fmt.Errorf("%s: %w", postgres.Redact(to), err)
	}
	var mismatch *postgres.MismatchError
	if errors.As(err, &mismatch) {
		printChecks(e.stdout, checks)
		return fmt.Errorf("%w; nothing was written, %s is as empty as it was", err, postgres.Redact(to))
	}
	if err != nil {
		return fmt.Errorf("copy into %s: %w (nothing was written)", postgres.Redact(to), err)
	}
	records := 0
	for _, ch := range checks {
		if ch.Kind != postgres.KeyCheckKind {
			records += ch.TargetCount
		}
	}
	fmt.Fprintf(e.stdout, "Copied %d records from %s into %s in %s, and checked the copy:\n",
		records, path, postgres.Redact(to), time.Since(start).Round(time.Millisecond))
	printChecks(e.stdout, checks)
	fmt.Fprintf(e.stdout, "Run latchkey with --store '%s' and this --data (its key file %s opens the copied links).\n"+
		"Keep %s as it is until the new instance runs.\n", postgres.Redact(to), filepath.Join(c.Data, keyFile), path)
	return nil
}

// migrateTarget reads --to URL from migrate's arguments.
func migrateTarget(to string, args []string) (string, error) {
	switch {
	case len(args) > 0:
		return "", usageError{fmt.Sprintf("migrate takes no arguments besides --to URL (got %q)", args)}
	case to == "":
		return "", usageError{"migrate needs --to postgres://user:pass@host:5432/db: the new, empty PostgreSQL database to copy into"}
	case !postgres.IsURL(to):
		return "", usageError{fmt.Sprintf("--to %s is no PostgreSQL address: give postgres://… or postgresql://…", postgres.Redact(to))}
	}
	return to, nil
}

// checkSource refuses a database this latchkey would migrate first (its
// schema is older) or cannot read, and a copy that the key file in the
// data directory would not open.
func checkSource(src *storage.Store, path, keyPath string) error {
	v, err := src.SchemaVersion()
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	switch {
	case v > storage.SchemaVersion:
		return fmt.Errorf("%s has schema version %d, newer than this latchkey understands (%d); run a newer latchkey", path, v, storage.SchemaVersion)
	case v < storage.SchemaVersion:
		return fmt.Errorf("%s has schema version %d, older than this latchkey's (%d): start this latchkey on it once (it brings the file up to date), stop it, then migrate", path, v, storage.SchemaVersion)
	}
	check, err := src.KeyCheck()
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if check == nil {
		return nil // no key file was ever bound: the first start on PostgreSQL binds one
	}
	if _, err := os.Stat(keyPath); err != nil {
		return fmt.Errorf("the key file %s is missing: without it no copied link can be read; restore it from your backup first", keyPath)
	}
	keys, _, err := storage.LoadOrCreateKeys(keyPath)
	if err != nil {
		return err
	}
	if !bytes.Equal(keys.CheckValue(), check) {
		return fmt.Errorf("the key file %s does not belong to %s, so no copied link could be read; restore the key file that was created with the database", keyPath, path)
	}
	return nil
}

// printChecks is the table of what was checked: each entity's records and
// checksum, the same on both sides, or both sides where they differ.
func printChecks(w io.Writer, checks []postgres.Check) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  entity\trecords\tchecksum")
	for _, c := range checks {
		if c.OK() {
			fmt.Fprintf(tw, "  %s\t%d\t%x\tok\n", c.Kind, c.TargetCount, c.TargetSum[:4])
			continue
		}
		fmt.Fprintf(tw, "  %s\t%d → %d\t%x → %x\tMISMATCH\n", c.Kind, c.SourceCount, c.TargetCount, c.SourceSum[:4], c.TargetSum[:4])
	}
	tw.Flush()
}
