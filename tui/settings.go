package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"latchkey/core"
	"latchkey/tui/components/status"
)

// settings holds the portals' settings and the console's people and keys;
// t opens the organization's API tokens (tokens.go), w its webhooks
// (webhooks.go).
type settings struct {
	base
	portals, people *listView
	projects        []core.ProjectSummary
	members         []core.OrgMember
	keysWhy         map[uint64]string // see settingsPeopleMsg
	showPeople      bool
}

type (
	settingsProjectsMsg struct {
		org   uint64
		items []core.ProjectSummary
		err   error
	}
	settingsPeopleMsg struct {
		org   uint64
		items []core.OrgMember
		keys  map[uint64]string // why the console user may not manage that user's keys ("" if they may)
		err   error
	}
)

var toggleSettingsKey = bind("v", "v", "portals ⇄ console access")

func newSettings(c *Common) *settings {
	s := &settings{base: base{c: c}}
	s.portals = newListView(c, []column{
		{Title: "Project", Min: 16, Flex: 2},
		{Title: "Portal", Min: 18, Flex: 2},
		{Title: "Title", Min: 16, Flex: 2, Drop: 2},
		{Title: "Access", Min: 7},
		{Title: "Disclosure", Min: 10, Drop: 1},
		{Title: "Upstream", Min: 12, Flex: 1, Drop: 3},
	}, "No projects yet.")
	s.people = newListView(c, []column{
		{Title: "Name", Min: 14, Flex: 2, Drop: 1},
		{Title: "Email", Min: 22, Flex: 3},
		{Title: "Role", Min: 8},
		{Title: "SSH keys", Min: 20, Flex: 2},
	}, "Nobody.")
	return s
}

func (s *settings) load() tea.Cmd {
	ctx, svc, a, org := s.c.Ctx, s.c.Service, s.c.Actor, s.c.Org.ID
	return tea.Batch(
		work("Loading portals", func() tea.Msg {
			items, err := svc.Projects(ctx, a, org)
			return settingsProjectsMsg{org, items, err}
		}),
		work("Loading people", s.peopleLoader()))
}

// peopleLoader reads the owners and managers with their keys, and whether
// the console's user may manage those keys; it reads what it needs now, as
// it runs in another goroutine.
func (s *settings) peopleLoader() func() tea.Msg {
	ctx, svc, a, org := s.c.Ctx, s.c.Service, s.c.Actor, s.c.Org.ID
	return func() tea.Msg {
		items, err := svc.Members(ctx, a, org)
		var console []core.OrgMember
		keys := map[uint64]string{}
		for _, m := range items {
			if !m.Member.Role.UsesConsole() {
				continue
			}
			console = append(console, m)
			keys[m.User.ID] = m.Actions.ManageKeys.Why()
		}
		return settingsPeopleMsg{org, console, keys, err}
	}
}

func (s *settings) Init() tea.Cmd { return s.load() }
func (s *settings) Title() string {
	if s.showPeople {
		return "Settings › console access"
	}
	return "Settings › portals"
}
func (s *settings) current() *listView {
	if s.showPeople {
		return s.people
	}
	return s.portals
}
func (s *settings) Capturing() bool { return s.current().Capturing() }
func (s *settings) holdsEsc() bool  { return s.current().HoldsEsc() }
func (s *settings) ShortHelp() []key.Binding {
	if h := s.current().TypingHelp(); h != nil {
		return h
	}
	open := bind("enter", "enter", "edit portal")
	if s.showPeople {
		open = bind("enter", "enter", "keys")
	}
	if s.showPeople {
		return []key.Binding{open, toggleSettingsKey, brandKey, tokensKey, filterKey, webhooksKey}
	}
	return []key.Binding{open, rulesKey, toggleSettingsKey, brandKey, tokensKey, filterKey, webhooksKey}
}
func (s *settings) FullHelp() [][]key.Binding {
	return [][]key.Binding{append([]key.Binding{upKey, downKey, pageKeys, endKeys}, s.ShortHelp()...)}
}

func (s *settings) Update(msg tea.Msg) (screen, tea.Cmd) {
	if s.size(msg) {
		s.portals.Resize(s.w, s.h-len(s.head(false)))
		s.people.Resize(s.w, s.h-len(s.head(true)))
		return s, nil
	}
	switch msg := msg.(type) {
	case restyleMsg:
		s.portals.Restyle()
		s.people.Restyle()
	case refreshMsg, doneNotice:
		return s, s.load()
	case settingsProjectsMsg:
		if msg.org != s.c.Org.ID {
			break
		}
		if msg.err != nil {
			return s, func() tea.Msg { return errMsg{msg.err} }
		}
		s.projects = msg.items
		rows, ids := make([][]string, len(msg.items)), make([]string, len(msg.items))
		for i, p := range msg.items {
			ids[i] = fmt.Sprint(p.Project.ID)
			if p.Portal == nil {
				rows[i] = []string{p.Project.Name, "— (enter adds one)", "", "", "", ""}
				continue
			}
			d := string(p.Portal.Disclosure)
			if d == "" {
				d = "default"
			}
			upstream := "—" // the built-in page
			if p.Portal.Upstream != "" {
				upstream = strings.TrimPrefix(strings.TrimPrefix(p.Portal.Upstream, "https://"), "http://")
			}
			rows[i] = []string{p.Project.Name, "/p/" + p.Portal.Slug, p.Portal.Title, string(p.Portal.Access), d, upstream}
		}
		s.portals.SetRows(rows, ids)
	case settingsPeopleMsg:
		if msg.org != s.c.Org.ID {
			break
		}
		if msg.err != nil {
			return s, func() tea.Msg { return errMsg{msg.err} }
		}
		s.members, s.keysWhy = msg.items, msg.keys
		rows, ids := make([][]string, len(msg.items)), make([]string, len(msg.items))
		for i, m := range msg.items {
			ids[i] = fmt.Sprint(m.User.ID)
			keys := "none"
			if n := len(m.Keys); n > 0 {
				keys = m.Keys[0].Fingerprint
				if n > 1 {
					keys = count(n, "key", "keys")
				}
			}
			rows[i] = []string{m.User.Name, m.User.Email, string(m.Member.Role), keys}
		}
		s.people.SetRows(rows, ids)
	case tea.KeyPressMsg:
		l := s.current()
		if cmd, used := l.Update(msg); used {
			return s, cmd
		}
		switch {
		case key.Matches(msg, toggleSettingsKey):
			s.showPeople = !s.showPeople
			return s, nil
		case key.Matches(msg, brandKey):
			return s, push(newBrandForm(s.c))
		case key.Matches(msg, tokensKey):
			return s, push(newTokensScreen(s.c))
		case key.Matches(msg, webhooksKey):
			return s, push(newWebhooksScreen(s.c))
		case key.Matches(msg, rulesKey) && !s.showPeople:
			if i := s.portals.Selected(); i >= 0 && i < len(s.projects) {
				if p := s.projects[i].Portal; p != nil {
					return s, push(newRulesForm(s.c, *p))
				}
				return s, status.Infof("%s has no portal yet: enter adds one, then r sets its access rules.", s.projects[i].Project.Name)
			}
		case msg.String() == "enter" && !s.showPeople:
			if i := s.portals.Selected(); i >= 0 && i < len(s.projects) {
				return s, push(newPortalForm(s.c, s.projects[i].Project, s.projects[i].Portal))
			}
		case msg.String() == "enter" && s.showPeople:
			if i := s.people.Selected(); i >= 0 && i < len(s.members) {
				return s, push(s.keyMenu(s.members[i]))
			}
		}
	}
	return s, s.current().Navigate(msg)
}

func (s *settings) keyMenu(m core.OrgMember) screen {
	c, ctx, svc, a := s.c, s.c.Ctx, s.c.Service, s.c.Actor
	email := m.User.Email
	why := s.keysWhy[m.User.ID] // the keys of others are an owner's (of all their organizations) to manage
	items := []menuItem{{label: "Add an SSH key", why: why, action: func() tea.Cmd {
		hint := "With it they can run the console with: " + c.SSHLogin
		if c.SSHLogin == "" {
			hint = "The SSH console is off on this instance (--ssh off); the key works once it is on."
		}
		return push(newPrompt(c, "Add a key", "Paste "+email+"'s public key (the contents of their .pub file)", hint, "", func(line string) tea.Cmd {
			return work("Adding the key", func() tea.Msg {
				k, err := svc.AddSSHKey(ctx, a, email, line)
				if err != nil {
					return doneMsg{err: err}
				}
				return doneMsg{status: "Added " + k.Fingerprint + " for " + email + ".", back: true, reload: true}
			})
		}))
	}}}
	for _, k := range m.Keys {
		k := k
		label := "Remove " + k.Fingerprint
		if k.Comment != "" {
			label += " (" + k.Comment + ")"
		}
		items = append(items, menuItem{label: label, why: why, action: func() tea.Cmd {
			return push(newConfirm(c, "Remove this key of "+email+"?", k.Fingerprint+"\nSSH sessions opened with it keep running until they end; new ones are refused.",
				work("Removing the key", func() tea.Msg {
					if err := svc.RemoveSSHKey(ctx, a, k.Fingerprint); err != nil {
						return doneMsg{err: err}
					}
					return doneMsg{status: "Removed " + k.Fingerprint + ".", back: true, reload: true}
				})))
		}})
	}
	return newMenu(c, "Keys of "+email, email+" · "+string(m.Member.Role)+"\n"+c.Styles.Muted.Render(core.FirstUpper(count(len(m.Keys), "SSH key", "SSH keys"))), items)
}

// head is what the list under it holds, wrapped to the width.
func (s *settings) head(people bool) []string {
	text := "Portals: enter edits every setting (address, access, upstream, host, contact, welcome text); r its access rules (link lifetimes and uses, invitations, domains). v: console access and SSH keys. t: API tokens for other systems; w: webhooks that tell them what happens."
	if people {
		text = "Owners and managers use the console; add their SSH keys here. v: portals. t: API tokens for other systems; w: webhooks that tell them what happens."
	}
	return wrapWords(text, max(s.w, 10))
}

func (s *settings) View() string {
	return s.c.Styles.Muted.Render(strings.Join(s.head(s.showPeople), "\n")) + "\n" + s.current().View()
}

// createOrg starts an empty instance: an organization and its owner.
type createOrg struct{ *prompt }

// orgCreatedMsg makes the root load the organizations again.
type orgCreatedMsg struct{ name string }

func newCreateOrg(c *Common) screen {
	ctx, svc, a := c.Ctx, c.Service, c.Actor
	p := newPrompt(c, "Welcome", "Name of your organization", "latchkey is empty. Create the first organization; you are its instance admin.", "",
		func(name string) tea.Cmd {
			return push(newPrompt(c, "Owner", "Email of "+name+"'s owner", "The owner gets every right in the organization and can sign in with Restore password.", "",
				func(email string) tea.Cmd {
					return work("Creating the organization", func() tea.Msg {
						if _, err := svc.CreateOrg(ctx, a, core.NewOrg{Name: name, OwnerEmail: email}); err != nil {
							return doneMsg{err: err}
						}
						return orgCreatedMsg{name}
					})
				}))
		})
	return &createOrg{p}
}

func (o *createOrg) Update(msg tea.Msg) (screen, tea.Cmd) {
	if k, ok := msg.(tea.KeyPressMsg); ok && k.String() == "esc" {
		return o, nil // nothing to go back to
	}
	_, cmd := o.prompt.Update(msg)
	return o, cmd
}
