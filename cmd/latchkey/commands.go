package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/sync/errgroup"

	"latchkey/core"
	"latchkey/core/api"
	"latchkey/core/mail"
	"latchkey/core/web"
	"latchkey/core/webhook"
	"latchkey/storage"
	"latchkey/storage/postgres"
	"latchkey/tui"
	"latchkey/tui/sshd"
)

// runServe opens the data directory, loads the demo when asked, and runs
// every listener until ctx ends, then shuts them down gracefully.
func runServe(ctx context.Context, c config, e env, console bool) error {
	logOut := e.stderr
	if console { // the console owns the terminal: logs go to a file
		if err := os.MkdirAll(c.Data, 0o700); err != nil {
			return fmt.Errorf("create data directory: %w", err)
		}
		f, err := os.OpenFile(filepath.Join(c.Data, logFile), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			return fmt.Errorf("open log file: %w", err)
		}
		defer f.Close()
		logOut = f
	}
	logBuf := newLogBuffer(logOut, 100*time.Millisecond)
	defer logBuf.Close()
	log := newLogger(logBuf, c.LogLevel)
	in, err := openInstance(c, log)
	if err != nil {
		return err
	}
	defer in.Close()
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if in.pg != nil {
		reg.MustRegister(in.pg.Collector())
		// Other nodes' commits: their changes refresh this node's consoles,
		// wake its workers and drop the decisions it keeps.
		go in.pg.Listen(ctx, in.svc.ApplyRemote)
	}

	// Listen on everything first, so that a taken port is reported before
	// anything runs.
	httpLn, err := net.Listen("tcp", c.HTTP)
	if err != nil {
		return fmt.Errorf("portal listener on --http %s: %w", c.HTTP, err)
	}
	defer httpLn.Close()
	var sshLn net.Listener
	if c.SSH != "off" {
		if sshLn, err = net.Listen("tcp", c.SSH); err != nil {
			return fmt.Errorf("SSH console on --ssh %s: %w", c.SSH, err)
		}
		defer sshLn.Close()
	}
	var catcherLn net.Listener
	if c.SMTPCatcher != "off" {
		if catcherLn, err = net.Listen("tcp", c.SMTPCatcher); err != nil {
			return fmt.Errorf("SMTP catcher on --smtp-catcher %s: %w", c.SMTPCatcher, err)
		}
		defer catcherLn.Close()
	}
	demoLoaded := false
	if c.Demo { // after listening: a taken port must not swallow the demo's links
		if demoLoaded, err = loadDemo(ctx, in, e.stderr); err != nil {
			return err
		}
	}

	relayCfg := c.relay
	if relayCfg == nil { // the catcher is the only mail route: deliver to it over SMTP
		host, port, _ := net.SplitHostPort(catcherLn.Addr().String())
		relayCfg = &mail.RelayConfig{Host: host, Port: port, Pool: mail.LocalPool}
		if !loopbackURL(c.PublicURL) {
			log.Warn("NO MAIL WILL REACH CLIENTS: no --smtp-relay is set, so every email goes to the built-in catcher on this machine, but --public-url is not local. Set --smtp-relay.", "public_url", c.PublicURL)
			fmt.Fprintf(e.stderr, "WARNING: clients will get no mail. No --smtp-relay is set, so mail goes to the built-in catcher,\n         but %s is not a local address. Set --smtp-relay smtp://user:pass@host:587.\n", c.PublicURL)
		}
	}
	relay := mail.NewRelay(*relayCfg)
	defer relay.Close()
	composer, err := mail.NewComposer(c.MailFrom, c.PublicURL)
	if err != nil {
		return err
	}
	login := sshLogin(c.PublicURL, sshLn)
	composer.SSHLogin = login
	worker, err := mail.NewWorker(mail.WorkerConfig{Service: in.svc, Composer: composer, Sender: relay, Logger: log, Registry: reg, Lease: c.OutboxLease})
	if err != nil {
		return err
	}
	hooks, err := webhook.New(webhook.Config{Service: in.svc, Logger: log, Registry: reg, Policy: c.webhookPolicy(), Lease: c.OutboxLease})
	if err != nil {
		return err
	}
	if c.AllowPrivateWebhooks {
		log.Warn("webhooks may post to loopback, private and link-local addresses (--allow-private-webhooks): unsafe when several organizations share this instance")
	}
	limitsOff := c.RateLimits == "off"
	if limitsOff {
		log.Warn("rate limits are off (--rate-limits off), on the portal listener, the SSH console and the API: for load tests only")
	}
	var sshSrv *sshd.Server
	if sshLn != nil {
		admins := map[string]bool{}
		for _, k := range c.adminKeys {
			admins[k.Fingerprint] = true
		}
		var backup sshd.Backuper = pgDumpHint{c.Store}
		if in.bolt != nil {
			backup = in.bolt
		}
		cfg := sshd.Config{Service: in.svc, Backup: backup, HostKeyPath: filepath.Join(c.Data, hostKeyFile),
			AdminKeys: admins, CatcherOn: catcherLn != nil, SSHLogin: login, Logger: log, Registry: reg}
		if limitsOff {
			cfg.Limits = &sshd.Limits{} // every limit off
		}
		sshSrv, err = sshd.New(cfg)
		if err != nil {
			return err
		}
	}
	viewer := catcherLn != nil && loopbackAddr(httpLn.Addr())
	var limits *web.Limits
	if limitsOff {
		limits = &web.Limits{} // every limit off
	}
	adminAPI, err := api.New(api.Config{Service: in.svc, Logger: log, LimitsOff: limitsOff, ClientAddr: web.ClientAddr})
	if err != nil {
		return err
	}
	var accessLog io.Writer // request lines: written by hand into the log's buffer, when info is logged
	if c.LogLevel == "debug" || c.LogLevel == "info" {
		accessLog = logBuf
	}
	portal, err := web.New(web.Config{Service: in.svc, Logger: log, Registry: reg, TrustedProxies: c.trustedProxies, MailViewer: viewer, Limits: limits,
		API: adminAPI, AccessLog: accessLog})
	if err != nil {
		return err
	}

	fmt.Fprintf(e.stderr, "Portal listener on http://%s (links use %s)\n", httpLn.Addr(), c.PublicURL)
	if catcherLn != nil {
		fmt.Fprintf(e.stderr, "SMTP catcher on %s", catcherLn.Addr())
		if viewer {
			fmt.Fprintf(e.stderr, "; read caught mail at http://%s/_mail", httpLn.Addr())
		}
		fmt.Fprintln(e.stderr)
	}
	if sshLn != nil {
		_, port, _ := net.SplitHostPort(sshLn.Addr().String())
		fmt.Fprintf(e.stderr, "SSH console on %s (ssh -p %s <host>; %d admin key(s) from --admin-keys)\n", sshLn.Addr(), port, len(c.adminKeys))
	}
	if c.relay != nil {
		fmt.Fprintf(e.stderr, "Mail goes to the relay %s\n", relayCfg)
	} else {
		fmt.Fprintln(e.stderr, "Mail goes to the built-in catcher (no --smtp-relay is set)")
	}
	log.Info("listening", "http", httpLn.Addr().String(), "public_url", c.PublicURL, "mail", relayCfg.String())

	if console {
		fmt.Fprintf(e.stderr, "Logs go to %s.\n", filepath.Join(c.Data, logFile))
	}
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return portal.Serve(ctx, httpLn, 10*time.Second) })
	if catcherLn != nil {
		catcher := mail.NewCatcher(in.svc, log)
		g.Go(func() error { return catcher.Serve(ctx, catcherLn) })
	}
	g.Go(func() error {
		err := worker.Run(ctx)
		relay.Close() // QUIT the pooled connections, so the catcher's sessions end and it stops at once
		return err
	})
	g.Go(func() error { return hooks.Run(ctx) })
	g.Go(func() error { return purgeLoop(ctx, in, time.Hour) })
	if c.Pprof != "" {
		g.Go(func() error { return servePprof(ctx, c.Pprof) })
	}
	if c.BackupDir != "" {
		g.Go(func() error { return backupLoop(ctx, in, c.BackupDir, c.BackupEvery, c.BackupKeep) })
	}
	if sshSrv != nil {
		g.Go(func() error { return sshSrv.Serve(ctx, sshLn) })
	}
	if console {
		deps := tui.Deps{Service: in.svc, Actor: core.AdminActor("console"), CatcherOn: catcherLn != nil, SSHLogin: login, Where: "console"}
		deps.Notice = consoleNotice(c.relay != nil, relayCfg.String(), demoLoaded, viewer, fmt.Sprintf("http://%s/_mail", httpLn.Addr()))
		if err := tui.Run(ctx, deps, e.stdin, e.stdout); err != nil {
			log.Error("console", "err", err)
			fmt.Fprintln(e.stderr, "latchkey: console:", err)
		}
		stop() // leaving the console stops latchkey
	}
	err = g.Wait()
	log.Info("stopped")
	if console {
		fmt.Fprintln(e.stderr, "latchkey stopped.")
	}
	return err
}

// loopbackURL reports whether a URL's host is this machine.
func loopbackURL(u string) bool {
	parsed, err := url.Parse(u)
	if err != nil {
		return false
	}
	host := parsed.Hostname()
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// loopbackAddr reports whether a listener serves only this machine.
func loopbackAddr(a net.Addr) bool {
	ta, ok := a.(*net.TCPAddr)
	return ok && ta.IP.IsLoopback()
}

// backupLoop writes a backup every interval (counted from the newest one
// already in dir, so restarts do not skip or repeat it) and keeps the newest.
func backupLoop(ctx context.Context, in *instance, dir string, every time.Duration, keep int) error {
	log := in.log.With("component", "backup")
	for {
		next := time.Now()
		if all, err := storage.Backups(dir); err == nil && len(all) > 0 {
			if st, err := os.Stat(all[len(all)-1]); err == nil {
				next = st.ModTime().Add(every)
			}
		}
		t := time.NewTimer(time.Until(next))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		start := time.Now()
		path, err := in.bolt.BackupInto(dir, start, keep)
		if err != nil {
			log.Error("backup failed; trying again in a minute", "err", err)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(time.Minute):
			}
			continue
		}
		log.Info("backup written", "path", path, "took", time.Since(start).Round(time.Millisecond), "keep", keep)
	}
}

// servePprof serves net/http/pprof on a loopback address until ctx ends.
func servePprof(ctx context.Context, addr string) error {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { <-ctx.Done(); srv.Close() }()
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("pprof on %s: %w", addr, err)
	}
	return nil
}

// purgeLoop removes dead sessions and tokens now and then, and reminds
// owners of the guests whose access ends within a day.
func purgeLoop(ctx context.Context, in *instance, every time.Duration) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, m, err := in.svc.Purge(ctx); err != nil && ctx.Err() == nil {
			in.log.Warn("purge expired sessions", "err", err)
		} else if n+m > 0 {
			in.log.Info("purged expired sessions and tokens", "sessions", n, "tokens", m)
		}
		if n, err := in.svc.RemindGuestsEnding(ctx); err != nil && ctx.Err() == nil {
			in.log.Warn("remind owners of guests whose access ends", "err", err)
		} else if n > 0 {
			in.log.Info("reminded owners of guests whose access ends within a day", "organizations", n)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// loadDemo loads the demo into an empty database and prints its active
// links; it reports whether it loaded anything.
func loadDemo(ctx context.Context, in *instance, w io.Writer) (bool, error) {
	links, err := in.svc.LoadDemo(ctx)
	if errors.Is(err, core.ErrNotEmpty) {
		in.log.Info("demo not loaded: the database holds data already")
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("load demo: %w", err)
	}
	fmt.Fprintln(w, "Loaded the demo organization Northwind Studio.")
	fmt.Fprintf(w, "  Owner: owner@northwind.test, password %s\n", core.DemoPassword)
	fmt.Fprintln(w, "  Active magic links (open one in a browser):")
	for _, l := range links {
		fmt.Fprintf(w, "    %-18s %-18s %s\n", l.Email, l.Portal, l.URL)
		in.log.Info("demo magic link", "email", l.Email, "portal", l.Portal, "url", l.URL)
	}
	return true, nil
}

// runBackup copies a stopped instance's database to FILE.
func runBackup(c config, args []string, e env) error {
	if c.Store != "" {
		return pgDumpHint{c.Store}.err()
	}
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

// pgDumpHint answers a backup asked of an instance on PostgreSQL: the
// database is backed up with PostgreSQL's own tools, and the command says
// how.
type pgDumpHint struct{ url string }

func (h pgDumpHint) err() error {
	return fmt.Errorf("this instance keeps its data in PostgreSQL, which backs it up with its own tools:\n"+
		"  pg_dump --format=custom --file latchkey.dump '%s'\n"+
		"(with the password, or PGPASSWORD set), and keep the key file with the dump: links cannot be read without it", postgres.Redact(h.url))
}

// WriteTo is the SSH console's backup command on PostgreSQL: it refuses,
// with the command to use.
func (h pgDumpHint) WriteTo(io.Writer) (int64, error) { return 0, h.err() }

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
	if isPrivateKey(data) {
		return privateKeyError(path)
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

// consoleNotice is the local console's first status line: where mail goes.
func consoleNotice(relayed bool, relay string, demoLoaded, viewer bool, mailURL string) string {
	switch {
	case relayed && demoLoaded:
		return "Demo loaded. Its emails go to the relay " + relay + "."
	case relayed:
		return ""
	case demoLoaded && viewer:
		return "Demo loaded. Open the clients' emails (and their magic links) at " + mailURL
	case viewer:
		return "Mail goes to the built-in catcher: " + mailURL
	}
	return ""
}

// sshLogin is the command that opens the SSH console: the public URL's host
// and the SSH listener's port; empty when SSH is off.
func sshLogin(publicURL string, ln net.Listener) string {
	if ln == nil {
		return ""
	}
	host := "<latchkey host>"
	if u, err := url.Parse(publicURL); err == nil && u.Hostname() != "" {
		host = u.Hostname()
	}
	port := "22"
	if a, ok := ln.Addr().(*net.TCPAddr); ok {
		port = strconv.Itoa(a.Port)
	}
	if port == "22" {
		return "ssh " + host
	}
	return "ssh -p " + port + " " + host
}
