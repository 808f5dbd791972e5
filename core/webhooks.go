package core

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
)

// Webhooks tell an organization's other systems what happened, as it
// happens. An event is queued in the transaction of the change that caused
// it (the outbox, like mail), so a change is never committed without its
// events nor an event sent for a change that was rolled back; the worker
// (package core/webhook) posts it, signed as the Standard Webhooks
// specification says, and retries until the receiver takes it. Every
// attempt carries the same webhook-id: a receiver that got it twice (the
// worker crashed between the post and its record) drops the second.

// WebhookEvent is a kind of event a webhook may subscribe to.
type WebhookEvent string

// The events of webhooks.
const (
	EventLinkCreated     WebhookEvent = "link.created"     // a link was generated, rotated, or made by an invitation
	EventLinkRedeemed    WebhookEvent = "link.redeemed"    // a client opened a portal with their link
	EventLinkDeactivated WebhookEvent = "link.deactivated" // a link was turned off
	EventAccessRequested WebhookEvent = "access.requested" // a stranger asked for access to a closed portal
	EventAccessGranted   WebhookEvent = "access.granted"   // someone was given access to a portal
	EventAccessDismissed WebhookEvent = "access.dismissed" // an access request was dismissed
	EventMemberInvited   WebhookEvent = "member.invited"   // someone was invited
	EventMemberRemoved   WebhookEvent = "member.removed"   // someone lost their access to a portal, or the organization
	EventMailFailed      WebhookEvent = "mail.failed"      // an email could not be delivered
	EventPing            WebhookEvent = "ping"             // sent once, when the webhook is added
)

// WebhookEvents lists the events a webhook subscribes to, in the order
// they are documented (ping is always sent and never subscribed to).
var WebhookEvents = []WebhookEvent{EventLinkCreated, EventLinkRedeemed, EventLinkDeactivated, EventAccessRequested,
	EventAccessGranted, EventAccessDismissed, EventMemberInvited, EventMemberRemoved, EventMailFailed}

// eventOfAction is the webhook event an audited action announces
// (link.created is announced where every link is made: issueLink).
var eventOfAction = map[string]WebhookEvent{
	"link.redeemed":     EventLinkRedeemed,
	"link.deactivated":  EventLinkDeactivated,
	"access.requested":  EventAccessRequested,
	"access.granted":    EventAccessGranted,
	"request.granted":   EventAccessGranted,
	"request.dismissed": EventAccessDismissed,
	"member.invited":    EventMemberInvited,
	"member.removed":    EventMemberRemoved,
	"access.removed":    EventMemberRemoved,
	"mail.failed":       EventMailFailed,
}

// ParseWebhookEvents reads a comma-separated list of events; "all" is
// every event.
func ParseWebhookEvents(s string) ([]WebhookEvent, error) {
	if strings.TrimSpace(s) == "all" {
		return slices.Clone(WebhookEvents), nil
	}
	var out []WebhookEvent
	for part := range strings.SplitSeq(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, WebhookEvent(part))
		}
	}
	return cleanWebhookEvents(out)
}

// cleanWebhookEvents checks a list of events and returns it without
// repeats, in the documented order.
func cleanWebhookEvents(evs []WebhookEvent) ([]WebhookEvent, error) {
	var out []WebhookEvent
	for _, e := range evs {
		if !slices.Contains(WebhookEvents, e) {
			return nil, invalid("events", "%q is not an event; the events are %s, or all", e, webhookEventList())
		}
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	if len(out) == 0 {
		return nil, invalid("events", "give at least one event: %s, or all", webhookEventList())
	}
	slices.SortFunc(out, func(a, b WebhookEvent) int { return slices.Index(WebhookEvents, a) - slices.Index(WebhookEvents, b) })
	return out, nil
}

func webhookEventList() string {
	names := make([]string, len(WebhookEvents))
	for i, e := range WebhookEvents {
		names[i] = string(e)
	}
	return strings.Join(names, ", ")
}

// WebhookSecretPrefix begins every webhook's signing secret.
const WebhookSecretPrefix = "whsec_"

// Webhook is an address an organization's events are posted to.
type Webhook struct {
	ID         uint64         `json:"id"`
	OrgID      uint64         `json:"org_id"`
	URL        string         `json:"url"`
	Events     []WebhookEvent `json:"events"`
	Secret     []byte         `json:"secret"` // the whsec_ secret, sealed: the worker signs with it
	CreatorTag string         `json:"creator"`
	CreatedAt  time.Time      `json:"created_at"`
	// FailingSince is the first failed attempt since the last delivered
	// one (zero: the last attempt was delivered, or none was made).
	FailingSince   time.Time `json:"failing_since,omitzero"`
	LastDeliveryAt time.Time `json:"last_delivery_at,omitzero"` // the last delivered attempt
	DisabledAt     time.Time `json:"disabled_at,omitzero"`
	DisabledReason string    `json:"disabled_reason,omitempty"`
}

// Active reports whether events are still queued for the webhook.
func (w Webhook) Active() bool { return w.DisabledAt.IsZero() }

// Subscribed reports whether the webhook takes events of this kind.
func (w Webhook) Subscribed(e WebhookEvent) bool {
	return w.Active() && (e == EventPing || slices.Contains(w.Events, e))
}

// State is the webhook's state as the console and SSH say it.
func (w Webhook) State() string {
	switch {
	case !w.DisabledAt.IsZero():
		return "disabled " + w.DisabledAt.Format("2 Jan 2006") + ": " + w.DisabledReason
	case !w.FailingSince.IsZero():
		return "failing since " + w.FailingSince.Format("2 Jan 2006 15:04 MST")
	}
	return "active"
}

// DeliveryState is where a webhook delivery stands.
type DeliveryState string

// Delivery states.
const (
	DeliveryPending   DeliveryState = "pending"   // queued, or waiting for its next attempt
	DeliveryDelivered DeliveryState = "delivered" // the receiver answered 2xx
	DeliveryFailed    DeliveryState = "failed"    // given up, or its webhook was disabled
)

// WebhookDelivery is one event on its way to one webhook, and the record of
// its attempts.
type WebhookDelivery struct {
	ID        uint64        `json:"id"`
	WebhookID uint64        `json:"webhook_id"`
	OrgID     uint64        `json:"org_id"`
	MsgID     string        `json:"msg_id"` // the webhook-id header: the same on every attempt
	Event     WebhookEvent  `json:"event"`
	Payload   []byte        `json:"payload"` // the body, fixed when queued
	CreatedAt time.Time     `json:"created_at"`
	State     DeliveryState `json:"state"`
	Attempts  int           `json:"attempts,omitempty"`
	// NextAttemptAt is when a pending delivery is due.
	NextAttemptAt time.Time `json:"next_attempt_at,omitzero"`
	LastAttemptAt time.Time `json:"last_attempt_at,omitzero"`
	LastStatus    int       `json:"last_status,omitempty"`     // the HTTP status of the last attempt (0: no answer)
	LastLatencyMS int64     `json:"last_latency_ms,omitempty"` // how long the last attempt took
	LastResponse  string    `json:"last_response,omitempty"`   // the start of the answer, or the error
	DeliveredAt   time.Time `json:"delivered_at,omitzero"`
}

// Pending reports whether the worker still has to deliver it.
func (d WebhookDelivery) Pending() bool { return d.State == DeliveryPending }

// WebhookStore holds webhooks and their deliveries.
type WebhookStore interface {
	Webhook(id uint64) (Webhook, error)
	// PutWebhook assigns an id to a new webhook; its organization never changes.
	PutWebhook(w *Webhook) error
	// DeleteWebhook removes a webhook and every delivery of it.
	DeleteWebhook(id uint64) error
	// Webhooks lists an organization's webhooks, oldest first.
	Webhooks(orgID uint64) ([]Webhook, error)
	WebhookDelivery(id uint64) (WebhookDelivery, error)
	// PutWebhookDelivery assigns an id to a new delivery and keeps the
	// pending ones indexed by when they are due.
	PutWebhookDelivery(d *WebhookDelivery) error
	// DueWebhookDeliveries lists pending deliveries due at now, earliest first.
	DueWebhookDeliveries(now time.Time, limit int) ([]WebhookDelivery, error)
	// ClaimDueWebhookDeliveries is DueWebhookDeliveries for the worker that
	// posts them, leased until until as ClaimDueMessages leases mail.
	ClaimDueWebhookDeliveries(now, until time.Time, limit int) ([]WebhookDelivery, error)
	// NextWebhookDue is when the next pending delivery falls due (zero: none).
	NextWebhookDue() (time.Time, error)
	// WebhookDeliveries lists a webhook's deliveries with an id below
	// beforeID (0: from the newest), newest first.
	WebhookDeliveries(webhookID, beforeID uint64, limit int) ([]WebhookDelivery, error)
	// DeleteWebhookDeliveriesBefore removes the deliveries, no longer
	// pending, created before t.
	DeleteWebhookDeliveriesBefore(t time.Time) (int, error)
}

// Webhooks registers, lists and removes webhooks, and is what the delivery
// worker takes its work from.
type Webhooks struct{ *engine }

// NewWebhook is what CreateWebhook needs.
type NewWebhook struct {
	OrgID  uint64
	URL    string
	Events []WebhookEvent
}

// MaxWebhooks bounds an organization's webhooks.
const MaxWebhooks = 20

// WebhookRetention is how long the delivery log is kept.
const WebhookRetention = 30 * 24 * time.Hour

// WebhookGiveUp is how long a delivery is retried before it is given up.
const WebhookGiveUp = 24 * time.Hour

// WebhookFailingLimit is how long a webhook may fail before it is
// disabled (and its owner told).
const WebhookFailingLimit = 72 * time.Hour

// mayHandleWebhooks: the organization's owner (or an instance admin), or a
// token of theirs with the webhooks:write scope. A webhook hears every
// event of the organization, the emails of everyone it concerns included.
func (op *operation) mayHandleWebhooks(a Actor, orgID uint64) (Org, error) {
	o, by, err := op.orgFor(a, orgID)
	if err != nil {
		return Org{}, err
	}
	if by != RoleOwner {
		return Org{}, forbidden("only the owner adds and removes webhooks")
	}
	return o, nil
}

// CreateWebhook registers an address for the organization's events and
// returns it with its signing secret, shown this once. A ping is queued to
// it at once.
func (s *Webhooks) CreateWebhook(ctx context.Context, a Actor, n NewWebhook) (Webhook, string, error) {
	u, err := s.opts.Webhooks.parseWebhookURL(n.URL)
	if err != nil {
		return Webhook{}, "", err
	}
	events, err := cleanWebhookEvents(n.Events)
	if err != nil {
		return Webhook{}, "", err
	}
	// Who may add one is checked before the host is looked up: a stranger
	// learns nothing about the instance's network from the answer.
	if err := s.read(ctx, func(op *operation) error { _, err := op.mayHandleWebhooks(a, n.OrgID); return err }); err != nil {
		return Webhook{}, "", err
	}
	if err := s.opts.Webhooks.checkWebhookHost(ctx, u); err != nil {
		return Webhook{}, "", err
	}
	var raw [32]byte
	if _, err := io.ReadFull(s.rand, raw[:]); err != nil {
		return Webhook{}, "", err
	}
	secret := WebhookSecretPrefix + base64.StdEncoding.EncodeToString(raw[:])
	var w Webhook
	err = s.write(ctx, func(op *operation) error {
		o, err := op.mayHandleWebhooks(a, n.OrgID)
		if err != nil {
			return err
		}
		existing, err := op.Webhooks(n.OrgID)
		if err != nil {
			return err
		}
		if len(existing) >= MaxWebhooks {
			return conflict("%s already has %d webhooks, the most it may have; remove one first", o.Name, MaxWebhooks)
		}
		for _, e := range existing {
			if e.URL == u.String() {
				return &FieldConflict{Field: "url", Reason: fmt.Sprintf("webhook %d already posts to this address; remove it first, or give another address", e.ID)}
			}
		}
		w = Webhook{OrgID: n.OrgID, URL: u.String(), Events: events, Secret: s.keys.Seal(secret, sealWebhook),
			CreatorTag: a.label(), CreatedAt: op.now}
		if err := op.PutWebhook(&w); err != nil {
			return err
		}
		ping := webhookData{WebhookID: w.ID, Organization: o.Slug, URL: w.URL, Events: events}
		if err := op.queueWebhook(w, EventPing, ping); err != nil {
			return err
		}
		op.changed(Change{Kind: ChangeWebhooksChanged, OrgID: n.OrgID})
		return op.audit(a, n.OrgID, "webhook.added", WebhookTarget(w.URL), fmt.Sprintf("id %d; events %s", w.ID, joinEvents(events)))
	})
	if err != nil {
		return Webhook{}, "", err
	}
	return w, secret, nil
}

// WebhookTarget is how the audit log and the logs name a webhook's
// address: its scheme and host, the path and query cut to "…", since
// receivers often put a secret there (a Slack or Zapier hook's path is its
// key). The webhook's id, beside it, tells which one it is.
func WebhookTarget(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(an address that does not parse)"
	}
	t := u.Scheme + "://" + u.Host
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		t += "/…"
	}
	return t
}

func joinEvents(evs []WebhookEvent) string {
	s := make([]string, len(evs))
	for i, e := range evs {
		s[i] = string(e)
	}
	return strings.Join(s, ",")
}

// WebhookList is the organization's webhooks, oldest first.
func (s *Webhooks) WebhookList(ctx context.Context, a Actor, orgID uint64) ([]Webhook, error) {
	return readResult(s.engine, ctx, func(op *operation) ([]Webhook, error) {
		if _, err := op.mayHandleWebhooks(a, orgID); err != nil {
			return nil, err
		}
		return op.Webhooks(orgID)
	})
}

// webhookFor is a webhook the actor may handle; any other is not found.
func (op *operation) webhookFor(a Actor, id uint64) (Webhook, error) {
	w, err := op.Webhook(id)
	if err != nil {
		return Webhook{}, notFoundAs(err, "webhook", fmt.Sprint(id))
	}
	if _, err := op.mayHandleWebhooks(a, w.OrgID); errors.Is(err, ErrNotFound) {
		return Webhook{}, notFound("webhook", fmt.Sprint(id))
	} else if err != nil {
		return Webhook{}, err
	}
	return w, nil
}

// ShowWebhook is one webhook.
func (s *Webhooks) ShowWebhook(ctx context.Context, a Actor, id uint64) (Webhook, error) {
	return readResult(s.engine, ctx, func(op *operation) (Webhook, error) { return op.webhookFor(a, id) })
}

// RemoveWebhook stops the webhook and forgets it with its delivery log;
// the deliveries not yet made are never made.
func (s *Webhooks) RemoveWebhook(ctx context.Context, a Actor, id uint64) (Webhook, error) {
	return writeResult(s.engine, ctx, func(op *operation) (Webhook, error) {
		w, err := op.webhookFor(a, id)
		if err != nil {
			return Webhook{}, err
		}
		if err := op.DeleteWebhook(id); err != nil {
			return Webhook{}, err
		}
		op.changed(Change{Kind: ChangeWebhooksChanged, OrgID: w.OrgID})
		return w, op.audit(a, w.OrgID, "webhook.removed", WebhookTarget(w.URL), fmt.Sprintf("id %d", w.ID))
	})
}

// EnableWebhook turns a disabled webhook back on (the receiver is fixed):
// events are queued for it again from now on, starting with a ping.
func (s *Webhooks) EnableWebhook(ctx context.Context, a Actor, id uint64) (Webhook, error) {
	return writeResult(s.engine, ctx, func(op *operation) (Webhook, error) {
		w, err := op.webhookFor(a, id)
		if err != nil {
			return Webhook{}, err
		}
		if w.Active() {
			return Webhook{}, conflict("webhook %d is not disabled", w.ID)
		}
		w.DisabledAt, w.DisabledReason, w.FailingSince = time.Time{}, "", time.Time{}
		if err := op.PutWebhook(&w); err != nil {
			return Webhook{}, err
		}
		o, err := op.Org(w.OrgID)
		if err != nil {
			return Webhook{}, err
		}
		if err := op.queueWebhook(w, EventPing, webhookData{WebhookID: w.ID, Organization: o.Slug, URL: w.URL, Events: w.Events}); err != nil {
			return Webhook{}, err
		}
		op.changed(Change{Kind: ChangeWebhooksChanged, OrgID: w.OrgID})
		return w, op.audit(a, w.OrgID, "webhook.enabled", WebhookTarget(w.URL), fmt.Sprintf("id %d", w.ID))
	})
}

// WebhookDeliveryLog is a webhook's deliveries with an id below beforeID
// (0: from the newest), newest first, without their payloads' secrets
// (they have none) but with their payloads.
func (s *Webhooks) WebhookDeliveryLog(ctx context.Context, a Actor, id, beforeID uint64, limit int) ([]WebhookDelivery, error) {
	return readResult(s.engine, ctx, func(op *operation) ([]WebhookDelivery, error) {
		if _, err := op.webhookFor(a, id); err != nil {
			return nil, err
		}
		return op.WebhookDeliveries(id, beforeID, limit)
	})
}

// webhookData is the data of an event's payload: what happened, to whom,
// where, by whom. Its fields are the API's (see the OpenAPI document).
type webhookData struct {
	EventID      uint64         `json:"event_id,omitempty"` // the audit log event it announces
	Organization string         `json:"organization"`       // the organization's slug
	Portal       string         `json:"portal,omitempty"`   // the portal's slug, when the event concerns one
	Email        string         `json:"email,omitempty"`    // the person it concerns
	Actor        string         `json:"actor,omitempty"`    // who did it, as the audit log names them
	Action       string         `json:"action,omitempty"`   // the audit log's action
	Detail       string         `json:"detail,omitempty"`
	LinkID       uint64         `json:"link_id,omitempty"`    // link.created: the new link
	Role         Role           `json:"role,omitempty"`       // link.created: the role it gives
	WebhookID    uint64         `json:"webhook_id,omitempty"` // ping: the webhook
	URL          string         `json:"url,omitempty"`        // ping: its address
	Events       []WebhookEvent `json:"events,omitempty"`     // ping: what it subscribes to
}

// webhookPayload is the body of every delivery, as Standard Webhooks
// recommends: the type, when it happened, and the data.
type webhookPayload struct {
	Type      WebhookEvent `json:"type"`
	Timestamp time.Time    `json:"timestamp"`
	Data      webhookData  `json:"data"`
}

// queueWebhook adds one delivery of an event to the outbox, due now.
func (op *operation) queueWebhook(w Webhook, e WebhookEvent, data webhookData) error {
	body, err := json.Marshal(webhookPayload{Type: e, Timestamp: op.now, Data: data})
	if err != nil {
		return err
	}
	var id [16]byte
	if _, err := io.ReadFull(op.s.rand, id[:]); err != nil {
		return err
	}
	d := WebhookDelivery{WebhookID: w.ID, OrgID: w.OrgID, MsgID: "msg_" + base64.RawURLEncoding.EncodeToString(id[:]),
		Event: e, Payload: body, CreatedAt: op.now, State: DeliveryPending, NextAttemptAt: op.now}
	if err := op.PutWebhookDelivery(&d); err != nil {
		return err
	}
	op.changed(Change{Kind: ChangeWebhookQueued, OrgID: w.OrgID})
	return nil
}

// announce queues the webhook event an audited change stands for.
func (op *operation) announce(e *Event, portalSlug string) error {
	kind, ok := eventOfAction[e.Action]
	if !ok {
		return nil
	}
	return op.emit(e.OrgID, kind, webhookData{EventID: e.ID, Portal: portalSlug, Email: e.Target, Actor: e.Actor,
		Action: e.Action, Detail: e.Detail})
}

// emit queues an event to every webhook of the organization that
// subscribes to it.
func (op *operation) emit(orgID uint64, kind WebhookEvent, data webhookData) error {
	if orgID == 0 {
		return nil
	}
	hooks, err := op.Webhooks(orgID)
	if err != nil || len(hooks) == 0 {
		return err
	}
	for _, w := range hooks {
		if !w.Subscribed(kind) {
			continue
		}
		if data.Organization == "" {
			o, err := op.Org(orgID)
			if err != nil {
				return err
			}
			data.Organization = o.Slug
		}
		if err := op.queueWebhook(w, kind, data); err != nil {
			return err
		}
	}
	return nil
}

// DueWebhook is a delivery the worker is to make now, with what it needs
// to make it: the address and the opened signing secret.
type DueWebhook struct {
	WebhookDelivery
	URL    string
	Secret string
}

// DueWebhooks lists the pending deliveries whose next attempt has come,
// earliest first. A delivery whose secret does not open is left out (and
// recorded as failed by the next RecordWebhookAttempts that names it).
func (s *Webhooks) DueWebhooks(ctx context.Context, limit int) ([]DueWebhook, error) {
	return readResult(s.engine, ctx, func(op *operation) ([]DueWebhook, error) {
		ds, err := op.DueWebhookDeliveries(op.now, limit)
		if err != nil {
			return nil, err
		}
		return s.withSecrets(op, ds)
	})
}

// ClaimWebhooks is DueWebhooks for the worker that posts them: on a store
// several nodes share, they are its alone for lease (see
// OutboxStore.ClaimDueMessages); one it has not recorded by then is due
// again, to any node, with its webhook-id.
func (s *Webhooks) ClaimWebhooks(ctx context.Context, limit int, lease time.Duration) ([]DueWebhook, error) {
	return writeResult(s.engine, ctx, func(op *operation) ([]DueWebhook, error) {
		ds, err := op.ClaimDueWebhookDeliveries(op.now, op.now.Add(lease), limit)
		if err != nil {
			return nil, err
		}
		return s.withSecrets(op, ds)
	})
}

// withSecrets adds each delivery's address and opened secret.
func (s *Webhooks) withSecrets(op *operation, ds []WebhookDelivery) ([]DueWebhook, error) {
	out := make([]DueWebhook, 0, len(ds))
	hooks := map[uint64]Webhook{}
	for _, d := range ds {
		w, ok := hooks[d.WebhookID]
		if !ok {
			var err error
			if w, err = op.Webhook(d.WebhookID); err != nil && !errors.Is(err, ErrNotFound) {
				return nil, err
			}
			hooks[d.WebhookID] = w
		}
		due := DueWebhook{WebhookDelivery: d, URL: w.URL}
		if w.ID != 0 && w.Active() {
			secret, err := s.keys.Open(w.Secret, sealWebhook)
			if err == nil {
				due.Secret = secret
			}
		}
		out = append(out, due)
	}
	return out, nil
}

// NextWebhookDue is when the next pending delivery falls due (zero: none).
func (s *Webhooks) NextWebhookDue(ctx context.Context) (time.Time, error) {
	return readResult(s.engine, ctx, func(op *operation) (time.Time, error) { return op.NextWebhookDue() })
}

// WebhookAttempt is what one attempt to deliver came to.
type WebhookAttempt struct {
	DeliveryID uint64
	At         time.Time     // when it was made
	Status     int           // the HTTP status (0: no answer)
	Latency    time.Duration // how long it took
	Response   string        // the start of the answer's body, or the error
	// Next is when to try again if it failed (the worker's back-off);
	// zero, or later than WebhookGiveUp after the delivery was queued,
	// gives it up.
	Next time.Time
}

// Delivered reports whether the receiver took it.
func (a WebhookAttempt) Delivered() bool { return a.Status >= 200 && a.Status < 300 }

// maxWebhookResponse bounds the answer a delivery keeps.
const maxWebhookResponse = 200

// RecordWebhookAttempts writes the outcomes of a round of attempts in one
// transaction, and what they mean for their webhooks: a delivered attempt
// clears a failing webhook; a 410 Gone disables it; one failing for
// WebhookFailingLimit is disabled and its owner emailed. A delivery no
// longer pending (recorded by an earlier round, or its webhook removed)
// is left as it is.
func (s *Webhooks) RecordWebhookAttempts(ctx context.Context, attempts []WebhookAttempt) error {
	if len(attempts) == 0 {
		return nil
	}
	return s.write(ctx, func(op *operation) error {
		for _, at := range attempts {
			d, err := op.WebhookDelivery(at.DeliveryID)
			if errors.Is(err, ErrNotFound) {
				continue // its webhook was removed meanwhile
			} else if err != nil {
				return err
			}
			if !d.Pending() {
				continue
			}
			w, err := op.Webhook(d.WebhookID)
			if errors.Is(err, ErrNotFound) {
				continue
			} else if err != nil {
				return err
			}
			d.Attempts++
			d.LastAttemptAt, d.LastStatus, d.LastLatencyMS = at.At.UTC(), at.Status, at.Latency.Milliseconds()
			d.LastResponse = clipTo(printable(at.Response), maxWebhookResponse)
			giveUp := at.Next.IsZero() || at.Next.After(d.CreatedAt.Add(WebhookGiveUp))
			switch {
			case at.Delivered():
				d.State, d.DeliveredAt, d.NextAttemptAt = DeliveryDelivered, op.now, time.Time{}
				w.FailingSince, w.LastDeliveryAt = time.Time{}, op.now
			case at.Status == 410:
				d.State, d.NextAttemptAt = DeliveryFailed, time.Time{}
				if err := op.disableWebhook(&w, "the receiver answered 410 Gone", "", false); err != nil {
					return err
				}
			case !w.Active():
				d.State, d.NextAttemptAt = DeliveryFailed, time.Time{}
			default:
				if w.FailingSince.IsZero() {
					w.FailingSince = d.LastAttemptAt
				}
				if giveUp {
					d.State, d.NextAttemptAt = DeliveryFailed, time.Time{}
				} else {
					d.NextAttemptAt = at.Next.UTC()
				}
				if op.now.Sub(w.FailingSince) >= WebhookFailingLimit {
					d.State, d.NextAttemptAt = DeliveryFailed, time.Time{}
					reason := "every delivery failed for 3 days, the last one: " + attemptSummary(d)
					if err := op.disableWebhook(&w, reason, attemptSummary(d), true); err != nil {
						return err
					}
				}
			}
			if err := op.PutWebhookDelivery(&d); err != nil {
				return err
			}
			if err := op.PutWebhook(&w); err != nil {
				return err
			}
			op.changed(Change{Kind: ChangeWebhooksChanged, OrgID: w.OrgID})
		}
		return nil
	})
}

// attemptSummary is an attempt as the owner's mail and the log say it.
func attemptSummary(d WebhookDelivery) string {
	if d.LastStatus != 0 {
		return fmt.Sprintf("HTTP %d", d.LastStatus)
	}
	return clip(d.LastResponse)
}

// disableWebhook stops a webhook: no event is queued for it any more, its
// pending deliveries are given up, and (tell) its owner is emailed that it
// failed for days, the last attempt coming to last.
func (op *operation) disableWebhook(w *Webhook, reason, last string, tell bool) error {
	if !w.Active() {
		return nil
	}
	w.DisabledAt, w.DisabledReason = op.now, reason
	var before uint64
	for {
		page, err := op.WebhookDeliveries(w.ID, before, 200)
		if err != nil || len(page) == 0 {
			break
		}
		for _, d := range page {
			if d.Pending() {
				d.State, d.NextAttemptAt = DeliveryFailed, time.Time{}
				if d.LastResponse == "" {
					d.LastResponse = "not sent: the webhook was disabled"
				}
				if err := op.PutWebhookDelivery(&d); err != nil {
					return err
				}
			}
		}
		last := page[len(page)-1]
		if last.CreatedAt.Before(op.now.Add(-WebhookGiveUp)) {
			break // older ones are no longer pending
		}
		before = last.ID
	}
	if tell {
		o, err := op.Org(w.OrgID)
		if err != nil {
			return err
		}
		owner, err := op.owner(o.ID)
		if err != nil {
			return err
		}
		ou, err := op.User(owner.UserID)
		if err != nil {
			return err
		}
		data := map[string]string{"org": o.Name, "url": w.URL, "last": last, "since": w.FailingSince.Format(time.RFC3339),
			"webhook_id": fmt.Sprint(w.ID)}
		if err := op.queue(Message{OrgID: o.ID, Kind: MailWebhookDisabled, To: ou.Email, ToName: ou.Name, Data: data, Lang: o.Language}, ""); err != nil {
			return err
		}
	}
	return op.audit(Actor{Source: "webhooks"}, w.OrgID, "webhook.disabled", WebhookTarget(w.URL), fmt.Sprintf("id %d: %s", w.ID, clipTo(reason, 200)))
}

// webhookHost is the host of a webhook's address, for short listings.
func webhookHost(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return u.Host
}

// Host is the host the webhook posts to.
func (w Webhook) Host() string { return webhookHost(w.URL) }

// printable is a receiver's answer made safe to show in a terminal or a
// page: valid UTF-8, with control characters (an escape sequence could
// rewrite the owner's clipboard) and bidirectional overrides as spaces.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, "?"))
}
