package sshd_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"latchkey/core"
	"latchkey/storage/storetest"
)

// Issue 13, point 2: over SSH, invite refuses addresses with hidden
// characters and undeliverable ones: exit 1, one line, nothing stored.
func TestInviteRefusesHiddenAndUndeliverableAddressesOverSSH(t *testing.T) {
	in := startInstance(t)
	before := in.env.Dump()
	for _, addr := range []string{"cli\u200bent@acme.test", "\u202etset.emca@tneilc", "client@ac\u200bme.test", "cli\u00adent@acme.test", "a@b", "a@192.0.2.1"} {
		r := in.run(in.mia, "invite '"+addr+"' --role client --portal website-redesign")
		if r.code != 1 || !strings.HasPrefix(r.stderr, "latchkey: email: ") || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("invite %q: exit %d, stderr %q", addr, r.code, r.stderr)
		}
	}
	if in.env.Dump() != before {
		t.Fatal("a refused address changed the database")
	}
}

// Issue 13, point 3: requests from look-alike addresses show their ASCII
// form and the known address they read as, in text and JSON; granting one
// takes --confirm.
func TestLookalikeRequestsOverSSH(t *testing.T) {
	in := startInstance(t)
	env := in.env
	storetest.Must(env.Svc.RequestAccess(env.Ctx, "website-redesign", "client@аcme.test", core.Visitor{Addr: "192.0.2.1"})) // Cyrillic а
	r := in.run(in.mia, "requests")
	if r.code != 0 || !strings.Contains(r.stdout, "client@аcme.test") || !strings.Contains(r.stdout, "client@xn--cme-5cd.test") || !strings.Contains(r.stdout, "looks like client@acme.test") {
		t.Fatalf("requests: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	var rows []struct {
		ID        uint64 `json:"id"`
		Email     string `json:"email"`
		ASCII     string `json:"ascii"`
		LooksLike string `json:"looks_like"`
	}
	r = in.run(in.mia, "requests --json")
	if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil {
		t.Fatal(err)
	}
	var id uint64
	for _, row := range rows {
		if row.Email == "client@аcme.test" {
			id = row.ID
			if row.ASCII != "client@xn--cme-5cd.test" || row.LooksLike != "client@acme.test" {
				t.Fatalf("JSON row %+v", row)
			}
		}
	}
	before := env.Dump()
	r = in.run(in.mia, "requests grant "+itoa(id))
	if r.code != 1 || !strings.Contains(r.stderr, "looks like client@acme.test") || !strings.Contains(r.stderr, "--confirm") || strings.Count(r.stderr, "\n") != 1 {
		t.Fatalf("grant without --confirm: exit %d, stderr %q", r.code, r.stderr)
	}
	if env.Dump() != before {
		t.Fatal("the unconfirmed grant changed the database")
	}
	if r = in.run(in.mia, "requests grant "+itoa(id)+" --confirm"); r.code != 0 {
		t.Fatalf("grant --confirm: exit %d, stderr %q", r.code, r.stderr)
	}
}

// Issue 13, point 6: inviting an address with an active link asks for
// --replace and changes nothing; with it the link is replaced.
func TestReinviteOverSSHTakesReplace(t *testing.T) {
	in := startInstance(t)
	before := in.env.Dump()
	r := in.run(in.mia, "invite client@acme.test --role client --portal website-redesign")
	if r.code != 1 || !strings.Contains(r.stderr, "active link") || !strings.Contains(r.stderr, "--replace") {
		t.Fatalf("re-invite: exit %d, stderr %q", r.code, r.stderr)
	}
	if in.env.Dump() != before {
		t.Fatal("the unconfirmed re-invitation changed the database")
	}
	if _, err := in.env.Svc.Landing(in.env.Ctx, in.links["website-redesign"], ""); err != nil {
		t.Fatalf("the client's link after the unconfirmed re-invitation: %v", err)
	}
	r = in.run(in.mia, "invite client@acme.test --role client --portal website-redesign --replace")
	if r.code != 0 || !strings.Contains(r.stdout, "replaced the active link") {
		t.Fatalf("re-invite --replace: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
	// A member invited to a portal keeps their role, and the output says so.
	r = in.run(in.admin, "invite sam@northwind.test --role client --portal brand-guidelines")
	if r.code != 0 || !strings.Contains(r.stdout, "sam@northwind.test\tmember\tbrand-guidelines\tkeeps the role member") {
		t.Fatalf("invite of a member: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
}

// Issue 13, point 9: SSH says what the console says: "invited" for an
// invitee, "-" (null in JSON) for a project without a portal, and link
// columns that describe the current link.
func TestSSHSpeaksTheConsolesWords(t *testing.T) {
	in := startInstance(t)
	storetest.Must(in.env.Svc.Invite(in.env.Ctx, in.env.Admin, core.InviteInput{OrgID: storetest.Must(in.env.Svc.Orgs(in.env.Ctx, in.env.Admin))[0].ID,
		Email: "invitee@acme.test", Role: core.RoleClient, PortalID: storetest.Must(in.env.Svc.PortalBySlug(in.env.Ctx, in.env.Admin, "website-redesign")).Portal.ID}))
	r := in.run(in.mia, "members website-redesign")
	var line string
	for _, l := range strings.Split(r.stdout, "\n") {
		if strings.HasPrefix(l, "invitee@acme.test\t") {
			line = l
		}
	}
	if cells := strings.Split(line, "\t"); len(cells) < 5 || cells[3] != core.AccessInvited || cells[4] != "active" {
		t.Fatalf("the invitee's row: %q", line)
	}
	r = in.run(in.mia, "members website-redesign --json")
	var members []struct {
		Email  string `json:"email"`
		Access string `json:"access"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &members); err != nil {
		t.Fatal(err)
	}
	for _, m := range members {
		if m.Email == "invitee@acme.test" && m.Access != "invited" {
			t.Fatalf("JSON access %q", m.Access)
		}
	}
	r = in.run(in.mia, "projects")
	if !strings.Contains(r.stdout, "Internal Ops\t-\t-\t-\t-\t-\n") {
		t.Fatalf("a project without a portal:\n%s", r.stdout)
	}
	r = in.run(in.mia, "projects --json")
	var projects []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &projects); err != nil {
		t.Fatal(err)
	}
	for _, p := range projects {
		if p["project"] == "Internal Ops" && (p["people_with_access"] != nil || p["active_links"] != nil) {
			t.Fatalf("JSON of a project without a portal: %v", p)
		}
		if p["project"] == "Website Redesign" && p["people_with_access"] == nil {
			t.Fatalf("JSON of a project with a portal: %v", p)
		}
	}
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }

// members shows the exact last use and count the moment a redemption
// commits, before the background fold, and the same after it.
func TestMembersShowUsesAtOnceOverSSH(t *testing.T) {
	in := startInstance(t)
	storetest.Must(in.env.Svc.FoldLinkUses(in.env.Ctx)) // the demo's own
	type member struct {
		Email    string `json:"email"`
		LastUsed string `json:"last_used"`
		Uses     uint64 `json:"uses"`
	}
	client := func(what string) member {
		t.Helper()
		r := in.run(in.mia, "members website-redesign --json")
		var members []member
		if err := json.Unmarshal([]byte(r.stdout), &members); err != nil {
			t.Fatal(err)
		}
		for _, m := range members {
			if m.Email == "client@acme.test" {
				return m
			}
		}
		t.Fatalf("%s: no client@acme.test in %s", what, r.stdout)
		return member{}
	}
	demo := client("the demo")
	in.env.Clock.Advance(time.Hour)
	v := core.Visitor{Addr: "198.51.100.7", UserAgent: "Mozilla/5.0 (iPhone)"}
	for range 3 {
		storetest.Must(in.env.Svc.Redeem(in.env.Ctx, in.links["website-redesign"], v))
	}
	want := member{Email: "client@acme.test", LastUsed: in.env.Clock.Now().UTC().Format(time.RFC3339), Uses: demo.Uses + 3}
	if got := client("before the fold"); got != want {
		t.Fatalf("before the fold: %+v, want %+v", got, want)
	}
	if n := storetest.Must(in.env.Svc.FoldLinkUses(in.env.Ctx)); n != 3 {
		t.Fatalf("folded %d uses, want the 3 members counted unfolded", n)
	}
	if got := client("after the fold"); got != want {
		t.Fatalf("after the fold: %+v, want %+v", got, want)
	}
}
