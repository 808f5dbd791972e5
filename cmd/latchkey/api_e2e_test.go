package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	gossh "golang.org/x/crypto/ssh"

	"latchkey/core/api"
	"latchkey/core/api/client"
)

// hookReceiver is another system's webhook endpoint: a Go HTTP server on a
// fixed 127.0.0.1 port that can go down (its port closed) and come back.
// It verifies every delivery with the Standard Webhooks reference library,
// which latchkey's code does not use.
type hookReceiver struct {
	t    *testing.T
	addr string

	mu       sync.Mutex
	verifier *standardwebhooks.Webhook
	srv      *http.Server
	byID     map[string]int // deliveries received, per webhook-id
	events   []hookEvent    // the verified ones, in order of arrival
	bad      []string       // deliveries that did not verify
}

type hookEvent struct {
	ID   string
	Type string `json:"type"`
	Data struct {
		Email  string `json:"email"`
		Portal string `json:"portal"`
		Actor  string `json:"actor"`
	} `json:"data"`
}

func newHookReceiver(t *testing.T) *hookReceiver {
	r := &hookReceiver{t: t, addr: "127.0.0.1:" + freePort(t), byID: map[string]int{}}
	r.up()
	t.Cleanup(r.down)
	return r
}

func (r *hookReceiver) url() string { return "http://" + r.addr + "/hooks/latchkey" }

func (r *hookReceiver) up() {
	var ln net.Listener
	var err error
	for range 50 { // the port was just closed: it may take a moment to be free
		if ln, err = net.Listen("tcp", r.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		r.t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(r.serve)}
	r.mu.Lock()
	r.srv = srv
	r.mu.Unlock()
	go srv.Serve(ln)
}

func (r *hookReceiver) down() {
	r.mu.Lock()
	srv := r.srv
	r.srv = nil
	r.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

func (r *hookReceiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	id := req.Header.Get("webhook-id")
	if r.verifier == nil {
		w.WriteHeader(http.StatusServiceUnavailable) // not configured yet: latchkey retries
		return
	}
	if err := r.verifier.Verify(body, req.Header); err != nil {
		r.bad = append(r.bad, id+": "+err.Error())
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	r.byID[id]++
	if r.byID[id] == 1 {
		e := hookEvent{ID: id}
		if err := json.Unmarshal(body, &e); err != nil {
			r.bad = append(r.bad, id+": "+err.Error())
		}
		r.events = append(r.events, e)
	}
	w.WriteHeader(http.StatusNoContent)
}

func (r *hookReceiver) setSecret(secret string) {
	v, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		r.t.Fatal(err)
	}
	r.mu.Lock()
	r.verifier = v
	r.mu.Unlock()
}

// waitFor waits until an event of the type about email has arrived.
func (r *hookReceiver) waitFor(typ, email string, within time.Duration) hookEvent {
	r.t.Helper()
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		r.mu.Lock()
		for _, e := range r.events {
			if e.Type == typ && e.Data.Email == email {
				r.mu.Unlock()
				return e
			}
		}
		r.mu.Unlock()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.t.Fatalf("no %s for %q within %s; received %+v; refused %v", typ, email, within, r.events, r.bad)
	return hookEvent{}
}

func (r *hookReceiver) check() {
	r.t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.bad) != 0 {
		r.t.Fatalf("deliveries that do not verify: %v", r.bad)
	}
	for id, n := range r.byID {
		if n != 1 {
			r.t.Errorf("webhook-id %s received %d times", id, n)
		}
	}
}

// apiClient is the generated client of a running latchkey, with a token.
func apiClient(t *testing.T, base, token string) *client.ClientWithResponses {
	c, err := client.NewClientWithResponses(base+api.Prefix, client.WithHTTPClient(&http.Client{Timeout: 10 * time.Second}),
		client.WithRequestEditorFn(func(_ context.Context, req *http.Request) error {
			req.Header.Set("Authorization", "Bearer "+token)
			return nil
		}))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func ptr[T any](v T) *T { return &v }

// The admin API and webhooks against the real binary: a token made over
// SSH drives the generated client through an invitation, a link generated
// and revealed, its redemption by a browser, the redemption in the audit
// log and the link's deactivation; a receiver hears every step, signed so
// that the Standard Webhooks library verifies it; while the receiver is
// down events wait and arrive once it is back, once per webhook-id; and a
// change acknowledged just before latchkey is killed with SIGKILL is
// delivered after the restart.
func TestAPIAndWebhooksEndToEnd(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "latchkey")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	signer, _ := gossh.NewSignerFromKey(priv)
	keyFile := filepath.Join(dir, "admin.pub")
	os.WriteFile(keyFile, gossh.MarshalAuthorizedKey(signer.PublicKey()), 0o600)
	data := filepath.Join(dir, "data")
	flags := []string{"--allow-private-webhooks", "--allow-http-webhooks"}
	p := startBinary(t, bin, data, keyFile, flags...)
	ctx := context.Background()

	// A token, over SSH.
	var made []struct{ Secret string }
	if err := json.Unmarshal([]byte(p.must(t, signer, "tokens create crm --scope all --org northwind --json")), &made); err != nil || len(made) != 1 {
		t.Fatalf("tokens create: %v", err)
	}
	c := apiClient(t, p.base, made[0].Secret)

	rcv := newHookReceiver(t)
	added, err := c.AddWebhookWithResponse(ctx, &client.AddWebhookParams{IdempotencyKey: ptr("hook-1")},
		client.NewWebhook{Url: rcv.url(), Events: []string{"all"}})
	if err != nil || added.JSON201 == nil || added.JSON201.Secret == nil {
		t.Fatalf("add webhook: %v %s", err, added.Body)
	}
	hookID := added.JSON201.Id
	rcv.setSecret(*added.JSON201.Secret)
	rcv.waitFor("ping", "", 30*time.Second) // refused once (no secret yet), then retried

	// Invite, generate and reveal, redeem, read the log, deactivate.
	const email = "pat@client.test"
	inv, err := c.InviteWithResponse(ctx, "website-redesign", &client.InviteParams{IdempotencyKey: ptr("inv-1")},
		client.Invite{Email: email, Role: client.InviteRoleClient})
	if err != nil || inv.JSON201 == nil {
		t.Fatalf("invite: %v %s", err, inv.Body)
	}
	rcv.waitFor("member.invited", email, 10*time.Second)
	gen, err := c.GenerateLinkWithResponse(ctx, "website-redesign", email, &client.GenerateLinkParams{}, client.GenerateLinkJSONRequestBody{})
	if err != nil || gen.JSON201 == nil || gen.JSON201.Url == nil {
		t.Fatalf("generate: %v %s", err, gen.Body)
	}
	link := *gen.JSON201.Url
	resp, err := p.client.PostForm(link, url.Values{})
	if err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("redeem %s: %v %v", link, err, resp)
	}
	resp.Body.Close()
	redeemed := rcv.waitFor("link.redeemed", email, 10*time.Second)
	if redeemed.Data.Portal != "website-redesign" || redeemed.Data.Actor != email {
		t.Fatalf("link.redeemed: %+v", redeemed)
	}
	evs, err := c.ListEventsWithResponse(ctx, &client.ListEventsParams{Kind: ptr("link.redeemed")})
	if err != nil || evs.JSON200 == nil {
		t.Fatalf("events: %v %s", err, evs.Body)
	}
	found := false
	for _, e := range evs.JSON200.Items {
		found = found || e.Target != nil && *e.Target == email
	}
	if !found {
		t.Fatalf("the redemption is not in the events: %s", evs.Body)
	}
	if d, err := c.DeactivateLinkWithResponse(ctx, "website-redesign", email); err != nil || d.StatusCode() != http.StatusNoContent {
		t.Fatalf("deactivate: %v %s", err, d.Body)
	}
	rcv.waitFor("link.deactivated", email, 10*time.Second)

	// The receiver down: events wait, and arrive once it is back.
	rcv.down()
	const late = "late@client.test"
	if inv, err := c.InviteWithResponse(ctx, "website-redesign", nil, client.Invite{Email: late, Role: client.InviteRoleClient}); err != nil || inv.JSON201 == nil {
		t.Fatalf("invite while down: %v", err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		ds, err := c.ListDeliveriesWithResponse(ctx, hookID, &client.ListDeliveriesParams{Limit: ptr(1)})
		if err != nil || ds.JSON200 == nil {
			t.Fatalf("deliveries: %v", err)
		}
		if d := ds.JSON200.Items[0]; d.Attempts > 0 && d.State == "pending" && d.Response != nil && strings.Contains(*d.Response, "refused") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no failed attempt while the receiver was down: %s", ds.Body)
		}
	}
	rcv.up()
	rcv.waitFor("member.invited", late, 30*time.Second)

	// Killed between the change and its delivery: delivered after the restart.
	rcv.down()
	const crash = "crash@client.test"
	if inv, err := c.InviteWithResponse(ctx, "website-redesign", nil, client.Invite{Email: crash, Role: client.InviteRoleClient}); err != nil || inv.JSON201 == nil {
		t.Fatalf("invite before the kill: %v", err)
	}
	p.kill()
	rcv.up()
	p = startBinary(t, bin, data, keyFile, flags...)
	rcv.waitFor("member.invited", crash, 30*time.Second)
	rcv.waitFor("link.created", crash, 10*time.Second)

	// Every delivery of the webhook is delivered, each webhook-id once.
	c = apiClient(t, p.base, made[0].Secret)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		ds, err := c.ListDeliveriesWithResponse(ctx, hookID, &client.ListDeliveriesParams{Limit: ptr(100)})
		if err != nil || ds.JSON200 == nil {
			t.Fatalf("deliveries: %v", err)
		}
		pending := 0
		for _, d := range ds.JSON200.Items {
			if d.State != "delivered" {
				pending++
			}
		}
		if pending == 0 {
			rcv.mu.Lock()
			n := len(rcv.byID)
			rcv.mu.Unlock()
			if n != len(ds.JSON200.Items) {
				t.Fatalf("%d deliveries, %d webhook-ids received", len(ds.JSON200.Items), n)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("deliveries still pending: %s", ds.Body)
		}
	}
	rcv.check()
	if code, _, stderr := p.sshRun(t, signer, "webhooks deliveries 1", ""); code != 0 || !strings.Contains(p.must(t, signer, "webhooks deliveries 1"), "\tdelivered\t") {
		t.Fatalf("webhooks deliveries over SSH: %d %s", code, stderr)
	}
	p.stop(t)
}
