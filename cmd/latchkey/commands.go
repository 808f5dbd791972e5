package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/sync/errgroup"

	"latchkey/core"
	"latchkey/core/web"
	"latchkey/storage"
)

// runServe opens the data directory, loads the demo when asked, and runs
// every listener until ctx ends, then shuts them down gracefully.
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
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	portal, err := web.New(web.Config{Service: in.svc, Logger: log, Registry: reg, TrustedProxies: c.trustedProxies})
	if err != nil {
		return err
	}
	httpLn, err := net.Listen("tcp", c.HTTP)
	if err != nil {
		return fmt.Errorf("portal listener on --http %s: %w", c.HTTP, err)
	}
	fmt.Fprintf(e.stderr, "Portal listener on http://%s (links use %s)\n", httpLn.Addr(), c.PublicURL)
	log.Info("portal listener started", "addr", httpLn.Addr().String(), "public_url", c.PublicURL)

	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return portal.Serve(ctx, httpLn, 10*time.Second) })
	g.Go(func() error { return purgeLoop(ctx, in, time.Hour) })
	err = g.Wait()
	log.Info("stopped")
	return err
}

// purgeLoop removes dead sessions and tokens now and then.
func purgeLoop(ctx context.Context, in *instance, every time.Duration) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, m, err := in.svc.Purge(ctx); err != nil && ctx.Err() == nil {
			in.log.Warn("purge expired sessions", "err", err)
		} else if n+m > 0 {
			in.log.Info("purged expired sessions and tokens", "sessions", n, "tokens", m)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
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
