package core_test

import (
	"testing"

	"latchkey/core"
	"latchkey/storage/storetest"
)

// env is a real service on a real bbolt file (see storage/storetest), with the
// helpers these tests share.
type env struct{ *storetest.Env }

func newEnv(t testing.TB, opts ...storetest.Option) *env { return &env{storetest.New(t, opts...)} }

func must[T any](v T, err error) T { return storetest.Must(v, err) }

var visitor = core.Visitor{Addr: "203.0.113.9", UserAgent: "test"}

// world is a small organization: an owner, a manager, a member, a closed,
// an email and an open portal.
type world struct {
	org                    core.Org
	owner, manager, member core.User
	ownerA, managerA       core.Actor
	closed, email, open    core.Portal
}

func (e *env) world(name string) world {
	e.T.Helper()
	slug := core.Slugify(name)
	org := must(e.Svc.CreateOrg(e.Ctx, e.Admin, core.NewOrg{Name: name, OwnerEmail: "owner@" + slug + ".test", OwnerName: "Owner"}))
	w := world{org: org}
	w.owner = e.User("owner@" + slug + ".test")
	w.ownerA = core.UserActor(w.owner, "test")
	w.manager = e.join(org, w.ownerA, "manager@"+slug+".test", core.RoleManager)
	w.managerA = core.UserActor(w.manager, "test")
	w.member = e.join(org, w.ownerA, "member@"+slug+".test", core.RoleMember)
	mk := func(p string, level core.AccessLevel) core.Portal {
		proj := must(e.Svc.CreateProject(e.Ctx, w.ownerA, org.ID, p))
		return must(e.Svc.SetPortal(e.Ctx, w.ownerA, proj.ID, core.PortalSettings{Slug: slug + "-" + p, Title: p + " portal", Access: level}))
	}
	w.closed, w.email, w.open = mk("closed", core.AccessClosed), mk("email", core.AccessEmail), mk("open", core.AccessOpen)
	return w
}

// join invites email without a portal and accepts with the join link.
func (e *env) join(org core.Org, by core.Actor, email string, role core.Role) core.User {
	e.T.Helper()
	must(e.Svc.Invite(e.Ctx, by, core.InviteInput{OrgID: org.ID, Email: email, Role: role}))
	token := e.LastToken(email, core.MailInviteJoin)
	must(e.Svc.Join(e.Ctx, token, "Name of "+email, "correct horse battery", core.Visitor{Addr: "192.0.2.1"}))
	return e.User(email)
}

const testKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOBIXr28IKmVOC4aN1aoLtRWZCLgwZY8FQl/Q2j1v0/p olivia@laptop"
