package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"latchkey/core"
	"latchkey/storage"
)

// runServe opens the data directory, loads the demo when asked, and runs
// the product until ctx ends.
func runServe(ctx context.Context, c config, e env, console bool) error {
	log := newLogger(e.stderr, c.LogLevel)
	in, err := openInstance(c, log)
	if err != nil {
		return err
	}
	defer in.Close()
	if c.Demo {
		if err := loadDemo(ctx, in, e.stderr); err != nil {
			return err
		}
	}
	return printSummary(ctx, in, e.stdout)
}

// loadDemo loads the demo into an empty database and prints its active links.
func loadDemo(ctx context.Context, in *instance, w io.Writer) error {
	links, err := in.svc.LoadDemo(ctx)
	if errors.Is(err, core.ErrNotEmpty) {
		in.log.Info("demo not loaded: the database holds data already")
		return nil
	}
	if err != nil {
		return fmt.Errorf("load demo: %w", err)
	}
	fmt.Fprintln(w, "Loaded the demo organization Northwind Studio.")
	fmt.Fprintf(w, "  Owner: owner@northwind.test, password %s\n", core.DemoPassword)
	fmt.Fprintln(w, "  Active magic links (open one in a browser):")
	for _, l := range links {
		fmt.Fprintf(w, "    %-18s %-18s %s\n", l.Email, l.Portal, l.URL)
		in.log.Info("demo magic link", "email", l.Email, "portal", l.Portal, "url", l.URL)
	}
	return nil
}

// printSummary lists every organization's projects and portals.
func printSummary(ctx context.Context, in *instance, w io.Writer) error {
	admin := core.AdminActor("cli")
	orgs, err := in.svc.Orgs(ctx, admin)
	if err != nil {
		return err
	}
	if len(orgs) == 0 {
		fmt.Fprintln(w, "The database is empty. Start with --demo to load the demo organization.")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ORGANIZATION\tPROJECT\tPORTAL\tACCESS\tPEOPLE\tACTIVE LINKS\tREQUESTS")
	for _, o := range orgs {
		projects, err := in.svc.Projects(ctx, admin, o.ID)
		if err != nil {
			return err
		}
		for _, p := range projects {
			slug, access := "-", "-"
			if p.Portal != nil {
				slug, access = "/p/"+p.Portal.Slug, string(p.Portal.Access)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\n", o.Name, p.Project.Name, slug, access, p.PeopleWithAccess, p.ActiveLinks, p.PendingRequests)
		}
	}
	return tw.Flush()
}

// runBackup copies a stopped instance's database to FILE.
func runBackup(c config, args []string, e env) error {
	if len(args) != 1 {
		return usageError{"backup takes one argument: the FILE to write"}
	}
	dest := args[0]
	src := filepath.Join(c.Data, dbFile)
	if abs, _ := filepath.Abs(dest); abs == mustAbs(src) {
		return usageError{"the backup FILE must not be the database itself"}
	}
	n, err := storage.Backup(src, dest)
	if errors.Is(err, storage.ErrInUse) {
		return fmt.Errorf("%w\nFor a running instance use the SSH command: ssh -p 2222 HOST backup > copy.db", err)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Wrote %s (%d bytes). Keep %s with it: links cannot be read without the key file.\n", dest, n, filepath.Join(c.Data, keyFile))
	return nil
}

func mustAbs(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	return abs
}

// runKeys handles "keys add EMAIL KEYFILE" on a stopped instance.
func runKeys(ctx context.Context, c config, args []string, e env) error {
	if len(args) == 0 || args[0] != "add" {
		return usageError{"usage: latchkey keys add EMAIL KEYFILE"}
	}
	if len(args) != 3 {
		return usageError{"keys add takes EMAIL and KEYFILE (a .pub file, or - for standard input)"}
	}
	email, path := args[1], args[2]
	var data []byte
	var err error
	if path == "-" {
		data, err = io.ReadAll(io.LimitReader(e.stdin, 64<<10))
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return fmt.Errorf("read key: %w", err)
	}
	in, err := openInstance(c, newLogger(e.stderr, c.LogLevel))
	if err != nil {
		return err
	}
	defer in.Close()
	k, err := in.svc.AddSSHKey(ctx, core.AdminActor("cli"), email, strings.TrimSpace(string(data)))
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Added key %s for %s.\n", k.Fingerprint, email)
	return nil
}
