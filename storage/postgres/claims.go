package postgres

import (
	"cmp"
	"slices"
	"time"

	"latchkey/core"
)

// ClaimDueMessages leases the due messages no other node holds: rows
// another claim has locked are skipped, not waited for, and a lease still
// running keeps a message from every other claim until it ends. The
// worker's own messages in held are left out even once their lease has
// run out: it is still delivering them.
func (x *tx) ClaimDueMessages(now, until time.Time, limit int, held map[uint64]struct{}) ([]core.Message, error) {
	ids := make([]int64, 0, len(held))
	for id := range held {
		ids = append(ids, int64(id))
	}
	ms, err := queryAll(x, scanMessage, `UPDATE messages SET leased_until = $2 WHERE id IN (
		SELECT id FROM messages
		WHERE `+pendingMessage+` AND next_attempt_at <= $1 AND leased_until <= $1 AND id <> ALL($4)
		ORDER BY next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)
		RETURNING `+messageColumns, ts(now), ts(until), limitOrAll(limit), ids)
	slices.SortFunc(ms, func(a, b core.Message) int {
		return cmp.Or(a.NextAttemptAt.Compare(b.NextAttemptAt), cmp.Compare(a.ID, b.ID))
	})
	return ms, err
}

// ClaimDueWebhookDeliveries leases the due deliveries as ClaimDueMessages
// leases mail.
func (x *tx) ClaimDueWebhookDeliveries(now, until time.Time, limit int) ([]core.WebhookDelivery, error) {
	ds, err := queryAll(x, scanDelivery, `UPDATE webhook_deliveries SET leased_until = $2 WHERE id IN (
		SELECT id FROM webhook_deliveries
		WHERE `+pendingDelivery+` AND next_attempt_at <= $1 AND leased_until <= $1
		ORDER BY next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)
		RETURNING `+deliveryColumns, ts(now), ts(until), limitOrAll(limit))
	slices.SortFunc(ds, func(a, b core.WebhookDelivery) int {
		return cmp.Or(a.NextAttemptAt.Compare(b.NextAttemptAt), cmp.Compare(a.ID, b.ID))
	})
	return ds, err
}
