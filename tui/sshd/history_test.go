package sshd_test

import (
	"encoding/json"
	"strings"
	"testing"

	"latchkey/core"
	"latchkey/storage/storetest"
)

// Issue 16, part 5: `link history` lists every event of a person's links
// over a real SSH connection, in text and JSON, with a scanner's view
// marked; a person who never had a link is refused.
func TestLinkHistoryOverSSH(t *testing.T) {
	in := startInstance(t)
	ref, err := in.env.Svc.PortalBySlug(in.env.Ctx, in.env.Admin, "website-redesign")
	if err != nil {
		t.Fatal(err)
	}
	var linkID uint64
	for _, pm := range storetest.Must(in.env.Svc.PortalMembers(in.env.Ctx, in.env.Admin, ref.Portal.ID)) {
		if pm.Email == "client@acme.test" && pm.LinkState == core.LinkActive {
			hist := storetest.Must(in.env.Svc.LinkHistoryOf(in.env.Ctx, in.env.Admin, ref.Portal.ID, pm.Email))
			linkID = hist[0].Link.ID
		}
	}
	in.env.Svc.NoteView(linkID, core.Visitor{Addr: "40.94.1.1", UserAgent: "Mozilla/5.0 (compatible; SafeLinks)"}, "HEAD", false)
	if err := in.env.Svc.FlushViews(in.env.Ctx); err != nil {
		t.Fatal(err)
	}
	if r := in.run(in.mia, "link generate website-redesign client@acme.test"); r.code != 0 {
		t.Fatalf("generate: %+v", r)
	}
	r := in.run(in.mia, "link history website-redesign client@acme.test")
	if r.code != 0 || !strings.Contains(r.stdout, "\tviewed\t-\t40.94.1.1\t") || !strings.Contains(r.stdout, core.ScannerNote) ||
		!strings.Contains(r.stdout, "\treplaced\tmia@northwind.test\t") || !strings.Contains(r.stdout, "(active)\t") {
		t.Fatalf("history:\n%s%s", r.stdout, r.stderr)
	}
	var rows []struct {
		Link    uint64
		Event   string
		Scanner bool `json:"probably_scanner"`
	}
	r = in.run(in.mia, "link history website-redesign client@acme.test --json")
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &rows) != nil || len(rows) < 4 || rows[0].Event != "created" {
		t.Fatalf("--json: %+v", r)
	}
	scanners := 0
	for _, row := range rows {
		if row.Scanner {
			scanners++
		}
	}
	if scanners != 1 {
		t.Fatalf("%d scanner views in %+v", scanners, rows)
	}
	if r := in.run(in.mia, "link history website-redesign nobody@acme.test"); r.code != 1 || !strings.Contains(r.stderr, `no link for "nobody@acme.test"`) {
		t.Fatalf("no links: %+v", r)
	}
	if r := in.run(in.mia, "link history website-redesign"); r.code != 2 {
		t.Fatalf("missing email: %+v", r)
	}
}

// org set --language sets the default of the organization's portals that
// name none; an unknown code is refused and changes nothing.
func TestOrgLanguageOverSSH(t *testing.T) {
	in := startInstance(t)
	owner, line := newKey(t)
	storetest.Must(in.env.Svc.AddSSHKey(in.env.Ctx, in.env.Admin, "owner@northwind.test", line))
	if r := in.run(owner, "org set --language de"); r.code != 0 {
		t.Fatalf("set: %+v", r)
	}
	if r := in.run(owner, "org show"); !strings.Contains(r.stdout, "language\tde") {
		t.Fatalf("show: %+v", r)
	}
	before := in.env.Dump()
	if r := in.run(owner, "org set --language xx"); r.code != 1 || !strings.Contains(r.stderr, "en, de, fr, es") {
		t.Fatalf("unknown code: %+v", r)
	}
	if in.env.Dump() != before {
		t.Fatal("a refused language changed the store")
	}
	ref := storetest.Must(in.env.Svc.PortalBySlug(in.env.Ctx, in.env.Admin, "website-redesign"))
	if got := ref.Portal.LanguageIn(ref.Org); got != "de" {
		t.Fatalf("a portal without its own language speaks %q", got)
	}
}
