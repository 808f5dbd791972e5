package tui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"latchkey/core"
)

// members lists everyone with access to a portal or a link for it.
type members struct {
	base
	portal  core.Portal
	project core.Project
	list    *listView
	items   []core.PortalMember // each with core's decisions on what the console's user may do
}

type membersMsg struct {
	portal uint64
	items  []core.PortalMember
	err    error
}

func newMembers(c *Common, p core.Portal, proj core.Project) *members {
	m := &members{base: base{c: c}, portal: p, project: proj}
	m.list = newListView(c, []column{
		// Every column fits 100 columns (98 inside the margins), with the
		// demo's names and addresses whole.
		{Title: "Name", Min: 12, Flex: 2, Drop: 2},
		{Title: "Email", Min: 18, Flex: 3},
		{Title: "Role", Min: 7},
		{Title: "Access", Min: 7}, // "invited"
		{Title: "Link", Min: 11},
		{Title: "Created", Min: 12, Drop: 3},
		{Title: "Last used", Min: 12, Drop: 1},
		{Title: "Uses", Min: 4, Drop: 4},
	}, "Nobody has access yet. Press i to invite someone to this portal.")
	return m
}

func (m *members) load() tea.Cmd {
	ctx, svc, a, id := m.c.Ctx, m.c.Service, m.c.Actor, m.portal.ID
	return work("Loading members", func() tea.Msg {
		items, err := svc.PortalMembers(ctx, a, id)
		return membersMsg{id, items, err}
	})
}

func (m *members) Init() tea.Cmd   { return m.load() }
func (m *members) Title() string   { return m.project.Name + " (/p/" + m.portal.Slug + ")" }
func (m *members) Capturing() bool { return m.list.Capturing() }
func (m *members) holdsEsc() bool  { return m.list.HoldsEsc() }
func (m *members) ShortHelp() []key.Binding {
	if h := m.list.TypingHelp(); h != nil {
		return h
	}
	return []key.Binding{bind("enter", "enter", "member menu"), inviteKey, activityKey, contentKey, filterKey}
}
func (m *members) FullHelp() [][]key.Binding {
	return [][]key.Binding{{upKey, downKey, pageKeys, endKeys, bind("enter", "enter", "member menu"), filterKey}, {inviteKey, activityKey, portalContentKey}}
}

func (m *members) Update(msg tea.Msg) (screen, tea.Cmd) {
	if m.size(msg) {
		m.list.Resize(m.w, m.h)
		return m, nil
	}
	switch msg := msg.(type) {
	case restyleMsg:
		m.list.Restyle()
	case refreshMsg, doneNotice:
		return m, m.load()
	case membersMsg:
		if msg.portal != m.portal.ID {
			return m, nil
		}
		if msg.err != nil {
			return m, func() tea.Msg { return errMsg{msg.err} }
		}
		m.items = msg.items
		rows, keys := make([][]string, len(msg.items)), make([]string, len(msg.items))
		for i, pm := range msg.items {
			name := pm.Name
			if name == "" {
				name = "—"
			}
			// Created, Last used and Uses are about links: when the
			// current one was made, and how its links were used; someone
			// without a link has none of them.
			uses := "—"
			if pm.LinkState != "" {
				uses = fmt.Sprint(pm.UseCount)
			}
			rows[i], keys[i] = []string{name, addressCell(pm.Email, pm.Note), string(pm.Role), pm.AccessText(), pm.LinkText(), fmtTime(pm.LinkAt), fmtTime(pm.LastUsedAt), uses}, pm.Email
		}
		m.list.SetRows(rows, keys)
		return m, nil
	case tea.KeyPressMsg:
		if cmd, used := m.list.Update(msg); used {
			return m, cmd
		}
		switch {
		case key.Matches(msg, inviteKey):
			return m, push(newInvite(m.c, m.portal.ID))
		case key.Matches(msg, activityKey):
			return m, push(newActivity(m.c, m.portal))
		case key.Matches(msg, contentKey):
			return m, push(newPortalContent(m.c, m.portal, m.project))
		case key.Matches(msg, openKey):
			if i := m.list.Selected(); i >= 0 && i < len(m.items) {
				return m, push(m.menu(m.items[i]))
			}
		}
	}
	return m, m.list.Navigate(msg)
}

func (m *members) View() string { return m.list.View() }

// menu is the member menu of DESIGN.md.
func (m *members) menu(pm core.PortalMember) screen {
	c, ctx, svc, a, p := m.c, m.c.Ctx, m.c.Service, m.c.Actor, m.portal
	email := pm.Email
	active := pm.LinkState == core.LinkActive
	do := pm.Actions // core's decisions: the menu only renders them
	generate := func() tea.Cmd {
		return work("Generating a new link", func() tea.Msg {
			il, err := svc.GenerateLink(ctx, a, p.ID, email)
			if err != nil {
				return doneMsg{err: err}
			}
			return doneMsg{status: "New link for " + email + ": emailed and copied to your clipboard.", clipboard: il.URL,
				back: true, push: newLinkDialog(c, "New magic link for "+email, email, il)}
		})
	}
	// What each item does, shown under the items while it is chosen.
	// Deactivate stops a leaked link, and keeps nobody out: whoever had it
	// can ask for a new one at once, and get it. An owner who wants someone
	// out must see that, and pick Remove portal access.
	const (
		deactivateDesc = "Stops this link and the sessions it opened, for a link that leaked. They keep portal access and can ask for a new link at once. To end their access, choose Remove portal access."
		deactivateNote = "The link stops working at once and the browser sessions it opened end. It does not keep them out: they keep their portal access, so they can ask for a new link on the portal page and get it at once. To end their access, choose Remove portal access instead."
	)
	generateDesc := "A new link replaces the current one, which stops at once with the sessions it opened; it is emailed to " + email + " and copied to your clipboard."
	// What removing access means depends on whom else the portal lets in.
	removeDesc := "Ends their access to this portal: the link stops, their sessions end, and coming back takes your approval."
	removeNote := "Their link is deactivated and every session of theirs ends. To come back they would have to ask for access, and you decide."
	switch p.Access {
	case core.AccessEmail:
		removeDesc = "Ends their access and sessions; this portal lets in anyone who proves their email, so they can come back with a new link."
		removeNote = "Their link is deactivated and every session of theirs ends. This portal lets in anyone who proves their email, so they can come back with a new link; to keep them out, make it closed (Settings)."
	case core.AccessOpen:
		removeDesc = "Ends their access and sessions; this portal is open, so they can still view it and sign in again."
		removeNote = "Their link is deactivated and every session of theirs ends. This portal is open: they can still view it and sign in again; to keep them out, make it closed (Settings)."
	}
	items := []menuItem{
		{label: "Generate new magic link for portal", desc: generateDesc, why: do.Generate.Why(), action: func() tea.Cmd {
			if !active {
				return generate()
			}
			return push(newConfirm(c, "Replace "+email+"'s magic link?",
				"The current link stops working at once and the browser sessions it opened end. The new link is emailed to "+email+" and copied to your clipboard.", generate()))
		}},
		{label: "Deactivate", desc: deactivateDesc, why: do.Deactivate.Why(), action: func() tea.Cmd {
			return push(newConfirm(c, "Deactivate "+email+"'s magic link?", deactivateNote,
				work("Deactivating", func() tea.Msg {
					if err := svc.DeactivateLink(ctx, a, p.ID, email); err != nil {
						return doneMsg{err: err}
					}
					return doneMsg{status: email + "'s link is deactivated.", back: true, reload: true}
				})))
		}},
		{label: "Copy magic link", desc: "Copies the active link to your clipboard again and shows it, with a QR code.", why: do.Copy.Why(), action: func() tea.Cmd {
			return work("Copying the link", func() tea.Msg {
				il, err := svc.RevealLink(ctx, a, p.ID, email)
				if err != nil {
					return doneMsg{err: err}
				}
				return doneMsg{status: "Copied " + email + "'s link to your clipboard.", clipboard: il.URL,
					back: true, push: newLinkDialog(c, email+"'s magic link", "", il)}
			})
		}},
		{label: "Resend link email", desc: "Emails " + email + " the active link again.", why: do.Resend.Why(), action: func() tea.Cmd {
			return work("Queueing the email", func() tea.Msg {
				if err := svc.ResendLink(ctx, a, p.ID, email); err != nil {
					return doneMsg{err: err}
				}
				return doneMsg{status: "Emailed " + email + " their link again.", back: true}
			})
		}},
		{label: "Change role", desc: "Their role in the organization, for every portal of it.", why: do.ChangeRole.Why(), action: func() tea.Cmd {
			return push(newRolePicker(c, "Change "+email+"'s role", pm.Role, do.Roles, func(role core.Role, until time.Time) tea.Cmd {
				return work("Changing the role", func() tea.Msg {
					if err := svc.ChangeRole(ctx, a, p.OrgID, pm.UserID, role, until); err != nil {
						return doneMsg{err: err}
					}
					s := fmt.Sprintf("%s is now %s.", email, role)
					if !until.IsZero() {
						s = fmt.Sprintf("%s is now a guest until %s.", email, fmtDate(until))
					}
					return doneMsg{status: s, back: true, reload: true}
				})
			}))
		}},
		{label: "Remove portal access", desc: removeDesc, why: do.RemoveAccess.Why(), action: func() tea.Cmd {
			return push(newConfirm(c, "Remove "+email+"'s access to "+p.Title+"?", removeNote,
				work("Removing access", func() tea.Msg {
					if err := svc.RemoveAccess(ctx, a, p.ID, email); err != nil {
						return doneMsg{err: err}
					}
					return doneMsg{status: email + " no longer has access to " + p.Title + ".", back: true, reload: true}
				})))
		}},
		{label: "Link history", desc: "Every event of their links here: created, emailed, viewed (a mail scanner's views marked), redeemed, code used, ended.", why: do.History.Why(), action: func() tea.Cmd {
			return push(newLinkHistory(c, p, email))
		}},
	}
	heading := email
	if pm.Name != "" {
		heading = pm.Name + " <" + email + ">"
	}
	if w := pm.Note.Warning(); w != "" {
		heading += "\n" + c.Styles.Warn.Render("This address is "+w+".")
	}
	heading += "\n" + c.Styles.Muted.Render(strings.Join([]string{string(pm.Role), "access: " + pm.AccessText(), "link: " + pm.LinkText()}, " · "))
	return newMenu(c, email, heading, items)
}

// rolePicker chooses a role and, for a guest, an access end date.
type rolePicker struct {
	*menu
	pick func(core.Role, time.Time) tea.Cmd
}

// current is the person's role ("" for someone not yet a member: client is
// preselected); choices are core's decisions on the roles the console user
// may give (only an owner grants the manager role).
func newRolePicker(c *Common, heading string, current core.Role, choices []core.RoleChoice, pick func(core.Role, time.Time) tea.Cmd) *rolePicker {
	r := &rolePicker{pick: pick}
	var items []menuItem
	for _, choice := range choices {
		role := choice.Role
		label := string(role)
		if role == current {
			label += "  (current)"
		}
		items = append(items, menuItem{label: label, why: choice.Decision.Why(), action: func() tea.Cmd {
			if role != core.RoleGuest {
				return pick(role, time.Time{})
			}
			return push(newPrompt(c, "Guest access", "Access ends on (YYYY-MM-DD, empty for no end date)",
				"Guests lose access to the organization's portals at the start of that day (UTC).", "", func(v string) tea.Cmd {
					d, err := core.ParseGuestUntil(v, c.Service.Now()) // here too, so that the prompt stays open
					if err != nil {
						return func() tea.Msg { return errMsg{err} }
					}
					if d.IsZero() {
						return pick(core.RoleGuest, time.Time{})
					}
					return pickThenClose(pick(core.RoleGuest, d))
				}))
		}})
	}
	r.menu = newMenu(c, "Role", heading, items)
	preselect := current
	if preselect == "" {
		preselect = core.RoleClient // not a member yet
	}
	for i, choice := range choices {
		if choice.Role == preselect {
			r.cursor = i
		}
	}
	return r
}

// pickThenClose closes the date prompt once the role change is sent.
func pickThenClose(cmd tea.Cmd) tea.Cmd {
	return tea.Sequence(closeSelf(""), cmd)
}

func (r *rolePicker) Update(msg tea.Msg) (screen, tea.Cmd) {
	_, cmd := r.menu.Update(msg)
	return r, cmd
}
