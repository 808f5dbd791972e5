package sshd

import (
	"context"
	"errors"
	"io"
	"strconv"
	"strings"

	"latchkey/core"
)

// webhookRow is a webhook as `webhooks ls` prints it; the secret only ever
// appears in `webhooks add`'s output.
type webhookRow struct {
	ID           uint64   `json:"id"`
	URL          string   `json:"url"`
	Events       []string `json:"events"`
	State        string   `json:"state"` // active, "failing since …", "disabled …: reason"
	Creator      string   `json:"created_by"`
	Created      string   `json:"created"`
	LastDelivery string   `json:"last_delivery,omitempty"`
	Secret       string   `json:"secret,omitempty"`
}

func newWebhookRow(w core.Webhook) webhookRow {
	r := webhookRow{ID: w.ID, URL: w.URL, State: w.State(), Creator: w.CreatorTag, Created: stamp(w.CreatedAt), LastDelivery: stamp(w.LastDeliveryAt)}
	for _, e := range w.Events {
		r.Events = append(r.Events, string(e))
	}
	return r
}

// deliveryRow is one delivery of a webhook, as `webhooks deliveries` prints it.
type deliveryRow struct {
	ID          uint64 `json:"id"`
	WebhookID   string `json:"webhook_id"` // the webhook-id header, the same on every attempt
	Event       string `json:"event"`
	State       string `json:"state"`
	Attempts    int    `json:"attempts"`
	Queued      string `json:"queued"`
	LastAttempt string `json:"last_attempt,omitempty"`
	Status      int    `json:"status,omitempty"`
	LatencyMS   int64  `json:"latency_ms,omitempty"`
	Response    string `json:"response,omitempty"`
	NextAttempt string `json:"next_attempt,omitempty"`
}

func newDeliveryRow(d core.WebhookDelivery) deliveryRow {
	r := deliveryRow{ID: d.ID, WebhookID: d.MsgID, Event: string(d.Event), State: string(d.State), Attempts: d.Attempts,
		Queued: stamp(d.CreatedAt), LastAttempt: stamp(d.LastAttemptAt), Status: d.LastStatus, LatencyMS: d.LastLatencyMS,
		Response: oneLine(d.LastResponse)}
	if d.Pending() {
		r.NextAttempt = stamp(d.NextAttemptAt)
	}
	return r
}

// maxDeliveryRows is how many deliveries `webhooks deliveries` prints.
const maxDeliveryRows = 100

// webhooksCmd: webhooks add URL --events LIST [--org SLUG] | ls [--org
// SLUG] | rm ID | enable ID | deliveries ID.
func (s *Server) webhooksCmd(ctx context.Context, a core.Actor, f *cmdFlags, args []string, out io.Writer) error {
	const use = "usage: webhooks add URL --events LIST [--org SLUG] | webhooks ls [--org SLUG] | webhooks rm ID | webhooks enable ID | webhooks deliveries ID"
	if len(args) == 0 {
		return usagef(use)
	}
	svc := s.cfg.Service
	cells := func(r webhookRow) []string {
		return []string{strconv.FormatUint(r.ID, 10), r.URL, strings.Join(r.Events, ","), r.State, r.Creator, r.Created, dash(r.LastDelivery)}
	}
	id := func(sub string) (uint64, error) {
		if len(args) != 2 {
			return 0, usagef("usage: webhooks %s ID", sub)
		}
		n, err := strconv.ParseUint(args[1], 10, 64)
		if err != nil || n == 0 {
			return 0, usagef("webhooks %s: %q is not a webhook id (webhooks ls lists them)", sub, args[1])
		}
		return n, nil
	}
	switch args[0] {
	case "add":
		if len(args) != 2 {
			return usagef("usage: webhooks add URL --events LIST [--org SLUG]")
		}
		if f.events == "" {
			return usagef("webhooks add needs --events (a comma-separated list of %s, or all)", eventWords())
		}
		events, err := core.ParseWebhookEvents(f.events)
		var bad *core.ValidationError
		if errors.As(err, &bad) {
			return usagef("--events: %s", bad.Reason)
		}
		org, err := s.org(ctx, a, f.org)
		if err != nil {
			return err
		}
		w, secret, err := svc.CreateWebhook(ctx, a, core.NewWebhook{OrgID: org.ID, URL: args[1], Events: events})
		if err != nil {
			return err
		}
		r := newWebhookRow(w)
		r.Secret = secret
		return write(out, f.json, []webhookRow{r}, func(r webhookRow) []string { return append(cells(r), r.Secret) })
	case "ls":
		if len(args) != 1 {
			return usagef("usage: webhooks ls [--org SLUG]")
		}
		org, err := s.org(ctx, a, f.org)
		if err != nil {
			return err
		}
		list, err := svc.WebhookList(ctx, a, org.ID)
		if err != nil {
			return err
		}
		rows := make([]webhookRow, len(list))
		for i, w := range list {
			rows[i] = newWebhookRow(w)
		}
		return write(out, f.json, rows, cells)
	case "rm", "enable":
		n, err := id(args[0])
		if err != nil {
			return err
		}
		var w core.Webhook
		if args[0] == "rm" {
			w, err = svc.RemoveWebhook(ctx, a, n)
		} else {
			w, err = svc.EnableWebhook(ctx, a, n)
		}
		if err != nil {
			return err
		}
		if args[0] == "rm" {
			w.DisabledAt, w.DisabledReason = svc.Now(), "removed"
		}
		return write(out, f.json, []webhookRow{newWebhookRow(w)}, cells)
	case "deliveries":
		n, err := id("deliveries")
		if err != nil {
			return err
		}
		list, err := svc.WebhookDeliveryLog(ctx, a, n, 0, maxDeliveryRows)
		if err != nil {
			return err
		}
		rows := make([]deliveryRow, len(list))
		for i, d := range list {
			rows[i] = newDeliveryRow(d)
		}
		return write(out, f.json, rows, func(r deliveryRow) []string {
			status := "-"
			if r.Status != 0 {
				status = strconv.Itoa(r.Status)
			}
			latency := "-"
			if r.LastAttempt != "" {
				latency = strconv.FormatInt(r.LatencyMS, 10) + "ms"
			}
			return []string{strconv.FormatUint(r.ID, 10), r.WebhookID, r.Event, r.State, strconv.Itoa(r.Attempts), r.Queued,
				dash(r.LastAttempt), status, latency, dash(r.NextAttempt), dash(r.Response)}
		})
	}
	return usagef("webhooks: unknown subcommand %q (%s)", args[0], strings.TrimPrefix(use, "usage: "))
}

func eventWords() string {
	w := make([]string, len(core.WebhookEvents))
	for i, e := range core.WebhookEvents {
		w[i] = string(e)
	}
	return strings.Join(w, ", ")
}
