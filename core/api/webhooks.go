package api

import (
	"net/http"
	"strconv"

	"latchkey/core"
)

// ---- webhooks (core/webhooks.go): the organization's, handled with the
// webhooks:write scope by a token of its owner.

func (h *Handler) webhookRoutes() {
	h.handle("GET "+Prefix+"/webhooks", core.ScopeWebhooksWrite, listWebhooks)
	h.handle("POST "+Prefix+"/webhooks", core.ScopeWebhooksWrite, addWebhook)
	h.handle("GET "+Prefix+"/webhooks/{id}", core.ScopeWebhooksWrite, showWebhook)
	h.handle("DELETE "+Prefix+"/webhooks/{id}", core.ScopeWebhooksWrite, removeWebhook)
	h.handle("POST "+Prefix+"/webhooks/{id}/enable", core.ScopeWebhooksWrite, enableWebhook)
	h.handle("GET "+Prefix+"/webhooks/{id}/deliveries", core.ScopeWebhooksWrite, listDeliveries)
}

type webhookJSON struct {
	ID             uint64   `json:"id"`
	URL            string   `json:"url"`
	Events         []string `json:"events"`
	State          string   `json:"state"` // active, failing, disabled
	FailingSince   string   `json:"failing_since,omitempty"`
	DisabledAt     string   `json:"disabled_at,omitempty"`
	DisabledReason string   `json:"disabled_reason,omitempty"`
	LastDelivery   string   `json:"last_delivery,omitempty"`
	CreatedBy      string   `json:"created_by"`
	CreatedAt      string   `json:"created_at"`
	// Secret is the whsec_ signing secret: in the answer to its creation only.
	Secret string `json:"secret,omitempty"`
}

func webhookOf(w core.Webhook) webhookJSON {
	out := webhookJSON{ID: w.ID, URL: w.URL, Events: []string{}, State: "active", FailingSince: stamp(w.FailingSince),
		DisabledAt: stamp(w.DisabledAt), DisabledReason: w.DisabledReason, LastDelivery: stamp(w.LastDeliveryAt),
		CreatedBy: w.CreatorTag, CreatedAt: stamp(w.CreatedAt)}
	for _, e := range w.Events {
		out.Events = append(out.Events, string(e))
	}
	switch {
	case !w.Active():
		out.State = "disabled"
	case !w.FailingSince.IsZero():
		out.State = "failing"
	}
	return out
}

func listWebhooks(c *call) (int, any, error) {
	if _, _, err := page(c.r); err != nil { // at most core.MaxWebhooks: one page
		return 0, nil, err
	}
	hooks, err := c.h.svc.WebhookList(c.ctx, c.actor, c.tok.OrgID)
	if err != nil {
		return 0, nil, err
	}
	out := list[webhookJSON]{Items: make([]webhookJSON, len(hooks))}
	for i, w := range hooks {
		out.Items[i] = webhookOf(w)
	}
	return http.StatusOK, out, nil
}

type newWebhookJSON struct {
	URL    string   `json:"url"`
	Events []string `json:"events"`
}

func addWebhook(c *call) (int, any, error) {
	var in newWebhookJSON
	if err := decode(c.r, &in); err != nil {
		return 0, nil, err
	}
	events := make([]core.WebhookEvent, len(in.Events))
	for i, e := range in.Events {
		events[i] = core.WebhookEvent(e)
	}
	if len(in.Events) == 1 && in.Events[0] == "all" {
		events = core.WebhookEvents
	}
	w, secret, err := c.h.svc.CreateWebhook(c.ctx, c.actor, core.NewWebhook{OrgID: c.tok.OrgID, URL: in.URL, Events: events})
	if err != nil {
		return 0, nil, err
	}
	out := webhookOf(w)
	out.Secret = secret
	return http.StatusCreated, out, nil
}

func webhookID(c *call) (uint64, error) {
	id, err := strconv.ParseUint(c.r.PathValue("id"), 10, 64)
	if err != nil || id == 0 {
		return 0, &core.NotFoundError{What: "webhook", Key: c.r.PathValue("id")}
	}
	return id, nil
}

// ownWebhook is a webhook of the token's organization; another's is not found.
func (c *call) ownWebhook() (core.Webhook, error) {
	id, err := webhookID(c)
	if err != nil {
		return core.Webhook{}, err
	}
	w, err := c.h.svc.ShowWebhook(c.ctx, c.actor, id)
	if err == nil && w.OrgID != c.tok.OrgID {
		err = &core.NotFoundError{What: "webhook", Key: c.r.PathValue("id")}
	}
	return w, err
}

func showWebhook(c *call) (int, any, error) {
	w, err := c.ownWebhook()
	return http.StatusOK, webhookOf(w), err
}

func removeWebhook(c *call) (int, any, error) {
	w, err := c.ownWebhook()
	if err != nil {
		return 0, nil, err
	}
	_, err = c.h.svc.RemoveWebhook(c.ctx, c.actor, w.ID)
	return http.StatusNoContent, nil, err
}

func enableWebhook(c *call) (int, any, error) {
	if err := decode(c.r, &struct{}{}); err != nil {
		return 0, nil, err
	}
	w, err := c.ownWebhook()
	if err != nil {
		return 0, nil, err
	}
	w, err = c.h.svc.EnableWebhook(c.ctx, c.actor, w.ID)
	return http.StatusOK, webhookOf(w), err
}

type deliveryJSON struct {
	ID          uint64 `json:"id"`
	WebhookID   string `json:"webhook_id"`
	Event       string `json:"event"`
	State       string `json:"state"`
	Attempts    int    `json:"attempts"`
	QueuedAt    string `json:"queued_at"`
	LastAttempt string `json:"last_attempt_at,omitempty"`
	Status      int    `json:"status,omitempty"`
	LatencyMS   int64  `json:"latency_ms,omitempty"`
	Response    string `json:"response,omitempty"`
	NextAttempt string `json:"next_attempt_at,omitempty"`
	DeliveredAt string `json:"delivered_at,omitempty"`
}

func deliveryOf(d core.WebhookDelivery) deliveryJSON {
	out := deliveryJSON{ID: d.ID, WebhookID: d.MsgID, Event: string(d.Event), State: string(d.State), Attempts: d.Attempts,
		QueuedAt: stamp(d.CreatedAt), LastAttempt: stamp(d.LastAttemptAt), Status: d.LastStatus, LatencyMS: d.LastLatencyMS,
		Response: d.LastResponse, DeliveredAt: stamp(d.DeliveredAt)}
	if d.Pending() {
		out.NextAttempt = stamp(d.NextAttemptAt)
	}
	return out
}

func listDeliveries(c *call) (int, any, error) {
	limit, after, err := page(c.r)
	if err != nil {
		return 0, nil, err
	}
	var before uint64
	if after != "" {
		if before, err = strconv.ParseUint(after, 10, 64); err != nil {
			return 0, nil, badField(http.StatusBadRequest, "cursor", "is not a cursor this API gave (use next_cursor as it came)")
		}
	}
	w, err := c.ownWebhook()
	if err != nil {
		return 0, nil, err
	}
	ds, err := c.h.svc.WebhookDeliveryLog(c.ctx, c.actor, w.ID, before, limit+1)
	if err != nil {
		return 0, nil, err
	}
	out := list[deliveryJSON]{Items: []deliveryJSON{}}
	for i, d := range ds {
		if i == limit {
			out.NextCursor = cursor(strconv.FormatUint(ds[i-1].ID, 10))
			break
		}
		out.Items = append(out.Items, deliveryOf(d))
	}
	return http.StatusOK, out, nil
}
