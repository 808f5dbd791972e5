package sshd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"latchkey/core"
	"strconv"
	"strings"
)

// The commands about people: invite, link generate|deactivate|show, and
// the access requests.

// invitableRoles are the roles one invites with, or grants a request with.
const invitableRoles = "manager, member, guest or client"

// inviteRole reads --role for an invitation or a grant. Every role but the
// owner's: there is one owner, who changes only by transferring ownership.
func inviteRole(s string) (core.Role, error) {
	r, err := core.ParseRole(s)
	if err != nil {
		if len(s) > 40 {
			s = s[:40] + "…"
		}
		return "", usagef("--role %q is not a role; invite with %s", s, invitableRoles)
	}
	if err := core.InviteRole(r); err != nil {
		return "", fmt.Errorf("--role %s: %s; invite with %s", r, errLine(err), invitableRoles)
	}
	return r, nil
}

func (s *Server) invite(ctx context.Context, a core.Actor, f *cmdFlags, args []string, out io.Writer) error {
	if len(args) != 1 {
		return usagef("usage: invite EMAIL --role ROLE [--portal SLUG] [--name NAME] [--until YYYY-MM-DD] [--org SLUG]")
	}
	if f.role == "" {
		return usagef("invite needs --role (%s)", invitableRoles)
	}
	role, err := inviteRole(f.role)
	if err != nil {
		return err
	}
	in := core.InviteInput{Email: args[0], Name: f.name, Role: role}
	if f.until != "" {
		d, err := core.ParseDate("until", f.until)
		var bad *core.ValidationError
		if errors.As(err, &bad) {
			return usagef("--until %s", bad.Reason)
		}
		in.GuestUntil = d
	}
	portal := ""
	if f.portal != "" {
		ref, err := s.cfg.Service.PortalBySlug(ctx, a, f.portal)
		if err != nil {
			return err
		}
		if f.org != "" && ref.Org.Slug != f.org {
			return usagef("the portal %s belongs to %s, not %s", f.portal, ref.Org.Slug, f.org)
		}
		in.OrgID, in.PortalID, portal = ref.Org.ID, ref.Portal.ID, ref.Portal.Slug
	} else {
		org, err := s.org(ctx, a, f.org)
		if err != nil {
			return err
		}
		in.OrgID = org.ID
	}
	in.Replace = f.replace
	res, err := s.cfg.Service.Invite(ctx, a, in)
	if err != nil {
		return confirmWith(err, "--replace")
	}
	row := inviteRow{Email: res.Invitation.Email, Role: string(res.Role), KeptRole: res.KeptRole && res.Role != role, Replaced: res.Replaced,
		Portal: portal, Invitation: res.Invitation.ID}
	return write(out, f.json, []inviteRow{row}, func(r inviteRow) []string {
		var notes []string
		if r.Replaced {
			notes = append(notes, "replaced the active link")
		}
		if r.KeptRole {
			notes = append(notes, "keeps the role "+r.Role)
		}
		return []string{"invited", r.Email, r.Role, dash(r.Portal), dash(strings.Join(notes, "; "))}
	})
}

func (s *Server) link(ctx context.Context, a core.Actor, f *cmdFlags, args []string, out io.Writer) error {
	if len(args) != 3 {
		return usagef("usage: link generate|deactivate|show|history SLUG EMAIL")
	}
	verb, slug, email := args[0], args[1], args[2]
	if verb == "history" {
		return s.linkHistory(ctx, a, f, slug, email, out)
	}
	if verb != "generate" && verb != "deactivate" && verb != "show" {
		return usagef("link %q: the verbs are generate, deactivate, show and history", verb)
	}
	email, err := core.NormalizeEmail(email)
	if err != nil {
		return err
	}
	ref, err := s.cfg.Service.PortalBySlug(ctx, a, slug)
	if err != nil {
		return err
	}
	svc, id := s.cfg.Service, ref.Portal.ID
	var il core.IssuedLink
	switch verb {
	case "generate":
		il, err = svc.GenerateLink(ctx, a, id, email)
	case "show":
		il, err = svc.RevealLink(ctx, a, id, email)
	case "deactivate":
		err = svc.DeactivateLink(ctx, a, id, email)
	}
	if err != nil {
		return err
	}
	row := linkRow{Email: email, Portal: ref.Portal.Slug, URL: il.URL, State: core.LinkWordActive}
	if verb == "deactivate" {
		row.State = core.LinkWordEnded
	}
	return write(out, f.json, []linkRow{row}, func(r linkRow) []string {
		if r.URL == "" {
			return []string{r.State, r.Email, r.Portal}
		}
		return []string{r.URL}
	})
}

func (s *Server) requests(ctx context.Context, a core.Actor, f *cmdFlags, args []string, out io.Writer) error {
	svc := s.cfg.Service
	if len(args) == 0 {
		org, err := s.org(ctx, a, f.org)
		if err != nil {
			return err
		}
		items, err := svc.Requests(ctx, a, org.ID, true)
		if err != nil {
			return err
		}
		rows := make([]requestRow, len(items))
		for i, r := range items {
			rows[i] = requestRow{ID: r.ID, Email: r.Email, Portal: r.Portal.Slug, Asked: r.Count, Last: stamp(r.LastAt), AddressNote: r.Note}
		}
		return write(out, f.json, rows, func(r requestRow) []string {
			return []string{strconv.FormatUint(r.ID, 10), r.Email, r.Portal, strconv.Itoa(r.Asked), r.Last, dash(r.Warning())}
		})
	}
	if len(args) != 2 || (args[0] != "grant" && args[0] != "dismiss") {
		return usagef("usage: requests [grant ID [--role ROLE] | dismiss ID]")
	}
	id, err := strconv.ParseUint(args[1], 10, 64)
	if err != nil {
		return usagef("%q is not a request id (a number, as `requests` lists)", args[1])
	}
	if args[0] == "dismiss" {
		if err := svc.DismissRequest(ctx, a, id); err != nil {
			return err
		}
		return write(out, f.json, []requestRow{{ID: id, State: "dismissed"}}, func(r requestRow) []string {
			return []string{"dismissed", strconv.FormatUint(r.ID, 10)}
		})
	}
	var role core.Role
	if f.role != "" {
		if role, err = inviteRole(f.role); err != nil {
			return err
		}
	}
	res, err := svc.GrantRequest(ctx, a, core.GrantInput{RequestID: id, Role: role, Confirmed: f.confirm})
	if err != nil {
		return confirmWith(err, "--confirm")
	}
	return write(out, f.json, []requestRow{{ID: id, Email: res.Invitation.Email, State: "granted"}}, func(r requestRow) []string {
		return []string{"granted", strconv.FormatUint(r.ID, 10), r.Email}
	})
}
