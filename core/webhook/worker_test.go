package webhook_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"latchkey/core"
	"latchkey/core/webhook"
	"latchkey/storage"
	"latchkey/storage/storetest"
)

// receiver is a webhook endpoint on 127.0.0.1 that answers what it is told
// and keeps what it got.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	status int
	delay  time.Duration
	got    []*http.Request
	bodies [][]byte
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{status: 200}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		status, delay := r.status, r.delay
		r.got, r.bodies = append(r.got, req), append(r.bodies, body)
		r.mu.Unlock()
		time.Sleep(delay)
		if status == http.StatusFound {
			http.Redirect(w, req, "http://169.254.169.254/", status)
			return
		}
		w.WriteHeader(status)
		io.WriteString(w, "answer "+strconv.Itoa(status))
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) set(status int) { r.mu.Lock(); r.status = status; r.mu.Unlock() }

// verify checks a request's signature as the Standard Webhooks
// specification defines it, written here apart from the code under test.
func verify(t *testing.T, secret string, req *http.Request, body []byte) {
	t.Helper()
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		t.Fatal(err)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(req.Header.Get("webhook-id") + "." + req.Header.Get("webhook-timestamp") + "." + string(body)))
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	if req.Header.Get("webhook-signature") != want || req.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("signature %q, want %q; headers %v", req.Header.Get("webhook-signature"), want, req.Header)
	}
}

func setup(t *testing.T) (*storetest.Env, core.Actor, core.Org, *webhook.Worker) {
	policy := core.WebhookPolicy{AllowHTTP: true, AllowPrivate: true}
	env := storetest.New(t, func(c *core.Config, _ *storage.Options) { c.Options.Webhooks = policy })
	org := storetest.Must(env.Svc.CreateOrg(env.Ctx, env.Admin, core.NewOrg{Name: "Acme", OwnerEmail: "owner@acme.test", OwnerName: "Owner"}))
	owner := core.UserActor(env.User("owner@acme.test"), "test")
	w, err := webhook.New(webhook.Config{Service: env.Svc, Policy: policy, Now: env.Clock.Now, Jitter: func() float64 { return 0.5 },
		Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return env, owner, org, w
}

func TestWorkerPostsSignedRetriesAndDisables(t *testing.T) {
	env, owner, org, w := setup(t)
	rcv := newReceiver(t)
	hook, secret, err := env.Svc.CreateWebhook(env.Ctx, owner, core.NewWebhook{OrgID: org.ID, URL: rcv.URL + "/hook", Events: core.WebhookEvents})
	if err != nil {
		t.Fatal(err)
	}
	// The ping, signed.
	if n, err := w.Round(env.Ctx); n != 1 || err != nil {
		t.Fatalf("round: %d %v", n, err)
	}
	if len(rcv.got) != 1 || !strings.Contains(string(rcv.bodies[0]), `"type":"ping"`) {
		t.Fatalf("received %d: %s", len(rcv.got), rcv.bodies)
	}
	verify(t, secret, rcv.got[0], rcv.bodies[0])
	ts, _ := strconv.ParseInt(rcv.got[0].Header.Get("webhook-timestamp"), 10, 64)
	if ts != env.Clock.Now().Unix() {
		t.Fatalf("timestamp %d, now %d", ts, env.Clock.Now().Unix())
	}
	d := storetest.Must(env.Svc.WebhookDeliveryLog(env.Ctx, owner, hook.ID, 0, 1))[0]
	if d.State != core.DeliveryDelivered || d.LastStatus != 200 || d.LastResponse != "answer 200" {
		t.Fatalf("after delivery: %+v", d)
	}

	// A 503: retried 5 seconds later (jitter 0.5: exactly), with the same webhook-id.
	rcv.set(503)
	storetest.Must(env.Svc.Invite(env.Ctx, owner, core.InviteInput{OrgID: org.ID, Email: "a@example.org", Role: core.RoleMember}))
	if n, _ := w.Round(env.Ctx); n != 1 {
		t.Fatalf("round: %d", n)
	}
	d = storetest.Must(env.Svc.WebhookDeliveryLog(env.Ctx, owner, hook.ID, 0, 1))[0]
	if !d.Pending() || d.LastStatus != 503 || !d.NextAttemptAt.Equal(env.Clock.Now().Add(5*time.Second)) {
		t.Fatalf("after a 503: %+v", d)
	}
	if n, _ := w.Round(env.Ctx); n != 0 {
		t.Fatal("retried before its time")
	}
	env.Clock.Advance(5 * time.Second)
	rcv.set(200)
	if n, _ := w.Round(env.Ctx); n != 1 {
		t.Fatal("not retried at its time")
	}
	if first, second := rcv.got[1].Header.Get("webhook-id"), rcv.got[2].Header.Get("webhook-id"); first != second || first == "" {
		t.Fatalf("webhook-id %q then %q", first, second)
	}
	verify(t, secret, rcv.got[2], rcv.bodies[2])

	// A redirect is a failure, never followed.
	rcv.set(http.StatusFound)
	storetest.Must(env.Svc.Invite(env.Ctx, owner, core.InviteInput{OrgID: org.ID, Email: "b@example.org", Role: core.RoleMember}))
	w.Round(env.Ctx)
	if d = storetest.Must(env.Svc.WebhookDeliveryLog(env.Ctx, owner, hook.ID, 0, 1))[0]; !d.Pending() || d.LastStatus != 302 || len(rcv.got) != 4 {
		t.Fatalf("after a redirect: %+v, %d requests", d, len(rcv.got))
	}
	// No answer within the timeout: a failure that says so.
	rcv.mu.Lock()
	rcv.delay = 3 * time.Second
	rcv.mu.Unlock()
	env.Clock.Advance(time.Minute)
	w.Round(env.Ctx)
	if d = storetest.Must(env.Svc.WebhookDeliveryLog(env.Ctx, owner, hook.ID, 0, 1))[0]; !d.Pending() || d.LastStatus != 0 || !strings.Contains(d.LastResponse, "timeout") {
		t.Fatalf("after a timeout: %+v", d)
	}
	rcv.mu.Lock()
	rcv.delay = 0
	rcv.mu.Unlock()
	// 410 Gone disables it.
	rcv.set(410)
	env.Clock.Advance(time.Minute)
	w.Round(env.Ctx)
	if h := storetest.Must(env.Svc.ShowWebhook(env.Ctx, owner, hook.ID)); h.Active() {
		t.Fatalf("after a 410: %+v", h)
	}
}

// The dialer checks the address it connects to, whatever the name
// resolved to: localhost passes no registration, and a name that resolved
// to a public address at registration and to loopback now (DNS
// rebinding) is refused at the connection.
func TestClientRefusesPrivateAddressesAtTheConnection(t *testing.T) {
	rcv := newReceiver(t)
	_, port, _ := strings.Cut(strings.TrimPrefix(rcv.URL, "http://"), ":")
	c := webhook.NewClient(core.WebhookPolicy{AllowHTTP: true}, 2*time.Second)
	for _, u := range []string{rcv.URL, "http://localhost:" + port + "/"} {
		_, err := c.Post(u, "application/json", strings.NewReader("{}"))
		if !errors.Is(err, core.ErrWebhookAddress) {
			t.Errorf("%s: %v", u, err)
		}
	}
	if len(rcv.got) != 0 {
		t.Fatal("a refused address was reached")
	}
	allowed := webhook.NewClient(core.WebhookPolicy{AllowHTTP: true, AllowPrivate: true}, 2*time.Second)
	resp, err := allowed.Post(rcv.URL, "application/json", strings.NewReader("{}"))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("allowed: %v", err)
	}
	resp.Body.Close()
}

// Sign agrees with the example of the Standard Webhooks specification.
func TestSignMatchesTheSpecificationsExample(t *testing.T) {
	got, err := webhook.Sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0),
		[]byte(`{"test": 2432232314}`))
	if err != nil || got != "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=" {
		t.Fatalf("%q %v", got, err)
	}
}
