package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"latchkey/core"
	"latchkey/storage"
)

// Copying a bbolt database into an empty PostgreSQL database (latchkey
// migrate): every record with its ids and the key check, in one
// transaction, then the identity sequences past every copied id, then a
// check that both sides hold the same records, before the commit. A
// failed copy leaves the database as empty as it was.

// Source is what a copy reads: a stopped instance's bbolt store.
type Source interface {
	// Records visits every record, kind by kind, each kind in key order.
	Records(fn func(kind string, key []byte, v any) error) error
	KeyCheck() ([]byte, error)
	// Sequences are the last id each kind's sequence handed out.
	Sequences() (map[string]uint64, error)
}

var _ Source = (*storage.Store)(nil)

// ErrNotEmpty: the copy's target holds data already.
var ErrNotEmpty = errors.New("the database is not empty")

// copyTable is one entity's table as the copy writes and reads it: the
// kind of its records (storage.Kinds), its columns (one list, for COPY and
// for reading back), the order of its rows that matches bbolt's keys, how a
// record becomes a row and how a row is read back.
type copyTable struct {
	kind, name string
	columns    []string
	order      string
	identity   bool // an id drawn from a sequence
	row        func(v any) ([]any, error)
	scan       func(r row) (any, error)
}

// tableOf declares a table whose records are Ts.
func tableOf[T any](kind, name, columns, order string, identity bool, rowOf func(T) ([]any, error), scan func(row) (T, error)) copyTable {
	cols := strings.Split(columns, ",")
	for i := range cols {
		cols[i] = strings.TrimSpace(cols[i])
	}
	return copyTable{kind: kind, name: name, columns: cols, order: order, identity: identity,
		row: func(v any) ([]any, error) {
			r, ok := v.(T)
			if !ok {
				return nil, fmt.Errorf("copy %s: a %T is no %T", kind, v, r)
			}
			return rowOf(r)
		},
		scan: func(r row) (any, error) { return scan(r) },
	}
}

// fixed is a row that no record can fail to encode.
func fixed[T any](f func(T) []any) func(T) ([]any, error) {
	return func(v T) ([]any, error) { return f(v), nil }
}

// notNull is b for a NOT NULL bytea column: empty, never NULL.
func notNull(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// nullIfEmpty is b for a nullable bytea column: NULL when empty, as the
// store's statements write it (NULLIF).
func nullIfEmpty(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// texts is a text[] value, never NULL.
func texts[S ~string](v []S) []string {
	out := make([]string, len(v))
	for i, s := range v {
		out[i] = string(s)
	}
	return out
}

const knownColumns = `org_id, skeleton, email`

func scanKnown(r row) (storage.KnownAddress, error) {
	var k storage.KnownAddress
	err := r.Scan(&k.OrgID, &k.Skeleton, &k.Email)
	return k, err
}

// copyTables are every entity's table, each with the column list its
// store's reads use (in their order): the copy writes what they read.
// Text keys are ordered byte by byte (COLLATE "C"), as bbolt's are.
var copyTables = []copyTable{
	tableOf("users", "users", userColumns, "id", true, fixed(func(u core.User) []any {
		return []any{u.ID, u.Email, u.Name, u.PasswordHash, ts(u.CreatedAt), ts(u.PasswordChangedAt)}
	}), scanUser),
	tableOf("orgs", "orgs", orgColumns, "id", true, fixed(func(o core.Org) []any {
		return []any{o.ID, o.Slug, o.Name, ts(o.CreatedAt), o.Logo, o.Accent, o.ReplyTo, o.SenderName, o.Language}
	}), scanOrg),
	tableOf("members", "members", memberColumns, "org_id, user_id", false, fixed(func(m core.Member) []any {
		return []any{m.OrgID, m.UserID, m.Role, ts(m.GuestUntil), ts(m.CreatedAt), ts(m.RemindedFor)}
	}), scanMember),
	tableOf("known_addresses", "known_addresses", knownColumns, `org_id, skeleton COLLATE "C"`, false, fixed(func(k storage.KnownAddress) []any {
		return []any{k.OrgID, k.Skeleton, k.Email}
	}), scanKnown),
	tableOf("projects", "projects", projectColumns, "id", true, fixed(func(p core.Project) []any {
		return []any{p.ID, p.OrgID, p.Name, ts(p.CreatedAt)}
	}), scanProject),
	tableOf("portals", "portals", portalColumns, "id", true, func(p core.Portal) ([]any, error) {
		rules, err := json.Marshal(p.Rules)
		if err != nil {
			return nil, fmt.Errorf("encode the rules of portal %d: %w", p.ID, err)
		}
		return []any{p.ID, p.OrgID, p.ProjectID, p.Slug, p.Title, p.Access, p.Disclosure, p.Welcome, p.Upstream, p.Host,
			p.ContactID, p.Language, rules, ts(p.CreatedAt), ts(p.UpdatedAt)}, nil
	}, scanPortal),
	tableOf("access", "access", accessColumns, "portal_id, user_id", false, fixed(func(a core.Access) []any {
		return []any{a.PortalID, a.UserID, ts(a.GrantedAt), a.Via}
	}), scanAccess),
	tableOf("portal_notices", "portal_notices", noticesColumns, "portal_id", false, fixed(func(n core.PortalNotices) []any {
		return []any{n.PortalID, ts(n.LastSentAt), n.DigestID}
	}), scanNotices),
	tableOf("resources", "resources", resourceColumns, "id", true, fixed(func(r core.Resource) []any {
		return []any{r.ID, r.PortalID, r.Position, r.Title, r.URL, r.Note, ts(r.CreatedAt), r.CreatedBy}
	}), scanResource),
	tableOf("updates", "updates", updateColumns, "id", true, fixed(func(u core.Update) []any {
		return []any{u.ID, u.PortalID, u.Body, u.AuthorID, u.Author, ts(u.CreatedAt), u.Emailed}
	}), scanUpdate),
	tableOf("logos", "logos", logoColumns, `hash COLLATE "C"`, false, fixed(func(l core.Logo) []any {
		return []any{l.Hash, notNull(l.Image), notNull(l.Icon), l.Width, l.Height, ts(l.CreatedAt)}
	}), scanLogo),
	tableOf("links", "links", linkColumns, "lookup", true, fixed(func(l core.Link) []any {
		return []any{l.ID, l.OrgID, l.PortalID, l.Email, l.Role, ts(l.GuestUntil), l.State, notNull(l.Lookup), notNull(l.Sealed),
			ts(l.CreatedAt), l.CreatedBy, ts(l.EndedAt), l.EndedBy, l.ReplacedBy, l.UseCount, ts(l.LastUsedAt), l.Invited}
	}), scanLink),
	tableOf("link_events", "link_events", linkEventColumns, "link_id, id", true, fixed(func(e core.LinkEvent) []any {
		return []any{e.ID, e.LinkID, e.Kind, ts(e.At), e.Actor, e.Addr, e.UserAgent, e.Method, e.Cookies, e.Detail}
	}), scanLinkEvent),
	tableOf("invitations", "invitations", invitationColumns, "id", true, fixed(func(inv core.Invitation) []any {
		return []any{inv.ID, inv.OrgID, inv.PortalID, inv.Email, inv.Name, inv.Role, ts(inv.GuestUntil), inv.State,
			inv.LinkID, nullIfEmpty(inv.TokenHash), inv.InvitedBy, ts(inv.CreatedAt), ts(inv.ExpiresAt), ts(inv.AcceptedAt)}
	}), scanInvitation),
	tableOf("tokens", "tokens", tokenColumns, "hash", false, fixed(func(t core.Token) []any {
		return []any{notNull(t.Hash), t.Kind, t.Email, t.UserID, t.InvitationID, nullIfEmpty(t.SessionHash), t.PortalID, t.Return,
			t.LinkID, nullIfEmpty(t.CodeMAC), t.Tries, t.RequestID, ts(t.CreatedAt), ts(t.ExpiresAt), ts(t.UsedAt)}
	}), scanToken),
	tableOf("sessions", "sessions", sessionColumns, "hash", false, fixed(func(s core.Session) []any {
		return []any{notNull(s.Hash), s.UserID, s.LinkID, nullIfEmpty(s.Parent), ts(s.CreatedAt), ts(s.LastSeenAt), ts(s.ExpiresAt),
			s.Addr, s.UserAgent}
	}), scanSession),
	tableOf("requests", "requests", requestColumns, "id", true, fixed(func(q core.Request) []any {
		return []any{q.ID, q.OrgID, q.PortalID, q.Email, q.State, q.Count, ts(q.CreatedAt), ts(q.LastAt), ts(q.NotifiedAt),
			q.Addr, ts(q.ResolvedAt), q.ResolvedBy}
	}), scanRequest),
	tableOf("audit_events", "events", eventColumns, "id", true, fixed(func(e core.Event) []any {
		return []any{e.ID, ts(e.At), e.OrgID, e.PortalID, e.Actor, e.Source, e.Action, e.Target, e.Detail}
	}), scanEvent),
	tableOf("outbox", "messages", messageColumns, "id", true, func(m core.Message) ([]any, error) {
		data := []byte(`{}`)
		if len(m.Data) > 0 {
			var err error
			if data, err = json.Marshal(m.Data); err != nil {
				return nil, fmt.Errorf("encode message %d's data: %w", m.ID, err)
			}
		}
		return []any{m.ID, m.OrgID, m.Kind, m.To, m.ToName, string(data), m.LinkPath, m.LinkID, m.Lang, nullIfEmpty(m.SealedToken),
			m.State, m.Attempts, ts(m.NextAttemptAt), m.LastError, ts(m.CreatedAt), ts(m.SentAt)}, nil
	}, scanMessage),
	tableOf("caught_mail", "caught_mails", caughtColumns, "id", true, fixed(func(m core.CaughtMail) []any {
		return []any{m.ID, ts(m.ReceivedAt), m.From, texts(m.To), m.Subject, m.Size, notNull(m.Sealed)}
	}), scanCaught),
	tableOf("ssh_keys", "ssh_keys", sshKeyColumns, `fingerprint COLLATE "C"`, false, fixed(func(k core.SSHKey) []any {
		return []any{k.Fingerprint, k.UserID, k.PublicKey, k.Comment, ts(k.AddedAt), k.AddedBy}
	}), scanSSHKey),
	tableOf("api_tokens", "api_tokens", apiTokenColumns, "id", true, fixed(func(t core.APIToken) []any {
		return []any{t.ID, t.OrgID, t.Name, texts(t.Scopes), notNull(t.Hash), t.CreatedBy, t.CreatorTag, ts(t.CreatedAt),
			ts(t.ExpiresAt), ts(t.LastUsedAt), ts(t.RevokedAt), t.RevokedBy}
	}), scanAPIToken),
	tableOf("idempotency", "idempotency", idempotencyColumns, `key COLLATE "C"`, false, fixed(func(r core.IdempotencyRecord) []any {
		return []any{r.Key, notNull(r.Fingerprint), ts(r.CreatedAt), r.Status, r.ContentType, nullIfEmpty(r.Body)}
	}), scanIdempotency),
	tableOf("webhooks", "webhooks", webhookColumns, "id", true, fixed(func(w core.Webhook) []any {
		return []any{w.ID, w.OrgID, w.URL, texts(w.Events), notNull(w.Secret), w.CreatorTag, ts(w.CreatedAt),
			ts(w.FailingSince), ts(w.LastDeliveryAt), ts(w.DisabledAt), w.DisabledReason}
	}), scanWebhook),
	tableOf("webhook_deliveries", "webhook_deliveries", deliveryColumns, "id", true, fixed(func(d core.WebhookDelivery) []any {
		return []any{d.ID, d.WebhookID, d.OrgID, d.MsgID, d.Event, notNull(d.Payload), ts(d.CreatedAt), d.State, d.Attempts,
			ts(d.NextAttemptAt), ts(d.LastAttemptAt), d.LastStatus, d.LastLatencyMS, d.LastResponse, ts(d.DeliveredAt)}
	}), scanDelivery),
}

// copyTableOf is the table of a kind.
func copyTableOf(kind string) (*copyTable, error) {
	for i := range copyTables {
		if copyTables[i].kind == kind {
			return &copyTables[i], nil
		}
	}
	return nil, fmt.Errorf("copy: no table holds %s records", kind)
}

// KeyCheckKind names the key check in a copy's checks.
const KeyCheckKind = "key_check"

// Check is one entity's verification: the count and checksum of its
// records on each side (for KeyCheckKind: the check value, 0 or 1 of it).
type Check struct {
	Kind                     string
	SourceCount, TargetCount int
	SourceSum, TargetSum     [sha256.Size]byte
}

// OK reports whether both sides hold the same records.
func (c Check) OK() bool { return c.SourceCount == c.TargetCount && c.SourceSum == c.TargetSum }

// MismatchError: the copy does not hold what the source holds.
type MismatchError struct{ Checks []Check } // the entities that differ

func (e *MismatchError) Error() string {
	var parts []string
	for _, c := range e.Checks {
		if c.SourceCount != c.TargetCount {
			parts = append(parts, fmt.Sprintf("%s (%d in the source, %d in the copy)", c.Kind, c.SourceCount, c.TargetCount))
		} else {
			parts = append(parts, fmt.Sprintf("%s (%d records each, checksum %x in the source, %x in the copy)", c.Kind, c.SourceCount, c.SourceSum[:4], c.TargetSum[:4]))
		}
	}
	return "the copy differs from the source in " + strings.Join(parts, ", ")
}

// Import copies every record of src, with its ids, and src's key check
// into this database, which must hold none (else ErrNotEmpty, and nothing
// is written), in one transaction: it sets every identity sequence past the
// copied ids (and past ids src handed out and deleted since), reads the
// copy back and compares it with src's records entity by entity, and
// commits only when they match (else a *MismatchError). It returns the
// checks, of every entity and the key check.
func (s *Store) Import(ctx context.Context, src Source) ([]Check, error) {
	sourceCheck, err := src.KeyCheck()
	if err != nil {
		return nil, fmt.Errorf("read the source's key check: %w", err)
	}
	seqs, err := src.Sequences()
	if err != nil {
		return nil, fmt.Errorf("read the source's sequences: %w", err)
	}
	t, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer t.Rollback(ctx)
	// Nobody writes meanwhile (readers may read): an empty database stays
	// empty until the copy commits.
	names := []string{"meta"}
	for _, tb := range copyTables {
		names = append(names, tb.name)
	}
	if _, err := t.Exec(ctx, `LOCK TABLE `+strings.Join(names, ", ")+` IN EXCLUSIVE MODE`); err != nil {
		return nil, fmt.Errorf("lock the tables: %w", err)
	}
	if err := ensureEmpty(ctx, t, names); err != nil {
		return nil, err
	}

	source := storage.NewTallier()
	w := &copyWriter{ctx: ctx, t: t}
	err = src.Records(func(kind string, key []byte, v any) error {
		if err := source.Add(kind, key, v); err != nil {
			return err
		}
		return w.add(kind, v)
	})
	if err == nil {
		err = w.flush()
	}
	if err != nil {
		return nil, fmt.Errorf("copy the records: %w", err)
	}
	if sourceCheck != nil {
		if _, err := t.Exec(ctx, `INSERT INTO meta (key, value) VALUES ($1, $2)`, keyCheck, sourceCheck); err != nil {
			return nil, fmt.Errorf("copy the key check: %w", err)
		}
	}
	if err := setSequences(ctx, t, seqs); err != nil {
		return nil, err
	}
	checks, err := verify(ctx, t, source.Tallies(), sourceCheck)
	if err != nil {
		return checks, err
	}
	if err := t.Commit(ctx); err != nil {
		return nil, fmt.Errorf("commit the copy: %w", err)
	}
	return checks, nil
}

// Verify compares what this database holds with src's records, entity by
// entity, and its key check with src's, in one snapshot of each side. A
// difference is a *MismatchError naming the entities; the checks are
// returned either way.
func (s *Store) Verify(ctx context.Context, src Source) ([]Check, error) {
	source := storage.NewTallier()
	if err := src.Records(source.Add); err != nil {
		return nil, fmt.Errorf("read the source: %w", err)
	}
	sourceCheck, err := src.KeyCheck()
	if err != nil {
		return nil, fmt.Errorf("read the source's key check: %w", err)
	}
	t, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, err
	}
	defer t.Rollback(ctx)
	return verify(ctx, t, source.Tallies(), sourceCheck)
}

// ensureEmpty refuses a database with a row in any of the tables.
func ensureEmpty(ctx context.Context, t pgx.Tx, tables []string) error {
	var full []string
	for _, name := range tables {
		var has bool
		if err := t.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM `+name+`)`).Scan(&has); err != nil {
			return fmt.Errorf("read %s: %w", name, err)
		}
		if has {
			full = append(full, name)
		}
	}
	if len(full) > 0 {
		return fmt.Errorf("%w: it has rows in %s; copy into a new, empty database", ErrNotEmpty, strings.Join(full, ", "))
	}
	return nil
}

// copyBatch is how many rows one COPY carries: large enough that a
// hundred thousand links take a few, small enough to bound the memory.
const copyBatch = 10000

// copyWriter collects one table's rows and writes them with COPY.
type copyWriter struct {
	ctx   context.Context
	t     pgx.Tx
	table *copyTable
	rows  [][]any
}

func (w *copyWriter) add(kind string, v any) error {
	if w.table == nil || w.table.kind != kind {
		if err := w.flush(); err != nil {
			return err
		}
		tb, err := copyTableOf(kind)
		if err != nil {
			return err
		}
		w.table = tb
	}
	r, err := w.table.row(v)
	if err != nil {
		return err
	}
	w.rows = append(w.rows, r)
	if len(w.rows) >= copyBatch {
		return w.flush()
	}
	return nil
}

func (w *copyWriter) flush() error {
	if len(w.rows) == 0 {
		return nil
	}
	n, err := w.t.CopyFrom(w.ctx, pgx.Identifier{w.table.name}, w.table.columns, pgx.CopyFromRows(w.rows))
	if err != nil {
		return fmt.Errorf("%s: %w", w.table.kind, err)
	}
	if n != int64(len(w.rows)) {
		return fmt.Errorf("%s: %d rows written of %d", w.table.kind, n, len(w.rows))
	}
	w.rows = w.rows[:0]
	return nil
}

// setSequences sets every identity sequence to its table's largest id, or
// to the source's sequence when that is larger (ids it handed out for
// records deleted since are not handed out again), so that a new record
// never takes a copied id.
func setSequences(ctx context.Context, t pgx.Tx, seqs map[string]uint64) error {
	for _, tb := range copyTables {
		if !tb.identity {
			continue
		}
		var maxID uint64
		if err := t.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM `+tb.name).Scan(&maxID); err != nil {
			return fmt.Errorf("read the largest id of %s: %w", tb.name, err)
		}
		last := max(maxID, seqs[tb.kind])
		if last == 0 {
			continue // a new sequence starts at 1
		}
		if _, err := t.Exec(ctx, `SELECT setval(pg_get_serial_sequence($1, 'id'), $2)`, tb.name, last); err != nil {
			return fmt.Errorf("set the sequence of %s: %w", tb.name, err)
		}
	}
	if n := seqs["sessions"]; n > 0 { // sessions are keyed by an id from session_ids, then their hash
		if _, err := t.Exec(ctx, `SELECT setval('session_ids', $1)`, n); err != nil {
			return fmt.Errorf("set the sequence of session ids: %w", err)
		}
	}
	return nil
}

// tallies reads every table back, decoded as the store reads it, in the
// order of bbolt's keys, into a tally per kind.
func tallies(ctx context.Context, t pgx.Tx) ([]storage.Tally, error) {
	target := storage.NewTallier()
	for _, tb := range copyTables {
		rows, err := t.Query(ctx, `SELECT `+strings.Join(tb.columns, ", ")+` FROM `+tb.name+` ORDER BY `+tb.order)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", tb.name, err)
		}
		for rows.Next() {
			v, err := tb.scan(rows)
			if err == nil {
				var key []byte
				if key, err = storage.RecordKey(v); err == nil {
					err = target.Add(tb.kind, key, v)
				}
			}
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("read %s: %w", tb.name, err)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("read %s: %w", tb.name, err)
		}
	}
	return target.Tallies(), nil
}

// verify compares the source's tallies and key check with the database's.
func verify(ctx context.Context, t pgx.Tx, source []storage.Tally, sourceCheck []byte) ([]Check, error) {
	target, err := tallies(ctx, t)
	if err != nil {
		return nil, err
	}
	byKind := map[string]storage.Tally{}
	for _, tl := range target {
		byKind[tl.Kind] = tl
	}
	var checks, bad []Check
	for _, s := range source {
		tg, ok := byKind[s.Kind]
		if !ok {
			return nil, fmt.Errorf("verify: no table holds %s records", s.Kind)
		}
		checks = append(checks, Check{Kind: s.Kind, SourceCount: s.Count, TargetCount: tg.Count, SourceSum: s.Checksum, TargetSum: tg.Checksum})
	}
	var got []byte
	err = t.QueryRow(ctx, `SELECT value FROM meta WHERE key = $1`, keyCheck).Scan(&got)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("read the key check: %w", err)
	}
	checks = append(checks, keyCheckOf(sourceCheck, got))
	for _, c := range checks {
		if !c.OK() {
			bad = append(bad, c)
		}
	}
	if len(bad) > 0 {
		return checks, &MismatchError{Checks: bad}
	}
	return checks, nil
}

func keyCheckOf(source, target []byte) Check {
	c := Check{Kind: KeyCheckKind}
	if source != nil {
		c.SourceCount, c.SourceSum = 1, sha256.Sum256(source)
	}
	if target != nil {
		c.TargetCount, c.TargetSum = 1, sha256.Sum256(target)
	}
	return c
}
