package core_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"latchkey/core"
)

// decisionWorld is a closed portal with one person of every standing: the
// owner and a manager with links, an invitee who is to become a manager, a
// client with an account and access, an invitee who has not opened their
// link, someone whose only link was deactivated, and a member with access
// but no link.
func decisionWorld(t *testing.T) (*env, world) {
	e := newEnv(t)
	w := e.world("Acme")
	p := w.closed
	invite := func(email string, role core.Role) {
		must(e.Svc.Invite(e.Ctx, w.ownerA, core.InviteInput{OrgID: w.org.ID, Email: email, Role: role, PortalID: p.ID, Replace: true}))
	}
	invite(w.owner.Email, core.RoleClient)
	invite(w.manager.Email, core.RoleClient)
	invite("new-manager@acme.test", core.RoleManager)
	invite("client@acme.test", core.RoleClient)
	must(e.Svc.Redeem(e.Ctx, e.LastToken("client@acme.test", core.MailInvitePortal), visitor))
	invite("invitee@acme.test", core.RoleClient)
	invite("gone@acme.test", core.RoleClient)
	if err := e.Svc.DeactivateLink(e.Ctx, w.ownerA, p.ID, "gone@acme.test"); err != nil {
		t.Fatal(err)
	}
	if err := e.Svc.AddPortalAccess(e.Ctx, w.ownerA, p.ID, w.member.ID); err != nil {
		t.Fatal(err)
	}
	return e, w
}

// Issue 15: the actions a member row carries are exactly what the write
// operations do: for the owner and for a manager, every action on every
// person of the portal is allowed by its decision if and only if the
// write succeeds, and a refused write fails with the decision's reason.
func TestMemberDecisionsAreWhatTheWritesDo(t *testing.T) {
	e, w := decisionWorld(t)
	actors := map[string]func(world) core.Actor{
		"owner":   func(w world) core.Actor { return w.ownerA },
		"manager": func(w world) core.Actor { return w.managerA },
	}
	type write func(e *env, w world, a core.Actor, pm core.PortalMember) error
	actions := []struct {
		name     string
		decision func(core.MemberActions) core.Decision
		write    write
	}{
		{"generate", func(m core.MemberActions) core.Decision { return m.Generate }, func(e *env, w world, a core.Actor, pm core.PortalMember) error {
			_, err := e.Svc.GenerateLink(e.Ctx, a, w.closed.ID, pm.Email)
			return err
		}},
		{"deactivate", func(m core.MemberActions) core.Decision { return m.Deactivate }, func(e *env, w world, a core.Actor, pm core.PortalMember) error {
			return e.Svc.DeactivateLink(e.Ctx, a, w.closed.ID, pm.Email)
		}},
		{"copy", func(m core.MemberActions) core.Decision { return m.Copy }, func(e *env, w world, a core.Actor, pm core.PortalMember) error {
			_, err := e.Svc.RevealLink(e.Ctx, a, w.closed.ID, pm.Email)
			return err
		}},
		{"resend", func(m core.MemberActions) core.Decision { return m.Resend }, func(e *env, w world, a core.Actor, pm core.PortalMember) error {
			return e.Svc.ResendLink(e.Ctx, a, w.closed.ID, pm.Email)
		}},
		{"remove access", func(m core.MemberActions) core.Decision { return m.RemoveAccess }, func(e *env, w world, a core.Actor, pm core.PortalMember) error {
			return e.Svc.RemoveAccess(e.Ctx, a, w.closed.ID, pm.Email)
		}},
		{"link history", func(m core.MemberActions) core.Decision { return m.History }, func(e *env, w world, a core.Actor, pm core.PortalMember) error {
			_, err := e.Svc.LinkHistoryOf(e.Ctx, a, w.closed.ID, pm.Email)
			return err
		}},
	}
	checked := map[string]bool{}
	for actorName, actorOf := range actors {
		rows := must(e.Svc.PortalMembers(e.Ctx, actorOf(w), w.closed.ID))
		if len(rows) != 7 {
			t.Fatalf("%d rows, want 7: %+v", len(rows), rows)
		}
		for _, pm := range rows {
			for _, act := range actions {
				d := act.decision(pm.Actions)
				t.Run(fmt.Sprintf("%s %s %s", actorName, act.name, pm.Email), func(t *testing.T) {
					fe, fw := decisionWorld(t) // a fresh world: the write changes it
					err := act.write(fe, fw, actorOf(fw), pm)
					checked[fmt.Sprint(d.OK())] = true
					if d.OK() != (err == nil) {
						t.Fatalf("decision allows=%v (%q), write: %v", d.OK(), d.Reason(), err)
					}
					if err != nil && core.Describe(err) != d.Reason() {
						t.Fatalf("write refused with %q, decision says %q", core.Describe(err), d.Reason())
					}
				})
			}
			// Change role: the menu entry, then each role it offers.
			t.Run(fmt.Sprintf("%s change role %s", actorName, pm.Email), func(t *testing.T) {
				if !pm.IsMember {
					if pm.Actions.ChangeRole.OK() {
						t.Fatal("change role offered for someone who is not a member")
					}
					return
				}
				for _, choice := range pm.Actions.Roles {
					fe, fw := decisionWorld(t)
					var until time.Time
					if choice.Role == core.RoleGuest {
						until = fe.Clock.Now().AddDate(0, 1, 0)
					}
					err := fe.Svc.ChangeRole(fe.Ctx, actorOf(fw), fw.org.ID, pm.UserID, choice.Role, until)
					if choice.Decision.OK() != (err == nil) {
						t.Fatalf("%s: decision allows=%v (%q), write: %v", choice.Role, choice.Decision.OK(), choice.Decision.Reason(), err)
					}
					if err != nil && core.Describe(err) != choice.Decision.Reason() {
						t.Fatalf("%s: write refused with %q, decision says %q", choice.Role, core.Describe(err), choice.Decision.Reason())
					}
					if err == nil && !pm.Actions.ChangeRole.OK() {
						t.Fatalf("%s: the menu refuses change role (%q) but the write allows it", choice.Role, pm.Actions.ChangeRole.Reason())
					}
				}
			})
		}
	}
	if !checked["true"] || !checked["false"] {
		t.Fatalf("the world must hold both allowed and refused actions: %v", checked)
	}
}

// The manager's menu refuses what only the owner may do, with core's own
// sentence; the owner's allows it.
func TestManagerIsRefusedTheOwnersLinksWithAReason(t *testing.T) {
	e, w := decisionWorld(t)
	byEmail := func(a core.Actor) map[string]core.PortalMember {
		out := map[string]core.PortalMember{}
		for _, pm := range must(e.Svc.PortalMembers(e.Ctx, a, w.closed.ID)) {
			out[pm.Email] = pm
		}
		return out
	}
	mgr, own := byEmail(w.managerA), byEmail(w.ownerA)
	owner := mgr[w.owner.Email].Actions
	if owner.Generate.OK() || owner.Copy.OK() || owner.RemoveAccess.OK() || owner.ChangeRole.OK() {
		t.Fatalf("a manager may touch the owner: %+v", owner)
	}
	if got := owner.Copy.Reason(); got != "Only the owner handles the links of owners and managers" {
		t.Fatalf("reason %q", got)
	}
	if !own[w.owner.Email].Actions.Copy.OK() || !own[w.manager.Email].Actions.Generate.OK() {
		t.Fatal("the owner may handle their own and the managers' links")
	}
	if d := mgr["invitee@acme.test"].Actions; !d.Copy.OK() || d.ChangeRole.OK() {
		t.Fatalf("invitee: %+v", d)
	}
	if d := mgr["gone@acme.test"].Actions; d.Copy.OK() || !d.Generate.OK() {
		t.Fatalf("deactivated: %+v", d)
	}
	for _, c := range mgr["client@acme.test"].Actions.Roles {
		if (c.Role == core.RoleManager) == c.Decision.OK() {
			t.Fatalf("a manager's role choices: %+v", mgr["client@acme.test"].Actions.Roles)
		}
	}
}

// Requests carry their answers: a pending request may be granted with the
// roles the actor may give, a handled one no longer; the decision is the
// write's own refusal.
func TestRequestDecisionsAreWhatTheWritesDo(t *testing.T) {
	e, w := decisionWorld(t)
	must(e.Svc.RequestAccess(e.Ctx, w.closed.Slug, "stranger@example.org", visitor))
	reqs := must(e.Svc.Requests(e.Ctx, w.managerA, w.org.ID, false))
	if len(reqs) != 1 || !reqs[0].Actions.Grant.OK() || !reqs[0].Actions.Dismiss.OK() {
		t.Fatalf("requests: %+v", reqs)
	}
	for _, c := range reqs[0].Actions.Roles {
		if (c.Role == core.RoleManager) == c.Decision.OK() {
			t.Fatalf("a manager grants: %+v", reqs[0].Actions.Roles)
		}
	}
	if err := e.Svc.DismissRequest(e.Ctx, w.managerA, reqs[0].ID); err != nil {
		t.Fatal(err)
	}
	done := must(e.Svc.Requests(e.Ctx, w.managerA, w.org.ID, false))[0]
	_, err := e.Svc.GrantRequest(e.Ctx, w.managerA, core.GrantInput{RequestID: done.ID})
	if done.Actions.Grant.OK() || err == nil || core.Describe(err) != done.Actions.Grant.Reason() {
		t.Fatalf("grant of a dismissed request: decision %q, write %v", done.Actions.Grant.Reason(), err)
	}
}

// Instance-wide actions and SSH keys are decided by core too.
func TestInstanceAndKeyDecisions(t *testing.T) {
	e, w := decisionWorld(t)
	if d := core.InstanceActionsOf(w.ownerA); d.CreateOrg.OK() || d.ReadCatcher.OK() || d.ReadEveryAudit.OK() {
		t.Fatalf("an owner: %+v", d)
	}
	if d := core.InstanceActionsOf(e.Admin); !d.CreateOrg.OK() || !d.ReadCatcher.OK() || !d.ReadEveryAudit.OK() {
		t.Fatalf("the admin: %+v", d)
	}
	_, err := e.Svc.CreateOrg(e.Ctx, w.ownerA, core.NewOrg{Name: "Other", OwnerEmail: "o@other.test"})
	if !errors.Is(err, core.ErrForbidden) || core.Describe(err) != core.InstanceActionsOf(w.ownerA).CreateOrg.Reason() {
		t.Fatalf("create org as an owner: %v", err)
	}
	for _, m := range must(e.Svc.Members(e.Ctx, w.managerA, w.org.ID)) {
		err := e.Svc.MayManageKeys(e.Ctx, w.managerA, m.User.ID)
		if m.Member.Role.UsesConsole() && m.Actions.ManageKeys.OK() != (err == nil) {
			t.Fatalf("%s: decision %v, write check %v", m.User.Email, m.Actions.ManageKeys.OK(), err)
		}
		if !m.Member.Role.UsesConsole() && m.Actions.ManageKeys.OK() {
			t.Fatalf("%s has no console but keys may be managed", m.User.Email)
		}
	}
}
