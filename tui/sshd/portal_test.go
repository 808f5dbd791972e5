package sshd_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"latchkey/core"
	"latchkey/storage/storetest"
)

// Issue 14 over SSH: portal show and set, resources and updates, each flag's
// malformed value refused (exit 2) and each refusal (exit 1) changing nothing.
func TestPortalCommandsOverSSH(t *testing.T) {
	in := startInstance(t)
	env := in.env
	before := env.Dump()
	for _, tc := range []struct {
		cmd  string
		code int
		want string
	}{
		{"portal set website-redesign", 2, "needs at least one"},
		{"portal set website-redesign --access secret", 2, "--access: "},
		{"portal set website-redesign --disclosure loud", 2, "--disclosure: "},
		{"portal set website-redesign --upstream ftp://x.test", 2, "--upstream: "},
		{"portal set website-redesign --upstream http://u:p@x.test", 2, "--upstream: "},
		{"portal set website-redesign --host x.test:80", 2, "--host: "},
		{"portal set website-redesign --host 192.0.2.1", 2, "--host: "},
		{"portal set website-redesign --welcome-file welcome.md", 2, "--welcome-file takes -"},
		{"portal set website-redesign --bogus 1", 2, "unknown flag --bogus"},
		{"portal set website-redesign --title '   '", 1, "title"},
		{"portal set website-redesign --title ''", 2, "--title needs a value"},
		{"portal set website-redesign --contact client@acme.test", 1, "contact"},
		{"portal set secret --title Mine", 1, "no portal"},
		{"portal show website-redesign --title x", 2, "portal show takes no --title"},
		{"resources add website-redesign Designs javascript:alert(1)", 1, "url"},
		{"resources add website-redesign '  ' https://x.test", 1, "title"},
		{"resources add website-redesign Designs", 2, "usage"},
		{"resources rm website-redesign x", 2, "not a resource id"},
		{"resources move website-redesign 1 0", 2, "not a position"},
		{"resources rm website-redesign 9999", 1, "no resource"},
		{"resources ls website-redesign --note x", 2, "--note is for resources add"},
		{"updates post website-redesign", 1, "empty"},
		{"updates ls website-redesign --email", 2, "--email is for updates post"},
	} {
		r := in.run(in.mia, tc.cmd)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.want) || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("%s: exit %d, stderr %q; want exit %d and %q", tc.cmd, r.code, r.stderr, tc.code, tc.want)
		}
	}
	if env.Dump() != before {
		t.Fatal("refused commands changed the database")
	}

	r := in.runWith(in.mia, "portal set website-redesign --title 'Website Redesign 2027' --contact owner@northwind.test --welcome-file -", "# New welcome\n\nHello.")
	if r.code != 0 || !strings.Contains(r.stdout, "title\tWebsite Redesign 2027\n") || !strings.Contains(r.stdout, "contact\towner@northwind.test\n") {
		t.Fatalf("portal set: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	set := storetest.Must(env.Svc.PortalSettingsOf(env.Ctx, env.Admin, storetest.Must(env.Svc.PortalBySlug(env.Ctx, env.Admin, "website-redesign")).Portal.ID))
	if set.Welcome != "# New welcome\n\nHello." {
		t.Fatalf("welcome %q", set.Welcome)
	}
	var shown []map[string]any
	if err := json.Unmarshal([]byte(in.run(in.mia, "portal show website-redesign --json").stdout), &shown); err != nil || len(shown) != 1 || shown[0]["contact"] != "owner@northwind.test" {
		t.Fatalf("portal show --json: %v %v", shown, err)
	}

	r = in.run(in.mia, "resources add website-redesign 'Signed contract' https://docs.example.com/contract --note 'PDF, 2 pages'")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "added\t") {
		t.Fatalf("resources add: %d %q %q", r.code, r.stdout, r.stderr)
	}
	id := strings.Split(r.stdout, "\t")[1]
	if r = in.run(in.mia, "resources move website-redesign "+id+" 1"); r.code != 0 || !strings.HasPrefix(r.stdout, id+"\t1\tSigned contract\t") {
		t.Fatalf("resources move: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if r = in.run(in.mia, "resources rm website-redesign "+id); r.code != 0 || strings.Contains(r.stdout, "Signed contract") {
		t.Fatalf("resources rm: %d %q %q", r.code, r.stdout, r.stderr)
	}

	r = in.runWith(in.mia, "updates post website-redesign --email", "The product pages are in Figma.")
	// client@, sam@, and cfo@ (whose link was deactivated; the access stays)
	if r.code != 0 || !strings.HasPrefix(r.stdout, "posted\t") || !strings.HasSuffix(r.stdout, "emailed to 3\n") {
		t.Fatalf("updates post: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if got := len(env.MailsTo("client@acme.test", core.MailPortalUpdate)); got != 1 {
		t.Fatalf("the client got %d update mails", got)
	}
	if r = in.run(in.mia, "updates ls website-redesign"); !strings.Contains(strings.SplitN(r.stdout, "\n", 2)[0], "The product pages are in Figma.") {
		t.Fatalf("updates ls, newest first:\n%s", r.stdout)
	}
}

// A portal's language over SSH: an unknown code is refused with the codes
// latchkey speaks and changes nothing; a known one is set, shown (text and
// --json) and audited.
func TestPortalLanguageOverSSH(t *testing.T) {
	in := startInstance(t)
	env := in.env
	before := env.Dump()
	r := in.run(in.mia, "portal set website-redesign --language klingon")
	if r.code != 2 || !strings.Contains(r.stderr, "--language: ") || !strings.Contains(r.stderr, "en, de, fr, es") {
		t.Fatalf("unknown language: exit %d, stderr %q", r.code, r.stderr)
	}
	if env.Dump() != before {
		t.Fatal("a refused language changed the database")
	}
	if r = in.run(in.mia, "portal show website-redesign"); r.code != 0 || !strings.Contains(r.stdout, "language\tdefault\n") {
		t.Fatalf("portal show: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r = in.run(in.mia, "portal set website-redesign --language DE"); r.code != 0 || !strings.Contains(r.stdout, "language\tde\n") {
		t.Fatalf("portal set --language: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	var shown []map[string]any
	if err := json.Unmarshal([]byte(in.run(in.mia, "portal show website-redesign --json").stdout), &shown); err != nil || len(shown) != 1 || shown[0]["language"] != "de" {
		t.Fatalf("portal show --json: %v %v", shown, err)
	}
	if p := storetest.Must(env.Svc.PortalBySlug(env.Ctx, env.Admin, "website-redesign")).Portal; p.Language != "de" {
		t.Fatalf("stored language %q", p.Language)
	}
	found := false
	for _, e := range env.Events() {
		found = found || e.Action == "portal.updated" && strings.Contains(e.Detail, "language de")
	}
	if !found {
		t.Fatal("the audit log does not say the language changed")
	}
}

// Issue 17 over SSH: portal set takes each access rule, refuses a malformed
// or misplaced one and changes nothing, portal show lists the rules, and
// members says why a link the rules stopped no longer opens the portal.
func TestPortalRulesOverSSH(t *testing.T) {
	in := startInstance(t)
	env := in.env
	before := env.Dump()
	for _, tc := range []struct {
		cmd  string
		code int
		want string
	}{
		{"portal set website-redesign --link-uses 0", 2, "--link-uses: "},
		{"portal set website-redesign --link-uses many", 2, "--link-uses: "},
		{"portal set website-redesign --link-lifetime 30s", 2, "--link-lifetime: "},
		{"portal set website-redesign --link-idle forever", 2, "--link-idle: "},
		{"portal set website-redesign --invite-lifetime -3d", 2, "--invite-lifetime: "},
		{"portal set website-redesign --allow-domains 'not a domain'", 2, "--allow-domains: "},
		{"portal set website-redesign --auto-grant acme.test=owner", 2, "--auto-grant: "},
		{"portal set website-redesign --auto-grant acme.test=client,acme.test=client", 2, "--auto-grant: "},
		{"portal set website-redesign --allow-domains acme.test", 1, "email"},
		{"portal set onboarding --auto-grant acme.test=client", 1, "closed"},
	} {
		r := in.run(in.mia, tc.cmd)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.want) || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("%s: exit %d, stderr %q; want exit %d and %q", tc.cmd, r.code, r.stderr, tc.code, tc.want)
		}
	}
	if env.Dump() != before {
		t.Fatal("refused rules changed the database")
	}

	r := in.run(in.mia, "portal set website-redesign --link-lifetime 30d --link-uses 5 --auto-grant acme.test=client")
	for _, want := range []string{"link lifetime\t30d\n", "link idle\tnone\n", "link uses\t5\n", "auto grant\tacme.test=client\n"} {
		if r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Fatalf("portal set: exit %d, want %q in\n%s%s", r.code, want, r.stdout, r.stderr)
		}
	}
	// Opening the portal to everyone keeps the grant rule but says it no
	// longer applies; closing it again brings it back.
	r = in.run(in.mia, "portal set website-redesign --access open")
	if r.code != 0 || !strings.Contains(r.stdout, "auto grant\tacme.test=client (not applied: for closed portals)\n") {
		t.Fatalf("portal set --access open: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	var shown []map[string]any
	if err := json.Unmarshal([]byte(in.run(in.mia, "portal show website-redesign --json").stdout), &shown); err != nil || len(shown) != 1 || shown[0]["link_lifetime"] != "30d" || shown[0]["auto_grant"] != "acme.test=client" {
		t.Fatalf("portal show --json: %v %v", shown, err)
	}

	// Thirty-one days on, the demo's links to the portal have run out, and
	// members says so.
	env.Clock.Advance(31 * 24 * time.Hour)
	r = in.run(in.mia, "members website-redesign --json")
	var members []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &members); err != nil || len(members) == 0 {
		t.Fatalf("members --json: %v\n%s%s", err, r.stdout, r.stderr)
	}
	ended := 0
	for _, m := range members {
		if end, _ := m["link_end"].(string); strings.HasPrefix(end, "expired ") {
			ended++
		}
	}
	if ended == 0 {
		t.Fatalf("no member's link says it expired: %v", members)
	}
	if r = in.run(in.mia, "portal set website-redesign --link-lifetime none"); r.code != 0 || !strings.Contains(r.stdout, "link lifetime\tnone\n") {
		t.Fatalf("lifting the lifetime: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = in.run(in.mia, "members website-redesign --json")
	if strings.Contains(r.stdout, `"link_end"`) {
		t.Fatalf("a lifted lifetime still stops links:\n%s", r.stdout)
	}
}
