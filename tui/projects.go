package tui

import (
	"fmt"
	"latchkey/tui/components/status"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"latchkey/core"
)

// projects lists the organization's projects with their portal's figures.
type projects struct {
	base
	list  *listView
	items []core.ProjectSummary
}

type projectsMsg struct {
	org   uint64
	items []core.ProjectSummary
	err   error
}

var (
	openKey     = bind("enter", "enter", "open")
	inviteKey   = bind("i", "i", "invite")
	activityKey = bind("a", "a", "activity")
	newProjKey  = bind("n", "n", "new project")
	portalKey   = bind("e", "e", "portal settings")
	renameKey   = bind("r", "r", "rename project")
)

func newProjects(c *Common) *projects {
	p := &projects{base: base{c: c}}
	p.list = newListView(c, []column{
		{Title: "Project", Min: 16, Flex: 3},
		{Title: "Portal", Min: 18, Flex: 2},
		{Title: "Access", Min: 7},
		{Title: "People", Min: 6},
		{Title: "Links", Min: 5, Drop: 2},
		{Title: "Requests", Min: 8, Drop: 1},
	}, "No projects yet. Press n to create one.")
	return p
}

func (p *projects) load() tea.Cmd  { return work("Loading projects", p.loader()) }
func (p *projects) fetch() tea.Msg { return p.loader()() }

// loader reads what it needs now: the load may run in another goroutine.
func (p *projects) loader() func() tea.Msg {
	ctx, svc, a, org := p.c.Ctx, p.c.Service, p.c.Actor, p.c.Org.ID
	return func() tea.Msg {
		items, err := svc.Projects(ctx, a, org)
		return projectsMsg{org, items, err}
	}
}

func (p *projects) Init() tea.Cmd   { return p.load() }
func (p *projects) Title() string   { return "Projects" }
func (p *projects) Capturing() bool { return p.list.Capturing() }
func (p *projects) holdsEsc() bool  { return p.list.HoldsEsc() }
func (p *projects) ShortHelp() []key.Binding {
	if h := p.list.TypingHelp(); h != nil {
		return h
	}
	return []key.Binding{openKey, inviteKey, activityKey, contentKey, filterKey}
}
func (p *projects) FullHelp() [][]key.Binding {
	return [][]key.Binding{{upKey, downKey, pageKeys, endKeys, openKey, filterKey}, {inviteKey, activityKey, portalContentKey, newProjKey, renameKey, portalKey}}
}

func (p *projects) selected() (core.ProjectSummary, bool) {
	i := p.list.Selected()
	if i < 0 || i >= len(p.items) {
		return core.ProjectSummary{}, false
	}
	return p.items[i], true
}

func (p *projects) Update(msg tea.Msg) (screen, tea.Cmd) {
	if p.size(msg) {
		p.list.Resize(p.w, p.h)
		return p, nil
	}
	switch msg := msg.(type) {
	case restyleMsg:
		p.list.Restyle()
	case doneNotice:
		if msg.selectKey != "" {
			p.list.Choose(msg.selectKey)
		}
		return p, p.load()
	case refreshMsg:
		return p, p.load()
	case projectsMsg:
		if msg.org != p.c.Org.ID {
			return p, nil
		}
		if msg.err != nil {
			return p, func() tea.Msg { return errMsg{msg.err} }
		}
		p.items = msg.items
		rows, keys := make([][]string, len(msg.items)), make([]string, len(msg.items))
		for i, s := range msg.items {
			// Without a portal there is nobody, no link and no request to
			// count: "—" rather than a 0 that reads as a portal nobody uses.
			// With one, every count is a number, 0 included, as over SSH.
			portal, access, people, links, req := "—", "—", "—", "—", "—"
			if s.Portal != nil {
				portal, access = "/p/"+s.Portal.Slug, string(s.Portal.Access)
				people, links, req = fmt.Sprint(s.PeopleWithAccess), fmt.Sprint(s.ActiveLinks), fmt.Sprint(s.PendingRequests)
			}
			rows[i], keys[i] = []string{s.Project.Name, portal, access, people, links, req}, fmt.Sprint(s.Project.ID)
		}
		p.list.SetRows(rows, keys)
		return p, nil
	case tea.KeyPressMsg:
		if cmd, used := p.list.Update(msg); used {
			return p, cmd
		}
		sel, ok := p.selected()
		switch {
		case key.Matches(msg, newProjKey):
			return p, p.newProject()
		case !ok:
		case key.Matches(msg, openKey):
			if d := sel.Actions.Portal; !d.OK() {
				return p, status.Infof("%s. Press e to create one.", d.Reason())
			}
			return p, push(newMembers(p.c, *sel.Portal, sel.Project))
		case key.Matches(msg, inviteKey):
			var portalID uint64
			if sel.Portal != nil {
				portalID = sel.Portal.ID
			}
			return p, push(newInvite(p.c, portalID))
		case key.Matches(msg, activityKey):
			if d := sel.Actions.Portal; !d.OK() {
				return p, status.Infof("%s, so no activity.", d.Reason())
			}
			return p, push(newActivity(p.c, *sel.Portal))
		case key.Matches(msg, contentKey):
			if d := sel.Actions.Portal; !d.OK() {
				return p, status.Infof("%s, so no content. Press e to create one.", d.Reason())
			}
			return p, push(newPortalContent(p.c, *sel.Portal, sel.Project))
		case key.Matches(msg, portalKey):
			return p, push(newPortalForm(p.c, sel.Project, sel.Portal))
		case key.Matches(msg, renameKey):
			return p, p.rename(sel.Project)
		}
	}
	return p, p.list.Navigate(msg)
}

func (p *projects) newProject() tea.Cmd {
	ctx, svc, a, org := p.c.Ctx, p.c.Service, p.c.Actor, p.c.Org.ID
	return push(newPrompt(p.c, "New project", "Name of the new project", "A project can get a portal afterwards (e on the project).", "",
		func(name string) tea.Cmd {
			return work("Creating project", func() tea.Msg {
				proj, err := svc.CreateProject(ctx, a, org, name)
				if err != nil {
					return doneMsg{err: err}
				}
				return doneMsg{back: true, reload: true, selectKey: fmt.Sprint(proj.ID), status: "Created the project " + proj.Name + ". Press e on it to give it a portal."}
			})
		}))
}

func (p *projects) rename(proj core.Project) tea.Cmd {
	ctx, svc, a := p.c.Ctx, p.c.Service, p.c.Actor
	return push(newPrompt(p.c, "Rename project", "New name of "+proj.Name, "Its portal keeps its title and address (e on the project changes them).", proj.Name,
		func(name string) tea.Cmd {
			return work("Renaming project", func() tea.Msg {
				renamed, err := svc.RenameProject(ctx, a, proj.ID, name)
				if err != nil {
					return doneMsg{err: err}
				}
				return doneMsg{back: true, reload: true, status: "Renamed " + proj.Name + " to " + renamed.Name + "."}
			})
		}))
}

func (p *projects) View() string { return p.list.View() }

// push opens a screen on top of the current one.
func push(s screen) tea.Cmd { return func() tea.Msg { return doneMsg{push: s} } }
