package core

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"strings"
	"time"
)

// Clock tells the time. Tests inject a fake one.
type Clock interface{ Now() time.Time }

// SystemClock is the real clock.
type SystemClock struct{}

// Now is time.Now.
func (SystemClock) Now() time.Time { return time.Now() }

// Options are the tunable rules of the service. Zero fields take the defaults.
type Options struct {
	SessionIdle     time.Duration // default 7 days
	SessionLifetime time.Duration // absolute; default 30 days
	ResetTTL        time.Duration // password reset tokens; default 1 hour
	JoinTTL         time.Duration // join tokens; default 7 days
	NotifyEvery     time.Duration // at most one owner notification per (portal, email) per this; default 24 hours
	// NotifyPortalEvery: at most one owner notification mail per portal
	// per this; the requests in between are summed up in the next one.
	// Default 10 minutes.
	NotifyPortalEvery time.Duration
	// PortalRequests bounds the access requests strangers file per portal
	// (default 30 at once, then one every 2 minutes); RateLimitsOff turns
	// it off (load tests only).
	PortalRequests   Limit
	RateLimitsOff    bool
	UniformResponses bool          // every portal answers the access form generically
	LinkHistory      time.Duration // how long a link's history is kept; default 180 days
	Argon2           Argon2Params  // default DefaultArgon2
	Webhooks         WebhookPolicy // where webhooks may post; default https to public addresses
	// FoldAfter is how long a link's use waits before the background fold
	// adds it to its link's stored counters, with the others of that time
	// (default 1 second). Reads count it either way.
	FoldAfter time.Duration
}

func (o Options) withDefaults() Options {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.SessionIdle, 7*24*time.Hour)
	def(&o.SessionLifetime, 30*24*time.Hour)
	def(&o.ResetTTL, time.Hour)
	def(&o.JoinTTL, 7*24*time.Hour)
	def(&o.NotifyEvery, 24*time.Hour)
	def(&o.NotifyPortalEvery, 10*time.Minute)
	def(&o.LinkHistory, 180*24*time.Hour)
	def(&o.FoldAfter, foldAfter)
	if o.PortalRequests.Off() {
		o.PortalRequests = Limit{Every: 2 * time.Minute, Burst: 30}
	}
	if o.RateLimitsOff {
		o.PortalRequests = Limit{}
	}
	if o.Argon2 == (Argon2Params{}) {
		o.Argon2 = DefaultArgon2
	}
	return o
}

// Config wires a Service.
type Config struct {
	Store     Store
	Keys      *Keys
	PublicURL string // links are built from it, never from a request
	Options   Options
	Clock     Clock        // default SystemClock
	Random    io.Reader    // default crypto/rand
	Logger    *slog.Logger // default slog.Default()
}

// engine is what every service shares: the store and its one transaction
// runner (write, read), the keys, the clock, the options, the broker that
// announces committed changes, and the caches.
type engine struct {
	store     Store
	keys      *Keys
	publicURL string
	opts      Options
	clock     Clock
	rand      io.Reader
	log       *slog.Logger
	events    *Broker
	dummyHash string // compared against when an account does not exist, so timing reveals nothing
	requests  *Keyed // strangers' access requests, per portal
	codeTries *Keyed // codes typed, per client address
	gates     *gateCache
	views     viewLog // link views waiting to be written
	folds     foldLog // link uses waiting to be folded into their links
}

// Links creates, reveals, mails and ends magic links, and redeems them.
type Links struct{ *engine }

// People is who belongs to an organization and a portal: invitations,
// joining, roles, ownership and portal access.
type People struct{ *engine }

// Portals is the organizations, projects and portals, their settings and
// content, and the gate that decides who gets through.
type Portals struct{ *engine }

// AccessRequests is strangers asking for access, and the owners' answers.
type AccessRequests struct{ *engine }

// Mail is the outbox the mail worker delivers from, and the caught mail.
type Mail struct{ *engine }

// AuditLog reads the audit log and the activity it adds up to.
type AuditLog struct{ *engine }

// Accounts is signing in and out, sessions, passwords and SSH keys.
type Accounts struct{ *engine }

// Service carries out every flow of latchkey: the services above, sharing
// one engine, so that an adapter may be given all of them or only the ones
// it needs. It is safe for concurrent use.
type Service struct {
	*engine
	*Links
	*People
	*Portals
	*AccessRequests
	*Mail
	*AuditLog
	*Accounts
	*APITokens
	*Webhooks
}

// New builds a Service.
func New(c Config) (*Service, error) {
	if c.Store == nil || c.Keys == nil {
		return nil, errors.New("core: a store and keys are required")
	}
	if c.PublicURL == "" {
		return nil, errors.New("core: a public URL is required")
	}
	s := &engine{
		store:     c.Store,
		keys:      c.Keys,
		publicURL: strings.TrimRight(c.PublicURL, "/"),
		opts:      c.Options.withDefaults(),
		clock:     c.Clock,
		rand:      c.Random,
		log:       c.Logger,
		events:    NewBroker(),
	}
	if s.clock == nil {
		s.clock = SystemClock{}
	}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.requests = NewKeyed(s.opts.PortalRequests, s.clock.Now)
	codeLimit := Limit{Every: 10 * time.Second, Burst: 20} // beyond CodeTries per code: many browsers from one address
	if s.opts.RateLimitsOff {
		codeLimit = Limit{}
	}
	s.codeTries = NewKeyed(codeLimit, s.clock.Now)
	s.gates = newGateCache()
	h, err := HashPassword(context.Background(), "latchkey timing equalizer", s.opts.Argon2, s.rand)
	if err != nil {
		return nil, err
	}
	s.dummyHash = h
	return &Service{engine: s, Links: &Links{s}, People: &People{s}, Portals: &Portals{s},
		AccessRequests: &AccessRequests{s}, Mail: &Mail{s}, AuditLog: &AuditLog{s}, Accounts: &Accounts{s}, APITokens: &APITokens{s},
		Webhooks: &Webhooks{s}}, nil
}

// Events is the broker on which the service announces committed changes.
func (s *engine) Events() *Broker { return s.events }

// Logger is the service's logger, for adapters that log on its behalf.
func (s *engine) Logger() *slog.Logger { return s.log }

// PublicURL is the base every link is built from.
func (s *engine) PublicURL() string { return s.publicURL }

// Options returns the effective options.
func (s *engine) Options() Options { return s.opts }

// LinkURL is the address of a magic link with this token.
func (s *engine) LinkURL(token string) string { return s.publicURL + "/m/" + token }

func (s *engine) now() time.Time { return s.clock.Now().UTC() }

// Now is the service's clock.
func (s *engine) Now() time.Time { return s.now() }

// Keys are the instance's keys (the web listener signs with them).
func (s *engine) Keys() *Keys { return s.keys }

// Actor is who performs an operation, and from where.
type Actor struct {
	UserID uint64 // 0 for the instance admin and the system
	Email  string // shown in the audit log
	Admin  bool   // instance admin: every organization
	Source string // "console", "ssh:SHA256:…", "web:ADDR", "cli", "system"
	// Rule is a portal's grant rule acting ("acme.com=client"): the
	// system, with Admin's authority, named by the rule.
	Rule string
	// Token is the name of the API token acting for UserID (or for an
	// instance admin), named "api:NAME by EMAIL" in the log.
	Token string
	// OrgID, when not 0, limits the actor to that organization (an API
	// token belongs to one): every other is reported as not found.
	OrgID uint64
}

// AdminActor is the instance admin acting from source.
func AdminActor(source string) Actor { return Actor{Admin: true, Source: source} }

// UserActor is an account acting from source.
func UserActor(u User, source string) Actor {
	return Actor{UserID: u.ID, Email: u.Email, Source: source}
}

// Visitor describes an anonymous web request: where it came from.
type Visitor struct {
	Addr      string // client address
	UserAgent string
	// Browser is the secret of the browser's code cookie, when it has
	// one: an access link asked for from it carries a code that only this
	// browser may type (see UseCode).
	Browser string
	// Lang is the language of the page the visitor acted on (one of
	// Languages, "" for English): an email they ask for is written in it.
	Lang string
}

// lang is the visitor's language when it is one of Languages, else "".
func (v Visitor) lang() string {
	l, err := ParseLanguage(v.Lang)
	if err != nil {
		return ""
	}
	return l
}

// actor is a visitor who proved they are email: they hold its link, its
// password or a token mailed to it.
func (v Visitor) actor(email string) Actor {
	if email == "" {
		email = "anonymous"
	}
	return Actor{Email: email, Source: "web:" + v.Addr}
}

// anonymous is a visitor who only typed an email, which proves nothing: the
// audit log names them "visitor" and the email as the target.
func (v Visitor) anonymous() Actor { return Actor{Email: visitorLabel, Source: "web:" + v.Addr} }

// visitorLabel names an anonymous visitor in the audit log and as the
// creator of the links they asked for.
const visitorLabel = "visitor"

func (a Actor) label() string {
	switch {
	case a.Rule != "":
		return "rule " + a.Rule
	case a.Token != "":
		by := a.Email
		if by == "" {
			by = "admin"
		}
		return "api:" + a.Token + " by " + by
	case a.Email != "":
		return a.Email
	case a.Admin:
		return "admin"
	default:
		return "system"
	}
}

// inviter is who the mail a person receives names as its sender: a person,
// or nobody (the organization alone) for an instance admin or the system.
func (a Actor) inviter() string { return a.Email }

// operation is a transaction with the operation's context: one time for the whole
// operation, the audit and outbox helpers, and the changes to announce after
// the commit.
type operation struct {
	Tx
	s       *engine
	now     time.Time
	changes []Change
}

// audit appends an event to the log.
func (op *operation) audit(a Actor, orgID uint64, action, target, detail string) error {
	e := &Event{At: op.now, OrgID: orgID, Actor: a.label(), Source: a.Source, Action: action, Target: target, Detail: detail}
	if err := op.AppendEvent(e); err != nil {
		return err
	}
	return op.announce(e, "")
}

// auditPortal appends an event about a portal.
func (op *operation) auditPortal(a Actor, p Portal, action, target, detail string) error {
	e := &Event{At: op.now, OrgID: p.OrgID, PortalID: p.ID, Actor: a.label(), Source: a.Source, Action: action, Target: target, Detail: detail}
	if err := op.AppendEvent(e); err != nil {
		return err
	}
	return op.announce(e, p.Slug)
}

// queue adds a message to the outbox, due now. secret, if any, is sealed.
func (op *operation) queue(m Message, secret string) error {
	_, err := op.queueAt(m, secret, op.now)
	return err
}

// queueAt adds a message to the outbox, due at due, and returns its id.
func (op *operation) queueAt(m Message, secret string, due time.Time) (uint64, error) {
	m.State = MessageQueued
	m.CreatedAt = op.now
	m.NextAttemptAt = due
	if err := op.brandMail(&m); err != nil {
		return 0, err
	}
	if secret != "" {
		m.SealedToken = op.s.keys.Seal(secret, sealMail)
	}
	if err := op.PutMessage(&m); err != nil {
		return 0, err
	}
	op.changed(Change{Kind: ChangeMailQueued, OrgID: m.OrgID})
	return m.ID, nil
}

func (op *operation) changed(c Change) { op.changes = append(op.changes, c) }

// write runs fn in one write transaction and announces its changes once committed.
func (s *engine) write(ctx context.Context, fn func(op *operation) error) error {
	var changes []Change
	idem := idempotencyOf(ctx)
	err := s.store.Update(ctx, func(tx Tx) error {
		op := &operation{Tx: tx, s: s, now: s.now()}
		if err := op.claim(idem); err != nil {
			return err
		}
		if err := fn(op); err != nil {
			return err
		}
		if a, ok := tx.(Announcer); ok {
			if err := a.Announce(op.changes); err != nil {
				return err
			}
		}
		changes = op.changes
		return nil
	})
	if err != nil {
		return err
	}
	if idem != nil {
		idem.claimed.Store(true)
	}
	s.gates.invalidate() // after the commit: a decision read before it is never kept
	for _, c := range changes {
		s.events.Publish(c)
	}
	return nil
}

// read runs fn in a read transaction.
func (s *engine) read(ctx context.Context, fn func(op *operation) error) error {
	return s.store.View(ctx, func(tx Tx) error { return fn(&operation{Tx: tx, s: s, now: s.now()}) })
}

// writeResult is write for an operation with a result (zero when it fails).
func writeResult[T any](s *engine, ctx context.Context, fn func(op *operation) (T, error)) (T, error) {
	return runForResult(ctx, s.write, fn)
}

// readResult is read for a query with a result (zero when it fails).
func readResult[T any](s *engine, ctx context.Context, fn func(op *operation) (T, error)) (T, error) {
	return runForResult(ctx, s.read, fn)
}

func runForResult[T any](ctx context.Context, run func(context.Context, func(*operation) error) error, fn func(op *operation) (T, error)) (T, error) {
	var out T
	err := run(ctx, func(op *operation) error {
		var err error
		out, err = fn(op)
		return err
	})
	if err != nil {
		var zero T
		return zero, err
	}
	return out, nil
}

// Ping reports whether storage answers.
func (s *engine) Ping(ctx context.Context) error {
	return s.read(ctx, func(op *operation) error {
		_, err := op.Org(0)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		return err
	})
}

// OpenSealedMail opens the secret of an outbox message, for the mail worker.
func (s *Mail) OpenSealedMail(m Message) (string, error) {
	if len(m.SealedToken) == 0 {
		return "", nil
	}
	return s.keys.Open(m.SealedToken, sealMail)
}
