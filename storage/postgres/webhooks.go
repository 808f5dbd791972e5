package postgres

import (
	"time"

	"latchkey/core"
)

// The store of webhooks and their deliveries, the pending ones indexed by
// when they are due (webhook_deliveries_due), like the mail outbox.

const webhookColumns = `id, org_id, url, events, secret, creator, created_at,
	failing_since, last_delivery_at, disabled_at, disabled_reason`

func scanWebhook(r row) (core.Webhook, error) {
	var w core.Webhook
	var events []string
	err := r.Scan(&w.ID, &w.OrgID, &w.URL, &events, &w.Secret, &w.CreatorTag, &w.CreatedAt,
		&w.FailingSince, &w.LastDeliveryAt, &w.DisabledAt, &w.DisabledReason)
	if events != nil {
		w.Events = make([]core.WebhookEvent, len(events))
		for i, e := range events {
			w.Events[i] = core.WebhookEvent(e)
		}
	}
	return w, err
}

func (x *tx) Webhook(id uint64) (core.Webhook, error) {
	return queryOne(x, scanWebhook, `SELECT `+webhookColumns+` FROM webhooks WHERE id = $1`, id)
}

func (x *tx) PutWebhook(w *core.Webhook) error {
	events := make([]string, len(w.Events))
	for i, e := range w.Events {
		events[i] = string(e)
	}
	args := []any{w.OrgID, w.URL, events, w.Secret, w.CreatorTag, ts(w.CreatedAt),
		ts(w.FailingSince), ts(w.LastDeliveryAt), ts(w.DisabledAt), w.DisabledReason}
	if w.ID == 0 {
		return x.insertID(&w.ID, `INSERT INTO webhooks (org_id, url, events, secret, creator, created_at,
				failing_since, last_delivery_at, disabled_at, disabled_reason)
			VALUES ($1, $2, $3, coalesce($4, ''::bytea), $5, $6, $7, $8, $9, $10) RETURNING id`, args...)
	}
	_, err := x.exec(`INSERT INTO webhooks (id, org_id, url, events, secret, creator, created_at,
			failing_since, last_delivery_at, disabled_at, disabled_reason)
		VALUES ($11, $1, $2, $3, coalesce($4, ''::bytea), $5, $6, $7, $8, $9, $10)
		ON CONFLICT (id) DO UPDATE SET org_id = EXCLUDED.org_id, url = EXCLUDED.url, events = EXCLUDED.events,
			secret = EXCLUDED.secret, creator = EXCLUDED.creator, created_at = EXCLUDED.created_at,
			failing_since = EXCLUDED.failing_since, last_delivery_at = EXCLUDED.last_delivery_at,
			disabled_at = EXCLUDED.disabled_at, disabled_reason = EXCLUDED.disabled_reason`,
		append(args, w.ID)...)
	return err
}

// DeleteWebhook removes the webhook and every delivery of it, pending ones
// too; a webhook that does not exist is ErrNotFound, with nothing removed.
func (x *tx) DeleteWebhook(id uint64) error {
	n, err := x.exec(`DELETE FROM webhooks WHERE id = $1`, id)
	if err != nil {
		return err
	}
	if n == 0 {
		return core.ErrNotFound
	}
	_, err = x.exec(`DELETE FROM webhook_deliveries WHERE webhook_id = $1`, id)
	return err
}

// Webhooks lists an organization's webhooks by id, oldest first.
func (x *tx) Webhooks(orgID uint64) ([]core.Webhook, error) {
	return queryAll(x, scanWebhook, `SELECT `+webhookColumns+` FROM webhooks WHERE org_id = $1 ORDER BY id`, orgID)
}

const deliveryColumns = `id, webhook_id, org_id, msg_id, event, payload, created_at, state, attempts,
	next_attempt_at, last_attempt_at, last_status, last_latency_ms, last_response, delivered_at`

// pendingDelivery is the predicate of the webhook_deliveries_due index, as
// a literal, so that the planner matches the index whatever the plan.
const pendingDelivery = `state = '` + string(core.DeliveryPending) + `'`

func scanDelivery(r row) (core.WebhookDelivery, error) {
	var d core.WebhookDelivery
	err := r.Scan(&d.ID, &d.WebhookID, &d.OrgID, &d.MsgID, &d.Event, &d.Payload, &d.CreatedAt, &d.State, &d.Attempts,
		&d.NextAttemptAt, &d.LastAttemptAt, &d.LastStatus, &d.LastLatencyMS, &d.LastResponse, &d.DeliveredAt)
	return d, err
}

func (x *tx) WebhookDelivery(id uint64) (core.WebhookDelivery, error) {
	return queryOne(x, scanDelivery, `SELECT `+deliveryColumns+` FROM webhook_deliveries WHERE id = $1`, id)
}

func (x *tx) PutWebhookDelivery(d *core.WebhookDelivery) error {
	args := []any{d.WebhookID, d.OrgID, d.MsgID, d.Event, d.Payload, ts(d.CreatedAt), d.State, d.Attempts,
		ts(d.NextAttemptAt), ts(d.LastAttemptAt), d.LastStatus, d.LastLatencyMS, d.LastResponse, ts(d.DeliveredAt)}
	if d.ID == 0 {
		return x.insertID(&d.ID, `INSERT INTO webhook_deliveries (webhook_id, org_id, msg_id, event, payload,
				created_at, state, attempts, next_attempt_at, last_attempt_at, last_status, last_latency_ms,
				last_response, delivered_at)
			VALUES ($1, $2, $3, $4, coalesce($5, ''::bytea), $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id`, args...)
	}
	_, err := x.exec(`INSERT INTO webhook_deliveries (id, webhook_id, org_id, msg_id, event, payload,
			created_at, state, attempts, next_attempt_at, last_attempt_at, last_status, last_latency_ms,
			last_response, delivered_at)
		VALUES ($15, $1, $2, $3, $4, coalesce($5, ''::bytea), $6, $7, $8, $9, $10, $11, $12, $13, $14)
		ON CONFLICT (id) DO UPDATE SET webhook_id = EXCLUDED.webhook_id, org_id = EXCLUDED.org_id,
			msg_id = EXCLUDED.msg_id, event = EXCLUDED.event, payload = EXCLUDED.payload,
			created_at = EXCLUDED.created_at, state = EXCLUDED.state, attempts = EXCLUDED.attempts,
			next_attempt_at = EXCLUDED.next_attempt_at, last_attempt_at = EXCLUDED.last_attempt_at,
			last_status = EXCLUDED.last_status, last_latency_ms = EXCLUDED.last_latency_ms,
			last_response = EXCLUDED.last_response, delivered_at = EXCLUDED.delivered_at`,
		append(args, d.ID)...)
	return err
}

// DueWebhookDeliveries orders by next attempt, then id, as bbolt's due
// index does (see DueMessages).
func (x *tx) DueWebhookDeliveries(now time.Time, limit int) ([]core.WebhookDelivery, error) {
	return queryAll(x, scanDelivery, `SELECT `+deliveryColumns+` FROM webhook_deliveries
		WHERE `+pendingDelivery+` AND next_attempt_at <= $1
		ORDER BY next_attempt_at, id LIMIT $2`, ts(now), limitOrAll(limit))
}

func (x *tx) NextWebhookDue() (time.Time, error) {
	var next *time.Time
	// Leased by another node: due here when the lease ends (see NextDue).
	if err := x.t.QueryRow(x.ctx, `SELECT min(greatest(next_attempt_at, leased_until)) FROM webhook_deliveries WHERE `+pendingDelivery).Scan(&next); err != nil {
		return time.Time{}, err
	}
	return dueSince(next), nil
}

func (x *tx) WebhookDeliveries(webhookID, beforeID uint64, limit int) ([]core.WebhookDelivery, error) {
	return queryAll(x, scanDelivery, `SELECT `+deliveryColumns+` FROM webhook_deliveries
		WHERE webhook_id = $1 AND ($2::bigint = 0 OR id < $2) ORDER BY id DESC LIMIT $3`,
		webhookID, beforeID, limitOrAll(limit))
}

// DeleteWebhookDeliveriesBefore removes the deliveries created before t
// that are no longer pending. Like bbolt, which walks them in id order and
// stops at the first one created at t or later, it looks no further than
// that one: ids are taken in the order of creation.
func (x *tx) DeleteWebhookDeliveriesBefore(t time.Time) (int, error) {
	n, err := x.exec(`DELETE FROM webhook_deliveries
		WHERE NOT (`+pendingDelivery+`) AND created_at < $1
			AND id < coalesce((SELECT min(id) FROM webhook_deliveries WHERE created_at >= $1), 9223372036854775807)`,
		ts(t))
	return int(n), err
}
