package core

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Owners act from their phone: the notice of an access request carries
// Grant access and Dismiss buttons. They open a page (GET shows the request
// and changes nothing, so a mail scanner that follows them does no harm);
// only a POST from that page acts, authorised by a single-use token bound
// to the request and to the person the notice was sent to, stored hashed,
// valid ActionTTL, and dead once the request is answered from anywhere.
const ActionTTL = 7 * 24 * time.Hour

// ErrActionDead: the button's token is unknown, used or older than ActionTTL.
var ErrActionDead = errors.New("this button no longer works (it was used, or the email is more than 7 days old); answer the request in the console")

// RequestClosedError: the request was answered already, from the console,
// over SSH or from another email. It matches ErrActionDead.
type RequestClosedError struct{ Request Request }

func (e *RequestClosedError) Error() string {
	r := e.Request
	return fmt.Sprintf("%s's request was %s already, by %s on %s", r.Email, r.State, r.ResolvedBy, r.ResolvedAt.Format(time.DateOnly))
}

// Is makes errors.Is(err, ErrActionDead) true.
func (e *RequestClosedError) Is(target error) bool { return target == ErrActionDead }

// EmailAction is what the page behind a notice's buttons shows.
type EmailAction struct {
	Request RequestView // with its address note and the roles that may be granted
	Org     Org
	By      User // the owner or manager the notice was sent to, who acts
}

// EmailAnswer is what the page's form sends.
type EmailAnswer struct {
	Grant bool // false: dismiss
	Role  Role // for a grant; "" is client
}

// newRequestAction stores the token of a notice's buttons for userID and
// returns its secret.
func (op *operation) newRequestAction(r Request, userID uint64) (string, error) {
	secret, err := NewToken(op.s.rand)
	if err != nil {
		return "", err
	}
	t := Token{Hash: HashSecret(secret), Kind: TokenRequestAction, Email: r.Email, UserID: userID, PortalID: r.PortalID,
		RequestID: r.ID, CreatedAt: op.now, ExpiresAt: op.now.Add(ActionTTL)}
	return secret, op.PutToken(t)
}

// requestAction resolves a button's token: the token, the request (still
// pending) and the person acting, who must still manage the organization.
func (op *operation) requestAction(secret string) (Token, Request, Actor, Role, error) {
	fail := func(err error) (Token, Request, Actor, Role, error) { return Token{}, Request{}, Actor{}, "", err }
	if !WellFormedToken(secret) {
		return fail(ErrActionDead)
	}
	t, err := op.Token(HashSecret(secret))
	switch {
	case errors.Is(err, ErrNotFound) || err == nil && t.Kind != TokenRequestAction:
		return fail(ErrActionDead)
	case err != nil:
		return fail(err)
	case !op.now.Before(t.ExpiresAt):
		return fail(ErrActionDead)
	}
	r, err := op.Request(t.RequestID)
	if err != nil {
		return fail(notFoundAs(err, "access request", fmt.Sprint(t.RequestID)))
	}
	if r.State != RequestPending { // answered, from here or anywhere: say how
		return fail(&RequestClosedError{Request: r})
	}
	if !t.UsedAt.IsZero() {
		return fail(ErrActionDead)
	}
	u, err := op.User(t.UserID)
	if err != nil {
		return fail(notFoundAs(err, "user", fmt.Sprint(t.UserID)))
	}
	a := UserActor(u, "email")
	by, err := op.manage(a, r.OrgID)
	if err != nil {
		return fail(err)
	}
	return t, r, a, by, nil
}

// RequestByEmailAction is the page a notice's button opens: the request,
// whom it is from (with its ASCII form and any look-alike warning) and the
// roles its reader may grant. It changes nothing.
func (s *AccessRequests) RequestByEmailAction(ctx context.Context, secret string) (EmailAction, error) {
	return readResult(s.engine, ctx, func(op *operation) (EmailAction, error) {
		_, r, a, by, err := op.requestAction(secret)
		if err != nil {
			return EmailAction{}, err
		}
		p, err := op.Portal(r.PortalID)
		if err != nil {
			return EmailAction{}, err
		}
		org, err := op.Org(r.OrgID)
		if err != nil {
			return EmailAction{}, err
		}
		note, err := op.noteAddress(r.OrgID, r.Email)
		if err != nil {
			return EmailAction{}, err
		}
		u, err := op.User(a.UserID)
		if err != nil {
			return EmailAction{}, err
		}
		return EmailAction{Request: RequestView{Request: r, Portal: p, Note: note, Actions: requestActions(by, r)}, Org: org, By: u}, nil
	})
}

// AnswerFromEmail grants or dismisses the request behind a notice's button,
// as its reader, once; the audit log says it was answered from email. The
// page showed the address's warning, so a grant needs no other
// confirmation.
func (s *AccessRequests) AnswerFromEmail(ctx context.Context, secret string, in EmailAnswer) (InviteResult, error) {
	return writeResult(s.engine, ctx, func(op *operation) (InviteResult, error) {
		t, r, a, _, err := op.requestAction(secret)
		if err != nil {
			return InviteResult{}, err
		}
		t.UsedAt = op.now
		if err := op.PutToken(t); err != nil {
			return InviteResult{}, err
		}
		if !in.Grant {
			return InviteResult{}, op.dismissRequest(a, r.ID, "dismissed from email")
		}
		return op.grantRequest(a, GrantInput{RequestID: r.ID, Role: in.Role, Confirmed: true}, "granted from email")
	})
}
