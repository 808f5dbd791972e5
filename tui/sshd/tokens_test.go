package sshd_test

import (
	"encoding/json"
	"strings"
	"testing"
)

// API tokens over SSH: created by the owner's authority with the secret
// printed once, listed without it, revoked; bad input refused with exit 2,
// a manager refused with exit 1, each changing nothing.
func TestTokensOverSSH(t *testing.T) {
	in := startInstance(t)
	env := in.env
	before := env.Dump()
	for _, tc := range []struct {
		cmd  string
		code int
		want string
	}{
		{"tokens", 2, "usage: tokens create"},
		{"tokens create crm", 2, "needs --scope"},
		{"tokens create crm --scope members:read,root", 2, `--scope: "root" is not a scope`},
		{"tokens create crm --scope ,", 2, "--scope: give at least one scope"},
		{"tokens create crm --scope all --expires soon", 2, "--expires: "},
		{"tokens create crm --scope all --expires 2020-01-01", 1, "expiry date has passed"},
		{"tokens create --scope all", 2, "usage: tokens create NAME"},
		{"tokens create '  ' --scope all", 1, "name"},
		{"tokens revoke x", 2, "not a token id"},
		{"tokens revoke 99", 1, "no API token"},
		{"tokens rotate 1", 2, "unknown subcommand"},
	} {
		r := in.run(in.admin, tc.cmd+" --org northwind")
		if code, stderr := r.code, r.stderr; code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("%s: exit %d, %q; want %d and %q", tc.cmd, code, stderr, tc.code, tc.want)
		}
	}
	if r := in.run(in.mia, "tokens create crm --scope all"); r.code != 1 || !strings.Contains(r.stderr, "only the owner") {
		t.Errorf("a manager's tokens create: exit %d, %q", r.code, r.stderr)
	}
	if env.Dump() != before {
		t.Fatal("a refused tokens command changed the database")
	}

	r := in.run(in.admin, "tokens create crm --scope members:read,links:write --org northwind --expires 2099-01-31 --json")
	out := r.stdout
	if r.code != 0 {
		t.Fatalf("create: %d %s", r.code, r.stderr)
	}
	var made []struct {
		ID     uint64   `json:"id"`
		Secret string   `json:"secret"`
		Scopes []string `json:"scopes"`
		State  string   `json:"state"`
	}
	if err := json.Unmarshal([]byte(out), &made); err != nil || len(made) != 1 || !strings.HasPrefix(made[0].Secret, "lk_") ||
		strings.Join(made[0].Scopes, ",") != "members:read,links:write" || made[0].State != "active" {
		t.Fatalf("create printed %s (%v)", out, err)
	}
	if _, _, err := env.Svc.AuthenticateAPIToken(env.Ctx, made[0].Secret, "test"); err != nil {
		t.Fatalf("the printed secret does not authenticate: %v", err)
	}
	out = in.run(in.admin, "tokens ls --org northwind").stdout
	if !strings.Contains(out, "crm\tmembers:read,links:write\tactive\tadmin\t") || strings.Contains(out, "lk_") ||
		!strings.Contains(out, "2099-01-31T00:00:00Z") {
		t.Fatalf("ls: %q", out)
	}
	if r := in.run(in.admin, "tokens revoke 1 --org northwind"); r.code != 0 || !strings.Contains(r.stdout, "revoked "+env.Clock.Now().UTC().Format("2 Jan 2006")) {
		t.Fatalf("revoke: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if _, _, err := env.Svc.AuthenticateAPIToken(env.Ctx, made[0].Secret, "test"); err == nil {
		t.Fatal("a revoked token still authenticates")
	}
}
