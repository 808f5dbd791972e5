package mail

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// RelayConfig says how to reach an SMTP server.
type RelayConfig struct {
	Host     string
	Port     string
	Implicit bool // smtps://: TLS from the first byte
	StartTLS bool // smtp://: upgrade with STARTTLS (required unless turned off for a loopback relay)
	Username string
	Password string
	// TLS overrides the TLS configuration (tests trust their own CA).
	TLS *tls.Config
	// LocalName is the name the client greets with (EHLO).
	LocalName string
	// Pool is how many connections are kept open for reuse (default 4).
	Pool int
	// DialTimeout and CommandTimeout bound each step (defaults 10 s and 30 s).
	DialTimeout    time.Duration
	CommandTimeout time.Duration
	// IdleTimeout closes pooled connections unused this long (default 30 s).
	IdleTimeout time.Duration
	// NoReuse closes each connection after one message (for comparison in
	// benchmarks; production reuses connections).
	NoReuse bool
}

// Addr is host:port.
func (c RelayConfig) Addr() string { return net.JoinHostPort(c.Host, c.Port) }

// String describes the relay without its password.
func (c RelayConfig) String() string {
	scheme := "smtp"
	if c.Implicit {
		scheme = "smtps"
	}
	u := url.URL{Scheme: scheme, Host: c.Addr()}
	if c.Username != "" {
		u.User = url.User(c.Username)
	}
	if !c.Implicit && !c.StartTLS {
		u.RawQuery = "starttls=off"
	}
	return u.String()
}

// LocalPool is how many connections latchkey opens to its own catcher: it
// is on this machine, and the more messages arrive together, the more of
// them share one durable commit there (bench: 16 gave 1,780 msgs/s, 64
// gave 2,800).
const LocalPool = 64

// ParseRelayURL reads smtp://user:pass@host:587 (STARTTLS) or
// smtps://user:pass@host:465 (implicit TLS). ?starttls=off turns STARTTLS
// off, which is allowed only for a loopback host. Errors never echo the password.
func ParseRelayURL(s string) (RelayConfig, error) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return RelayConfig{}, errors.New("not a URL like smtp://user:password@host:587")
	}
	shown := u.Redacted()
	var c RelayConfig
	switch u.Scheme {
	case "smtp":
		c.StartTLS = true
	case "smtps":
		c.Implicit = true
	default:
		return RelayConfig{}, fmt.Errorf("%s: the scheme must be smtp:// (STARTTLS) or smtps:// (TLS)", shown)
	}
	c.Host, c.Port = u.Hostname(), u.Port()
	if c.Host == "" {
		return RelayConfig{}, fmt.Errorf("%s names no host", shown)
	}
	if c.Port == "" {
		return RelayConfig{}, fmt.Errorf("%s names no port (587 for smtp://, 465 for smtps://)", shown)
	}
	if n, err := strconv.Atoi(c.Port); err != nil || n < 1 || n > 65535 {
		return RelayConfig{}, fmt.Errorf("%s: %q is not a port", shown, c.Port)
	}
	if u.User != nil {
		c.Username = u.User.Username()
		c.Password, _ = u.User.Password()
	}
	if u.Path != "" && u.Path != "/" {
		return RelayConfig{}, fmt.Errorf("%s: a relay URL has no path", shown)
	}
	for k, v := range u.Query() {
		switch {
		case k == "starttls" && len(v) == 1 && v[0] == "off":
			if c.Implicit {
				return RelayConfig{}, fmt.Errorf("%s: starttls=off makes no sense with smtps://", shown)
			}
			if !isLoopback(c.Host) {
				return RelayConfig{}, fmt.Errorf("%s: starttls=off is allowed only for a relay on this machine (localhost, 127.0.0.1, ::1); mail and passwords would cross the network in clear", shown)
			}
			c.StartTLS = false
		default:
			return RelayConfig{}, fmt.Errorf("%s: unknown option %q (the only one is starttls=off)", shown, k)
		}
	}
	return c, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Relay sends messages to one SMTP server, reusing connections.
type Relay struct {
	cfg  RelayConfig
	mu   sync.Mutex
	idle []*pooled
	sem  chan struct{} // bounds open connections
}

type pooled struct {
	c    *smtp.Client
	used time.Time
}

// NewRelay returns a relay client; it dials on first use.
func NewRelay(cfg RelayConfig) *Relay {
	if cfg.Pool <= 0 {
		cfg.Pool = 4
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = 10 * time.Second
	}
	if cfg.CommandTimeout <= 0 {
		cfg.CommandTimeout = 30 * time.Second
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 30 * time.Second
	}
	if cfg.LocalName == "" {
		cfg.LocalName = "localhost"
	}
	return &Relay{cfg: cfg, sem: make(chan struct{}, cfg.Pool)}
}

// Config is the relay's configuration.
func (r *Relay) Config() RelayConfig { return r.cfg }

func (r *Relay) tlsConfig() *tls.Config {
	if r.cfg.TLS != nil {
		return r.cfg.TLS.Clone()
	}
	return &tls.Config{ServerName: r.cfg.Host, MinVersion: tls.VersionTLS12}
}

// dial opens and greets a connection. go-smtp takes no context, so the
// dial honours ctx and the commands have their own timeouts.
func (r *Relay) dial(ctx context.Context) (*smtp.Client, error) {
	d := net.Dialer{Timeout: r.cfg.DialTimeout}
	conn, err := d.DialContext(ctx, "tcp", r.cfg.Addr())
	if err != nil {
		return nil, err
	}
	var c *smtp.Client
	switch {
	case r.cfg.Implicit:
		tc := tls.Client(conn, r.tlsConfig())
		hctx, cancel := context.WithTimeout(ctx, r.cfg.DialTimeout)
		err = tc.HandshakeContext(hctx)
		cancel()
		if err != nil {
			conn.Close()
			return nil, fmt.Errorf("TLS with %s: %w", r.cfg.Addr(), err)
		}
		c = smtp.NewClient(tc)
	case r.cfg.StartTLS:
		conn.SetDeadline(time.Now().Add(r.cfg.CommandTimeout))
		c, err = smtp.NewClientStartTLS(conn, r.tlsConfig())
		if err != nil {
			conn.Close()
			return nil, fmt.Errorf("STARTTLS with %s: %w", r.cfg.Addr(), err)
		}
		conn.SetDeadline(time.Time{})
	default:
		c = smtp.NewClient(conn)
	}
	c.CommandTimeout, c.SubmissionTimeout = r.cfg.CommandTimeout, r.cfg.CommandTimeout
	if err := c.Hello(r.cfg.LocalName); err != nil {
		c.Close()
		return nil, err
	}
	if r.cfg.Username != "" {
		var a sasl.Client
		switch {
		case c.SupportsAuth(sasl.Plain):
			a = sasl.NewPlainClient("", r.cfg.Username, r.cfg.Password)
		case c.SupportsAuth(sasl.Login):
			a = sasl.NewLoginClient(r.cfg.Username, r.cfg.Password)
		default:
			c.Close()
			return nil, &smtp.SMTPError{Code: 530, Message: "the relay offers neither AUTH PLAIN nor AUTH LOGIN"}
		}
		if err := c.Auth(a); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

// take returns an idle connection that is still fresh, or nil.
func (r *Relay) take() *pooled {
	r.mu.Lock()
	defer r.mu.Unlock()
	for len(r.idle) > 0 {
		p := r.idle[len(r.idle)-1]
		r.idle = r.idle[:len(r.idle)-1]
		if time.Since(p.used) < r.cfg.IdleTimeout {
			return p
		}
		p.c.Close()
	}
	return nil
}

func (r *Relay) keep(c *smtp.Client) {
	r.mu.Lock()
	r.idle = append(r.idle, &pooled{c: c, used: time.Now()})
	r.mu.Unlock()
}

// Send delivers one message. A reused connection that turns out dead is
// replaced once. The error is an *smtp.SMTPError when the server answered
// with a refusal; anything else is a network or protocol failure.
func (r *Relay) Send(ctx context.Context, env Envelope) error {
	select {
	case r.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-r.sem }()
	p := r.take()
	if p != nil {
		err := r.transact(p.c, env)
		if err == nil || isRefusal(err) {
			r.after(p.c, err)
			return err
		}
		p.c.Close() // stale: try once more on a fresh connection
	}
	c, err := r.dial(ctx)
	if err != nil {
		return unreachable{err}
	}
	err = r.transact(c, env)
	r.after(c, err)
	return err
}

// transact runs MAIL, RCPT and DATA on an open connection.
func (r *Relay) transact(c *smtp.Client, env Envelope) error {
	if env.NeedsUTF8 {
		if ok, _ := c.Extension("SMTPUTF8"); !ok {
			return noSMTPUTF8{env.To}
		}
	}
	return c.SendMail(env.From, env.To, bytes.NewReader(env.Data))
}

// noSMTPUTF8 is a message that needs SMTPUTF8 (a recipient's part before @
// is not ASCII) for a server that does not offer it: no retry changes
// that, so it is permanent.
type noSMTPUTF8 struct{ to []string }

func (e noSMTPUTF8) Error() string {
	return fmt.Sprintf("the mail server does not offer SMTPUTF8, which %s needs (the part before @ is not ASCII); "+
		"retrying will not help: ask the relay's operator to turn SMTPUTF8 on, or use an ASCII address", strings.Join(e.to, ", "))
}

// after returns a connection to the pool when it can carry another message.
func (r *Relay) after(c *smtp.Client, err error) {
	switch {
	case r.cfg.NoReuse:
		if err == nil {
			c.Quit()
		} else {
			c.Close()
		}
	case err == nil:
		r.keep(c) // after a successful DATA the session is ready; no RSET (it would re-send EHLO)
	case isRefusal(err):
		if c.Reset() == nil {
			r.keep(c)
			return
		}
		c.Close()
	default:
		c.Close()
	}
}

// Close closes the idle connections.
func (r *Relay) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range r.idle {
		p.c.Quit()
	}
	r.idle = nil
	return nil
}

// unreachable is a failure to connect, secure, greet or authenticate: the
// relay is down or misconfigured, not the message at fault, so it is
// never permanent. It deliberately does not unwrap to an *smtp.SMTPError.
type unreachable struct{ err error }

func (u unreachable) Error() string { return "relay unreachable: " + u.err.Error() }

// isRefusal: the server answered the transaction with an error code (as
// opposed to the connection failing).
func isRefusal(err error) bool {
	var se *smtp.SMTPError
	var nu noSMTPUTF8
	return errors.As(err, &se) || errors.As(err, &nu)
}

// Permanent reports whether an error means the message can never be
// delivered as it is: a 5xx answer.
func Permanent(err error) bool {
	var se *smtp.SMTPError
	var nu noSMTPUTF8
	return errors.As(err, &se) && se.Code >= 500 && se.Code < 600 || errors.As(err, &nu)
}
