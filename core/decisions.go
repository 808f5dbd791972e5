package core

import (
	"context"
	"time"
)

// Decision is core's answer to "may the actor do this, now?": allowed, or
// refused with the reason a person reads. The read models an adapter shows
// carry one per action, computed by the same functions the write
// operations check with, so that the console, the SSH commands, the pages
// and the API render a decision and never make one.
type Decision struct{ err error }

// Allowed lets the action go ahead.
var Allowed = Decision{}

// Refused refuses an action with the reason, a sentence.
func Refused(reason string) Decision { return Decision{forbidden("%s", reason)} }

// decide is the decision a write's check gives: allowed for nil, else
// refused with the check's error.
func decide(err error) Decision { return Decision{err} }

// OK reports whether the action is allowed.
func (d Decision) OK() bool { return d.err == nil }

// Reason is why the action is refused, as a person reads it ("" when it is
// allowed).
func (d Decision) Reason() string { return Describe(d.err) }

// Why is the reason as a clause that follows a colon ("Not available:
// only the owner …"): in lower case unless it begins with a name.
func (d Decision) Why() string { return Clause(d.Reason()) }

// Err is the error the write operation would return (nil when allowed).
func (d Decision) Err() error { return d.err }

// RoleChoice is a role a form or menu offers, with whether the actor may
// give it.
type RoleChoice struct {
	Role     Role
	Decision Decision
}

// assignable are the roles a person may be given, in the order forms offer
// them (the owner changes only by transfer).
var assignable = []Role{RoleManager, RoleMember, RoleGuest, RoleClient}

// RoleChoices are the roles someone acting as by may give a person whose
// role is from ("" for a new member).
func RoleChoices(by, from Role) []RoleChoice {
	out := make([]RoleChoice, len(assignable))
	for i, r := range assignable {
		out[i] = RoleChoice{Role: r, Decision: decide(mayAssign(by, from, r))}
	}
	return out
}

// InviteRole refuses the one role nobody is invited with: the owner's, who
// changes only by transfer.
func InviteRole(r Role) error { return mayAssign(RoleOwner, "", r) }

// InviteRoles are the roles someone acting as by may invite with, in the
// order the invite form offers them.
func InviteRoles(by Role) []RoleChoice {
	out := RoleChoices(by, "")
	// The invite form offers the common case first.
	order := []Role{RoleClient, RoleMember, RoleGuest, RoleManager}
	sorted := make([]RoleChoice, 0, len(out))
	for _, r := range order {
		for _, c := range out {
			if c.Role == r {
				sorted = append(sorted, c)
			}
		}
	}
	return sorted
}

// MemberActions are what the actor may do about one person on a portal:
// the member menu of the console and the SSH commands render them.
type MemberActions struct {
	Generate     Decision // a new link (replacing an active one)
	Deactivate   Decision
	Copy         Decision // reveal the active link again
	Resend       Decision
	ChangeRole   Decision
	RemoveAccess Decision
	History      Decision     // the history of their links here (theirs or the owner's, like the links)
	Roles        []RoleChoice // what Change role offers
}

// memberActions decides every action on pp for a, acting as by.
func memberActions(a Actor, by Role, pp portalPerson, now time.Time) MemberActions {
	links := mayHandleLinks(a, by, pp)
	both := func(err error) Decision {
		if links != nil {
			return decide(links)
		}
		return decide(err)
	}
	active := needsActiveLink(pp)
	var from Role
	if pp.isMember {
		from = pp.member.Role
	}
	change := decide(mayChangeRole(a, by, pp))
	roles := RoleChoices(by, from)
	if !change.OK() { // every role is refused for the same reason
		for i := range roles {
			roles[i].Decision = change
		}
	}
	return MemberActions{
		Generate:     both(mayGenerate(by, pp, now)),
		Deactivate:   both(active),
		Copy:         both(active),
		Resend:       both(active),
		ChangeRole:   change,
		RemoveAccess: both(hasAccessToRemove(pp)),
		History:      both(hasLinks(pp)),
		Roles:        roles,
	}
}

// mayGenerate is GenerateLink's check once the actor may handle pp's
// links: the person must have access or have had a link here, and a link
// that makes them a member again carries a role the actor may grant and a
// guest end date still ahead.
func mayGenerate(by Role, pp portalPerson, now time.Time) error {
	if !pp.hasAccess && !pp.anyLink {
		return notFound("person with access to this portal", pp.email)
	}
	if pp.isMember {
		return nil
	}
	role, until := pp.roleForNewLink()
	if err := mayAssign(by, "", role); err != nil {
		return err
	}
	if !until.IsZero() && !now.Before(until) {
		return forbidden("%s's guest access ended on %s; invite them again with a new end date", pp.email, until.Format(time.DateOnly))
	}
	return nil
}

// needsActiveLink is the check of every action on a person's active link
// (deactivate, copy, resend).
func needsActiveLink(pp portalPerson) error {
	if !pp.hasActive {
		return notFound("active link for", pp.email)
	}
	return nil
}

// hasAccessToRemove is RemoveAccess's check.
func hasAccessToRemove(pp portalPerson) error {
	if !pp.hasAccess && !pp.hasActive {
		return notFound("person with access to this portal", pp.email)
	}
	return nil
}

// errNotMemberYet: a role belongs to a membership, which begins when the
// invitee first opens their link.
var errNotMemberYet = forbidden("not a member yet: the role applies when they first open the link")

// mayChangeRole says whether a, acting as by, may change pp's role at all
// (ChangeRole then checks the role chosen with mayAssign): the roles of
// owners and managers are theirs or the owner's to handle, like their links.
func mayChangeRole(a Actor, by Role, pp portalPerson) error {
	if !pp.isMember {
		return errNotMemberYet
	}
	if err := mayHandleLinks(a, by, pp); err != nil {
		return err
	}
	return mayAssign(by, pp.member.Role, "")
}

// mayView is the rule of the portal's door: someone with access passes, and
// anyone passes an open portal.
func mayView(p Portal, hasAccess bool) bool { return hasAccess || p.Access == AccessOpen }

// ProjectActions are what the projects screen may open of a project.
type ProjectActions struct {
	// Portal: its members, activity and content; refused for a project
	// without a portal.
	Portal Decision
}

// OrgActions are what the actor may do about the organization itself.
type OrgActions struct {
	ChangeBrand Decision // its name, logo, accent, sender and reply address
}

func mayChangeOrg(by Role) error {
	if by != RoleOwner {
		return forbidden("only the owner changes the organization's name and brand")
	}
	return nil
}

// OrgActionsOf decides what a may do about the organization.
func (s *Portals) OrgActionsOf(ctx context.Context, a Actor, orgID uint64) (OrgActions, error) {
	return readResult(s.engine, ctx, func(op *operation) (OrgActions, error) {
		_, by, err := op.orgFor(a, orgID)
		if err != nil {
			return OrgActions{}, err
		}
		return OrgActions{ChangeBrand: decide(mayChangeOrg(by))}, nil
	})
}

// RequestActions are what the actor may do about an access request.
type RequestActions struct {
	Grant   Decision
	Dismiss Decision
	Roles   []RoleChoice // what Grant offers
}

func requestActions(by Role, r Request) RequestActions {
	open := decide(requestOpen(r))
	return RequestActions{Grant: open, Dismiss: open, Roles: RoleChoices(by, "")}
}

// requestOpen is the check of every answer to a request: it is still pending.
func requestOpen(r Request) error {
	if r.State != RequestPending {
		return conflict("access request %d was %s already", r.ID, r.State)
	}
	return nil
}

// OrgMemberActions are what the actor may do about a member of the
// organization.
type OrgMemberActions struct {
	ManageKeys Decision // add or remove their SSH keys
}

// InstanceActions are what only an instance admin (the local console, or
// an SSH key given with --admin-key) may do.
type InstanceActions struct {
	CreateOrg      Decision
	ReadEveryAudit Decision // the audit log of every organization at once
	ReadCatcher    Decision // every email the built-in catcher holds
	Backup         Decision // a copy of the whole database
}

// InstanceActionsOf decides the instance-wide actions of a.
func InstanceActionsOf(a Actor) InstanceActions {
	return InstanceActions{
		CreateOrg:      decide(mayCreateOrg(a)),
		ReadEveryAudit: decide(mayReadEveryAudit(a)),
		ReadCatcher:    decide(mayReadCatcher(a)),
		Backup:         decide(adminOnly(a, "may copy the database")),
	}
}

func adminOnly(a Actor, what string) error {
	if !a.Admin {
		return forbidden("only an instance admin %s", what)
	}
	return nil
}

func mayCreateOrg(a Actor) error { return adminOnly(a, "creates organizations") }

func mayReadEveryAudit(a Actor) error {
	return adminOnly(a, "sees every organization's audit log")
}

// mayReadCatcher: the catcher holds every organization's mail.
func mayReadCatcher(a Actor) error { return adminOnly(a, "reads the built-in catcher") }
