package sshd

import (
	"errors"
	"fmt"
	"net"
	"time"

	"charm.land/ssh"
	gossh "golang.org/x/crypto/ssh"

	"latchkey/core"
)

// Limit is a token bucket: Burst at once, then one more every Every. A zero
// Limit is no limit.
type Limit = core.Limit

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
			if st.blocked = s.failures.Until(st.addr); st.blocked > 0 {
				s.limited.WithLabelValues("failed_sign_ins").Inc()
				return "latchkey: too many failed sign-ins from this address; try again in " + core.HumanWait(st.blocked) + "\n"
			}
			return ""
		},
		AuthLogCallback: func(conn gossh.ConnMetadata, method string, err error) {
			switch {
			case st.blocked > 0 || method == "none": // every client starts with "none"
			case err == nil: // signed in: the keys tried before were no stranger's
				s.failures.Refund(st.addr, st.charged)
				st.charged = 0
			default:
				st.charged++
				if wait := s.failures.Charge(st.addr); wait > 0 && !st.warned {
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
		if ok, wait := s.perKey.Allow(fp); !ok {
			s.limited.WithLabelValues("key_sessions").Inc()
			s.log.Info("session refused: the key is over its session budget", "key", fp, "client", sess.RemoteAddr().String(), "retry_in", wait.Round(time.Second))
			s.refuse(sess, "too many sessions from this key; try again in "+core.HumanWait(wait))
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
