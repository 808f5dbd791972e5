package core_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"latchkey/core"
	"latchkey/storage"
)

// publicHook is an address of a documentation network: public for the
// policy, and never looked up.
const publicHook = "https://203.0.113.7/hooks/latchkey"

// deliveries is every delivery of a webhook, oldest first.
func deliveries(t *testing.T, e *env, a core.Actor, id uint64) []core.WebhookDelivery {
	t.Helper()
	ds := must(e.Svc.WebhookDeliveryLog(e.Ctx, a, id, 0, 0))
	for i, j := 0, len(ds)-1; i < j; i, j = i+1, j-1 {
		ds[i], ds[j] = ds[j], ds[i]
	}
	return ds
}

type payload struct {
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Data      struct {
		EventID      uint64   `json:"event_id"`
		Organization string   `json:"organization"`
		Portal       string   `json:"portal"`
		Email        string   `json:"email"`
		Actor        string   `json:"actor"`
		Action       string   `json:"action"`
		Detail       string   `json:"detail"`
		LinkID       uint64   `json:"link_id"`
		Role         string   `json:"role"`
		WebhookID    uint64   `json:"webhook_id"`
		Events       []string `json:"events"`
		URL          string   `json:"url"`
	} `json:"data"`
}

func decodePayload(t *testing.T, d core.WebhookDelivery) payload {
	t.Helper()
	var p payload
	dec := json.NewDecoder(bytes.NewReader(d.Payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("payload %s: %v", d.Payload, err)
	}
	if p.Type != string(d.Event) {
		t.Fatalf("payload type %q, delivery event %q", p.Type, d.Event)
	}
	return p
}

func TestWebhookRegistrationRefusesWhatItMustAndChangesNothing(t *testing.T) {
	e := newEnv(t)
	w := e.world("Acme")
	other := e.world("Other")
	all := core.WebhookEvents
	before := e.Dump()
	for _, c := range []struct {
		url  string
		want string
	}{
		{"", "give the address"},
		{"http://203.0.113.7/hook", "https only"},
		{"ftp://203.0.113.7/hook", "begins with https://"},
		{"/hook", "not an absolute address"},
		{"https://user:pw@203.0.113.7/hook", "user name or password"},
		{"https://203.0.113.7/hook#x", "#fragment"},
		{"https://203.0.113.7:99999/hook", "is not a port"},
		{"https://127.0.0.1/hook", "127.0.0.1 is loopback"},
		{"https://[::1]/hook", "::1 is loopback"},
		{"https://[::ffff:127.0.0.1]/hook", "loopback"},
		{"https://10.1.2.3/hook", "a private network"},
		{"https://192.168.1.1/hook", "a private network"},
		{"https://169.254.169.254/latest/meta-data", "link-local (and cloud metadata services)"},
		{"https://[fd00:ec2::254]/", "cloud metadata"},
		{"https://100.100.100.200/", "carrier-grade NAT"},
		{"https://[64:ff9b::a00:1]/", "a private network"},
		{"https://0.0.0.0/", "this network"},
		{"https://[::1%25lo]:8443/hook", "network interface"},
		{"https://[fe80::1%25eth0]/", "network interface"},
		{"https://[2002:7f00:1::]/", "loopback"},
		{"https://[64:ff9b:1::a00:1]/", "local NAT64"},
		{"https://localhost:8443/hook", "loopback"},
		{"https://app.localhost/hook", "loopback"},
		{"https://" + strings.Repeat("a", 2000) + ".example/", "characters long"},
	} {
		_, _, err := e.Svc.CreateWebhook(e.Ctx, w.ownerA, core.NewWebhook{OrgID: w.org.ID, URL: c.url, Events: all})
		if !errors.Is(err, core.ErrInvalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.url, err, c.want)
		}
	}
	for _, evs := range [][]core.WebhookEvent{nil, {"link.exploded"}, {core.EventPing}} {
		if _, _, err := e.Svc.CreateWebhook(e.Ctx, w.ownerA, core.NewWebhook{OrgID: w.org.ID, URL: publicHook, Events: evs}); !errors.Is(err, core.ErrInvalid) {
			t.Errorf("events %v: %v", evs, err)
		}
	}
	if _, err := core.ParseWebhookEvents("link.redeemed,bogus"); err == nil || !strings.Contains(err.Error(), `"bogus" is not an event`) {
		t.Errorf("parse: %v", err)
	}
	// A manager may not; another organization's owner does not find it.
	if _, _, err := e.Svc.CreateWebhook(e.Ctx, w.managerA, core.NewWebhook{OrgID: w.org.ID, URL: publicHook, Events: all}); !errors.Is(err, core.ErrForbidden) {
		t.Errorf("manager: %v", err)
	}
	if _, _, err := e.Svc.CreateWebhook(e.Ctx, other.ownerA, core.NewWebhook{OrgID: w.org.ID, URL: publicHook, Events: all}); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("other org: %v", err)
	}
	if after := e.Dump(); after != before {
		t.Fatal("a refused registration changed the database")
	}

	// A name that resolves to a private address is refused; to a public one, taken.
	e2 := newEnv(t, func(c *core.Config, _ *storage.Options) {
		c.Options.Webhooks.Resolver = fakeResolver{"rebind.example": {"203.0.113.50", "10.0.0.8"}, "ok.example": {"198.51.100.4"}}
	})
	w2 := e2.world("Acme")
	if _, _, err := e2.Svc.CreateWebhook(e2.Ctx, w2.ownerA, core.NewWebhook{OrgID: w2.org.ID, URL: "https://rebind.example/h", Events: all}); !errors.Is(err, core.ErrInvalid) ||
		!strings.Contains(err.Error(), "rebind.example resolves to a loopback, private or reserved address") || strings.Contains(err.Error(), "10.0.0.8") {
		t.Errorf("private by name: %v", err)
	}
	if _, _, err := e2.Svc.CreateWebhook(e2.Ctx, w2.ownerA, core.NewWebhook{OrgID: w2.org.ID, URL: "https://nowhere.example/h", Events: all}); !errors.Is(err, core.ErrInvalid) ||
		!strings.Contains(err.Error(), "does not resolve") {
		t.Errorf("unresolvable: %v", err)
	}
	if _, _, err := e2.Svc.CreateWebhook(e2.Ctx, w2.ownerA, core.NewWebhook{OrgID: w2.org.ID, URL: "https://OK.example/h", Events: all}); err != nil {
		t.Errorf("public by name: %v", err)
	}
	// The same address twice is a conflict.
	if _, _, err := e2.Svc.CreateWebhook(e2.Ctx, w2.ownerA, core.NewWebhook{OrgID: w2.org.ID, URL: "https://ok.example/h", Events: all}); !errors.Is(err, core.ErrConflict) {
		t.Errorf("twice: %v", err)
	}

	// An instance that allows them takes private and http addresses.
	e3 := newEnv(t, func(c *core.Config, _ *storage.Options) {
		c.Options.Webhooks = core.WebhookPolicy{AllowHTTP: true, AllowPrivate: true}
	})
	w3 := e3.world("Acme")
	if _, _, err := e3.Svc.CreateWebhook(e3.Ctx, w3.ownerA, core.NewWebhook{OrgID: w3.org.ID, URL: "http://127.0.0.1:9/h", Events: all}); err != nil {
		t.Errorf("allowed: %v", err)
	}
}

type fakeResolver map[string][]string

func (f fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	var out []netip.Addr
	for _, s := range f[host] {
		out = append(out, netip.MustParseAddr(s))
	}
	if len(out) == 0 {
		return nil, errors.New("no such host")
	}
	return out, nil
}

func TestWebhookEventsAreQueuedWithTheirChanges(t *testing.T) {
	e := newEnv(t)
	w := e.world("Acme")
	hook, secret, err := e.Svc.CreateWebhook(e.Ctx, w.ownerA, core.NewWebhook{OrgID: w.org.ID, URL: publicHook, Events: core.WebhookEvents})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, "whsec_") || len(secret) != 6+44 {
		t.Fatalf("secret %q", secret)
	}
	if bytes.Contains(e.RawDump(), []byte(secret[6:])) {
		t.Fatal("the webhook's secret is stored in the clear")
	}
	only, _, err := e.Svc.CreateWebhook(e.Ctx, w.ownerA, core.NewWebhook{OrgID: w.org.ID, URL: publicHook + "/redeemed",
		Events: []core.WebhookEvent{core.EventLinkRedeemed}})
	if err != nil {
		t.Fatal(err)
	}
	ping := deliveries(t, e, w.ownerA, hook.ID)
	if len(ping) != 1 || ping[0].Event != core.EventPing || !ping[0].Pending() || !strings.HasPrefix(ping[0].MsgID, "msg_") {
		t.Fatalf("after creation: %+v", ping)
	}
	if p := decodePayload(t, ping[0]); p.Data.WebhookID != hook.ID || p.Data.URL != publicHook || len(p.Data.Events) != 9 || p.Data.Organization != "acme" {
		t.Fatalf("ping %+v", p)
	}

	res := must(e.Svc.Invite(e.Ctx, w.managerA, core.InviteInput{OrgID: w.org.ID, Email: "client@example.org", Role: core.RoleClient, PortalID: w.closed.ID}))
	must(e.Svc.Redeem(e.Ctx, res.Link.Token, visitor))
	if err := e.Svc.DeactivateLink(e.Ctx, w.managerA, w.closed.ID, "client@example.org"); err != nil {
		t.Fatal(err)
	}
	must(e.Svc.RequestAccess(e.Ctx, w.closed.Slug, "stranger@example.org", visitor))
	must(e.Svc.RequestAccess(e.Ctx, w.closed.Slug, "second@example.org", visitor))
	reqs := must(e.Svc.Requests(e.Ctx, w.managerA, w.org.ID, false))
	if err := e.Svc.DismissRequest(e.Ctx, w.managerA, reqs[0].ID); err != nil {
		t.Fatal(err)
	}
	must(e.Svc.GrantRequest(e.Ctx, w.managerA, core.GrantInput{RequestID: reqs[1].ID}))
	if err := e.Svc.RemoveAccess(e.Ctx, w.managerA, w.closed.ID, "client@example.org"); err != nil {
		t.Fatal(err)
	}

	var got []string
	for _, d := range deliveries(t, e, w.ownerA, hook.ID) {
		p := decodePayload(t, d)
		got = append(got, p.Type+" "+p.Data.Email)
		if p.Type != "ping" && (p.Data.Organization != "acme" || p.Data.Portal != w.closed.Slug) {
			t.Errorf("%s: %+v", p.Type, p.Data)
		}
		if p.Type == "link.created" && (p.Data.LinkID == 0 || p.Data.Role == "") {
			t.Errorf("link.created without its link: %+v", p.Data)
		}
		if p.Type == "link.redeemed" && p.Data.EventID == 0 {
			t.Errorf("link.redeemed without its audit event: %+v", p.Data)
		}
		if p.Type == "member.invited" && p.Data.Actor != w.manager.Email {
			t.Errorf("invited by %q", p.Data.Actor)
		}
	}
	// Requests are handled newest first: the second was dismissed, the first granted.
	want := []string{"ping ", "link.created client@example.org", "member.invited client@example.org", "link.redeemed client@example.org",
		"link.deactivated client@example.org", "access.requested stranger@example.org", "access.requested second@example.org",
		"access.dismissed " + reqs[0].Email, "link.created " + reqs[1].Email, "member.invited " + reqs[1].Email, "access.granted " + reqs[1].Email,
		"member.removed client@example.org"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The webhook that subscribes to one event got its ping and that one.
	var one []core.WebhookEvent
	for _, d := range deliveries(t, e, w.ownerA, only.ID) {
		one = append(one, d.Event)
	}
	if len(one) != 2 || one[0] != core.EventPing || one[1] != core.EventLinkRedeemed {
		t.Fatalf("subscribed to link.redeemed only: %v", one)
	}
	// Every delivery has its own id.
	seen := map[string]bool{}
	for _, d := range deliveries(t, e, w.ownerA, hook.ID) {
		if seen[d.MsgID] {
			t.Fatalf("webhook-id %s twice", d.MsgID)
		}
		seen[d.MsgID] = true
	}
	// Due now, with the opened secret.
	due := must(e.Svc.DueWebhooks(e.Ctx, 100))
	if len(due) != 14 || due[0].Secret != secret || due[0].URL != publicHook {
		t.Fatalf("due %d, first %+v", len(due), due[0].WebhookDelivery)
	}
	// Removing a webhook drops its deliveries, and nothing is due for it.
	must(e.Svc.RemoveWebhook(e.Ctx, w.ownerA, only.ID))
	if n := len(must(e.Svc.DueWebhooks(e.Ctx, 100))); n != 12 {
		t.Fatalf("due after removal: %d", n)
	}
	if _, err := e.Svc.WebhookDeliveryLog(e.Ctx, w.ownerA, only.ID, 0, 0); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("log of a removed webhook: %v", err)
	}
}

func TestWebhookOutcomesRetriesAndDisabling(t *testing.T) {
	e := newEnv(t)
	w := e.world("Acme")
	hook, _, err := e.Svc.CreateWebhook(e.Ctx, w.ownerA, core.NewWebhook{OrgID: w.org.ID, URL: publicHook, Events: core.WebhookEvents})
	if err != nil {
		t.Fatal(err)
	}
	ping := deliveries(t, e, w.ownerA, hook.ID)[0]
	now := e.Clock.Now()
	// A failure is retried when the worker says, and the webhook is failing.
	if err := e.Svc.RecordWebhookAttempts(e.Ctx, []core.WebhookAttempt{{DeliveryID: ping.ID, At: now, Status: 503, Response: "do\x1b]52;c;aGk=\x07wn\u202e",
		Latency: 30 * time.Millisecond, Next: now.Add(5 * time.Second)}}); err != nil {
		t.Fatal(err)
	}
	d := deliveries(t, e, w.ownerA, hook.ID)[0]
	h := must(e.Svc.ShowWebhook(e.Ctx, w.ownerA, hook.ID))
	if d.LastResponse != "do ]52;c;aGk= wn " {
		t.Fatalf("the answer is kept with its control characters: %q", d.LastResponse)
	}
	if !d.Pending() || d.Attempts != 1 || d.LastStatus != 503 || d.LastLatencyMS != 30 || !d.NextAttemptAt.Equal(now.Add(5*time.Second)) ||
		h.FailingSince.IsZero() || !strings.HasPrefix(h.State(), "failing since") {
		t.Fatalf("after a 503: %+v / %+v", d, h)
	}
	if len(must(e.Svc.DueWebhooks(e.Ctx, 10))) != 0 {
		t.Fatal("due before its next attempt")
	}
	// Delivered: done, and the webhook is healthy again.
	e.Clock.Advance(5 * time.Second)
	if err := e.Svc.RecordWebhookAttempts(e.Ctx, []core.WebhookAttempt{{DeliveryID: ping.ID, At: e.Clock.Now(), Status: 204}}); err != nil {
		t.Fatal(err)
	}
	d, h = deliveries(t, e, w.ownerA, hook.ID)[0], must(e.Svc.ShowWebhook(e.Ctx, w.ownerA, hook.ID))
	if d.State != core.DeliveryDelivered || d.Attempts != 2 || !h.FailingSince.IsZero() || h.State() != "active" {
		t.Fatalf("after a 204: %+v / %+v", d, h)
	}
	// Recording it again (a round replayed after a crash) changes nothing.
	if err := e.Svc.RecordWebhookAttempts(e.Ctx, []core.WebhookAttempt{{DeliveryID: ping.ID, At: e.Clock.Now(), Status: 500, Next: e.Clock.Now()}}); err != nil {
		t.Fatal(err)
	}
	if d = deliveries(t, e, w.ownerA, hook.ID)[0]; d.State != core.DeliveryDelivered || d.Attempts != 2 {
		t.Fatalf("replayed: %+v", d)
	}

	// Each invitation queues link.created and member.invited.
	invite := func(email string, p core.Portal) {
		t.Helper()
		must(e.Svc.Invite(e.Ctx, w.managerA, core.InviteInput{OrgID: w.org.ID, Email: email, Role: core.RoleClient, PortalID: p.ID}))
	}
	// A delivery retried past 24 hours is given up.
	invite("a@example.org", w.closed)
	created := deliveries(t, e, w.ownerA, hook.ID)[1]
	e.Clock.Advance(23 * time.Hour)
	if err := e.Svc.RecordWebhookAttempts(e.Ctx, []core.WebhookAttempt{{DeliveryID: created.ID, At: e.Clock.Now(), Response: "connection refused",
		Next: e.Clock.Now().Add(2 * time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	if d = deliveries(t, e, w.ownerA, hook.ID)[1]; d.State != core.DeliveryFailed || d.LastResponse != "connection refused" {
		t.Fatalf("past a day: %+v", d)
	}

	// Failing for 3 days disables it, gives up what is pending and tells the owner.
	e.Clock.Advance(core.WebhookFailingLimit)
	invite("b@example.org", w.closed)
	ds := deliveries(t, e, w.ownerA, hook.ID)
	last, other := ds[len(ds)-2], ds[len(ds)-1]
	if err := e.Svc.RecordWebhookAttempts(e.Ctx, []core.WebhookAttempt{{DeliveryID: last.ID, At: e.Clock.Now(), Status: 500, Next: e.Clock.Now().Add(time.Minute)}}); err != nil {
		t.Fatal(err)
	}
	h = must(e.Svc.ShowWebhook(e.Ctx, w.ownerA, hook.ID))
	if h.Active() || !strings.Contains(h.DisabledReason, "failed for 3 days") || !strings.Contains(h.DisabledReason, "HTTP 500") {
		t.Fatalf("after 3 days failing: %+v", h)
	}
	ds = deliveries(t, e, w.ownerA, hook.ID)
	if ds[len(ds)-1].ID != other.ID || ds[len(ds)-1].State != core.DeliveryFailed || !strings.Contains(ds[len(ds)-1].LastResponse, "disabled") {
		t.Fatalf("the other pending delivery: %+v", ds[len(ds)-1])
	}
	mail := e.LastMail(w.owner.Email, core.MailWebhookDisabled)
	if mail.Data["url"] != publicHook || mail.Data["last"] != "HTTP 500" {
		t.Fatalf("owner's mail: %+v", mail)
	}
	if !e.HasEvent("webhook.disabled", core.WebhookTarget(publicHook)) {
		t.Fatal("the disabling is not in the audit log")
	}
	// A disabled webhook gets no events.
	n := len(deliveries(t, e, w.ownerA, hook.ID))
	invite("c@example.org", w.closed)
	if len(deliveries(t, e, w.ownerA, hook.ID)) != n {
		t.Fatal("a disabled webhook got an event")
	}
	// Enabled again: a ping, and events again.
	if _, err := e.Svc.EnableWebhook(e.Ctx, w.managerA, hook.ID); !errors.Is(err, core.ErrForbidden) {
		t.Fatalf("a manager enabled it: %v", err)
	}
	h = must(e.Svc.EnableWebhook(e.Ctx, w.ownerA, hook.ID))
	ds = deliveries(t, e, w.ownerA, hook.ID)
	if !h.Active() || ds[len(ds)-1].Event != core.EventPing || !ds[len(ds)-1].Pending() {
		t.Fatalf("enabled: %+v, last %+v", h, ds[len(ds)-1])
	}
	if _, err := e.Svc.EnableWebhook(e.Ctx, w.ownerA, hook.ID); !errors.Is(err, core.ErrConflict) {
		t.Fatalf("enabled twice: %v", err)
	}

	// 410 Gone disables it at once, without a mail.
	mails := len(e.MailsTo(w.owner.Email, core.MailWebhookDisabled))
	if err := e.Svc.RecordWebhookAttempts(e.Ctx, []core.WebhookAttempt{{DeliveryID: ds[len(ds)-1].ID, At: e.Clock.Now(), Status: 410}}); err != nil {
		t.Fatal(err)
	}
	h = must(e.Svc.ShowWebhook(e.Ctx, w.ownerA, hook.ID))
	if h.Active() || !strings.Contains(h.DisabledReason, "410") || len(e.MailsTo(w.owner.Email, core.MailWebhookDisabled)) != mails {
		t.Fatalf("after a 410: %+v", h)
	}

	// The delivery log is kept 30 days.
	e.Clock.Advance(core.WebhookRetention + time.Hour)
	must2(e.Svc.Purge(e.Ctx))
	if ds := deliveries(t, e, w.ownerA, hook.ID); len(ds) != 0 {
		t.Fatalf("after 30 days: %d deliveries", len(ds))
	}
}

func TestWebhookIPRule(t *testing.T) {
	for ip, ok := range map[string]bool{
		"203.0.113.7": true, "8.8.8.8": true, "2001:db8::1": true, "2606:4700::1111": true,
		"127.0.0.1": false, "10.0.0.1": false, "172.31.255.255": false, "192.168.0.1": false, "169.254.169.254": false,
		"100.64.0.1": false, "::1": false, "fe80::1": false, "fc00::1": false, "::ffff:10.0.0.1": false, "64:ff9b::7f00:1": false,
		"0.0.0.0": false, "::": false, "224.0.0.1": false, "255.255.255.255": false, "::1%lo": false, "fe80::1%eth0": false,
		"2002:a00:1::1": false, "2002:cb00:7107::1": true, "::7f00:1": false, "2001:0:4136:e378::1": false,
	} {
		err := core.CheckWebhookIP(netip.MustParseAddr(ip))
		if (err == nil) != ok || (err != nil && !errors.Is(err, core.ErrWebhookAddress)) {
			t.Errorf("%s: %v", ip, err)
		}
	}
}

// The audit log names a webhook by scheme and host: its path and query,
// where receivers keep their secrets, are cut.
func TestWebhookTargetKeepsSecretsOut(t *testing.T) {
	for in, want := range map[string]string{
		"https://hooks.slack.com/services/T000/B000/XXXXSECRET": "https://hooks.slack.com/…",
		"https://crm.example.com:8443/in?token=secret":          "https://crm.example.com:8443/…",
		"https://crm.example.com/":                              "https://crm.example.com",
		"https://crm.example.com":                               "https://crm.example.com",
		"::not a url":                                           "(an address that does not parse)",
	} {
		if got := core.WebhookTarget(in); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}
