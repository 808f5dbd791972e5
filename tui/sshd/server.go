// Package sshd serves the business console over SSH (wish): with a
// terminal, the same console as the local one, scoped to the organizations
// the key's owner manages; without one, commands for scripts.
//
// Authentication is by public key only: a key registered to an owner or
// manager (console Settings, or `latchkey keys add`), or an instance admin's
// key from --admin-keys. The key is checked again in middleware, because a
// public-key callback may see keys that were only offered, not proven.
//
// Rate limits (Limits) treat strangers and keys apart: failed sign-ins
// (refused keys, other methods) are counted per client address, strictly,
// and an address over its budget may not sign in for a while; a key that
// signed in has its own, generous budget of sessions, so that scripts run.
// Every refusal is one line that says when to try again.
package sshd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/ssh"
	"charm.land/wish/v2"
	bm "charm.land/wish/v2/bubbletea"
	"github.com/prometheus/client_golang/prometheus"

	"latchkey/core"
	"latchkey/tui"
)

// Backuper writes a consistent copy of the database (storage.Store does).
type Backuper interface {
	WriteTo(w io.Writer) (int64, error)
}

// Config wires the SSH server.
type Config struct {
	Service     *core.Service
	Backup      Backuper
	HostKeyPath string          // created (ed25519, 0600) when missing
	AdminKeys   map[string]bool // fingerprints of instance admins' keys
	CatcherOn   bool
	SSHLogin    string // the command that reaches this server, shown in the console
	Logger      *slog.Logger
	// Limits bound sessions per key and failed sign-ins per client
	// address; nil means DefaultLimits, and a zero Limit turns that limit
	// off (&Limits{}: no limits, for load tests).
	Limits *Limits
	Clock  core.Clock // nil: the system clock
	// IdleTimeout ends a connection silent this long (default 30 minutes).
	IdleTimeout time.Duration
	Registry    prometheus.Registerer // nil: no metrics
}

// Server is the SSH console.
type Server struct {
	cfg      Config
	log      *slog.Logger
	srv      *ssh.Server
	mu       sync.Mutex
	programs map[*tea.Program]bool
	stopping bool
	open     atomic.Int64 // sessions being served, consoles and commands
	perKey   *core.Keyed  // new sessions, per key fingerprint
	failures *core.Keyed  // failed sign-ins, per client address
	limited  *prometheus.CounterVec
}

const banner = "latchkey business console. Sign-in is by SSH key only: ask an owner of your organization to add your public key,\r\nor run `latchkey keys add EMAIL KEYFILE` on the server.\r\n"

// New builds the server; Serve runs it.
func New(cfg Config) (*Server, error) {
	if cfg.Service == nil || cfg.HostKeyPath == "" {
		return nil, errors.New("sshd: a service and a host key path are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	limits := DefaultLimits()
	if cfg.Limits != nil {
		limits = *cfg.Limits
	}
	if cfg.Clock == nil {
		cfg.Clock = core.SystemClock{}
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = 30 * time.Minute
	}
	s := &Server{cfg: cfg, log: cfg.Logger.With("component", "ssh"), programs: map[*tea.Program]bool{},
		perKey: core.NewKeyed(limits.PerKey, cfg.Clock.Now), failures: core.NewKeyed(limits.FailedSignIns, cfg.Clock.Now),
		limited: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "latchkey_ssh_rate_limited_total",
			Help: "SSH connections and sessions refused by a rate limit, by limit: key_sessions (per key), failed_sign_ins (per client address)."}, []string{"limit"})}
	srv, err := wish.NewServer(
		wish.WithHostKeyPath(cfg.HostKeyPath),
		wish.WithPublicKeyAuth(s.allowKey),
		func(srv *ssh.Server) error { srv.ServerConfigCallback = s.signInConfig; return nil },
		wish.WithIdleTimeout(cfg.IdleTimeout),
		wish.WithMiddleware( // the last one runs first
			s.commands,
			s.console,
			s.limitSessions,
			s.checkKey,
			s.logging,
			s.recover,
		),
	)
	if err != nil {
		return nil, fmt.Errorf("ssh server: %w", err)
	}
	// keygen writes the key readable by its owner only; make sure of it.
	if err := os.Chmod(cfg.HostKeyPath, 0o600); err != nil {
		return nil, fmt.Errorf("ssh host key: %w", err)
	}
	s.srv = srv
	if cfg.Registry != nil {
		open := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "latchkey_ssh_sessions_open", Help: "SSH sessions being served: consoles and commands."},
			func() float64 { return float64(s.Sessions()) })
		if err := cfg.Registry.Register(open); err != nil {
			return nil, err
		}
		if err := cfg.Registry.Register(s.limited); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Sessions is how many SSH sessions are being served now; a session counts
// until everything it ran has finished.
func (s *Server) Sessions() int { return int(s.open.Load()) }

// identity is who a key belongs to: an instance admin, or an account that
// is an owner or manager now.
func (s *Server) identity(ctx context.Context, key ssh.PublicKey) (core.Actor, error) {
	if key == nil {
		return core.Actor{}, errors.New("sign in with an SSH key")
	}
	fp := core.Fingerprint(key)
	source := "ssh:" + fp
	if s.cfg.AdminKeys[fp] {
		return core.AdminActor(source), nil
	}
	u, err := s.cfg.Service.ConsoleUser(ctx, fp)
	if err != nil {
		return core.Actor{}, err
	}
	return core.UserActor(u, source), nil
}

// allowKey is the public-key callback. From an address over its budget of
// failed sign-ins no key is let in (signInConfig said when to retry).
func (s *Server) allowKey(ctx ssh.Context, key ssh.PublicKey) bool {
	if blockedSignIn(ctx) {
		return false
	}
	_, err := s.identity(ctx, key)
	if err != nil {
		s.log.Info("refused key", "fingerprint", core.Fingerprint(key), "client", ctx.RemoteAddr().String(), "reason", err)
	}
	return err == nil
}

// checkKey checks, for the session, the key that actually authenticated,
// and keeps whom it found for the console or command that follows.
func (s *Server) checkKey(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		actor, err := s.identity(sess.Context(), sess.PublicKey())
		if err != nil {
			s.refuse(sess, errLine(err))
			return
		}
		sess.Context().SetValue(actorKey{}, actor)
		next(sess)
	}
}

type actorKey struct{}

// actor is whom checkKey found for the session.
func (s *Server) actor(sess ssh.Session) (core.Actor, error) {
	if a, ok := sess.Context().Value(actorKey{}).(core.Actor); ok {
		return a, nil
	}
	return s.identity(sess.Context(), sess.PublicKey())
}

// loggedCommand is a command line as the log keeps it: an address in it (a
// webhook's, whose path is often its receiver's secret) is cut to its
// scheme and host.
func loggedCommand(raw string) string {
	f := strings.Fields(raw)
	for i, w := range f {
		if strings.HasPrefix(w, "https://") || strings.HasPrefix(w, "http://") {
			f[i] = core.WebhookTarget(w)
		}
	}
	return strings.Join(f, " ")
}

func (s *Server) logging(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		start := time.Now()
		fp := ""
		if k := sess.PublicKey(); k != nil {
			fp = core.Fingerprint(k)
		}
		_, _, tty := sess.Pty()
		s.log.Info("session started", "client", sess.RemoteAddr().String(), "key", fp, "terminal", tty, "command", loggedCommand(sess.RawCommand()))
		s.open.Add(1)
		defer s.open.Add(-1)
		next(sess)
		s.log.Info("session ended", "client", sess.RemoteAddr().String(), "key", fp, "duration", time.Since(start).Round(time.Millisecond))
	}
}

func (s *Server) recover(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		defer func() {
			if p := recover(); p != nil {
				s.log.Error("panic in ssh session", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				s.refuse(sess, "internal error; the session ended")
			}
		}()
		next(sess)
	}
}

// program starts the console for a session with a terminal (nil: none, so
// the session is a command).
func (s *Server) program(sess ssh.Session) *tea.Program {
	pty, _, ok := sess.Pty()
	if !ok {
		return nil
	}
	actor, err := s.actor(sess)
	if err != nil {
		return nil
	}
	app := tui.New(tui.Deps{Service: s.cfg.Service, Actor: actor, CatcherOn: s.cfg.CatcherOn, SSHLogin: s.cfg.SSHLogin, Where: "ssh",
		Context: sess.Context()}) // closing the connection cancels the console's work in flight
	app.SetSize(pty.Window.Width, pty.Window.Height)
	app.Preload(sess.Context())
	opts := append(bm.MakeOptions(sess), tea.WithContext(sess.Context()), tea.WithoutSignalHandler())
	p := tea.NewProgram(app, opts...)
	s.mu.Lock()
	stopping := s.stopping
	if !stopping {
		s.programs[p] = true
	}
	s.mu.Unlock()
	go func() {
		<-sess.Context().Done()
		app.Close()
		s.mu.Lock()
		delete(s.programs, p)
		s.mu.Unlock()
	}()
	if stopping {
		go p.Quit()
	}
	return p
}

// Serve runs the server on ln until ctx ends. Open consoles are told that
// latchkey is stopping and closed; running commands get a few seconds to finish.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.mu.Lock()
	s.stopping = true
	for p := range s.programs {
		p.Quit()
	}
	s.mu.Unlock()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(sctx); err != nil {
		s.srv.Close()
	}
	ln.Close()
	if err := <-errc; err != nil && !errors.Is(err, ssh.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
		return err
	}
	return nil
}

func (s *Server) shuttingDown() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopping
}
