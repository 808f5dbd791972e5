package storage

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"latchkey/core"
)

// Bucket names. Index buckets map a key to an id (or hold composite keys
// with empty values).
var (
	bMeta = []byte("meta")

	bUsers      = []byte("users")
	bUsersEmail = []byte("users_by_email")

	bOrgs        = []byte("orgs")
	bOrgsSlug    = []byte("orgs_by_slug")
	bMembers     = []byte("members")         // org|user → Member
	bMembersUser = []byte("members_by_user") // user|org
	bOrgsOwner   = []byte("orgs_owner")      // org → owner's user id

	bProjects    = []byte("projects")
	bProjectsOrg = []byte("projects_by_org") // org|project

	bPortals        = []byte("portals")
	bPortalsSlug    = []byte("portals_by_slug")
	bPortalsProject = []byte("portals_by_project") // project → portal
	bPortalsOrg     = []byte("portals_by_org")     // org|portal

	bAccess     = []byte("access")         // portal|user → Access
	bAccessUser = []byte("access_by_user") // user|portal

	bLinks       = []byte("links")           // HMAC of the token → Link
	bLinksID     = []byte("links_by_id")     // id → HMAC
	bLinksActive = []byte("links_active")    // portal|email → HMAC (active only)
	bLinksLatest = []byte("links_latest")    // portal|email → HMAC of the newest
	bLinksPortal = []byte("links_by_portal") // portal|id → HMAC

	bInvitations       = []byte("invitations")
	bInvitationsLatest = []byte("invitations_latest")   // org|email → invitation
	bInvitationsOrg    = []byte("invitations_by_org")   // org|invitation
	bInvitationsEmail  = []byte("invitations_by_email") // org|email|0|invitation

	bTokens = []byte("tokens") // SHA-256 → Token

	bSessions     = []byte("sessions")         // SHA-256 → Session
	bSessionsUser = []byte("sessions_by_user") // user|hash
	// sessions_by_link (link|hash) existed in schema version 1: see migrations.
	bSessionsLinkV1 = []byte("sessions_by_link")

	bRequests       = []byte("requests")
	bRequestsLatest = []byte("requests_latest") // portal|email → request
	bRequestsOrg    = []byte("requests_by_org") // org|request

	bAudit    = []byte("audit")
	bAuditOrg = []byte("audit_by_org") // org|event

	bOutbox    = []byte("outbox")
	bOutboxDue = []byte("outbox_due") // next attempt (unix ns)|message

	bCaught = []byte("caught") // id → CaughtMail (sealed)

	bSSHKeys     = []byte("ssh_keys")         // fingerprint → SSHKey
	bSSHKeysUser = []byte("ssh_keys_by_user") // user|fingerprint

	bKnown   = []byte("known_addresses") // org|UTS #39 skeleton → email
	bNotices = []byte("portal_notices")  // portal → PortalNotices

	bPortalsHost     = []byte("portals_by_host")     // host name → portal
	bResources       = []byte("resources")           // id → Resource
	bResourcesPortal = []byte("resources_by_portal") // portal|resource
	bUpdates         = []byte("updates")             // id → Update
	bUpdatesPortal   = []byte("updates_by_portal")   // portal|update
)

var allBuckets = [][]byte{
	bMeta, bUsers, bUsersEmail, bOrgs, bOrgsSlug, bOrgsOwner, bMembers, bMembersUser, bProjects, bProjectsOrg,
	bPortals, bPortalsSlug, bPortalsProject, bPortalsOrg, bAccess, bAccessUser,
	bLinks, bLinksID, bLinksActive, bLinksLatest, bLinksPortal,
	bInvitations, bInvitationsLatest, bInvitationsOrg, bInvitationsEmail, bTokens,
	bSessions, bSessionsUser, bRequests, bRequestsLatest, bRequestsOrg,
	bAudit, bAuditOrg, bOutbox, bOutboxDue, bCaught, bSSHKeys, bSSHKeysUser,
	bKnown, bNotices, bPortalsHost, bResources, bResourcesPortal, bUpdates, bUpdatesPortal,
	bLinkEvents, bLinkEventsTime, bLogos, bAPITokens, bAPITokensHash, bAPITokensOrg, bIdempotency,
	bWebhooks, bWebhooksOrg, bWebhookDeliveries, bWebhookDue, bWebhookByHook, bLinkUses,
}

var (
	keySchema   = []byte("schema_version")
	keyKeyCheck = []byte("key_check")
)

// SchemaVersion is the layout this build reads and writes.
const SchemaVersion = 4

// A migration brings a database from version To-1 to To.
type migration struct {
	To   uint64
	Name string
	Run  func(tx *bolt.Tx) error
}

// migrations, in order. Version 1 is the initial layout, created at open.
var migrations = []migration{
	// Every redemption wrote the index of sessions by link, a random leaf of
	// a tree as large as the sessions; ending a link's sessions now reads
	// the sessions of its person instead. Version 2 also means that links
	// may be in their binary form (linkcodec.go), which a build of version 1
	// cannot read: it refuses the database instead.
	{To: 2, Name: "drop the index of sessions by link", Run: func(tx *bolt.Tx) error {
		if tx.Bucket(bSessionsLinkV1) == nil {
			return nil
		}
		return tx.DeleteBucket(bSessionsLinkV1)
	}},
	// Look-alike addresses are found by their skeleton among the addresses
	// an organization knows: its members' and those with a link there.
	{To: 3, Name: "index known addresses by skeleton", Run: indexKnownAddresses},
	// A redemption appends its use to link_uses (created at open) instead
	// of rewriting its link, and new sessions are keyed by an increasing
	// id: a build of version 3 would not count those uses, so it refuses
	// the database instead. Sessions under the old keys stay valid.
	{To: 4, Name: "append link uses and key sessions by id", Run: func(*bolt.Tx) error { return nil }},
}

// ErrInUse: another process holds the database.
var ErrInUse = errors.New("the database is in use by another latchkey")

// Options tune the store.
type Options struct {
	// Timeout is how long Open waits for another process's lock (default 1s).
	Timeout time.Duration
	// NoSync skips fsync: fast and not durable. For tests only.
	NoSync bool
	// GroupCommit lets concurrent updates share one commit (see
	// GroupCommitter).
	GroupCommit bool
	// ReadOnly opens without writing (a shared lock).
	ReadOnly bool

	migrations []migration // tests replace the list
}

// Store is core.Store on a bbolt file.
type Store struct {
	db    *bolt.DB
	path  string
	group *GroupCommitter // nil: each update commits alone
	cat   *catalog
	uses  *useIndex // the unfolded link uses (linkuses.go)
	users *userCache

	updates atomic.Int64
}

var _ core.Store = (*Store)(nil)

// Open opens (creating when missing) the database at path, creates every
// bucket and migrates the schema. A database held by another process fails
// after Options.Timeout with an error that names that process.
func Open(path string, opts Options) (*Store, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = time.Second
	}
	if opts.migrations == nil {
		opts.migrations = migrations
	}
	// The freelist is not written at each commit (as etcd does): writing a
	// large one sorted its pages on every commit, which slowed commits in
	// proportion to how much the file had ever churned. Open rebuilds it.
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: opts.Timeout, NoSync: opts.NoSync, ReadOnly: opts.ReadOnly,
		FreelistType: bolt.FreelistMapType, NoFreelistSync: true})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, inUseError(path)
	}
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	s := &Store{db: db, path: path, cat: newCatalog(), uses: newUseIndex(), users: newUserCache()}
	if opts.GroupCommit {
		s.group = NewGroupCommitter(db)
	}
	if !opts.ReadOnly {
		if err := s.init(opts.migrations); err != nil {
			db.Close()
			return nil, err
		}
		// Tell a second process who holds the lock. Best effort: the lock
		// itself is the file lock.
		_ = os.WriteFile(pidPath(path), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600)
	}
	if err := s.uses.load(db); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

func pidPath(dbPath string) string { return dbPath + ".pid" }

func inUseError(path string) error {
	pid := "unknown pid"
	if b, err := os.ReadFile(pidPath(path)); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			pid = "pid " + strconv.Itoa(n)
		}
	}
	return fmt.Errorf("%w (%s): %s is locked; stop that process first", ErrInUse, pid, path)
}

func (s *Store) init(ms []migration) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		meta := tx.Bucket(bMeta)
		target := uint64(SchemaVersion)
		if n := len(ms); n > 0 && ms[n-1].To > target {
			target = ms[n-1].To
		}
		v := uint64(0)
		if b := meta.Get(keySchema); b != nil {
			v = binary.BigEndian.Uint64(b)
		}
		if v == 0 { // a new database starts at the initial layout
			v = 1
		}
		if v > target {
			return fmt.Errorf("the database has schema version %d, newer than this latchkey understands (%d); run a newer latchkey", v, target)
		}
		for _, m := range ms {
			if m.To <= v {
				continue
			}
			if m.To != v+1 {
				return fmt.Errorf("no migration from schema version %d to %d", v, m.To)
			}
			if err := m.Run(tx); err != nil {
				return fmt.Errorf("migrate schema to version %d (%s): %w", m.To, m.Name, err)
			}
			v = m.To
		}
		return meta.Put(keySchema, u64(v))
	})
}

// SchemaVersion reads the database's schema version.
func (s *Store) SchemaVersion() (uint64, error) {
	var v uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bMeta).Get(keySchema); b != nil {
			v = binary.BigEndian.Uint64(b)
		}
		return nil
	})
	return v, err
}

// BindKeys checks that the key file belongs to this database: the first
// start records a check value, later starts compare it.
func (s *Store) BindKeys(keys *core.Keys) error {
	want := keys.CheckValue()
	return s.db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bMeta)
		got := meta.Get(keyKeyCheck)
		if got == nil {
			return meta.Put(keyKeyCheck, want)
		}
		if !bytes.Equal(got, want) {
			return errors.New("the key file does not belong to this database, so no link in it could be read; restore the key file that was created with this database")
		}
		return nil
	})
}

// KeysBound reports whether a key file was bound to this database already.
func (s *Store) KeysBound() (bool, error) {
	var bound bool
	err := s.db.View(func(tx *bolt.Tx) error {
		bound = tx.Bucket(bMeta).Get(keyKeyCheck) != nil
		return nil
	})
	return bound, err
}

// Close releases the database.
func (s *Store) Close() error {
	if !s.db.IsReadOnly() {
		os.Remove(pidPath(s.path))
	}
	return s.db.Close()
}

// Path is the database file.
func (s *Store) Path() string { return s.path }

// Stats are the database's write counters since it was opened and its free
// space now.
type Stats struct {
	Updates      int64         // updates committed (several may share a commit)
	PagesWritten int64         // pages written by their commits (each a pwrite)
	WriteTime    time.Duration // spent writing pages and fsyncing
	FreePages    int           // pages free for reuse in the file
}

// Stats reads the counters.
func (s *Store) Stats() Stats {
	st := s.db.Stats()
	return Stats{Updates: s.updates.Load(), PagesWritten: st.TxStats.GetWrite(), WriteTime: st.TxStats.GetWriteTime(), FreePages: st.FreePageN}
}

// View runs fn in a read-only transaction.
func (s *Store) View(ctx context.Context, fn func(core.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	gen, ugen := s.cat.generation(), s.users.generation() // before the snapshot: see catalog
	ug := s.uses.enter()                                  // likewise: see useIndex
	defer s.uses.leave(ug)
	return s.db.View(func(btx *bolt.Tx) error {
		return fn(&tx{t: btx, cat: s.cat, uses: s.uses, gen: gen, users: s.users, ugen: ugen})
	})
}

// Update runs fn in a read-write transaction, committed durably when fn
// returns nil. With GroupCommit, fn may run more than once.
func (s *Store) Update(ctx context.Context, fn func(core.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var runs []*tx // each run of fn (a shared commit may run it more than once)
	run := func(btx *bolt.Tx) error {
		x := &tx{t: btx, cat: s.cat, uses: s.uses, gen: s.cat.generation(), users: s.users, ugen: s.users.generation()}
		runs = append(runs, x)
		return fn(x)
	}
	var err error
	if s.group != nil {
		err = s.group.Update(run)
	} else {
		err = s.db.Update(run)
	}
	settleRolledBack(runs)
	if err == nil {
		s.updates.Add(1)
	}
	return err
}

func u64(v uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, v)
	return b
}

func cat(parts ...[]byte) []byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	out := make([]byte, 0, n)
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}
