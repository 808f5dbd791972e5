package pgtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { Main(m) }

func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func queryString(t *testing.T, conn *pgx.Conn, sql string, args ...any) string {
	t.Helper()
	var s string
	if err := conn.QueryRow(context.Background(), sql, args...).Scan(&s); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return s
}

func countTables(t *testing.T, conn *pgx.Conn) int {
	t.Helper()
	var n int
	err := conn.QueryRow(context.Background(),
		`SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')`).Scan(&n)
	if err != nil {
		t.Fatalf("count tables: %v", err)
	}
	return n
}

func TestNewDatabaseGivesSeparateEmptyDatabases(t *testing.T) {
	urlA, urlB := NewDatabaseURL(t), NewDatabaseURL(t)
	if urlA == urlB {
		t.Fatalf("two databases share the URL %s", urlA)
	}
	a, b := connect(t, urlA), connect(t, urlB)
	nameA := queryString(t, a, "SELECT current_database()")
	nameB := queryString(t, b, "SELECT current_database()")
	if nameA == nameB {
		t.Fatalf("both URLs reach database %s", nameA)
	}
	for _, conn := range []*pgx.Conn{a, b} {
		if n := countTables(t, conn); n != 0 {
			t.Errorf("a new database has %d tables, want none", n)
		}
	}
	if _, err := a.Exec(context.Background(), "CREATE TABLE widgets (id bigint PRIMARY KEY)"); err != nil {
		t.Fatalf("create table: %v", err)
	}
	if got := queryString(t, a, "SELECT coalesce(to_regclass('widgets')::text, '')"); got != "widgets" {
		t.Errorf("database A: to_regclass(widgets) = %q, want widgets", got)
	}
	if got := queryString(t, b, "SELECT coalesce(to_regclass('widgets')::text, '')"); got != "" {
		t.Errorf("database B sees A's table: to_regclass(widgets) = %q", got)
	}
}

func TestNewDatabaseDroppedAfterItsTest(t *testing.T) {
	admin := connect(t, Shared(t).URL("postgres"))
	exists := func(name string) bool {
		var n int
		if err := admin.QueryRow(context.Background(), "SELECT count(*) FROM pg_database WHERE datname = $1", name).Scan(&n); err != nil {
			t.Fatalf("query pg_database: %v", err)
		}
		return n == 1
	}
	var name string
	t.Run("uses a database", func(t *testing.T) {
		// Left open on purpose: the drop must not wait for it (FORCE).
		conn, err := pgx.Connect(context.Background(), NewDatabaseURL(t))
		if err != nil {
			t.Fatal(err)
		}
		name = queryString(t, conn, "SELECT current_database()")
		if !exists(name) {
			t.Fatalf("database %s is not in pg_database during its test", name)
		}
	})
	if name == "" {
		t.Fatal("the subtest found no database")
	}
	if exists(name) {
		t.Errorf("database %s still exists after its test's cleanup", name)
	}
}

func TestNewDatabaseInParallelTests(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]bool{}
	for i := range 8 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			url := NewDatabaseURL(t)
			name := queryString(t, connect(t, url), "SELECT current_database()")
			if !strings.HasSuffix(strings.SplitN(url, "?", 2)[0], "/"+name) {
				t.Errorf("URL %s reached database %s", url, name)
			}
			if name != strings.ToLower(name) || !strings.HasPrefix(name, "t_") {
				t.Errorf("database name %q: want lower case, starting t_", name)
			}
			mu.Lock()
			defer mu.Unlock()
			if seen[name] {
				t.Errorf("database %s given to two tests", name)
			}
			seen[name] = true
		})
	}
}

func TestNewDatabaseAfterItsAdminConnectionWasTerminated(t *testing.T) {
	c := Shared(t)
	NewDatabaseURL(t) // the admin connection is open
	conn := connect(t, c.URL("postgres"))
	var terminated int
	err := conn.QueryRow(context.Background(), `WITH admin AS MATERIALIZED (
		SELECT pid FROM pg_stat_activity
		WHERE datname = 'postgres' AND backend_type = 'client backend' AND pid <> pg_backend_pid())
		SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM admin`).Scan(&terminated)
	if err != nil || terminated == 0 {
		t.Fatalf("terminate the admin connection: %d terminated, %v", terminated, err)
	}
	name := queryString(t, connect(t, c.NewDatabase(t)), "SELECT current_database()")
	if !strings.HasPrefix(name, "t_") {
		t.Errorf("current_database() = %q", name)
	}
}

// cleanupRecorder is a testing.TB whose cleanups run when the test says
// and whose errors are kept instead of failing the test.
type cleanupRecorder struct {
	testing.TB
	cleanups []func()
	errors   []string
}

func (r *cleanupRecorder) Helper()          {}
func (r *cleanupRecorder) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }
func (r *cleanupRecorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func (r *cleanupRecorder) runCleanups() {
	for _, f := range slices.Backward(r.cleanups) {
		f()
	}
}

func TestNewDatabaseCleanupAfterTheServerIsGone(t *testing.T) {
	tests := []struct {
		name string
		end  func(*Cluster) error
	}{
		{"stopped", (*Cluster).Stop},
		{"killed", func(c *Cluster) error {
			pid, _ := c.postmasterPID()
			return killAndWait(pid)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Start()
			if err != nil {
				t.Fatal(err)
			}
			defer c.Stop()
			rec := &cleanupRecorder{TB: t}
			c.NewDatabase(rec)
			if len(rec.cleanups) != 1 {
				t.Fatalf("NewDatabase registered %d cleanups, want 1", len(rec.cleanups))
			}
			if err := tt.end(c); err != nil {
				t.Fatal(err)
			}
			rec.runCleanups()
			if len(rec.errors) > 0 {
				t.Errorf("the drop after the server was %s reported %q", tt.name, rec.errors)
			}
		})
	}
}

func TestServerSettings(t *testing.T) {
	c := Shared(t)
	conn := connect(t, c.URL("postgres"))
	for setting, want := range map[string]string{
		"listen_addresses":        "127.0.0.1",
		"port":                    fmt.Sprint(c.Port()),
		"unix_socket_directories": c.sock,
		"fsync":                   "off",
		"max_connections":         "300",
		"server_encoding":         "UTF8",
	} {
		if got := queryString(t, conn, "SHOW "+setting); got != want {
			t.Errorf("SHOW %s = %q, want %q", setting, got, want)
		}
	}
	if got := queryString(t, conn, "SELECT current_user"); got != superuser {
		t.Errorf("current_user = %q, want %q", got, superuser)
	}
	wantURL := fmt.Sprintf("postgres://latchkey@127.0.0.1:%d/x?sslmode=disable", c.Port())
	if got := c.URL("x"); got != wantURL {
		t.Errorf("URL(x) = %s, want %s", got, wantURL)
	}
}

func TestStartStopLeavesNothing(t *testing.T) {
	start := time.Now()
	c, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Start took %v", time.Since(start))
	pid, ok := c.postmasterPID()
	if !ok || !alive(pid) {
		t.Fatalf("no running postmaster after Start (pid %d, pid file %v)", pid, ok)
	}
	conn := connect(t, c.URL("postgres"))
	if got := queryString(t, conn, "SELECT 'up'"); got != "up" {
		t.Fatalf("query = %q", got)
	}
	conn.Close(context.Background())
	start = time.Now()
	if err := c.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	t.Logf("Stop took %v", time.Since(start))
	if alive(pid) {
		t.Errorf("postmaster %d still runs after Stop", pid)
	}
	if _, err := os.Stat(c.base); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s after Stop: %v, want it gone", c.base, err)
	}
	if err := c.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
}

func TestStopAfterTheServerWasKilled(t *testing.T) {
	c, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	pid, ok := c.postmasterPID()
	if !ok {
		t.Fatal("no postmaster.pid")
	}
	if err := killAndWait(pid); err != nil {
		_ = c.Stop()
		t.Fatal(err)
	}
	if err := c.Stop(); err != nil {
		t.Errorf("Stop of a killed server: %v", err)
	}
	if _, err := os.Stat(c.base); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s after Stop: %v, want it gone", c.base, err)
	}
}

// TestWatchdogStopsTheServerOfAKilledBinary runs this test binary again as
// a child that starts a cluster and dies by SIGKILL: nothing of Stop or Main
// runs, and the watchdog must still stop the server and remove its files.
func TestWatchdogStopsTheServerOfAKilledBinary(t *testing.T) {
	if os.Getenv("PGTEST_KILLED_CHILD") == "1" {
		c, err := Start()
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		pid, _ := c.postmasterPID()
		fmt.Printf("cluster %s %d\n", c.base, pid)
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestWatchdogStopsTheServerOfAKilledBinary$")
	cmd.Env = append(os.Environ(), "PGTEST_KILLED_CHILD=1")
	out, err := cmd.Output()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child: %v, want killed; output:\n%s", err, out)
	}
	var base string
	var pid int
	if _, err := fmt.Sscanf(string(out), "cluster %s %d", &base, &pid); err != nil || pid == 0 {
		t.Fatalf("child's output %q: %v", out, err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		_, statErr := os.Stat(base)
		if !alive(pid) && errors.Is(statErr, os.ErrNotExist) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("30s after the child died: postmaster %d alive %v, %s: %v", pid, alive(pid), base, statErr)
		}
	}
}

func TestFindBinaries(t *testing.T) {
	fake := func(t *testing.T, lib string, versions ...string) {
		for _, v := range versions {
			bin := filepath.Join(lib, v, "bin")
			if err := os.MkdirAll(bin, 0o755); err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{"pg_ctl", "initdb"} {
				if err := os.WriteFile(filepath.Join(bin, name), []byte("#!/bin/sh\n"), 0o755); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	tests := []struct {
		name     string
		lib      []string // versions under the fake /usr/lib/postgresql
		path     []string // versions whose bin is on PATH
		wantFrom string   // the version directory pg_ctl is taken from; "" for none
	}{
		{name: "highest version", lib: []string{"9.6", "15", "17", "13"}, wantFrom: filepath.Join("lib", "17")},
		{name: "lib before PATH", lib: []string{"15"}, path: []string{"16"}, wantFrom: filepath.Join("lib", "15")},
		{name: "PATH when no lib", path: []string{"16"}, wantFrom: filepath.Join("path", "16")},
		{name: "not installed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			lib, onPath := filepath.Join(dir, "lib"), filepath.Join(dir, "path")
			fake(t, lib, tt.lib...)
			fake(t, onPath, tt.path...)
			var path []string
			for _, v := range tt.path {
				path = append(path, filepath.Join(onPath, v, "bin"))
			}
			t.Setenv("PATH", strings.Join(append(path, filepath.Join(dir, "empty")), string(os.PathListSeparator)))
			pgCtl, initdb, err := findBinaries(lib)
			if tt.wantFrom == "" {
				if !errors.Is(err, errNotInstalled) || !strings.Contains(err.Error(), "make test-deps") {
					t.Errorf("findBinaries = %q, %q, %v; want the not-installed error", pgCtl, initdb, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			wantBin := filepath.Join(dir, tt.wantFrom, "bin")
			if pgCtl != filepath.Join(wantBin, "pg_ctl") || initdb != filepath.Join(wantBin, "initdb") {
				t.Errorf("findBinaries = %s, %s; want both in %s", pgCtl, initdb, wantBin)
			}
		})
	}
}

// killAndWait kills the process and polls until it is gone.
func killAndWait(pid int) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	if err := p.Kill(); err != nil {
		return err
	}
	for deadline := time.Now().Add(10 * time.Second); alive(pid); {
		if time.Now().After(deadline) {
			return fmt.Errorf("process %d still alive 10s after SIGKILL", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return nil
}

// BenchmarkNewDatabase times CREATE DATABASE; the drops run in cleanup,
// after the timing.
func BenchmarkNewDatabase(b *testing.B) {
	c := Shared(b)
	for b.Loop() {
		c.NewDatabase(b)
	}
}
