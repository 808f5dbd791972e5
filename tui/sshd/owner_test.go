package sshd_test

import (
	"strconv"
	"strings"
	"testing"

	"latchkey/core"
	"latchkey/storage/storetest"
)

// A manager manages the organization's people, but not its owner: over SSH,
// nothing a manager types may give the owner a new link, re-link them as
// someone else, show their link or end it. The owner's link works throughout.
func TestManagerCannotTouchOwnersLinkOverSSH(t *testing.T) {
	in := startInstance(t)
	env := in.env
	const owner = "owner@northwind.test"
	ref := storetest.Must(env.Svc.PortalBySlug(env.Ctx, env.Admin, "website-redesign"))
	// The owner asks for access to a second closed portal, and has an
	// active link (made by the instance admin) to the demo's closed one.
	proj := storetest.Must(env.Svc.CreateProject(env.Ctx, env.Admin, ref.Org.ID, "Owner Review"))
	storetest.Must(env.Svc.SetPortal(env.Ctx, env.Admin, proj.ID, core.PortalSettings{Slug: "owner-review", Title: "Owner Review", Access: core.AccessClosed}))
	asked := storetest.Must(env.Svc.RequestAccess(env.Ctx, "owner-review", owner, core.Visitor{Addr: "127.0.0.1"}))
	if asked.Outcome != core.OutcomeRequested {
		t.Fatalf("the owner's request was not recorded: %+v", asked)
	}
	var requestID uint64
	for _, r := range storetest.Must(env.Svc.Requests(env.Ctx, env.Admin, ref.Org.ID, true)) {
		if r.Email == owner {
			requestID = r.ID
		}
	}
	storetest.Must(0, env.Svc.AddPortalAccess(env.Ctx, env.Admin, ref.Portal.ID, env.User(owner).ID))
	token := ""
	// activeLink gives the owner an active link again when a step before
	// ended it, so that each step is judged on its own.
	activeLink := func() {
		if _, err := env.Svc.Landing(env.Ctx, token, ""); err == nil {
			return
		}
		token = storetest.TokenOf(storetest.Must(env.Svc.GenerateLink(env.Ctx, env.Admin, ref.Portal.ID, owner)).URL)
	}

	for _, cmd := range []string{
		"invite " + owner + " --role client --portal website-redesign",
		"link generate website-redesign " + owner,
		"requests grant " + strconv.FormatUint(requestID, 10),
		"link show website-redesign " + owner,
		"link deactivate website-redesign " + owner,
	} {
		t.Run(cmd, func(t *testing.T) {
			activeLink()
			r := in.run(in.mia, cmd)
			if r.code != 1 || !strings.HasPrefix(r.stderr, "latchkey: ") || strings.Count(r.stderr, "\n") != 1 || r.stdout != "" || strings.Contains(r.stderr, token) {
				t.Errorf("exit %d, stdout %q, stderr %q; want a one-line refusal and exit 1", r.code, r.stdout, r.stderr)
			}
			if l, err := env.Svc.Landing(env.Ctx, token, ""); err != nil || l.State != core.LinkActive {
				t.Errorf("after %q the owner's link is %q (%v)", cmd, l.State, err)
			}
		})
	}
	if _, err := env.Svc.Redeem(env.Ctx, token, core.Visitor{Addr: "127.0.0.1"}); err != nil {
		t.Fatalf("the owner's link no longer opens the portal: %v", err)
	}
	orgs := storetest.Must(env.Svc.Orgs(env.Ctx, env.Admin))
	if role := storetest.Must(env.Svc.RoleIn(env.Ctx, core.UserActor(env.User(owner), "test"), orgs[0].ID)); role != core.RoleOwner {
		t.Fatalf("the owner is now %s", role)
	}
}
