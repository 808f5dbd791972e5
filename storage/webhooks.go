package storage

import (
	"bytes"
	"encoding/binary"
	"time"

	"latchkey/core"
)

// Webhooks (id → webhook, indexed by organization) and their deliveries
// (id → delivery, indexed by webhook, and the pending ones by when they
// are due, like the mail outbox).
var (
	bWebhooks          = []byte("webhooks")                   // id → Webhook
	bWebhooksOrg       = []byte("webhooks_by_org")            // org|id
	bWebhookDeliveries = []byte("webhook_deliveries")         // id → WebhookDelivery
	bWebhookDue        = []byte("webhook_deliveries_due")     // due (ns)|id, pending ones only
	bWebhookByHook     = []byte("webhook_deliveries_by_hook") // webhook|id
)

var _ core.WebhookStore = (*tx)(nil)

type webhookRecord struct {
	ID             uint64              `json:"id"`
	OrgID          uint64              `json:"org_id"`
	URL            string              `json:"url"`
	Events         []core.WebhookEvent `json:"events"`
	Secret         []byte              `json:"secret"`
	CreatorTag     string              `json:"creator"`
	CreatedAt      time.Time           `json:"created_at"`
	FailingSince   time.Time           `json:"failing_since,omitzero"`
	LastDeliveryAt time.Time           `json:"last_delivery_at,omitzero"`
	DisabledAt     time.Time           `json:"disabled_at,omitzero"`
	DisabledReason string              `json:"disabled_reason,omitempty"`
}

type webhookDeliveryRecord struct {
	ID            uint64             `json:"id"`
	WebhookID     uint64             `json:"webhook_id"`
	OrgID         uint64             `json:"org_id"`
	MsgID         string             `json:"msg_id"`
	Event         core.WebhookEvent  `json:"event"`
	Payload       []byte             `json:"payload"`
	CreatedAt     time.Time          `json:"created_at"`
	State         core.DeliveryState `json:"state"`
	Attempts      int                `json:"attempts,omitempty"`
	NextAttemptAt time.Time          `json:"next_attempt_at,omitzero"`
	LastAttemptAt time.Time          `json:"last_attempt_at,omitzero"`
	LastStatus    int                `json:"last_status,omitempty"`
	LastLatencyMS int64              `json:"last_latency_ms,omitempty"`
	LastResponse  string             `json:"last_response,omitempty"`
	DeliveredAt   time.Time          `json:"delivered_at,omitzero"`
}

func (x *tx) Webhook(id uint64) (core.Webhook, error) {
	return get[core.Webhook](x.b(bWebhooks), u64(id))
}

func (x *tx) PutWebhook(w *core.Webhook) error {
	b := x.b(bWebhooks)
	if err := nextID(b, &w.ID); err != nil {
		return err
	}
	if err := x.b(bWebhooksOrg).Put(cat(u64(w.OrgID), u64(w.ID)), nil); err != nil {
		return err
	}
	return put(b, u64(w.ID), w)
}

func (x *tx) DeleteWebhook(id uint64) error {
	w, err := x.Webhook(id)
	if err != nil {
		return err
	}
	var ids [][]byte
	err = scanPrefix(x.b(bWebhookByHook), u64(id), false, func(k, _ []byte) (bool, error) {
		ids = append(ids, append([]byte(nil), k...))
		return true, nil
	})
	if err != nil {
		return err
	}
	for _, k := range ids {
		if err := x.deleteDelivery(idBytes(k)); err != nil {
			return err
		}
	}
	if err := x.b(bWebhooksOrg).Delete(cat(u64(w.OrgID), u64(id))); err != nil {
		return err
	}
	return x.b(bWebhooks).Delete(u64(id))
}

// deleteDelivery removes a delivery and its index entries.
func (x *tx) deleteDelivery(id uint64) error {
	d, err := x.WebhookDelivery(id)
	if err != nil {
		return err
	}
	if d.Pending() {
		if err := x.b(bWebhookDue).Delete(webhookDueKey(&d)); err != nil {
			return err
		}
	}
	if err := x.b(bWebhookByHook).Delete(cat(u64(d.WebhookID), u64(d.ID))); err != nil {
		return err
	}
	return x.b(bWebhookDeliveries).Delete(u64(id))
}

func (x *tx) Webhooks(orgID uint64) ([]core.Webhook, error) {
	return listByPrefix[core.Webhook](x, bWebhooksOrg, bWebhooks, u64(orgID), false, 0)
}

func (x *tx) WebhookDelivery(id uint64) (core.WebhookDelivery, error) {
	return get[core.WebhookDelivery](x.b(bWebhookDeliveries), u64(id))
}

func webhookDueKey(d *core.WebhookDelivery) []byte {
	ns := d.NextAttemptAt.UnixNano()
	if ns < 0 || d.NextAttemptAt.IsZero() {
		ns = 0
	}
	return cat(u64(uint64(ns)), u64(d.ID))
}

func (x *tx) PutWebhookDelivery(d *core.WebhookDelivery) error {
	due := x.b(bWebhookDue)
	if d.ID != 0 {
		if old, err := x.WebhookDelivery(d.ID); err == nil && old.Pending() {
			if err := due.Delete(webhookDueKey(&old)); err != nil {
				return err
			}
		}
	}
	if err := nextID(x.b(bWebhookDeliveries), &d.ID); err != nil {
		return err
	}
	if d.Pending() {
		if err := due.Put(webhookDueKey(d), nil); err != nil {
			return err
		}
	}
	if err := x.b(bWebhookByHook).Put(cat(u64(d.WebhookID), u64(d.ID)), nil); err != nil {
		return err
	}
	return put(x.b(bWebhookDeliveries), u64(d.ID), d)
}

func (x *tx) DueWebhookDeliveries(now time.Time, limit int) ([]core.WebhookDelivery, error) {
	var out []core.WebhookDelivery
	c := x.b(bWebhookDue).Cursor()
	for k, _ := c.First(); k != nil && (limit <= 0 || len(out) < limit); k, _ = c.Next() {
		if int64(binary.BigEndian.Uint64(k[:8])) > now.UnixNano() {
			break
		}
		d, err := x.WebhookDelivery(idBytes(k))
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

func (x *tx) NextWebhookDue() (time.Time, error) {
	k, _ := x.b(bWebhookDue).Cursor().First()
	if k == nil {
		return time.Time{}, nil
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(k[:8]))).UTC(), nil
}

func (x *tx) WebhookDeliveries(webhookID, beforeID uint64, limit int) ([]core.WebhookDelivery, error) {
	prefix := u64(webhookID)
	c := x.b(bWebhookByHook).Cursor()
	var k []byte
	if beforeID == 0 {
		k, _ = seekLast(c, prefix)
	} else {
		k, _ = seekBefore(c, cat(prefix, u64(beforeID)))
	}
	var out []core.WebhookDelivery
	for ; k != nil && bytes.HasPrefix(k, prefix) && (limit <= 0 || len(out) < limit); k, _ = c.Prev() {
		d, err := x.WebhookDelivery(idBytes(k))
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

func (x *tx) DeleteWebhookDeliveriesBefore(t time.Time) (int, error) {
	var old []uint64
	c := x.b(bWebhookDeliveries).Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		d, err := decode[core.WebhookDelivery](v)
		if err != nil {
			return 0, err
		}
		if !d.CreatedAt.Before(t) {
			break // ids grow with time: the rest are younger
		}
		if !d.Pending() {
			old = append(old, d.ID)
		}
	}
	for _, id := range old {
		if err := x.deleteDelivery(id); err != nil {
			return 0, err
		}
	}
	return len(old), nil
}

// ClaimDueWebhookDeliveries lists the due deliveries (see ClaimDueMessages).
func (x *tx) ClaimDueWebhookDeliveries(now, _ time.Time, limit int) ([]core.WebhookDelivery, error) {
	return x.DueWebhookDeliveries(now, limit)
}
