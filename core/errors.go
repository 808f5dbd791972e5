package core

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Sentinel errors. Adapters map them to HTTP statuses, SSH exit messages and
// console status lines with errors.Is; the error's text is a sentence meant for
// a person.
var (
	// ErrInvalid: the input is malformed; nothing was changed.
	ErrInvalid = errors.New("invalid input")
	// ErrNotFound: the named thing does not exist (or the actor may not see it).
	ErrNotFound = errors.New("not found")
	// ErrForbidden: the actor may not do this.
	ErrForbidden = errors.New("not allowed")
	// ErrConflict: the change contradicts the current state (taken slug, ...).
	ErrConflict = errors.New("conflict")
	// ErrLinkInactive: a magic link that was deactivated or replaced.
	ErrLinkInactive = errors.New("this link is no longer active")
	// ErrLinkUnknown: a token that matches no link at all.
	ErrLinkUnknown = errors.New("this link is not valid")
	// ErrTokenInvalid: a join or password-reset token that is unknown, used or expired.
	ErrTokenInvalid = errors.New("this link has expired or was already used")
	// ErrBadCredentials: email and password do not match an account.
	ErrBadCredentials = errors.New("email or password is not correct")
	// ErrNoSession: no valid session (missing, ended, idle or past its lifetime).
	ErrNoSession = errors.New("not signed in")
	// ErrNoAccess: the person has no (or no longer any) access to the portal.
	ErrNoAccess = errors.New("no access to this portal")
	// ErrNeedsConfirmation: the operation would do something its actor may
	// not expect (replace a live link, grant an address that passes for
	// another); nothing was changed, and the actor may repeat it confirmed.
	ErrNeedsConfirmation = errors.New("needs confirmation")
	// ErrRateLimited: too many of these just now; try again later.
	ErrRateLimited = errors.New("too many requests")
)

// ConfirmationError asks the actor to confirm an operation. It matches
// ErrNeedsConfirmation.
type ConfirmationError struct {
	Question string // "Replace client@acme.test's active link?"
	Detail   string // what confirming does
}

func (e *ConfirmationError) Error() string {
	if e.Detail == "" {
		return e.Question
	}
	return e.Question + " " + e.Detail
}

// Is makes errors.Is(err, ErrNeedsConfirmation) true.
func (e *ConfirmationError) Is(target error) bool { return target == ErrNeedsConfirmation }

// RateLimitError says when to try again. It matches ErrRateLimited.
type RateLimitError struct {
	What  string        // "access requests to this portal"
	Retry time.Duration // how long until one more is allowed
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("too many %s just now; try again in %s", e.What, HumanWait(e.Retry))
}

// Is makes errors.Is(err, ErrRateLimited) true.
func (e *RateLimitError) Is(target error) bool { return target == ErrRateLimited }

// HumanWait says a wait the way a person would, rounded up so that waiting
// that long is enough: "1 second", "40 seconds", "a minute", "3 minutes",
// "about 2 hours".
func HumanWait(d time.Duration) string {
	secs := int((d + time.Second - 1) / time.Second)
	switch {
	case secs <= 1:
		return "1 second"
	case secs == 60:
		return "a minute"
	case secs < 120:
		return fmt.Sprintf("%d seconds", secs)
	case secs < 3600:
		return fmt.Sprintf("%d minutes", (secs+59)/60)
	case secs == 3600:
		return "an hour"
	case secs < 2*3600:
		return "about an hour"
	default:
		return fmt.Sprintf("about %d hours", (secs+1799)/3600)
	}
}

// ValidationError names the field that is wrong and why. It matches ErrInvalid.
type ValidationError struct {
	Field  string // "email", "role", "slug", ...
	Reason string // a sentence fragment: `"abc" is not an email address`
}

func (e *ValidationError) Error() string { return fieldLabel(e.Field) + ": " + e.Reason }

// fieldLabel is how people call a field (as the console and the pages label it).
func fieldLabel(field string) string {
	switch field {
	case "guest_until":
		return "access end date"
	case "slug":
		return "address"
	case "key":
		return "SSH key"
	case "reply_to":
		return "reply-to address"
	case "sender_name":
		return "sender name"
	}
	return field
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

func invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// NotFoundError names what was looked for. It matches ErrNotFound.
type NotFoundError struct {
	What string // "portal", "user", "access request"
	Key  string // the slug, email or id that was looked up
}

func (e *NotFoundError) Error() string {
	if e.Key == "" {
		return "no such " + e.What
	}
	return fmt.Sprintf("no %s %q", e.What, e.Key)
}

// Is makes errors.Is(err, ErrNotFound) true.
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

func notFound(what, key string) error { return &NotFoundError{What: what, Key: key} }

// notFoundAs turns a store's bare ErrNotFound into one that names what was
// looked for, and passes every other error through.
func notFoundAs(err error, what, key string) error {
	var nf *NotFoundError
	if errors.Is(err, ErrNotFound) && !errors.As(err, &nf) {
		return notFound(what, key)
	}
	return err
}

// FieldConflict is a conflict over one field's value (a portal's address
// or host name taken by another): it matches ErrConflict and names the
// field, so that a form shows it under that field.
type FieldConflict struct {
	Field  string
	Reason string // a sentence: "the address /p/x is taken by another portal; choose another"
}

func (e *FieldConflict) Error() string { return ErrConflict.Error() + ": " + e.Reason }

// Is makes errors.Is(err, ErrConflict) true.
func (e *FieldConflict) Is(target error) bool { return target == ErrConflict }

// forbidden builds an ErrForbidden with a sentence that says why.
func forbidden(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrForbidden}, args...)...)
}

// conflict builds an ErrConflict with a sentence that says why.
func conflict(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrConflict}, args...)...)
}

// Describe turns any error into the sentence a person reads, in the
// console, over SSH, on a page or from the API: its own words without the
// sentinel's prefix ("not allowed: "), beginning with a capital letter, on
// one line.
func Describe(err error) string {
	if err == nil {
		return ""
	}
	s := err.Error()
	for _, sentinel := range []error{ErrInvalid, ErrForbidden, ErrConflict, ErrNotFound, ErrNoAccess} {
		s = strings.TrimPrefix(s, sentinel.Error()+": ")
	}
	return FirstUpper(strings.Join(strings.Fields(s), " "))
}

// Clause is a sentence made to follow a colon: its first letter in lower
// case, unless the first word is a name or an abbreviation ("SSH", "Acme").
func Clause(s string) string {
	r := []rune(s)
	if len(r) > 1 && unicode.IsUpper(r[0]) && unicode.IsLower(r[1]) && !strings.HasPrefix(s, "I ") {
		r[0] = unicode.ToLower(r[0])
		return string(r)
	}
	return s
}

// FirstUpper begins s with a capital letter, as a sentence or a heading
// does ("2 SSH keys" stays as it is).
func FirstUpper(s string) string {
	if r, n := utf8.DecodeRuneInString(s); n > 0 && unicode.IsLower(r) {
		return string(unicode.ToUpper(r)) + s[n:]
	}
	return s
}
