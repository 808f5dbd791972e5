// Package pgtest starts throwaway PostgreSQL servers for tests: Debian's
// postgresql package (make test-deps installs it), initdb'd into a new
// directory (under /dev/shm when there is room), listening on a free port
// of 127.0.0.1, tuned for speed rather than durability. A test binary shares one cluster (Shared,
// stopped by Main) and gets a fresh empty database per test (NewDatabase).
//
// It is for tests only: nothing outside _test.go files and test harnesses
// may import it, and it never touches a server it did not start.
package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// superuser is the role initdb creates; every URL connects as it.
const superuser = "latchkey"

// debianLib is where Debian's postgresql-NN packages put their binaries
// (not on PATH: Debian's /usr/bin has only wrappers for psql and friends).
const debianLib = "/usr/lib/postgresql"

// errNotInstalled says what to do when no PostgreSQL binaries are found.
var errNotInstalled = errors.New("PostgreSQL is not installed: run make test-deps (apt-get install -y postgresql)")

// Cluster is a running throwaway PostgreSQL server on 127.0.0.1.
type Cluster struct {
	base string // temporary directory holding everything below
	data string // the data directory
	sock string // the unix socket directory
	log  string // the server's log file
	port int

	pgCtl string
	// runAs prefixes every initdb and pg_ctl command: runuser to the
	// postgres user when we are root (PostgreSQL refuses to run as root).
	runAs []string

	// watchdog stops the server and removes base once this process's end
	// of its stdin pipe closes, which the kernel does however the test
	// binary ends (a panic, a test timeout, a signal), not only by Stop.
	watchdog     *exec.Cmd
	watchdogPipe *os.File

	// adminConn, on database postgres, runs CREATE and DROP DATABASE:
	// one connection, kept, as connecting costs more than creating.
	adminMu   sync.Mutex
	adminConn *pgx.Conn
	// createSQL ends CREATE DATABASE: FILE_COPY (one copy of template1's
	// files) beats 15's default WAL_LOG without fsync; older servers have
	// only FILE_COPY and no STRATEGY option.
	createSQL string
	stopped   bool // by Stop; guarded by adminMu
	databases atomic.Uint64

	stopOnce sync.Once
	stopErr  error
	durable  bool // StartDurable's: on disk, fsync on
}

// Start initdb's a cluster in a new temp dir and starts it on a free port
// bound to 127.0.0.1 (unix socket in its own dir). Started once per test
// binary by Shared; Start is for tests that need their own (e.g. to kill it).
// The temp dir is under /dev/shm when that is a tmpfs with room, else under
// os.TempDir(). As root, initdb and pg_ctl run as the postgres user.
func Start() (*Cluster, error) {
	c, err := start(false)
	if err != nil {
		return nil, fmt.Errorf("pgtest: start PostgreSQL: %w", err)
	}
	return c, nil
}

// StartDurable is Start for benchmarks: the cluster is on disk (the
// temporary directory, never /dev/shm) with PostgreSQL's default settings
// for durability (fsync, synchronous_commit and full_page_writes on) and
// for memory, so that what is measured is what a production server does.
func StartDurable() (*Cluster, error) {
	c, err := start(true)
	if err != nil {
		return nil, fmt.Errorf("pgtest: start PostgreSQL: %w", err)
	}
	return c, nil
}

func start(durable bool) (*Cluster, error) {
	pgCtl, initdb, err := findBinaries(debianLib)
	if err != nil {
		return nil, err
	}
	c := &Cluster{pgCtl: pgCtl, durable: durable}
	owner, err := c.chooseUser()
	if err != nil {
		return nil, err
	}
	if err := c.makeDirs(owner); err != nil {
		return nil, err
	}
	if err := c.startWatchdog(); err != nil {
		_ = os.RemoveAll(c.base)
		return nil, err
	}
	if err := c.initdb(initdb); err != nil {
		_ = c.release()
		return nil, err
	}
	if err := c.startServer(); err != nil {
		_ = c.release()
		return nil, err
	}
	if err := c.checkServer(); err != nil {
		_ = c.Stop()
		return nil, err
	}
	return c, nil
}

// checkServer connects as the tests will and reads the server's version.
func (c *Cluster) checkServer() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c.adminMu.Lock()
	defer c.adminMu.Unlock()
	conn, err := c.admin(ctx)
	if err != nil {
		return fmt.Errorf("connect to the new server: %w\nserver log:\n%s", err, logTail(c.log, 30))
	}
	var version int
	if err := conn.QueryRow(ctx, "SELECT current_setting('server_version_num')::int").Scan(&version); err != nil {
		return fmt.Errorf("server version: %w", err)
	}
	if version >= 150000 {
		c.createSQL = " STRATEGY = FILE_COPY"
	}
	return nil
}

// Stop stops the server (pg_ctl stop -m fast) and removes its directory.
// A server that is already gone (a test killed it) is not an error.
func (c *Cluster) Stop() error {
	c.stopOnce.Do(func() {
		var errs []error
		c.adminMu.Lock()
		if c.adminConn != nil {
			_ = c.adminConn.Close(context.Background())
			c.adminConn = nil
		}
		c.stopped = true
		c.adminMu.Unlock()
		if pid, ok := c.postmasterPID(); ok && alive(pid) {
			out, err := c.pgCtlRun("-D", c.data, "-m", "fast", "-w", "-t", "60", "stop")
			if err != nil && alive(pid) {
				errs = append(errs, fmt.Errorf("pg_ctl stop: %w: %s", err, bytes.TrimSpace(out)))
			}
		} else if ok {
			// Killed: without its pid file the watchdog skips pg_ctl, which
			// would wait for the zombie to be reaped.
			_ = os.Remove(filepath.Join(c.data, "postmaster.pid"))
		}
		// The watchdog stops with -m immediate whatever fast did not.
		errs = append(errs, c.release())
		if err := errors.Join(errs...); err != nil {
			c.stopErr = fmt.Errorf("pgtest: stop PostgreSQL: %w", err)
		}
	})
	return c.stopErr
}

// URL is the address of database db on this cluster, as its superuser
// (trusted, no password): postgres://latchkey@127.0.0.1:PORT/db?sslmode=disable.
func (c *Cluster) URL(db string) string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", superuser, c.port, db)
}

// Port is the TCP port the server listens on (127.0.0.1 only).
func (c *Cluster) Port() int { return c.port }

// NewDatabase creates a fresh empty database with a name unique in this
// cluster and returns its URL. t's cleanup drops it (WITH (FORCE), so
// connections a test left open do not stop it).
func (c *Cluster) NewDatabase(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("t_%d_%08x", c.databases.Add(1), rand.Uint32())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := c.exec(ctx, "CREATE DATABASE "+name+c.createSQL); err != nil {
		t.Fatalf("pgtest: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		err := c.exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		// A server the test stopped or killed took the database with it.
		if err != nil && !errors.Is(err, errStopped) && c.running() {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	return c.URL(name)
}

var errStopped = errors.New("pgtest: the cluster is stopped")

// exec runs one statement on the admin connection, connecting again once
// if the connection broke (a test may terminate every backend).
func (c *Cluster) exec(ctx context.Context, sql string) error {
	c.adminMu.Lock()
	defer c.adminMu.Unlock()
	for attempt := 0; ; attempt++ {
		conn, err := c.admin(ctx)
		if err != nil {
			return err
		}
		_, err = conn.Exec(ctx, sql)
		if err == nil || !conn.IsClosed() || attempt > 0 {
			return err
		}
		c.adminConn = nil
	}
}

// admin is the admin connection, opened if need be; adminMu must be held.
func (c *Cluster) admin(ctx context.Context) (*pgx.Conn, error) {
	if c.stopped {
		return nil, errStopped
	}
	if c.adminConn == nil || c.adminConn.IsClosed() {
		conn, err := pgx.Connect(ctx, c.URL("postgres"))
		if err != nil {
			return nil, err
		}
		c.adminConn = conn
	}
	return c.adminConn, nil
}

// running reports whether the server's postmaster is alive.
func (c *Cluster) running() bool {
	pid, ok := c.postmasterPID()
	return ok && alive(pid)
}

// shared is the cluster of this test binary: a package variable because
// Shared and Main, called from unrelated tests, must find the same one.
var shared struct {
	once    sync.Once
	cluster *Cluster
	err     error
}

// Shared is the cluster of this test binary, started on first use; a start
// failure fails t with the reason. Main stops it after the tests.
func Shared(t testing.TB) *Cluster {
	t.Helper()
	shared.once.Do(func() {
		shared.cluster, shared.err = Start()
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.cluster
}

// NewDatabaseURL is NewDatabase on the shared cluster.
func NewDatabaseURL(t testing.TB) string {
	t.Helper()
	return Shared(t).NewDatabase(t)
}

// Main runs a test binary's tests and stops the shared cluster after them:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
// If the binary ends without reaching the end of Main (a panic, a test
// timeout, a signal), the cluster's watchdog process stops it instead.
func Main(m *testing.M) {
	code := m.Run()
	// No test runs any more: mark the once done, so that a late Shared
	// fails instead of starting a cluster nobody would stop.
	shared.once.Do(func() { shared.err = errors.New("pgtest: Shared called after Main's tests ended") })
	if shared.cluster != nil {
		if err := shared.cluster.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			if code == 0 {
				code = 1
			}
		}
	}
	os.Exit(code)
}

// findBinaries finds pg_ctl and initdb under the highest-numbered
// lib/*/bin (Debian's layout), else on PATH.
func findBinaries(lib string) (pgCtl, initdb string, err error) {
	matches, _ := filepath.Glob(filepath.Join(lib, "*", "bin", "pg_ctl"))
	type found struct {
		version []int
		bin     string
	}
	var candidates []found
	for _, m := range matches {
		bin := filepath.Dir(m)
		v, ok := parseVersion(filepath.Base(filepath.Dir(bin)))
		if !ok || !executable(filepath.Join(bin, "initdb")) || !executable(m) {
			continue
		}
		candidates = append(candidates, found{v, bin})
	}
	if len(candidates) > 0 {
		best := slices.MaxFunc(candidates, func(a, b found) int { return slices.Compare(a.version, b.version) })
		return filepath.Join(best.bin, "pg_ctl"), filepath.Join(best.bin, "initdb"), nil
	}
	pgCtl, err1 := exec.LookPath("pg_ctl")
	initdb, err2 := exec.LookPath("initdb")
	if err1 != nil || err2 != nil {
		return "", "", errNotInstalled
	}
	return pgCtl, initdb, nil
}

// parseVersion reads a directory name such as "15" or "9.6".
func parseVersion(s string) ([]int, bool) {
	var v []int
	for part := range strings.SplitSeq(s, ".") {
		n, err := strconv.Atoi(part)
		if err != nil {
			return nil, false
		}
		v = append(v, n)
	}
	return v, true
}

func executable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

// chooseUser decides who runs the server: we ourselves, or, as root, the
// postgres user the Debian package creates. It returns that user's uid
// and gid when they must own the directories, nil otherwise.
func (c *Cluster) chooseUser() (*[2]int, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("PostgreSQL refuses to run as root and there is no postgres user to run it as (the postgresql package creates it): %w", err)
	}
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("postgres user: uid %q gid %q are not numbers", u.Uid, u.Gid)
	}
	runuser, err := exec.LookPath("runuser")
	if err != nil {
		return nil, fmt.Errorf("PostgreSQL refuses to run as root and runuser (util-linux) is missing: %w", err)
	}
	c.runAs = []string{runuser, "-u", "postgres", "--"}
	return &[2]int{uid, gid}, nil
}

// makeDirs creates base with data, sock and the log in it, owned by owner
// when that is set (base's parent must then let the postgres user through).
func (c *Cluster) makeDirs(owner *[2]int) error {
	parent := clusterParent()
	if c.durable {
		parent = os.TempDir()
	}
	if owner != nil {
		if err := traversable(parent); err != nil {
			return err
		}
	}
	base, err := os.MkdirTemp(parent, "latchkey-pgtest-")
	if err != nil {
		return err
	}
	c.base = base
	c.data = filepath.Join(base, "data")
	c.sock = filepath.Join(base, "sock")
	c.log = filepath.Join(base, "server.log")
	for _, dir := range []string{c.data, c.sock} {
		if err := os.Mkdir(dir, 0o700); err != nil {
			_ = os.RemoveAll(base)
			return err
		}
	}
	if owner != nil {
		for _, dir := range []string{base, c.data, c.sock} {
			if err := os.Chown(dir, owner[0], owner[1]); err != nil {
				_ = os.RemoveAll(base)
				return fmt.Errorf("give %s to the postgres user: %w", dir, err)
			}
		}
	}
	return nil
}

// clusterParent is where clusters live: /dev/shm when it is a tmpfs with
// room to spare, as CREATE DATABASE (some 300 new files) takes ~15 ms there
// against ~150 ms on ext4; else the temporary directory. A test binary
// that dies takes its cluster's files along (the watchdog removes them).
func clusterParent() string {
	const shm, tmpfsMagic, room = "/dev/shm", 0x01021994, 1 << 30
	var st syscall.Statfs_t
	if err := syscall.Statfs(shm, &st); err != nil || int64(st.Type) != tmpfsMagic ||
		st.Bavail*uint64(st.Bsize) < room || syscall.Access(shm, 0o2 /* W_OK */) != nil {
		return os.TempDir()
	}
	return shm
}

// traversable checks that every directory from dir up lets others through,
// as the postgres user must reach its data directory under it.
func traversable(dir string) error {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	for {
		fi, err := os.Stat(dir)
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("the postgres user cannot enter %s (mode %v), which holds the temporary directory: set TMPDIR=/tmp", dir, fi.Mode().Perm())
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return nil
		}
		dir = parent
	}
}

// watchdogScript waits for EOF on stdin, then stops the server if it still
// runs and removes the cluster's directory. Arguments: base, data, then the
// pg_ctl command (with runuser in front when we are root).
const watchdogScript = `read -r _
base=$1 data=$2
shift 2
if [ -f "$data/postmaster.pid" ]; then "$@" -D "$data" -m immediate -w -t 30 stop >/dev/null 2>&1; fi
rm -rf "$base"`

func (c *Cluster) startWatchdog() error {
	r, w, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("watchdog: %w", err)
	}
	defer r.Close()
	args := append([]string{"-c", watchdogScript, "pgtest-watchdog", c.base, c.data}, c.command(c.pgCtl)...)
	cmd := exec.Command("/bin/sh", args...)
	cmd.Stdin = r
	cmd.Dir = "/"
	// Its own process group: a ^C that kills the test binary must leave
	// the watchdog alive to clean up after it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		w.Close()
		return fmt.Errorf("watchdog: %w", err)
	}
	c.watchdog, c.watchdogPipe = cmd, w
	return nil
}

// release lets the watchdog stop whatever still runs and remove the
// directory, waits for it, and checks that the directory is gone.
func (c *Cluster) release() error {
	c.watchdogPipe.Close()
	err := c.watchdog.Wait()
	if rmErr := os.RemoveAll(c.base); rmErr != nil {
		return errors.Join(err, fmt.Errorf("remove %s: %w", c.base, rmErr))
	}
	if err != nil {
		return fmt.Errorf("watchdog: %w", err)
	}
	return nil
}

// command is name with args, run as the user that runs the server.
func (c *Cluster) command(name string, args ...string) []string {
	return append(append(slices.Clip(c.runAs), name), args...)
}

func (c *Cluster) run(name string, args ...string) ([]byte, error) {
	argv := c.command(name, args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	// Somewhere the postgres user may stand (not the package's directory
	// under a root-only tree).
	cmd.Dir = c.base
	return cmd.CombinedOutput()
}

func (c *Cluster) pgCtlRun(args ...string) ([]byte, error) { return c.run(c.pgCtl, args...) }

// serverSettings are appended to postgresql.conf. fsync, synchronous_commit
// and full_page_writes are off because the tests exercise latchkey, not
// PostgreSQL's durability: a crash of a throwaway cluster loses nothing.
func (c *Cluster) serverSettings() string {
	if c.durable {
		return fmt.Sprintf(`
# pgtest: a benchmark's cluster, durable, with PostgreSQL's defaults.
listen_addresses = '127.0.0.1'
unix_socket_directories = '%s'
max_connections = 300
`, strings.ReplaceAll(c.sock, "'", "''"))
	}
	return fmt.Sprintf(`
# pgtest: a throwaway cluster for tests.
listen_addresses = '127.0.0.1'
unix_socket_directories = '%s'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 300
shared_buffers = 64MB
max_wal_size = 256MB
`, strings.ReplaceAll(c.sock, "'", "''"))
}

func (c *Cluster) initdb(initdb string) error {
	args := []string{"-D", c.data, "-U", superuser, "--auth=trust", "-E", "UTF8", "--no-sync"}
	out, err := c.run(initdb, append(args, "--locale=C.UTF-8")...)
	if err != nil {
		// A system without the C.UTF-8 locale: PostgreSQL's own C locale.
		_ = c.emptyData()
		out2, err2 := c.run(initdb, append(args, "--no-locale")...)
		if err2 != nil {
			return fmt.Errorf("initdb: %w: %s\n(with --locale=C.UTF-8: %s)", err2, bytes.TrimSpace(out2), bytes.TrimSpace(out))
		}
	}
	f, err := os.OpenFile(filepath.Join(c.data, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(c.serverSettings())
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write postgresql.conf: %w", err)
	}
	return nil
}

// emptyData removes what a failed initdb left in the data directory.
func (c *Cluster) emptyData() error {
	entries, err := os.ReadDir(c.data)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(c.data, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// startServer starts the server on a free port; another process may take
// the port between our probe and the server's bind, so a bind failure is
// tried once more on a new port.
func (c *Cluster) startServer() error {
	var err error
	for attempt := 0; attempt < 2; attempt++ {
		if c.port, err = freePort(); err != nil {
			return err
		}
		_ = os.Remove(c.log)
		var out []byte
		out, err = c.pgCtlRun("-D", c.data, "-l", c.log, "-w", "-t", "60", "-o", "-p "+strconv.Itoa(c.port), "start")
		if err == nil {
			return nil
		}
		tail := logTail(c.log, 30)
		err = fmt.Errorf("pg_ctl start on port %d: %w: %s\nserver log:\n%s", c.port, err, bytes.TrimSpace(out), tail)
		if !strings.Contains(tail, "could not bind") && !strings.Contains(tail, "Address already in use") {
			return err
		}
	}
	return err
}

// freePort is a port of 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// logTail is the last n lines of the file at path, or why it has none.
func logTail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// postmasterPID reads the server's pid from the first line of its
// postmaster.pid; false when there is none (not started, or stopped).
func (c *Cluster) postmasterPID() (int, bool) {
	b, err := os.ReadFile(filepath.Join(c.data, "postmaster.pid"))
	if err != nil {
		return 0, false
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	return pid, err == nil && pid > 0
}

// alive reports whether a process with this pid exists and has not exited:
// a killed postmaster, orphaned, stays a zombie until init reaps it, which
// a container's init may do late.
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return !errors.Is(err, os.ErrNotExist)
	}
	// pid (comm) state ...: comm may hold spaces and parentheses.
	i := bytes.LastIndexByte(stat, ')')
	return i < 0 || i+2 >= len(stat) || stat[i+2] != 'Z'
}
