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
	UniformResponses bool         // every portal answers the access form generically
	Argon2           Argon2Params // default DefaultArgon2
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

// Service carries out every flow of latchkey. It is safe for concurrent use.
type Service struct {
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
	gates     *gateCache
}

// New builds a Service.
func New(c Config) (*Service, error) {
	if c.Store == nil || c.Keys == nil {
		return nil, errors.New("core: a store and keys are required")
	}
	if c.PublicURL == "" {
		return nil, errors.New("core: a public URL is required")
	}
	s := &Service{
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
	s.gates = newGateCache()
	h, err := HashPassword(context.Background(), "latchkey timing equalizer", s.opts.Argon2, s.rand)
	if err != nil {
		return nil, err
	}
	s.dummyHash = h
	return s, nil
}

// Events is the broker on which the service announces committed changes.
func (s *Service) Events() *Broker { return s.events }

// Logger is the service's logger, for adapters that log on its behalf.
func (s *Service) Logger() *slog.Logger { return s.log }

// PublicURL is the base every link is built from.
func (s *Service) PublicURL() string { return s.publicURL }

// Options returns the effective options.
func (s *Service) Options() Options { return s.opts }

// LinkURL is the address of a magic link with this token.
func (s *Service) LinkURL(token string) string { return s.publicURL + "/m/" + token }

func (s *Service) now() time.Time { return s.clock.Now().UTC() }

// Now is the service's clock.
func (s *Service) Now() time.Time { return s.now() }

// Keys are the instance's keys (the web listener signs with them).
func (s *Service) Keys() *Keys { return s.keys }

// Actor is who performs an operation, and from where.
type Actor struct {
	UserID uint64 // 0 for the instance admin and the system
	Email  string // shown in the audit log
	Admin  bool   // instance admin: every organization
	Source string // "console", "ssh:SHA256:…", "web:ADDR", "cli", "system"
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

// txw is a transaction with the operation's context: one time for the whole
// operation, the audit and outbox helpers, and the changes to announce after
// the commit.
type txw struct {
	Tx
	s       *Service
	now     time.Time
	changes []Change
}

// audit appends an event to the log.
func (w *txw) audit(a Actor, orgID uint64, action, target, detail string) error {
	return w.AppendEvent(&Event{At: w.now, OrgID: orgID, Actor: a.label(), Source: a.Source,
		Action: action, Target: target, Detail: detail})
}

// auditPortal appends an event about a portal.
func (w *txw) auditPortal(a Actor, p Portal, action, target, detail string) error {
	return w.AppendEvent(&Event{At: w.now, OrgID: p.OrgID, PortalID: p.ID, Actor: a.label(), Source: a.Source,
		Action: action, Target: target, Detail: detail})
}

// queue adds a message to the outbox, due now. secret, if any, is sealed.
func (w *txw) queue(m Message, secret string) error {
	_, err := w.queueAt(m, secret, w.now)
	return err
}

// queueAt adds a message to the outbox, due at due, and returns its id.
func (w *txw) queueAt(m Message, secret string, due time.Time) (uint64, error) {
	m.State = MessageQueued
	m.CreatedAt = w.now
	m.NextAttemptAt = due
	if err := w.brandMail(&m); err != nil {
		return 0, err
	}
	if secret != "" {
		m.SealedToken = w.s.keys.Seal(secret, sealMail)
	}
	if err := w.PutMessage(&m); err != nil {
		return 0, err
	}
	w.changed(Change{Kind: ChangeMailQueued, OrgID: m.OrgID})
	return m.ID, nil
}

func (w *txw) changed(c Change) { w.changes = append(w.changes, c) }

// update runs fn in one write transaction and announces its changes once committed.
func (s *Service) update(ctx context.Context, fn func(w *txw) error) error {
	var changes []Change
	err := s.store.Update(ctx, func(tx Tx) error {
		w := &txw{Tx: tx, s: s, now: s.now()}
		if err := fn(w); err != nil {
			return err
		}
		changes = w.changes
		return nil
	})
	if err != nil {
		return err
	}
	s.gates.invalidate() // after the commit: a decision read before it is never kept
	for _, c := range changes {
		s.events.Publish(c)
	}
	return nil
}

// view runs fn in a read transaction.
func (s *Service) view(ctx context.Context, fn func(w *txw) error) error {
	return s.store.View(ctx, func(tx Tx) error { return fn(&txw{Tx: tx, s: s, now: s.now()}) })
}

// updated is update for an operation with a result (zero when it fails).
func updated[T any](s *Service, ctx context.Context, fn func(w *txw) (T, error)) (T, error) {
	return carry(ctx, s.update, fn)
}

// viewed is view for a query with a result (zero when it fails).
func viewed[T any](s *Service, ctx context.Context, fn func(w *txw) (T, error)) (T, error) {
	return carry(ctx, s.view, fn)
}

func carry[T any](ctx context.Context, run func(context.Context, func(*txw) error) error, fn func(w *txw) (T, error)) (T, error) {
	var out T
	err := run(ctx, func(w *txw) error {
		var err error
		out, err = fn(w)
		return err
	})
	if err != nil {
		var zero T
		return zero, err
	}
	return out, nil
}

// Ping reports whether storage answers.
func (s *Service) Ping(ctx context.Context) error {
	return s.view(ctx, func(w *txw) error {
		_, err := w.Org(0)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		return err
	})
}

// OpenSealedMail opens the secret of an outbox message, for the mail worker.
func (s *Service) OpenSealedMail(m Message) (string, error) {
	if len(m.SealedToken) == 0 {
		return "", nil
	}
	return s.keys.Open(m.SealedToken, sealMail)
}
