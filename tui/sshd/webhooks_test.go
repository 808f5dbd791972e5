package sshd_test

import (
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"latchkey/core"
	"latchkey/storage/storetest"
	"latchkey/tui/sshd"
)

// Webhooks over SSH: added by the owner's authority with the secret
// printed once and a ping queued, listed without the secret, their
// deliveries shown, removed; bad input refused with exit 2, refused
// addresses and a manager with exit 1, each changing nothing.
func TestWebhooksOverSSH(t *testing.T) {
	logs := &storetest.SyncBuffer{}
	in := startInstance(t, func(c *sshd.Config) { c.Logger = slog.New(slog.NewTextHandler(logs, nil)) })
	env := in.env
	const hook = "https://203.0.113.7/hooks/latchkey"
	before := env.Dump()
	for _, tc := range []struct {
		cmd  string
		code int
		want string
	}{
		{"webhooks", 2, "usage: webhooks add"},
		{"webhooks add " + hook, 2, "needs --events"},
		{"webhooks add " + hook + " --events link.redeemed,link.exploded", 2, `--events: "link.exploded" is not an event`},
		{"webhooks add --events all", 2, "usage: webhooks add URL"},
		{"webhooks add http://203.0.113.7/h --events all", 1, "https only"},
		{"webhooks add https://127.0.0.1/h --events all", 1, "127.0.0.1 is loopback"},
		{"webhooks add https://169.254.169.254/latest --events all", 1, "metadata"},
		{"webhooks add https://10.0.0.1/h --events all", 1, "--allow-private-webhooks"},
		{"webhooks rm x", 2, "not a webhook id"},
		{"webhooks rm 99", 1, "no webhook"},
		{"webhooks deliveries 99", 1, "no webhook"},
		{"webhooks enable", 2, "usage: webhooks enable ID"},
		{"webhooks rotate 1", 2, "unknown subcommand"},
	} {
		r := in.run(in.admin, tc.cmd+" --org northwind")
		if code, stderr := r.code, r.stderr; code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("%s: exit %d, %q; want %d and %q", tc.cmd, code, stderr, tc.code, tc.want)
		}
	}
	if r := in.run(in.mia, "webhooks add "+hook+" --events all"); r.code != 1 || !strings.Contains(r.stderr, "only the owner") {
		t.Errorf("a manager's webhooks add: exit %d, %q", r.code, r.stderr)
	}
	if r := in.run(in.mia, "webhooks ls"); r.code != 1 || !strings.Contains(r.stderr, "only the owner") {
		t.Errorf("a manager's webhooks ls: exit %d, %q", r.code, r.stderr)
	}
	if env.Dump() != before {
		t.Fatal("a refused webhooks command changed the database")
	}

	r := in.run(in.admin, "webhooks add "+hook+" --events link.redeemed,access.requested --org northwind --json")
	if r.code != 0 {
		t.Fatalf("add: %d %s", r.code, r.stderr)
	}
	var made []struct {
		ID     uint64   `json:"id"`
		Secret string   `json:"secret"`
		Events []string `json:"events"`
		State  string   `json:"state"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &made); err != nil || len(made) != 1 || !strings.HasPrefix(made[0].Secret, "whsec_") ||
		strings.Join(made[0].Events, ",") != "link.redeemed,access.requested" || made[0].State != "active" {
		t.Fatalf("add printed %s (%v)", r.stdout, err)
	}
	out := in.run(in.admin, "webhooks ls --org northwind").stdout
	if !strings.Contains(out, "1\t"+hook+"\tlink.redeemed,access.requested\tactive\tadmin\t") || strings.Contains(out, "whsec_") {
		t.Fatalf("ls: %q", out)
	}
	if r := in.run(in.admin, "webhooks add "+hook+" --events all --org northwind"); r.code != 1 || !strings.Contains(r.stderr, "already posts to this address") {
		t.Fatalf("the same address twice: %d %q", r.code, r.stderr)
	}
	out = in.run(in.admin, "webhooks deliveries 1").stdout
	if !strings.Contains(out, "\tping\tpending\t0\t") || !strings.Contains(out, "msg_") {
		t.Fatalf("deliveries: %q", out)
	}
	if r := in.run(in.admin, "webhooks enable 1"); r.code != 1 || !strings.Contains(r.stderr, "not disabled") {
		t.Fatalf("enable an active one: %d %q", r.code, r.stderr)
	}
	if r := in.run(in.admin, "webhooks rm 1"); r.code != 0 || !strings.Contains(r.stdout, "removed") {
		t.Fatalf("rm: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if out := in.run(in.admin, "webhooks ls --org northwind").stdout; strings.Contains(out, hook) {
		t.Fatalf("ls after rm: %q", out)
	}
	// The audit log and the session log name the receiver's host, never
	// the path, which is often its secret.
	target := core.WebhookTarget(hook)
	if !env.HasEvent("webhook.added", target) || !env.HasEvent("webhook.removed", target) {
		t.Fatal("the audit log misses the webhook's addition or removal")
	}
	if strings.Contains(string(env.RawDump()), "hooks/latchkey\",") || strings.Contains(logs.String(), "hooks/latchkey") {
		t.Fatalf("the webhook's path is in the audit log or the session log:\n%s", logs.String())
	}
}
