package core

import (
	"context"
	"crypto/hmac"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// A code for the other device: every access link asked for with the portal's
// form also carries a six-digit code, which opens the portal in the browser
// that asked (a laptop) when the email is read elsewhere (a phone, or a mail
// app's own browser). The code is bound to that browser by a secret in a
// short-lived cookie (Visitor.Browser), stored only as a MAC under the
// secret's hash, valid for CodeTTL and CodeTries wrong tries, used once.
const (
	CodeTTL    = 10 * time.Minute
	CodeTries  = 5
	codeDigits = 6
)

// The refusals of a typed code, each a sentence that says what to do.
var (
	// ErrCodeWrong: the code does not match; the person may try again.
	ErrCodeWrong = errors.New("that code is not right; check the email, and type its code in the browser where you asked for the link")
	// ErrCodeElsewhere: this browser asked for no code (it is typed in
	// another browser than the one that sent the form).
	ErrCodeElsewhere = errors.New("type the code in the browser where you asked for the link, or open the link in the email")
	// ErrCodeExpired: the code is older than CodeTTL, or was used.
	ErrCodeExpired = errors.New("this code has expired; ask for a new link")
	// ErrCodeSpent: CodeTries wrong codes were typed for it.
	ErrCodeSpent = errors.New("too many wrong codes; ask for a new link")
)

// sealCode is the purpose of a code sealed in its email's outbox row.
const sealCode = "code"

// mailCodeKey is where an access-link message carries its sealed code.
const mailCodeKey = "sealed_code"

// codeMAC is what is stored of a code: a MAC with the instance key over the
// browser's secret and the code, so that neither the database nor the
// code alone opens anything.
func (s *engine) codeMAC(browser, code string) []byte {
	return s.keys.Lookup("access code\x00" + browser + "\x00" + code)
}

// newCode draws six random digits.
func newCode(r io.Reader) (string, error) {
	var b [8]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", fmt.Errorf("read random: %w", err)
	}
	return fmt.Sprintf("%0*d", codeDigits, binary.BigEndian.Uint64(b[:])%1_000_000), nil
}

// issueCode stores a code for the browser that asked, for linkID (0: a decoy
// nobody can open, so that a portal with generic disclosure answers a code
// the same whether a link was sent or not), and returns it.
func (op *operation) issueCode(v Visitor, portalID uint64, email string, linkID uint64) (string, error) {
	code, err := newCode(op.s.rand)
	if err != nil {
		return "", err
	}
	t := Token{Hash: HashSecret(v.Browser), Kind: TokenCode, Email: email, PortalID: portalID, LinkID: linkID,
		CodeMAC: op.s.codeMAC(v.Browser, code), CreatedAt: op.now, ExpiresAt: op.now.Add(CodeTTL)}
	return code, op.PutToken(t)
}

// sealMailCode is the data an access-link email carries its code in.
func (op *operation) sealMailCode(code string) map[string]string {
	return map[string]string{mailCodeKey: base64.RawStdEncoding.EncodeToString(op.s.keys.Seal(code, sealCode))}
}

// OpenMailCode is the code an access-link message carries, for the mail
// worker to print in it ("" when it has none).
func (s *engine) OpenMailCode(m Message) (string, error) {
	sealed := m.Data[mailCodeKey]
	if sealed == "" {
		return "", nil
	}
	raw, err := base64.RawStdEncoding.DecodeString(sealed)
	if err != nil {
		return "", errors.New("sealed code is not base64")
	}
	return s.keys.Open(raw, sealCode)
}

// normalizeCode accepts a code as people type it: with spaces or a dash
// between the digits.
func normalizeCode(raw string) (string, error) {
	code := strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '\u00a0' {
			return -1
		}
		return r
	}, raw)
	if len(code) != codeDigits || strings.Trim(code, "0123456789") != "" {
		return "", invalid("code", "the code is the six digits in the email")
	}
	return code, nil
}

// UseCode opens the portal with the code of an access-link email typed in
// the browser that asked for the link, as pressing Open portal on the link
// would: a redemption with a new session. A wrong code counts against the
// code's tries (committed even though the call fails); a code typed in
// another browser, a code that was never sent and a decoy fail without
// saying more than that.
func (s *Links) UseCode(ctx context.Context, raw string, v Visitor) (Redemption, error) {
	code, err := normalizeCode(raw)
	if err != nil {
		return Redemption{}, err
	}
	if v.Browser == "" {
		return Redemption{}, ErrCodeElsewhere
	}
	if ok, wait := s.codeTries.Allow(v.Addr); !ok {
		return Redemption{}, &RateLimitError{What: "codes typed from this address", Retry: wait}
	}
	var refused error // a wrong code: its try is committed, then refused
	r, err := writeResult(s.engine, ctx, func(op *operation) (Redemption, error) {
		refused = nil
		t, err := op.Token(HashSecret(v.Browser))
		switch {
		case errors.Is(err, ErrNotFound) || err == nil && t.Kind != TokenCode:
			return Redemption{}, ErrCodeElsewhere
		case err != nil:
			return Redemption{}, err
		case t.Tries >= CodeTries:
			return Redemption{}, ErrCodeSpent
		case !t.UsedAt.IsZero() || !op.now.Before(t.ExpiresAt):
			return Redemption{}, ErrCodeExpired
		}
		if t.LinkID == 0 || !hmac.Equal(op.s.codeMAC(v.Browser, code), t.CodeMAC) {
			t.Tries++
			refused = ErrCodeWrong
			if t.Tries >= CodeTries {
				refused = ErrCodeSpent
			}
			return Redemption{}, op.PutToken(t)
		}
		t.UsedAt = op.now
		if err := op.PutToken(t); err != nil {
			return Redemption{}, err
		}
		link, err := op.Link(t.LinkID)
		if err != nil {
			return Redemption{}, notFoundAs(err, "link", fmt.Sprint(t.LinkID))
		}
		if err := op.linkEvent(LinkEvent{LinkID: link.ID, Kind: LinkEventCodeUsed, Addr: v.Addr, UserAgent: v.UserAgent}); err != nil {
			return Redemption{}, err
		}
		r, err := op.redeemLink(link, v, true)
		if err != nil {
			return Redemption{}, err
		}
		p := r.Portal
		return r, op.auditPortal(v.actor(link.Email), p, "link.code_used", link.Email, "portal "+p.Slug+", the code of the email typed in the browser that asked")
	})
	if refused != nil {
		return Redemption{}, refused
	}
	return r, err
}
