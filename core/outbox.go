package core

import (
	"context"
	"fmt"
	"math"
	"time"
)

// Outbox operations for the mail worker (package core/mail) and the
// console. The worker is the system: its changes are audited as "system"
// from "mail".

var mailActor = Actor{Source: "mail"}

// DueMail lists pending messages whose next attempt has come, earliest first.
func (s *Mail) DueMail(ctx context.Context, limit int) ([]Message, error) {
	return readResult(s.engine, ctx, func(op *operation) ([]Message, error) { return op.DueMessages(op.now, limit) })
}

// ClaimMail is DueMail for the worker that delivers them, without the
// messages it holds (those it is still delivering): on a store several
// nodes share, they are its alone for lease (see
// OutboxStore.ClaimDueMessages); one it has not recorded by then is due
// again, to any node, with the same Message-ID. held is only read, and
// must not change until ClaimMail returns.
func (s *Mail) ClaimMail(ctx context.Context, limit int, lease time.Duration, held map[uint64]struct{}) ([]Message, error) {
	return writeResult(s.engine, ctx, func(op *operation) ([]Message, error) {
		return op.ClaimDueMessages(op.now, op.now.Add(lease), limit, held)
	})
}

// NextMailDue is when the next pending message falls due (zero: none pending).
func (s *Mail) NextMailDue(ctx context.Context) (time.Time, error) {
	return readResult(s.engine, ctx, func(op *operation) (time.Time, error) { return op.NextDue() })
}

// PendingMail counts the messages waiting for delivery (queued, or
// retrying), and apart from them those scheduled for later that were never
// tried (a summary of access requests, due at the end of its quiet period).
func (s *Mail) PendingMail(ctx context.Context) (pending, scheduled int, err error) {
	err = s.read(ctx, func(op *operation) error {
		due, err := op.DueMessages(time.Unix(0, math.MaxInt64), 0) // every pending message, whenever due
		for _, m := range due {
			if m.State == MessageQueued && m.Attempts == 0 && m.NextAttemptAt.After(op.now) {
				scheduled++
			} else {
				pending++
			}
		}
		return err
	})
	return pending, scheduled, err
}

// DeliveryOutcome is what one delivery attempt came to.
type DeliveryOutcome int

// Delivery outcomes.
const (
	Delivered DeliveryOutcome = iota + 1 // the server accepted the message
	Retry                                // a transient failure: try again at Next
	Failed                               // refused for good, or retried too long
)

// lastErrorLen bounds the server's answer an outbox message keeps (the audit
// log keeps its first 64 characters): enough for a multi-line SMTP reply.
const lastErrorLen = 1000

// Delivery is the result of one attempt to deliver an outbox message.
type Delivery struct {
	ID      uint64
	Outcome DeliveryOutcome
	Detail  string    // the server's answer or the error
	Next    time.Time // Retry: the next attempt
}

// RecordDeliveries writes the results of a round of delivery attempts in one
// transaction. A message that is no longer pending (recorded by an earlier
// run) is left as it is. A delivered or failed message drops its sealed
// secret: the outbox keeps no way to rebuild a link it no longer needs.
func (s *Mail) RecordDeliveries(ctx context.Context, ds []Delivery) error {
	if len(ds) == 0 {
		return nil
	}
	return s.write(ctx, func(op *operation) error {
		for _, d := range ds {
			m, err := op.Message(d.ID)
			if err != nil {
				return notFoundAs(err, "message", fmt.Sprint(d.ID))
			}
			if !m.Pending() {
				continue
			}
			m.Attempts++
			var action, detail string
			switch d.Outcome {
			case Delivered:
				m.State, m.SentAt, m.LastError, m.SealedToken, m.Data = MessageSent, op.now, "", nil, withoutSecrets(m.Data)
				action, detail = "mail.sent", fmt.Sprintf("%s, message %d, attempt %d: %s", m.Kind, m.ID, m.Attempts, clip(d.Detail))
			case Retry:
				m.State, m.LastError, m.NextAttemptAt = MessageRetrying, clipTo(d.Detail, lastErrorLen), d.Next.UTC()
				action, detail = "mail.retrying", fmt.Sprintf("%s, message %d, attempt %d failed: %s; next attempt %s",
					m.Kind, m.ID, m.Attempts, clip(d.Detail), m.NextAttemptAt.Format(time.RFC3339))
			case Failed:
				m.State, m.LastError, m.SealedToken, m.Data = MessageFailed, clipTo(d.Detail, lastErrorLen), nil, withoutSecrets(m.Data)
				action, detail = "mail.failed", fmt.Sprintf("%s, message %d: %s", m.Kind, m.ID, clip(d.Detail))
			default:
				return fmt.Errorf("message %d: unknown delivery outcome %d", d.ID, d.Outcome)
			}
			if err := op.PutMessage(&m); err != nil {
				return err
			}
			if err := op.audit(mailActor, m.OrgID, action, m.To, detail); err != nil {
				return err
			}
			if m.LinkID != 0 {
				if err := op.linkEvent(LinkEvent{LinkID: m.LinkID, Kind: LinkEventEmailed, Detail: deliveryWord(m) + ": " + clip(d.Detail)}); err != nil {
					return err
				}
			}
			op.changed(Change{Kind: ChangeMailChanged, OrgID: m.OrgID})
		}
		return nil
	})
}

// Outbox lists messages newest first for the console: an instance admin
// sees every message; an owner or manager those of their organizations.
func (s *Mail) Outbox(ctx context.Context, a Actor, beforeID uint64, limit int) ([]Message, error) {
	var out []Message
	err := s.read(ctx, func(op *operation) error {
		visible := map[uint64]bool{}
		if !a.Admin {
			orgs, err := op.consoleOrgs(a.UserID)
			if err != nil {
				return err
			}
			for _, o := range orgs {
				visible[o] = true
			}
		}
		for len(out) < limit || limit <= 0 {
			page, err := op.Messages(beforeID, 200)
			if err != nil || len(page) == 0 {
				return err
			}
			for _, m := range page {
				if a.Admin || visible[m.OrgID] {
					m.SealedToken, m.Data = nil, withoutSecrets(m.Data) // the console never needs them
					out = append(out, m)
					if limit > 0 && len(out) == limit {
						return nil
					}
				}
			}
			beforeID = page[len(page)-1].ID
		}
		return nil
	})
	return out, err
}

// MaxCaught is how many messages the built-in catcher keeps.
const MaxCaught = 1000

// StoreCaught keeps a message the catcher received, sealed, and forgets
// the oldest beyond MaxCaught.
func (s *Mail) StoreCaught(ctx context.Context, m CaughtMail) (CaughtMail, error) {
	m.Sealed = s.keys.Seal(string(m.Raw), sealCaught)
	m.Size = len(m.Raw)
	raw := m.Raw
	m.Raw = nil
	err := s.write(ctx, func(op *operation) error {
		c := m
		c.ReceivedAt = op.now
		if err := op.PutCaught(&c); err != nil {
			return err
		}
		if err := op.TrimCaught(MaxCaught); err != nil {
			return err
		}
		m = c
		op.changed(Change{Kind: ChangeMailChanged})
		return nil
	})
	m.Raw = raw
	return m, err
}

// CaughtMails lists the catcher's messages, newest first, without their
// content. Only an instance admin reads the catcher: it holds every
// organization's mail.
func (s *Mail) CaughtMails(ctx context.Context, a Actor, beforeID uint64, limit int) ([]CaughtMail, error) {
	if err := mayReadCatcher(a); err != nil {
		return nil, err
	}
	var out []CaughtMail
	err := s.read(ctx, func(op *operation) error {
		var err error
		out, err = op.CaughtMails(beforeID, limit)
		return err
	})
	for i := range out {
		out[i].Sealed = nil
	}
	return out, err
}

// CaughtMail is one caught message with its content.
func (s *Mail) CaughtMail(ctx context.Context, a Actor, id uint64) (CaughtMail, error) {
	if err := mayReadCatcher(a); err != nil {
		return CaughtMail{}, err
	}
	var m CaughtMail
	err := s.read(ctx, func(op *operation) error {
		var err error
		m, err = op.Caught(id)
		return notFoundAs(err, "message", fmt.Sprint(id))
	})
	if err != nil {
		return CaughtMail{}, err
	}
	raw, err := s.keys.Open(m.Sealed, sealCaught)
	if err != nil {
		return CaughtMail{}, err
	}
	m.Raw, m.Sealed = []byte(raw), nil
	return m, nil
}

// withoutSecrets is a message's data without its sealed code, once it is
// delivered or given up, and for every reader but the mail worker.
func withoutSecrets(data map[string]string) map[string]string {
	if _, ok := data[mailCodeKey]; !ok {
		return data
	}
	out := make(map[string]string, len(data)-1)
	for k, v := range data {
		if k != mailCodeKey {
			out[k] = v
		}
	}
	return out
}
