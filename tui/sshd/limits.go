package sshd

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"charm.land/ssh"
	gossh "golang.org/x/crypto/ssh"

	"latchkey/core"
)

// Limit is a token bucket: Burst at once, then one more every Every. A zero
// Limit is no limit.
type Limit struct {
	Every time.Duration
	Burst int
}

func (l Limit) off() bool { return l.Every <= 0 || l.Burst <= 0 }

// Limits bound how fast clients may come. Strangers are held to a strict
// budget per client address; a key that signed in has its own, generous one,
// whatever address it comes from.
type Limits struct {
	// PerKey bounds the new sessions (consoles and commands) of one
	// authenticated key, by fingerprint.
	PerKey Limit
	// FailedSignIns bounds, per client address, the sign-in attempts that
	// fail: refused keys, keyboard-interactive and any other method. An
	// address over it may not sign in, with any key, until it has refilled;
	// the keys that then sign in give back what their connection used, so a
	// client that offers a few other keys first costs nothing.
	FailedSignIns Limit
}

// DefaultLimits: 30 sessions a second per key with bursts of 300 (a script
// of a thousand commands, one after the other or a few at a time, runs
// through); 20 failed sign-ins per address, then one every 3 seconds.
func DefaultLimits() Limits {
	return Limits{
		PerKey:        Limit{Every: time.Second / 30, Burst: 300},
		FailedSignIns: Limit{Every: 3 * time.Second, Burst: 20},
	}
}

// buckets are token buckets, one per key (a key's fingerprint, a client
// address), that forget keys quiet long enough to be full again.
type buckets struct {
	limit Limit
	now   func() time.Time
	mu    sync.Mutex
	m     map[string]*bucket
	calls int
}

type bucket struct {
	tokens float64 // may fall below zero: a debt that refills first
	at     time.Time
}

// maxBuckets bounds the memory a flood from many addresses can take; past
// it, arbitrary quiet buckets are forgotten.
const maxBuckets = 100_000

func newBuckets(l Limit, now func() time.Time) *buckets {
	return &buckets{limit: l, now: now, m: map[string]*bucket{}}
}

// get returns key's bucket refilled up to now; b.mu is held.
func (b *buckets) get(key string, now time.Time) *bucket {
	if b.calls++; b.calls%1024 == 0 || len(b.m) >= maxBuckets {
		b.sweep(now)
	}
	k := b.m[key]
	if k == nil {
		k = &bucket{tokens: float64(b.limit.Burst), at: now}
		b.m[key] = k
		return k
	}
	if now.After(k.at) {
		k.tokens = min(float64(b.limit.Burst), k.tokens+float64(now.Sub(k.at))/float64(b.limit.Every))
		k.at = now
	}
	return k
}

// sweep forgets full buckets and, if there are still too many, some others.
func (b *buckets) sweep(now time.Time) {
	full := b.limit.Every * time.Duration(b.limit.Burst)
	for key, k := range b.m {
		if now.Sub(k.at) >= full {
			delete(b.m, key)
		}
	}
	for key := range b.m {
		if len(b.m) < maxBuckets*9/10 {
			break
		}
		delete(b.m, key)
	}
}

// wait is how long until key has a token (0: it has one now).
func (b *buckets) wait(k *bucket) time.Duration {
	if k.tokens >= 1 {
		return 0
	}
	return time.Duration((1 - k.tokens) * float64(b.limit.Every))
}

// take takes a token for key; when none is left it takes nothing and says
// how long until there is one.
func (b *buckets) take(key string) (bool, time.Duration) {
	if b.limit.off() {
		return true, 0
	}
	now := b.now()
	b.mu.Lock()
	defer b.mu.Unlock()
	k := b.get(key, now)
	if w := b.wait(k); w > 0 {
		return false, w
	}
	k.tokens--
	return true, 0
}

// charge takes a token for key even when none is left (into a debt of at
// most one burst) and says how long until key has a token again.
func (b *buckets) charge(key string) time.Duration {
	if b.limit.off() {
		return 0
	}
	now := b.now()
	b.mu.Lock()
	defer b.mu.Unlock()
	k := b.get(key, now)
	k.tokens = max(k.tokens-1, -float64(b.limit.Burst))
	return b.wait(k)
}

// refund gives n tokens back to key.
func (b *buckets) refund(key string, n int) {
	if b.limit.off() || n <= 0 {
		return
	}
	now := b.now()
	b.mu.Lock()
	defer b.mu.Unlock()
	k := b.get(key, now)
	k.tokens = min(float64(b.limit.Burst), k.tokens+float64(n))
}

// until says how long until key has a token, taking nothing.
func (b *buckets) until(key string) time.Duration {
	if b.limit.off() {
		return 0
	}
	now := b.now()
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.wait(b.get(key, now))
}

// addrKey is what the per-address limit counts by: the IP address, or for
// IPv6 its /64 (what one host or home usually has).
func addrKey(a net.Addr) string {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	if ip4 := ta.IP.To4(); ip4 != nil {
		return ip4.String()
	}
	return ta.IP.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

// retryIn says a wait in words, rounded up: waiting that long is enough.
func retryIn(d time.Duration) string {
	secs := int((d + time.Second - 1) / time.Second)
	switch {
	case secs <= 1:
		return "1 second"
	case secs < 120:
		return strconv.Itoa(secs) + " seconds"
	default:
		return strconv.Itoa((secs+59)/60) + " minutes"
	}
}

// signIn is one connection's authentication, as the per-address limit
// sees it.
type signIn struct {
	addr    string
	blocked time.Duration // > 0: the address was over its budget when the connection began
	charged int           // failed attempts counted against the address
	warned  bool          // the log has said that the address went over its budget
}

type signInKey struct{}

// signInConfig is the per-connection SSH configuration: it counts failed
// sign-ins per client address, refuses every key from an address over its
// budget (saying when to retry), and shows the banner to whom no key let in.
func (s *Server) signInConfig(ctx ssh.Context) *gossh.ServerConfig {
	st := &signIn{}
	ctx.SetValue(signInKey{}, st)
	return &gossh.ServerConfig{
		// Called once, before the first attempt is judged.
		BannerCallback: func(conn gossh.ConnMetadata) string {
			st.addr = addrKey(conn.RemoteAddr())
			if st.blocked = s.failures.until(st.addr); st.blocked > 0 {
				s.limited.WithLabelValues("failed_sign_ins").Inc()
				return "latchkey: too many failed sign-ins from this address; try again in " + retryIn(st.blocked) + "\n"
			}
			return ""
		},
		AuthLogCallback: func(conn gossh.ConnMetadata, method string, err error) {
			switch {
			case st.blocked > 0 || method == "none": // every client starts with "none"
			case err == nil: // signed in: the keys tried before were no stranger's
				s.failures.refund(st.addr, st.charged)
				st.charged = 0
			default:
				st.charged++
				if wait := s.failures.charge(st.addr); wait > 0 && !st.warned {
					st.warned = true
					s.log.Warn("client over its budget of failed sign-ins: its next connections are refused", "client", conn.RemoteAddr().String(), "retry_in", wait.Round(time.Second))
				}
			}
		},
		// Once every key has been refused, clients go on to
		// keyboard-interactive, which never succeeds here and answers with
		// how to get in. (A banner for every connection would greet scripts
		// too.) Clients in batch mode skip that step and report "Permission
		// denied".
		KeyboardInteractiveCallback: func(gossh.ConnMetadata, gossh.KeyboardInteractiveChallenge) (*gossh.Permissions, error) {
			if st.blocked > 0 { // the banner said why already
				return nil, errors.New("address over its sign-in budget")
			}
			return nil, &gossh.BannerError{Err: errors.New("no registered SSH key"), Message: banner}
		},
	}
}

// blockedSignIn reports whether the connection comes from an address over
// its budget of failed sign-ins.
func blockedSignIn(ctx ssh.Context) bool {
	st, ok := ctx.Value(signInKey{}).(*signIn)
	return ok && st.blocked > 0
}

// limitSessions holds each key to its own budget of new sessions.
func (s *Server) limitSessions(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		fp := core.Fingerprint(sess.PublicKey())
		if ok, wait := s.perKey.take(fp); !ok {
			s.limited.WithLabelValues("key_sessions").Inc()
			s.log.Info("session refused: the key is over its session budget", "key", fp, "client", sess.RemoteAddr().String(), "retry_in", wait.Round(time.Second))
			s.refuse(sess, "too many sessions from this key; try again in "+retryIn(wait))
			return
		}
		next(sess)
	}
}

// refuse ends a session with one line on its standard error and exit
// status 1.
func (s *Server) refuse(sess ssh.Session, msg string) {
	eol := "\n"
	if _, _, tty := sess.Pty(); tty {
		eol = "\r\n" // the client's terminal is raw: a bare newline would not return the carriage
	}
	fmt.Fprint(sess.Stderr(), "latchkey: "+msg+eol)
	sess.Exit(1)
}
