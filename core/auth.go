package core

import (
	"bytes"
	"context"
	"errors"
	"time"
)

// SignIn is a new browser session: the id goes into the cookie, only its
// hash is stored.
type SignIn struct {
	SessionID string
	User      User
	ExpiresAt time.Time
}

// SessionInfo is a valid session and its account.
type SessionInfo struct {
	Session Session
	User    User
	// until: the link's rules or a guest's end date end the session then
	// (zero: neither does).
	until time.Time
}

// TouchEvery is how stale a session's last-seen time may get before a
// request refreshes it; it keeps reads from turning into writes.
const TouchEvery = time.Minute

// startSession creates a session for u, opened through link linkID (0: none).
func (op *operation) startSession(u User, linkID uint64, v Visitor) (SignIn, error) {
	seq, err := op.NextSessionID()
	if err != nil {
		return SignIn{}, err
	}
	id, key, err := newSessionCookie(seq, op.s.rand)
	if err != nil {
		return SignIn{}, err
	}
	sess := Session{Hash: key, UserID: u.ID, LinkID: linkID, CreatedAt: op.now, LastSeenAt: op.now,
		ExpiresAt: op.now.Add(op.s.opts.SessionLifetime), Addr: v.Addr, UserAgent: clip(v.UserAgent)}
	if err := op.PutSession(sess); err != nil {
		return SignIn{}, err
	}
	return SignIn{SessionID: id, User: u, ExpiresAt: sess.ExpiresAt}, nil
}

// sessionValid reports whether a stored session is still alive at now.
func (s *engine) sessionValid(sess Session, now time.Time) bool {
	return now.Before(sess.ExpiresAt) && now.Before(sess.LastSeenAt.Add(s.opts.SessionIdle))
}

func (op *operation) session(id string) (SessionInfo, error) {
	key, ok := SessionKey(id)
	if !ok {
		return SessionInfo{}, ErrNoSession
	}
	sess, err := op.Session(key)
	if errors.Is(err, ErrNotFound) || err == nil && !op.s.sessionValid(sess, op.now) {
		return SessionInfo{}, ErrNoSession
	}
	if err != nil {
		return SessionInfo{}, err
	}
	ok, until, err := op.linkSession(sess)
	if err != nil {
		return SessionInfo{}, err
	}
	if !ok {
		return SessionInfo{}, ErrNoSession
	}
	u, err := op.User(sess.UserID)
	if errors.Is(err, ErrNotFound) {
		return SessionInfo{}, ErrNoSession
	}
	return SessionInfo{Session: sess, User: u, until: until}, err
}

// Session looks a session up by the id from its cookie and refreshes its
// idle timer (at most once a minute). It fails with ErrNoSession when the
// session is unknown, ended, idle too long or past its lifetime.
func (s *Accounts) Session(ctx context.Context, id string) (SessionInfo, error) {
	var si SessionInfo
	err := s.read(ctx, func(op *operation) error {
		var err error
		si, err = op.session(id)
		return err
	})
	if err != nil || s.now().Sub(si.Session.LastSeenAt) < TouchEvery {
		return si, err
	}
	err = s.write(ctx, func(op *operation) error {
		cur, err := op.session(id)
		if err != nil {
			return err
		}
		cur.Session.LastSeenAt = op.now
		si = cur
		return op.PutSession(cur.Session)
	})
	return si, err
}

// EndSession signs a session out on the server. Ending an unknown session is
// not an error.
func (s *Accounts) EndSession(ctx context.Context, id string, v Visitor) error {
	key, ok := SessionKey(id)
	if !ok {
		return nil
	}
	return s.write(ctx, func(op *operation) error {
		sess, err := op.Session(key)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := op.endHandedOver(sess); err != nil {
			return err
		}
		u, err := op.User(sess.UserID)
		if err != nil {
			return nil
		}
		return op.audit(v.actor(u.Email), 0, "session.ended", u.Email, "signed out")
	})
}

// Login signs in with email and password. Unknown emails, accounts without
// a password and wrong passwords all fail the same way, in the same time.
func (s *Accounts) Login(ctx context.Context, rawEmail, password string, v Visitor) (SignIn, error) {
	email, err := NormalizeEmail(rawEmail)
	if err != nil {
		return SignIn{}, err
	}
	if password == "" {
		return SignIn{}, invalid("password", "enter your password")
	}
	if len(password) > 4*MaxPasswordLen {
		return SignIn{}, ErrBadCredentials
	}
	var u User
	err = s.read(ctx, func(op *operation) error {
		var err error
		u, err = op.UserByEmail(email)
		return err
	})
	if err != nil && !errors.Is(err, ErrNotFound) {
		return SignIn{}, err
	}
	hash := u.PasswordHash
	if hash == "" {
		hash = s.dummyHash
	}
	if ok, err := VerifyPassword(ctx, hash, password); err != nil {
		return SignIn{}, err
	} else if !ok || u.PasswordHash == "" {
		return SignIn{}, ErrBadCredentials
	}
	var si SignIn
	err = s.write(ctx, func(op *operation) error {
		cur, err := op.User(u.ID)
		if err != nil || cur.PasswordHash != u.PasswordHash {
			return ErrBadCredentials // the password changed meanwhile
		}
		if si, err = op.startSession(cur, 0, v); err != nil {
			return err
		}
		return op.audit(v.actor(email), 0, "session.started", email, "password")
	})
	return si, err
}

// RequestRestore starts Restore password: when the email has an account, a
// single-use reset link (valid 1 hour) is queued to it. An unknown email is
// not an error, so that the form reveals nothing.
func (s *Accounts) RequestRestore(ctx context.Context, rawEmail string, v Visitor) error {
	email, err := NormalizeEmail(rawEmail)
	if err != nil {
		return err
	}
	return s.write(ctx, func(op *operation) error {
		u, err := op.UserByEmail(email)
		if errors.Is(err, ErrNotFound) {
			// Commit like the other branch, so that timing does not tell
			// which emails have accounts.
			return op.audit(v.anonymous(), 0, "password.restore_requested", email, "no account with this email; nothing sent")
		}
		if err != nil {
			return err
		}
		token, err := NewToken(op.s.rand)
		if err != nil {
			return err
		}
		t := Token{Hash: HashSecret(token), Kind: TokenReset, Email: email, UserID: u.ID, CreatedAt: op.now, ExpiresAt: op.now.Add(op.s.opts.ResetTTL)}
		if err := op.PutToken(t); err != nil {
			return err
		}
		data := map[string]string{"expires": t.ExpiresAt.Format(time.RFC3339), "addr": v.Addr}
		if err := op.queue(Message{Kind: MailPasswordReset, To: email, ToName: u.Name, Data: data, LinkPath: "/restore/", Lang: v.lang()}, token); err != nil {
			return err
		}
		return op.audit(v.anonymous(), 0, "password.restore_requested", email, "reset link sent")
	})
}

func (op *operation) resetToken(token string) (Token, User, error) {
	if !WellFormedToken(token) {
		return Token{}, User{}, ErrTokenInvalid
	}
	t, err := op.Token(HashSecret(token))
	if errors.Is(err, ErrNotFound) || err == nil && (t.Kind != TokenReset || !t.UsedAt.IsZero() || !op.now.Before(t.ExpiresAt)) {
		return Token{}, User{}, ErrTokenInvalid
	}
	if err != nil {
		return Token{}, User{}, err
	}
	u, err := op.User(t.UserID)
	// A password change since the token was issued retires it.
	if errors.Is(err, ErrNotFound) || err == nil && t.CreatedAt.Before(u.PasswordChangedAt) {
		return Token{}, User{}, ErrTokenInvalid
	}
	return t, u, err
}

// RestoreLink checks a reset token without using it and returns its email.
func (s *Accounts) RestoreLink(ctx context.Context, token string) (string, error) {
	var email string
	err := s.read(ctx, func(op *operation) error {
		t, _, err := op.resetToken(token)
		email = t.Email
		return err
	})
	return email, err
}

// CompleteRestore sets a new password with a reset token: the token is used
// up, every other session of the account ends, a notice is queued and the
// person is signed in.
func (s *Accounts) CompleteRestore(ctx context.Context, token, password string, v Visitor) (SignIn, error) {
	if err := ValidatePassword(password); err != nil {
		return SignIn{}, err
	}
	if _, err := s.RestoreLink(ctx, token); err != nil {
		return SignIn{}, err
	}
	hash, err := HashPassword(ctx, password, s.opts.Argon2, s.rand)
	if err != nil {
		return SignIn{}, err
	}
	var si SignIn
	err = s.write(ctx, func(op *operation) error {
		t, u, err := op.resetToken(token)
		if err != nil {
			return err
		}
		u.PasswordHash, u.PasswordChangedAt = hash, op.now
		if err := op.PutUser(&u); err != nil {
			return err
		}
		t.UsedAt = op.now
		if err := op.PutToken(t); err != nil {
			return err
		}
		if err := op.endSessionsOf(u.ID); err != nil {
			return err
		}
		if si, err = op.startSession(u, 0, v); err != nil {
			return err
		}
		data := map[string]string{"at": op.now.Format(time.RFC3339), "addr": v.Addr}
		if err := op.queue(Message{Kind: MailPasswordChanged, To: u.Email, ToName: u.Name, Data: data, Lang: v.lang()}, ""); err != nil {
			return err
		}
		return op.audit(v.actor(u.Email), 0, "password.changed", u.Email, "restore")
	})
	return si, err
}

// endHandedOver ends a session together with the sessions it was handed
// over from or to (a portal's own host and the main one): signing out on
// either host signs out on both.
func (op *operation) endHandedOver(sess Session) error {
	root := sess.Hash
	if len(sess.Parent) > 0 {
		root = sess.Parent
	}
	all, err := op.SessionsOfUser(sess.UserID)
	if err != nil {
		return err
	}
	for _, s := range all {
		if bytes.Equal(s.Hash, root) || bytes.Equal(s.Parent, root) || bytes.Equal(s.Hash, sess.Hash) {
			if err := op.DeleteSession(s.Hash); err != nil {
				return err
			}
		}
	}
	return nil
}

func (op *operation) endSessionsOf(userID uint64) error {
	sessions, err := op.SessionsOfUser(userID)
	if err != nil {
		return err
	}
	for _, s := range sessions {
		if err := op.DeleteSession(s.Hash); err != nil {
			return err
		}
	}
	return nil
}

// Purge deletes sessions and single-use tokens that can no longer be used,
// and idempotency keys past IdempotencyTTL.
//
// It first folds the link uses not folded yet (those a crash left, at
// start), so that pruning a link's history never outruns its counters.
func (s *Service) Purge(ctx context.Context) (sessions, tokens int, err error) {
	if _, err := s.FoldLinkUses(ctx); err != nil {
		return 0, 0, err
	}
	err = s.write(ctx, func(op *operation) error {
		var err error
		if sessions, err = op.DeleteSessionsBefore(op.now, op.now.Add(-s.opts.SessionIdle)); err != nil {
			return err
		}
		if tokens, err = op.DeleteTokensBefore(op.now.Add(-24 * time.Hour)); err != nil {
			return err
		}
		if _, err = op.DeleteIdempotencyBefore(op.now.Add(-IdempotencyTTL)); err != nil {
			return err
		}
		if _, err = op.DeleteWebhookDeliveriesBefore(op.now.Add(-WebhookRetention)); err != nil {
			return err
		}
		_, err = op.pruneLinkHistory()
		return err
	})
	return sessions, tokens, err
}
