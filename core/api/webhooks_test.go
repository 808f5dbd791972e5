package api_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"latchkey/core"
	"latchkey/storage/storetest"
)

// Webhooks through the API: refused addresses and events with the field
// named and nothing stored, one added with its secret shown once and a
// ping queued, listed, its deliveries paged, enabled only when disabled,
// removed; another organization's webhook is not found.
func TestAPIWebhooks(t *testing.T) {
	in := newInstance(t)
	tok := in.token(core.ScopeWebhooksWrite)
	in.do("GET", "/webhooks", tok, nil) // its first use is recorded
	before := in.Dump()
	for _, c := range []struct {
		body   any
		status int
		field  string
		want   string
	}{
		{map[string]any{"url": "http://203.0.113.7/h", "events": []string{"all"}}, 422, "url", "https only"},
		{map[string]any{"url": "https://10.0.0.1/h", "events": []string{"all"}}, 422, "url", "private network"},
		{map[string]any{"url": "https://169.254.169.254/", "events": []string{"all"}}, 422, "url", "metadata"},
		{map[string]any{"url": "https://203.0.113.7/h", "events": []string{"link.exploded"}}, 422, "events", "not an event"},
		{map[string]any{"url": "https://203.0.113.7/h", "events": []string{}}, 422, "events", "at least one event"},
	} {
		a := in.do("POST", "/webhooks", tok, c.body)
		p := a.problem(t)
		if a.status != c.status || len(p.Errors) == 0 || p.Errors[0].Field != c.field || !strings.Contains(string(a.body), c.want) {
			t.Errorf("%v: %d %s", c.body, a.status, a.body)
		}
	}
	if a := in.do("POST", "/webhooks", tok, `{"url": "https://203.0.113.7/h", "events": ["all"], "secret": "mine"}`, "X-Test-Malformed", "1"); a.status != 400 {
		t.Errorf("an unknown field: %d %s", a.status, a.body)
	}
	if in.Dump() != before {
		t.Fatal("a refused webhook changed the database")
	}

	a := in.do("POST", "/webhooks", tok, map[string]any{"url": "https://203.0.113.7/hooks/latchkey", "events": []string{"link.redeemed", "access.requested"}},
		"Idempotency-Key", "hook-1")
	var made struct {
		ID     uint64
		URL    string
		Events []string
		State  string
		Secret string
	}
	a.json(t, &made)
	if a.status != 201 || !strings.HasPrefix(made.Secret, "whsec_") || made.State != "active" || strings.Join(made.Events, ",") != "link.redeemed,access.requested" {
		t.Fatalf("add: %d %s", a.status, a.body)
	}
	// The answer kept for a retry is sealed like the secret itself; a retry gets it whole.
	if bytes.Contains(in.RawDump(), []byte(made.Secret[6:])) {
		t.Fatal("the webhook's secret is in the database in the clear")
	}
	if again := in.do("POST", "/webhooks", tok, map[string]any{"url": "https://203.0.113.7/hooks/latchkey", "events": []string{"link.redeemed", "access.requested"}},
		"Idempotency-Key", "hook-1"); again.status != 201 || !bytes.Contains(again.body, []byte(made.Secret)) {
		t.Fatalf("retry: %d %s", again.status, again.body)
	}
	var hooks struct {
		Items []struct {
			ID     uint64
			Secret string
		}
	}
	in.do("GET", "/webhooks", tok, nil).json(t, &hooks)
	if len(hooks.Items) != 1 || hooks.Items[0].ID != made.ID || hooks.Items[0].Secret != "" {
		t.Fatalf("list: %+v", hooks)
	}
	path := fmt.Sprintf("/webhooks/%d", made.ID)
	if a := in.do("POST", path+"/enable", tok, nil); a.status != 409 {
		t.Errorf("enable an active one: %d %s", a.status, a.body)
	}
	// Three more deliveries, then pages of two.
	for _, email := range []string{"a@stranger.test", "b@stranger.test", "c@stranger.test"} {
		storetest.Must(in.Svc.RequestAccess(in.Ctx, "website-redesign", email, core.Visitor{Addr: "192.0.2.4"}))
	}
	type deliveries struct {
		Items []struct {
			ID        uint64
			WebhookID string `json:"webhook_id"`
			Event     string
			State     string
		}
		NextCursor string `json:"next_cursor"`
	}
	var seen []string
	cursor := ""
	for range 3 {
		var page deliveries
		in.do("GET", path+"/deliveries?limit=2"+cursor, tok, nil).json(t, &page)
		for _, d := range page.Items {
			seen = append(seen, d.Event+" "+d.State)
			if !strings.HasPrefix(d.WebhookID, "msg_") {
				t.Errorf("webhook-id %q", d.WebhookID)
			}
		}
		if page.NextCursor == "" {
			break
		}
		cursor = "&cursor=" + page.NextCursor
	}
	if strings.Join(seen, ",") != "access.requested pending,access.requested pending,access.requested pending,ping pending" {
		t.Fatalf("deliveries, newest first: %v", seen)
	}

	// Another organization's webhook is not found.
	other := storetest.Must(in.Svc.CreateOrg(in.Ctx, in.Admin, core.NewOrg{Name: "Other Firm", OwnerEmail: "boss@other.test", OwnerName: "Boss"}))
	theirs, _, err := in.Svc.CreateWebhook(in.Ctx, in.Admin, core.NewWebhook{OrgID: other.ID, URL: "https://203.0.113.8/h", Events: core.WebhookEvents})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"GET", "DELETE"} {
		if a := in.do(m, fmt.Sprintf("/webhooks/%d", theirs.ID), tok, nil); a.status != 404 {
			t.Errorf("%s another organization's webhook: %d %s", m, a.status, a.body)
		}
	}
	if a := in.do("DELETE", path, tok, nil); a.status != 204 {
		t.Fatalf("remove: %d %s", a.status, a.body)
	}
	if a := in.do("GET", path, tok, nil); a.status != 404 {
		t.Fatalf("after removal: %d", a.status)
	}
	if !in.HasEvent("webhook.added", core.WebhookTarget(made.URL)) || !in.HasEvent("webhook.removed", core.WebhookTarget(made.URL)) {
		t.Fatal("not audited")
	}
}
