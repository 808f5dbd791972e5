// Command latchkey runs the whole product: the portal listener, the mail
// worker and catcher, the SSH console and, in a terminal, the local console.
// main only reads configuration, wires the parts and starts them.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/charmbracelet/x/term"

	"latchkey/core"
	"latchkey/storage"
	"latchkey/storage/postgres"
)

// version is set at build time (-ldflags "-X main.version=…").
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, lookup: os.LookupEnv})
	stop()
	os.Exit(code)
}

// env is the process's outside world, so that tests can run commands in-process.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	lookup         func(string) (string, bool)
}

const usageText = `latchkey: magic links for client portals, with a terminal business console.

Usage:
  latchkey [flags]                      run everything (and the console when stdin is a terminal)
  latchkey serve [flags]                run the portal listener, SSH console and mail, no local console
  latchkey backup FILE [flags]          consistent copy of a stopped instance's database
  latchkey keys add EMAIL KEYFILE       register an SSH public key for an owner or manager (KEYFILE - reads stdin)
  latchkey migrate --to URL [flags]     copy a stopped instance's database into an empty PostgreSQL database, and check the copy
  latchkey version                      print the version

Every flag can also be set with LATCHKEY_<NAME> (--public-url → LATCHKEY_PUBLIC_URL).

Flags:
`

// run executes one command line and returns the exit status.
func run(ctx context.Context, args []string, e env) int {
	var c config
	fs := newFlagSet("latchkey", &c, e.stderr)
	fs.Usage = func() {
		fmt.Fprint(e.stderr, usageText)
		fs.PrintDefaults()
	}
	pos, err := parseInterleaved(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		return 2 // flag has printed the error and the usage
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if err := applyEnv(fs, given, e.lookup); err != nil {
		fmt.Fprintln(e.stderr, "latchkey:", err)
		return 2
	}
	cmd := ""
	if len(pos) > 0 {
		cmd, pos = pos[0], pos[1:]
	}
	if cmd == "version" {
		fmt.Fprintln(e.stdout, "latchkey", version)
		return 0
	}
	if cmd == "help" {
		fs.Usage()
		return 0
	}
	if err := c.validate(); err != nil {
		fmt.Fprintln(e.stderr, "latchkey: invalid configuration:")
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintln(e.stderr, "  "+line)
		}
		return 2
	}
	if c.MigrateTo != "" && cmd != "migrate" {
		fmt.Fprintln(e.stderr, "latchkey: --to is for migrate (latchkey migrate --to postgres://…)")
		return 2
	}
	switch cmd {
	case "", "serve":
		err = runServe(ctx, c, e, cmd == "" && isTerminal(e.stdin))
	case "backup":
		err = runBackup(c, pos, e)
	case "keys":
		err = runKeys(ctx, c, pos, e)
	case "migrate":
		err = runMigrate(ctx, c, pos, e)
	default:
		err = usageError{fmt.Sprintf("unknown command %q (commands: serve, backup, keys, migrate, version)", cmd)}
	}
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ue):
		fmt.Fprintln(e.stderr, "latchkey:", err)
		fmt.Fprintln(e.stderr, "Run latchkey --help for usage.")
		return 2
	default:
		fmt.Fprintln(e.stderr, "latchkey:", err)
		return 1
	}
}

type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

// parseInterleaved parses flags wherever they stand among the positional
// arguments ("latchkey keys add --data d EMAIL FILE").
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// isTerminal asks the terminal driver: /dev/null, which a service manager
// gives a daemon for input, is a character device too, but no terminal.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(f.Fd())
}

// Files in the data directory.
const (
	dbFile      = "latchkey.db"
	keyFile     = "latchkey.key"
	logFile     = "latchkey.log"
	hostKeyFile = "ssh_host_ed25519_key"
)

// instance is an opened data directory (and database): store, keys and
// service. Exactly one of bolt and pg is set.
type instance struct {
	bolt *storage.Store  // bbolt's file in --data
	pg   *postgres.Store // --store postgres://…
	svc  *core.Service
	log  *slog.Logger
}

// store is the instance's store, whichever it is.
func (in *instance) store() interface {
	core.Store
	KeysBound(context.Context) (bool, error)
	BindKeys(context.Context, *core.Keys) error
} {
	if in.pg != nil {
		return in.pg
	}
	return boltKeys{in.bolt}
}

// boltKeys gives bbolt's key binding the context PostgreSQL's takes.
type boltKeys struct{ *storage.Store }

func (b boltKeys) KeysBound(context.Context) (bool, error)           { return b.Store.KeysBound() }
func (b boltKeys) BindKeys(_ context.Context, keys *core.Keys) error { return b.Store.BindKeys(keys) }

// openInstance opens (creating on first run) the data directory, and the
// PostgreSQL database when --store names one.
func openInstance(c config, log *slog.Logger) (*instance, error) {
	if err := os.MkdirAll(c.Data, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	in := &instance{log: log}
	ctx := context.Background()
	if c.Store != "" {
		pg, err := postgres.Open(ctx, c.Store, postgres.Options{})
		if err != nil {
			return nil, err
		}
		in.pg = pg
	} else {
		st, err := storage.Open(filepath.Join(c.Data, dbFile), storage.Options{GroupCommit: true})
		if err != nil {
			return nil, err
		}
		in.bolt = st
	}
	st := in.store()
	fail := func(err error) (*instance, error) {
		in.closeStore()
		return nil, err
	}
	keyPath := filepath.Join(c.Data, keyFile)
	if _, statErr := os.Stat(keyPath); errors.Is(statErr, os.ErrNotExist) {
		if bound, err := st.KeysBound(ctx); err != nil || bound {
			if err == nil {
				err = fmt.Errorf("the key file %s is missing, but the database was created with one; restore it from your backup, or copy it from another node (without it no link can be read)", keyPath)
			}
			return fail(err)
		}
	}
	keys, created, err := storage.LoadOrCreateKeys(keyPath)
	if err != nil {
		return fail(err)
	}
	if created {
		log.Info("created the instance key file; back it up with the database", "path", keyPath)
	}
	if err := st.BindKeys(ctx, keys); err != nil {
		return fail(err)
	}
	var cs core.Store = in.bolt
	if in.pg != nil {
		cs = in.pg
	}
	svc, err := core.New(core.Config{
		Store: cs, Keys: keys, PublicURL: c.PublicURL, Logger: log,
		Options: core.Options{SessionIdle: c.SessionIdle, SessionLifetime: c.SessionLifetime, LinkHistory: c.LinkHistory, UniformResponses: c.UniformResponses,
			RateLimitsOff: c.RateLimits == "off", Webhooks: c.webhookPolicy()},
	})
	if err != nil {
		return fail(err)
	}
	in.svc = svc
	return in, nil
}

func (in *instance) closeStore() error {
	if in.pg != nil {
		return in.pg.Close()
	}
	return in.bolt.Close()
}

// Close writes the link views still held in memory and folds the link uses
// not folded yet, then closes the store.
func (in *instance) Close() error {
	if err := in.svc.FlushViews(context.Background()); err != nil {
		in.svc.Logger().Warn("write link views", "err", err)
	}
	if _, err := in.svc.FoldLinkUses(context.Background()); err != nil {
		in.svc.Logger().Warn("fold link uses", "err", err)
	}
	return in.closeStore()
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	h := slog.Handler(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))
	if b, ok := w.(*logBuffer); ok {
		h = flushOnWarn{h, b}
	}
	return slog.New(h)
}
