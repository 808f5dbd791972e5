package tui

import (
	"encoding/base64"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"latchkey/core"
	"latchkey/storage/storetest"
)

// toTokens opens Settings › API tokens and waits for want (what is read
// from the program's output is not read again).
func toTokens(c *console, want string) {
	c.key("6")
	c.waitFor("Disclosure")
	c.key("t")
	c.waitFor(want)
}

// toTokenForm opens the form of a new token.
func toTokenForm(c *console) {
	toTokens(c, "Tokens let other systems")
	c.key("n")
	c.waitFor("A token for another system")
}

// northwind is the demo's organization, the one the console manages.
func northwind(c *console) core.Org { return storetest.Must(c.env.Svc.Orgs(c.env.Ctx, c.env.Admin))[0] }

// withTokens makes two tokens the way SSH would: "CRM sync", used once,
// and "Old deploy", revoked.
func withTokens(c *console) {
	org := northwind(c).ID
	_, secret, err := c.env.Svc.CreateAPIToken(c.env.Ctx, c.env.Admin, core.NewAPIToken{OrgID: org, Name: "CRM sync",
		Scopes: []core.Scope{core.ScopeMembersRead, core.ScopeMembersWrite}, Expires: time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		c.t.Fatal(err)
	}
	if _, _, err := c.env.Svc.AuthenticateAPIToken(c.env.Ctx, secret, "test"); err != nil {
		c.t.Fatal(err)
	}
	old, _, err := c.env.Svc.CreateAPIToken(c.env.Ctx, c.env.Admin, core.NewAPIToken{OrgID: org, Name: "Old deploy", Scopes: core.Scopes})
	if err != nil {
		c.t.Fatal(err)
	}
	storetest.Must(c.env.Svc.RevokeAPIToken(c.env.Ctx, c.env.Admin, old.ID))
}

func tokenNames(c *console) []string {
	var out []string
	for _, t := range storetest.Must(c.env.Svc.APITokenList(c.env.Ctx, c.env.Admin, northwind(c).ID)) {
		out = append(out, t.Name)
	}
	return out
}

var osc52 = regexp.MustCompile(`\x1b\]52;c;([A-Za-z0-9+/=]+)`)

// A token is created through the form: its secret, shown once, begins
// with lk_, is copied to the clipboard with OSC 52 on c, and authenticates
// with the scopes ticked; the list shows the token, never its secret.
func TestTokenFormCreatesAToken(t *testing.T) {
	c := startConsole(t)
	toTokens(c, "No API tokens yet")
	c.key("n")
	c.waitFor("A token for another system")
	c.key("CRM sync", "tab") // the scopes: projects:read, then members:read below it
	c.key(" ", "down", " ", "tab", "2026-12-31", "ctrl+s")
	c.waitFor("not shown again")
	c.key("c")
	c.waitFor("copied to your clipboard")
	m := osc52.FindSubmatch(c.out.Bytes())
	if m == nil {
		c.waitFor("\x1b]52;c;")
		m = osc52.FindSubmatch(c.out.Bytes())
	}
	if m == nil {
		t.Fatal("no OSC 52 sequence was written")
	}
	raw, err := base64.StdEncoding.DecodeString(string(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	secret := string(raw)
	if !strings.HasPrefix(secret, core.APITokenPrefix) {
		t.Fatalf("the secret copied is %q", secret)
	}
	if !strings.Contains(ansi.Strip(c.out.String()), secret) {
		t.Errorf("the dialog did not show the secret it copied")
	}
	tok, actor, err := c.env.Svc.AuthenticateAPIToken(c.env.Ctx, secret, "test")
	if err != nil {
		t.Fatalf("the secret shown does not authenticate: %v", err)
	}
	if tok.Name != "CRM sync" || !slices.Equal(tok.Scopes, []core.Scope{core.ScopeProjectsRead, core.ScopeMembersRead}) ||
		!tok.ExpiresAt.Equal(time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)) || actor.OrgID != northwind(c).ID {
		t.Fatalf("token %+v as %+v", tok, actor)
	}

	c.out.Reset()
	c.key("enter") // closes the secret, back to the list
	c.waitFor("Created by")
	out := c.screen()
	if strings.Contains(out, secret) || strings.Contains(ansi.Strip(c.out.String()), secret) {
		t.Fatalf("the list shows the secret:\n%s", out)
	}
	// At 100 columns the scopes are cut and Created is left out; enter
	// shows them whole. The token was used once, above.
	if row := rowOf(t, out, "CRM sync"); !strings.HasPrefix(row[1], "projects:read,") ||
		!slices.Equal(slices.Delete(row, 1, 2), []string{"CRM sync", "active", "admin", "2 Mar 09:30"}) {
		t.Errorf("row %q", row)
	}
	if !strings.Contains(words(out), `The secret of "CRM sync" is not shown again`) {
		t.Errorf("the status line:\n%s", out)
	}
}

// Bad input is named under its field, and no token is made.
func TestTokenFormRefusesBadInput(t *testing.T) {
	for _, tc := range []struct {
		name  string
		keys  []string
		field string // the field's label
		next  string // what follows the field
		want  string
	}{
		{"no name", []string{"tab", " "}, "Name", "Scopes", "Must not be empty"},
		{"no scope", []string{"CRM sync"}, "Scopes", "Expires", "Give at least one scope: projects:read"},
		{"an expiry in the past", []string{"CRM sync", "tab", "a", "tab", "2026-03-01"}, "Expires", "Create token", "The expiry date has passed; give a day after today"},
		{"today", []string{"CRM sync", "tab", "a", "tab", "2026-03-02"}, "Expires", "Create token", "The expiry date has passed"},
		{"soon", []string{"CRM sync", "tab", "a", "tab", "soon"}, "Expires", "Create token", `"soon" is not a date like 2026-12-31`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := startConsole(t)
			toTokenForm(c)
			c.key(tc.keys...)
			c.key("ctrl+s")
			// The message's opening words: its end may already be on the
			// screen (the scopes' help names projects:read).
			c.waitFor(tc.want[:16])
			out := c.screen()
			i := strings.Index(out, "› "+tc.field)
			if i < 0 {
				t.Fatalf("%s is not marked:\n%s", tc.field, out)
			}
			j := i + strings.Index(out[i:], tc.next)
			if j < i || !strings.Contains(words(out[i:j]), tc.want) {
				t.Fatalf("%q is not under %s:\n%s", tc.want, tc.field, out)
			}
			if names := tokenNames(c); len(names) != 0 {
				t.Fatalf("tokens were made: %q", names)
			}
		})
	}
}

// d revokes the selected token after y; n keeps it; a revoked token is not
// revoked twice, and says so.
func TestTokenRevokeAsksFirst(t *testing.T) {
	c := startConsole(t)
	org := northwind(c).ID
	_, secret, err := c.env.Svc.CreateAPIToken(c.env.Ctx, c.env.Admin, core.NewAPIToken{OrgID: org, Name: "CRM sync", Scopes: core.Scopes})
	if err != nil {
		t.Fatal(err)
	}
	toTokens(c, "CRM sync")
	c.key("d")
	c.waitFor(`Revoke the API token "CRM sync"?`)
	c.key("n")
	c.waitFor("Nothing was changed.")
	if _, _, err := c.env.Svc.AuthenticateAPIToken(c.env.Ctx, secret, "test"); err != nil {
		t.Fatalf("n revoked the token: %v", err)
	}
	c.key("d")
	c.waitFor(`Revoke the API token "CRM sync"?`)
	c.key("y")
	c.waitFor("revoked 2 Mar 2026")
	if _, _, err := c.env.Svc.AuthenticateAPIToken(c.env.Ctx, secret, "test"); err == nil {
		t.Fatal("the revoked token still authenticates")
	}
	c.key("d")
	c.waitFor("already")
	out := c.screen()
	if row := rowOf(t, out, "CRM sync"); row[2] != "revoked 2 Mar 2026" || row[1] != "all" {
		t.Errorf("row %q", row)
	}
	if !strings.Contains(words(out), `"CRM sync" was revoked on 2 Mar 2026 already`) {
		t.Errorf("the second d:\n%s", out)
	}
	if strings.Contains(out, "Confirm") {
		t.Errorf("a revoked token was offered for revoking again:\n%s", out)
	}
}

// enter shows a token whole: id, name, state, creator, dates and every
// scope with what it allows; never the secret.
func TestTokenShownWhole(t *testing.T) {
	c := startConsole(t)
	withTokens(c)
	toTokens(c, "CRM sync")
	c.key("enter")
	c.waitFor("Last used")
	out := words(c.screen())
	for _, want := range []string{"Token 1", "Name CRM sync", "State active", "Created by admin", "Created Mon 2 Mar 2026 09:30",
		"Expires Thu 31 Dec 2026 (it stops at 00:00 UTC)", "Last used Mon 2 Mar 2026 09:30", "Scopes (2 scopes):",
		"members:read: read the people of a portal", "members:write: invite, change roles, remove access"} {
		if !strings.Contains(out, want) {
			t.Errorf("the token lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, core.APITokenPrefix) {
		t.Errorf("the secret shows:\n%s", out)
	}
}

// The list shows tokens made elsewhere (over SSH, by another console)
// without a key press; an empty list says what tokens are for.
func TestTokensRefreshOnChanges(t *testing.T) {
	c := startConsole(t)
	toTokens(c, "No API tokens yet")
	withTokens(c)
	c.waitFor("Old deploy")
	out := c.screen()
	if row := rowOf(t, out, "Old deploy"); row[2] != "revoked 2 Mar 2026" {
		t.Errorf("row %q", row)
	}

	c = startConsoleSized(t, 80, 24)
	toTokens(c, "No API tokens yet")
	out = c.screen()
	requireFits(t, out, 80, 24)
	if !strings.Contains(words(out), "Press n to create one") {
		t.Errorf("the empty list:\n%s", out)
	}
}

// Only the owner and an instance admin handle tokens: core says so to a
// manager, and the console shows its reason; the owner's tokens name them.
func TestTokensAreTheOwners(t *testing.T) {
	m := startConsoleAs(t, 100, 30, "mia@northwind.test")
	toTokens(m, "Only the owner")
	if out := words(m.screen()); !strings.Contains(out, "Only the owner creates and revokes API tokens") {
		t.Fatalf("a manager's tokens:\n%s", out)
	}

	o := startConsoleAs(t, 100, 30, "owner@northwind.test")
	toTokenForm(o)
	o.key("Reports", "tab", "a", "ctrl+s")
	o.waitFor("not shown again")
	o.key("enter")
	o.waitFor("Created by")
	if row := rowOf(t, o.screen(), "Reports"); row[1] != "all" || row[3] != "owner@northwind.test" {
		t.Fatalf("row %q", row)
	}
}
