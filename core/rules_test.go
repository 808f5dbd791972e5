package core_test

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"latchkey/core"
)

// Role, access-level and disclosure names are stored in their canonical form.
func TestNamesAreNormalized(t *testing.T) {
	e := newEnv(t)
	w := e.world("Acme")
	res, err := e.Svc.Invite(e.Ctx, w.ownerA, core.InviteInput{OrgID: w.org.ID, Email: "m@x.test", Role: "Manager", PortalID: w.closed.ID})
	if err != nil || res.Link.Link.Role != core.RoleManager {
		t.Fatalf("invite as \"Manager\": %v, role %q", err, res.Link.Link.Role)
	}
	if _, err := e.Svc.Invite(e.Ctx, w.managerA, core.InviteInput{OrgID: w.org.ID, Email: "m2@x.test", Role: "MANAGER"}); !errors.Is(err, core.ErrForbidden) {
		t.Fatalf("manager invites \"MANAGER\": %v", err)
	}
	p, err := e.Svc.SetPortal(e.Ctx, w.ownerA, w.closed.ProjectID, core.PortalSettings{Slug: w.closed.Slug, Title: "T", Access: "Email", Disclosure: "GENERIC"})
	if err != nil || p.Access != core.AccessEmail || p.Disclosure != core.DisclosureGeneric || e.Svc.EffectiveDisclosure(p) != core.DisclosureGeneric {
		t.Fatalf("portal %+v, %v", p, err)
	}
}

// No path through links gives an organization a second owner or lets a
// manager give back a role the owner took away.
func TestLinksNeverMakeOwnersOrManagers(t *testing.T) {
	e := newEnv(t)
	w := e.world("Acme")
	// The owner gives themselves portal access and a link.
	must(0, e.Svc.AddPortalAccess(e.Ctx, w.ownerA, w.closed.ID, w.owner.ID))
	must(e.Svc.GenerateLink(e.Ctx, w.ownerA, w.closed.ID, w.owner.Email))
	// Ownership moves to the manager, who then removes the old owner.
	must(0, e.Svc.TransferOwnership(e.Ctx, w.ownerA, w.org.ID, w.manager.ID))
	newOwner := w.managerA
	must(0, e.Svc.RemoveMember(e.Ctx, newOwner, w.org.ID, w.owner.ID))
	// Nobody can mint the old owner a link that would make them owner again.
	if _, err := e.Svc.GenerateLink(e.Ctx, newOwner, w.closed.ID, w.owner.Email); !errors.Is(err, core.ErrForbidden) {
		t.Fatalf("link for a removed owner: %v", err)
	}
	// A removed manager gets no manager link from a manager.
	mgr := e.join(w.org, newOwner, "m2@acme.test", core.RoleManager)
	must(0, e.Svc.AddPortalAccess(e.Ctx, newOwner, w.closed.ID, mgr.ID))
	must(e.Svc.GenerateLink(e.Ctx, newOwner, w.closed.ID, mgr.Email))
	must(0, e.Svc.RemoveMember(e.Ctx, newOwner, w.org.ID, mgr.ID))
	third := e.join(w.org, newOwner, "m3@acme.test", core.RoleManager)
	if _, err := e.Svc.GenerateLink(e.Ctx, core.UserActor(third, "t"), w.closed.ID, mgr.Email); !errors.Is(err, core.ErrForbidden) {
		t.Fatalf("a manager re-creates a manager link: %v", err)
	}
	owners := 0
	for _, m := range must(e.Svc.Members(e.Ctx, e.Admin, w.org.ID)) {
		if m.Member.Role == core.RoleOwner {
			owners++
		}
	}
	if owners != 1 {
		t.Fatalf("%d owners", owners)
	}
}

func TestStorageRefusesASecondOwner(t *testing.T) {
	e := newEnv(t)
	w := e.world("Acme")
	err := e.Store.Update(e.Ctx, func(tx core.Tx) error {
		return tx.PutMember(core.Member{OrgID: w.org.ID, UserID: w.member.ID, Role: core.RoleOwner})
	})
	if !errors.Is(err, core.ErrConflict) {
		t.Fatalf("second owner: %v", err)
	}
}

// A manager cannot copy, rotate or end the owner's (or another manager's)
// link: that would let them sign in as that person.
func TestOnlyTheOwnerHandlesConsoleUsersLinks(t *testing.T) {
	e := newEnv(t)
	w := e.world("Acme")
	must(0, e.Svc.AddPortalAccess(e.Ctx, w.ownerA, w.closed.ID, w.owner.ID))
	must(e.Svc.GenerateLink(e.Ctx, w.ownerA, w.closed.ID, w.owner.Email))
	other := e.join(w.org, w.ownerA, "m2@acme.test", core.RoleManager)
	must(0, e.Svc.AddPortalAccess(e.Ctx, w.ownerA, w.closed.ID, other.ID))
	must(e.Svc.GenerateLink(e.Ctx, w.ownerA, w.closed.ID, other.Email))
	before := e.Dump()
	for _, target := range []string{w.owner.Email, other.Email} {
		if _, err := e.Svc.RevealLink(e.Ctx, w.managerA, w.closed.ID, target); !errors.Is(err, core.ErrForbidden) {
			t.Fatalf("manager reveals %s's link: %v", target, err)
		}
		if _, err := e.Svc.GenerateLink(e.Ctx, w.managerA, w.closed.ID, target); !errors.Is(err, core.ErrForbidden) {
			t.Fatalf("manager rotates %s's link: %v", target, err)
		}
		if err := e.Svc.RemoveAccess(e.Ctx, w.managerA, w.closed.ID, target); !errors.Is(err, core.ErrForbidden) {
			t.Fatalf("manager removes %s: %v", target, err)
		}
	}
	if e.Dump() != before {
		t.Fatal("refused operations changed the database")
	}
	if _, err := e.Svc.RevealLink(e.Ctx, w.ownerA, w.closed.ID, other.Email); err != nil {
		t.Fatalf("owner reveals a manager's link: %v", err)
	}
	if _, err := e.Svc.RevealLink(e.Ctx, core.UserActor(other, "t"), w.closed.ID, other.Email); err != nil {
		t.Fatalf("a manager reveals their own link: %v", err)
	}
}

// An invitee whose guest link has passed its end date is not told a link
// was sent; their request goes to the owner.
func TestExpiredGuestInviteeIsNotEntitled(t *testing.T) {
	e := newEnv(t)
	w := e.world("Acme")
	must(e.Svc.Invite(e.Ctx, w.ownerA, core.InviteInput{OrgID: w.org.ID, Email: "g@x.test", Role: core.RoleGuest, GuestUntil: e.Clock.Now().Add(time.Hour), PortalID: w.closed.ID}))
	e.Clock.Advance(2 * time.Hour)
	if res := must(e.Svc.RequestAccess(e.Ctx, w.closed.Slug, "g@x.test", visitor)); res.Outcome != core.OutcomeRequested {
		t.Fatalf("outcome %v, want requested", res.Outcome)
	}
	if _, err := e.Svc.GenerateLink(e.Ctx, w.ownerA, w.closed.ID, "g@x.test"); !errors.Is(err, core.ErrForbidden) {
		t.Fatalf("new link past the end date: %v", err)
	}
}

// Removing a member retires every pending invitation: an old join link does
// not bring them back.
func TestRemovedMemberCannotRejoinWithOldLinks(t *testing.T) {
	e := newEnv(t)
	w := e.world("Acme")
	res := must(e.Svc.Invite(e.Ctx, w.ownerA, core.InviteInput{OrgID: w.org.ID, Email: "c@x.test", Role: core.RoleClient, PortalID: w.closed.ID}))
	must(e.Svc.Invite(e.Ctx, w.ownerA, core.InviteInput{OrgID: w.org.ID, Email: "c@x.test", Role: core.RoleMember}))
	join := e.LastToken("c@x.test", core.MailInviteJoin)
	r := must(e.Svc.Redeem(e.Ctx, res.Link.Token, visitor))
	must(0, e.Svc.RemoveMember(e.Ctx, w.ownerA, w.org.ID, r.User.ID))
	if _, err := e.Svc.Join(e.Ctx, join, "", "a long password", visitor); !errors.Is(err, core.ErrTokenInvalid) {
		t.Fatalf("old join link after removal: %v", err)
	}
	if _, err := e.Svc.Session(e.Ctx, r.SessionID); !errors.Is(err, core.ErrNoSession) {
		t.Fatalf("session after removal: %v", err)
	}
}

// A first password set by joining ends the link's sessions and is announced.
func TestJoinFirstPasswordIsAPasswordChange(t *testing.T) {
	e := newEnv(t)
	a := e.world("Alpha")
	b := e.world("Beta")
	token := e.clientWithLink(a, a.closed, "c@x.test")
	linkSession := must(e.Svc.Redeem(e.Ctx, token, visitor)).SessionID
	must(e.Svc.Invite(e.Ctx, b.ownerA, core.InviteInput{OrgID: b.org.ID, Email: "c@x.test", Role: core.RoleMember}))
	must(e.Svc.Join(e.Ctx, e.LastToken("c@x.test", core.MailInviteJoin), "", "a long password", visitor))
	if _, err := e.Svc.Session(e.Ctx, linkSession); !errors.Is(err, core.ErrNoSession) {
		t.Fatalf("link session after the first password: %v", err)
	}
	if len(e.MailsTo("c@x.test", core.MailPasswordChanged)) != 1 {
		t.Fatal("no notice of the new password")
	}
}

// A rotated link still completes its invitation and keeps the invitee's name.
func TestRotatedInvitationStillCompletes(t *testing.T) {
	e := newEnv(t)
	w := e.world("Acme")
	must(e.Svc.Invite(e.Ctx, w.ownerA, core.InviteInput{OrgID: w.org.ID, Email: "c@x.test", Name: "Cleo", Role: core.RoleClient, PortalID: w.closed.ID}))
	il := must(e.Svc.GenerateLink(e.Ctx, w.ownerA, w.closed.ID, "c@x.test"))
	r := must(e.Svc.Redeem(e.Ctx, il.Token, visitor))
	var inv core.Invitation
	e.View(func(tx core.Tx) (err error) { inv, err = tx.LatestInvitation(w.org.ID, "c@x.test"); return })
	if r.User.Name != "Cleo" || inv.State != core.InvitationAccepted {
		t.Fatalf("name %q, invitation %s", r.User.Name, inv.State)
	}
}

// Restore answers unknown emails after the same kind of commit as known ones.
func TestRestoreOfUnknownEmailIsAudited(t *testing.T) {
	e := newEnv(t)
	must(0, e.Svc.RequestRestore(e.Ctx, "nobody@x.test", visitor))
	evs := e.Events()
	if len(evs) != 1 || evs[0].Action != "password.restore_requested" || evs[0].Actor != "visitor" || evs[0].Target != "nobody@x.test" {
		t.Fatalf("events %+v", evs)
	}
}

// An owner manages the keys of a person only when they own every
// organization where that person uses the console.
func TestSSHKeysStayInsideOrganizations(t *testing.T) {
	e := newEnv(t)
	a := e.world("Alpha")
	b := e.world("Beta")
	// Beta's manager also manages Alpha.
	must(e.Svc.Invite(e.Ctx, a.ownerA, core.InviteInput{OrgID: a.org.ID, Email: b.manager.Email, Role: core.RoleManager}))
	must(e.Svc.Join(e.Ctx, e.LastToken(b.manager.Email, core.MailInviteJoin), "", "correct horse battery", visitor))
	if _, err := e.Svc.AddSSHKey(e.Ctx, a.ownerA, b.manager.Email, testKey); !errors.Is(err, core.ErrForbidden) {
		t.Fatalf("Alpha's owner adds a key that opens Beta: %v", err)
	}
	if _, err := e.Svc.AddSSHKey(e.Ctx, a.ownerA, a.manager.Email, testKey); err != nil {
		t.Fatalf("owner adds a key for their own manager: %v", err)
	}
	k := must(e.Svc.ConsoleUser(e.Ctx, testKeyFingerprint(t)))
	if k.Email != a.manager.Email {
		t.Fatalf("key belongs to %s", k.Email)
	}
	if err := e.Svc.RemoveSSHKey(e.Ctx, b.ownerA, testKeyFingerprint(t)); !errors.Is(err, core.ErrForbidden) {
		t.Fatalf("another organization's owner removes the key: %v", err)
	}
	if err := e.Svc.RemoveSSHKey(e.Ctx, a.managerA, testKeyFingerprint(t)); err != nil {
		t.Fatalf("a manager removes their own key: %v", err)
	}
	if _, err := e.Svc.ConsoleUser(e.Ctx, testKeyFingerprint(t)); !errors.Is(err, core.ErrForbidden) {
		t.Fatalf("removed key: %v", err)
	}
}

func testKeyFingerprint(t *testing.T) string {
	pk, _, err := core.ParseAuthorizedKey(testKey)
	if err != nil {
		t.Fatal(err)
	}
	return core.Fingerprint(pk)
}

// Project names are unique in an organization, in any letter case; a
// project may change the case of its own name, and another organization
// may use the same name.
func TestProjectNamesAreUniqueInAnOrganization(t *testing.T) {
	e := newEnv(t)
	w := e.world("Acme")
	if p, err := e.Svc.RenameProject(e.Ctx, w.ownerA, w.closed.ProjectID, "CLOSED"); err != nil || p.Name != "CLOSED" {
		t.Fatalf("rename to its own name in capitals: %+v, %v", p, err)
	}
	if _, err := e.Svc.CreateProject(e.Ctx, w.ownerA, w.org.ID, "closed"); !errors.Is(err, core.ErrConflict) {
		t.Fatalf("second project named closed: %v", err)
	}
	other := e.world("Globex")
	if _, err := e.Svc.CreateProject(e.Ctx, other.ownerA, other.org.ID, "Closed too"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Svc.RenameProject(e.Ctx, other.ownerA, other.closed.ProjectID, "Something new"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Svc.CreateProject(e.Ctx, other.ownerA, other.org.ID, "CLOSED"); err != nil {
		t.Fatalf("another organization's project name: %v", err)
	}
	// An accent typed as its own character or as a combining mark is the
	// same name, stored in its composed form.
	if p, err := e.Svc.CreateProject(e.Ctx, w.ownerA, w.org.ID, "Cafe\u0301 Launch"); err != nil || p.Name != "Caf\u00e9 Launch" {
		t.Fatalf("decomposed name: %+v, %v", p, err)
	}
	if _, err := e.Svc.CreateProject(e.Ctx, w.ownerA, w.org.ID, "caf\u00e9 launch"); !errors.Is(err, core.ErrConflict) {
		t.Fatalf("the same name composed: %v", err)
	}
}

// Names may use the joiners that scripts and emoji need, but not characters
// that hide or reverse text; their spaces collapse to one between words.
func TestNamesKeepJoinersButNotHiddenDirection(t *testing.T) {
	e := newEnv(t)
	w := e.world("Acme")
	for _, name := range []string{"می\u200cخواهم", "Team 👩\u200d💻", "Café Müller"} {
		if p, err := e.Svc.CreateProject(e.Ctx, w.ownerA, w.org.ID, name); err != nil || p.Name != name {
			t.Errorf("project %q: %+v, %v", name, p, err)
		}
	}
	for _, name := range []string{"a\u202eb", "a\u2066b", "a\u200fb", "a\ufeffb", "a\u2060b", "a\u00adb", "\u3164", "a\u115fb", "a\u034fb", "a\U000E0041b", "a\U0001D173b"} {
		if _, err := e.Svc.CreateProject(e.Ctx, w.ownerA, w.org.ID, name); !errors.Is(err, core.ErrInvalid) {
			t.Errorf("project %q: %v", name, err)
		}
	}
	if p, err := e.Svc.CreateProject(e.Ctx, w.ownerA, w.org.ID, " Spaced\u00a0 \u2003out  name "); err != nil || p.Name != "Spaced out name" {
		t.Errorf("spaces: %+v, %v", p, err)
	}
	if _, err := e.Svc.CreateProject(e.Ctx, w.ownerA, w.org.ID, "spaced  OUT name"); !errors.Is(err, core.ErrConflict) {
		t.Errorf("the same name with more spaces: %v", err)
	}
}

// A name's length is counted as it is stored: composed.
func TestNameLengthCountsTheStoredForm(t *testing.T) {
	e := newEnv(t)
	w := e.world("Acme")
	long := strings.Repeat("\u0958", core.MaxNameLen) // each composes to two characters
	if _, err := e.Svc.CreateProject(e.Ctx, w.ownerA, w.org.ID, long); !errors.Is(err, core.ErrInvalid) {
		t.Fatalf("a name of %d characters once composed: %v", 2*core.MaxNameLen, err)
	}
	fits := strings.Repeat("e\u0301", core.MaxNameLen) // each composes to one
	if p, err := e.Svc.CreateProject(e.Ctx, w.ownerA, w.org.ID, fits); err != nil || len([]rune(p.Name)) != core.MaxNameLen {
		t.Fatalf("a name of %d characters once composed: %v", core.MaxNameLen, err)
	}
}

// A portal's proposed address keeps a name's letters without their accents.
func TestSlugsDropAccentsNotLetters(t *testing.T) {
	cases := map[string]string{"Café Müller": "cafe-muller", "Crème brûlée 2": "creme-brulee-2", "Ångström": "angstrom", "Website Redesign": "website-redesign"}
	var wg sync.WaitGroup
	for range 4 { // as requests do, at once
		wg.Go(func() {
			for name, want := range cases {
				if got := core.Slugify(name); got != want {
					t.Errorf("Slugify(%q) = %q, want %q", name, got, want)
				}
			}
		})
	}
	wg.Wait()
}
