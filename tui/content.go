package tui

import (
	"fmt"
	"latchkey/tui/components/status"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"latchkey/core"
)

// portalContent is a portal's built-in content besides its welcome text
// (which the portal form edits): its resources, titled links in the order
// the page lists them, and its updates, newest first. v switches between
// the two lists. For a portal in front of an upstream it says that clients
// see the upstream, not this content, and still lets it be edited.
type portalContent struct {
	base
	portal             core.Portal
	project            core.Project
	resources, updates *listView
	res                []core.Resource // in their order
	ups                []core.Update   // newest first
	showUpdates        bool
	// Moves are shown at once and sent one after the other, in order;
	// loads that started before the last of them are dropped (gen).
	moves  []resourceMove
	moving bool
	gen    int
}

type (
	contentMsg struct {
		portal    uint64
		gen       int
		settings  core.PortalSettings
		resources []core.Resource
		updates   []core.Update
		err       error
	}
	resourceMove struct {
		id       uint64
		title    string
		position int
	}
	movedMsg struct {
		portal uint64
		move   resourceMove
		err    error
	}
)

var (
	contentKey       = bind("c", "c", "content")
	portalContentKey = bind("c", "c", "portal content")
	toggleListKey    = bind("v", "v", "resources ⇄ updates")
	addResourceKey   = bind("n", "n", "add resource")
	postUpdateKey    = bind("n", "n", "post update")
	removeKey        = bind("d", "d", "remove")
	moveUpKey        = bind("K,shift+up", "K", "move up")
	moveDownKey      = bind("J,shift+down", "J", "move down")
	moveKeys         = bind("K,J,shift+up,shift+down", "K/J", "move")
	wholeKey         = bind("enter", "enter", "show whole")
	settingsKey      = bind("e", "e", "portal settings")
)

func newPortalContent(c *Common, p core.Portal, proj core.Project) *portalContent {
	v := &portalContent{base: base{c: c}, portal: p, project: proj}
	v.resources = newListView(c, []column{
		{Title: "#", Min: 2},
		{Title: "Title", Min: 20, Flex: 1},
		{Title: "Address", Min: 20, Flex: 3},
		{Title: "Note", Min: 14, Flex: 2, Drop: 1},
		{Title: "Added", Min: 11, Drop: 2}, // "12 Mar 2026", whole: the last column is never cut
	}, "No resources yet. Press n to add a titled link: a shared folder, the staging site, the timeline.")
	v.updates = newListView(c, []column{
		{Title: "Posted", Min: 11},
		{Title: "By", Min: 12, Flex: 1, Drop: 1},
		{Title: "Update", Min: 24, Flex: 4},
		{Title: "Emailed", Min: 10, Drop: 2}, // "120 people", whole: the last column is never cut
	}, "No updates yet. Press n to post one; you may email it to everyone with access.")
	return v
}

func (v *portalContent) load() tea.Cmd {
	ctx, svc, a, id, gen := v.c.Ctx, v.c.Service, v.c.Actor, v.portal.ID, v.gen
	return work("Loading the portal's content", func() tea.Msg {
		msg := contentMsg{portal: id, gen: gen}
		var err error
		if msg.settings, err = svc.PortalSettingsOf(ctx, a, id); err != nil {
			msg.err = err
			return msg
		}
		if msg.resources, err = svc.Resources(ctx, a, id); err != nil {
			msg.err = err
			return msg
		}
		msg.updates, msg.err = svc.Updates(ctx, a, id)
		return msg
	})
}

func (v *portalContent) Init() tea.Cmd { return v.load() }
func (v *portalContent) Title() string { return "Portal content" }
func (v *portalContent) current() *listView {
	if v.showUpdates {
		return v.updates
	}
	return v.resources
}
func (v *portalContent) Capturing() bool { return v.current().Capturing() }
func (v *portalContent) holdsEsc() bool  { return v.current().HoldsEsc() }

func (v *portalContent) ShortHelp() []key.Binding {
	if h := v.current().TypingHelp(); h != nil {
		return h
	}
	if v.showUpdates {
		return []key.Binding{postUpdateKey, wholeKey, bind("v", "v", "resources"), settingsKey, filterKey}
	}
	return []key.Binding{addResourceKey, moveKeys, removeKey, bind("v", "v", "updates"), wholeKey, settingsKey, filterKey}
}

func (v *portalContent) FullHelp() [][]key.Binding {
	nav := []key.Binding{upKey, downKey, pageKeys, endKeys, filterKey, toggleListKey}
	if v.showUpdates {
		return [][]key.Binding{nav, {postUpdateKey, bind("enter", "enter", "read whole"), settingsKey}}
	}
	return [][]key.Binding{nav, {addResourceKey, moveUpKey, moveDownKey, removeKey, bind("enter", "enter", "show whole"), settingsKey}}
}

// pending: moves not yet stored.
func (v *portalContent) pending() bool { return v.moving || len(v.moves) > 0 }

func (v *portalContent) Update(msg tea.Msg) (screen, tea.Cmd) {
	if v.size(msg) {
		v.resources.Resize(v.w, v.h-len(v.head(false)))
		v.updates.Resize(v.w, v.h-len(v.head(true)))
		return v, nil
	}
	switch msg := msg.(type) {
	case restyleMsg:
		v.resources.Restyle()
		v.updates.Restyle()
	case refreshMsg:
		return v, v.load()
	case doneNotice:
		switch {
		case strings.HasPrefix(msg.selectKey, "r"):
			v.resources.Choose(msg.selectKey)
		case strings.HasPrefix(msg.selectKey, "u"):
			v.updates.Choose(msg.selectKey)
		}
		return v, v.load()
	case contentMsg:
		if msg.portal != v.portal.ID || msg.gen != v.gen || v.pending() {
			return v, nil // moves are on their way: a later load shows them
		}
		if msg.err != nil {
			return v, func() tea.Msg { return errMsg{msg.err} }
		}
		// The settings may have changed (e): the address and upstream shown.
		had := v.portal.Upstream
		ps := msg.settings
		v.portal.Slug, v.portal.Title, v.portal.Upstream, v.portal.Host = ps.Slug, ps.Title, ps.Upstream, ps.Host
		v.portal.Access, v.portal.Disclosure, v.portal.Welcome = ps.Access, ps.Disclosure, ps.Welcome
		v.res, v.ups = msg.resources, msg.updates
		v.showResources()
		v.showUpdatesList()
		if had != v.portal.Upstream { // the note above the lists changed
			return v.Update(tea.WindowSizeMsg{Width: v.w, Height: v.h})
		}
	case movedMsg:
		if msg.portal != v.portal.ID {
			return v, nil
		}
		v.moving = false
		v.gen++
		if msg.err != nil {
			v.moves = nil
			return v, tea.Batch(func() tea.Msg { return errMsg{msg.err} }, v.load())
		}
		if len(v.moves) > 0 {
			return v, v.nextMove()
		}
		return v, tea.Batch(v.load(), status.Infof("%q is now %d of %d.", msg.move.title, msg.move.position, len(v.res)))
	case tea.KeyPressMsg:
		l := v.current()
		if cmd, used := l.Update(msg); used {
			return v, cmd
		}
		switch {
		case key.Matches(msg, toggleListKey):
			v.showUpdates = !v.showUpdates
			return v, nil
		case key.Matches(msg, settingsKey):
			p := v.portal
			return v, push(newPortalForm(v.c, v.project, &p))
		case v.showUpdates:
			if cmd, ok := v.updateKey(msg); ok {
				return v, cmd
			}
		default:
			if cmd, ok := v.resourceKey(msg); ok {
				return v, cmd
			}
		}
	}
	return v, v.current().Navigate(msg)
}

// resourceKey handles the resources' own keys.
func (v *portalContent) resourceKey(k tea.KeyPressMsg) (tea.Cmd, bool) {
	if key.Matches(k, addResourceKey) {
		return push(newResourceForm(v.c, v.portal)), true
	}
	i := v.resources.Selected()
	if i < 0 || i >= len(v.res) {
		if key.Matches(k, removeKey, moveUpKey, moveDownKey, wholeKey) {
			return status.Infof("There is no resource to act on; n adds one."), true
		}
		return nil, false
	}
	r := v.res[i]
	switch {
	case key.Matches(k, moveUpKey):
		return v.move(i, -1), true
	case key.Matches(k, moveDownKey):
		return v.move(i, 1), true
	case key.Matches(k, removeKey):
		ctx, svc, a, p := v.c.Ctx, v.c.Service, v.c.Actor, v.portal
		return push(newConfirm(v.c, fmt.Sprintf("Remove %q from /p/%s?", r.Title, p.Slug),
			"It goes from the portal's page at once ("+r.URL+"); the resources after it move up.",
			work("Removing the resource", func() tea.Msg {
				if err := svc.RemoveResource(ctx, a, p.ID, r.ID); err != nil {
					return doneMsg{err: err}
				}
				return doneMsg{status: fmt.Sprintf("Removed %q from /p/%s.", r.Title, p.Slug), reload: true}
			}))), true
	case key.Matches(k, wholeKey):
		body := r.URL
		if r.Note != "" {
			body += "\n\n" + r.Note
		}
		return push(newTextViewer(v.c, "Resource "+fmt.Sprint(r.Position), [][2]string{
			{"Title", r.Title}, {"Position", fmt.Sprintf("%d of %d", r.Position, len(v.res))}, {"Added", fmtTime(r.CreatedAt) + " by " + r.CreatedBy},
		}, body)), true
	}
	return nil, false
}

// updateKey handles the updates' own keys.
func (v *portalContent) updateKey(k tea.KeyPressMsg) (tea.Cmd, bool) {
	switch {
	case key.Matches(k, postUpdateKey):
		return push(newUpdateComposer(v.c, v.portal)), true
	case key.Matches(k, wholeKey):
		i := v.updates.Selected()
		if i < 0 || i >= len(v.ups) {
			return status.Infof("There is no update to read; n posts one."), true
		}
		u := v.ups[i]
		return push(newTextViewer(v.c, "Update of "+fmtDate(u.CreatedAt), [][2]string{
			{"Posted", u.CreatedAt.Local().Format("Mon 2 Jan 2006 15:04")}, {"By", u.Author}, {"Emailed", emailedWord(u)},
		}, u.Body)), true
	case key.Matches(k, removeKey, moveUpKey, moveDownKey):
		return status.Infof("Updates stay as posted, newest first: they are not removed or moved."), true
	}
	return nil, false
}

// move shows resource i one place up (delta -1) or down at once, and
// sends the move to core after the moves before it.
func (v *portalContent) move(i, delta int) tea.Cmd {
	j := i + delta
	if j < 0 || j >= len(v.res) {
		where := "first"
		if delta > 0 {
			where = "last"
		}
		return status.Infof("%q is %s already.", v.res[i].Title, where)
	}
	v.res[i], v.res[j] = v.res[j], v.res[i]
	v.res[i].Position, v.res[j].Position = i+1, j+1
	v.gen++
	v.showResources() // the selection follows the resource moved
	v.moves = append(v.moves, resourceMove{id: v.res[j].ID, title: v.res[j].Title, position: j + 1})
	if v.moving {
		return nil
	}
	return v.nextMove()
}

func (v *portalContent) nextMove() tea.Cmd {
	m := v.moves[0]
	v.moves = v.moves[1:]
	v.moving = true
	ctx, svc, a, id := v.c.Ctx, v.c.Service, v.c.Actor, v.portal.ID
	return work("Moving the resource", func() tea.Msg {
		return movedMsg{id, m, svc.MoveResource(ctx, a, id, m.id, m.position)}
	})
}

func (v *portalContent) showResources() {
	rows, keys := make([][]string, len(v.res)), make([]string, len(v.res))
	for i, r := range v.res {
		rows[i], keys[i] = []string{fmt.Sprint(r.Position), r.Title, r.URL, r.Note, fmtDate(r.CreatedAt)}, fmt.Sprint("r", r.ID)
	}
	v.resources.SetRows(rows, keys)
}

func (v *portalContent) showUpdatesList() {
	rows, keys := make([][]string, len(v.ups)), make([]string, len(v.ups))
	for i, u := range v.ups {
		rows[i], keys[i] = []string{fmtDate(u.CreatedAt), u.Author, u.Body, emailedWord(u)}, fmt.Sprint("u", u.ID)
	}
	v.updates.SetRows(rows, keys)
}

// emailedWord says to how many people an update was emailed.
func emailedWord(u core.Update) string {
	if u.Emailed == 0 {
		return "—"
	}
	return count(u.Emailed, "person", "people")
}

// head is the line that names the two lists, the one shown marked, and
// what the portal shows its clients.
func (v *portalContent) head(updates bool) []string {
	st := v.c.Styles
	// The list shown is marked in any colour profile, as a radio button.
	tab := func(on bool, text string) string {
		if on {
			return st.Accent.Bold(true).Render("● " + text)
		}
		return st.Muted.Render("○ " + text)
	}
	lines := []string{tab(!updates, fmt.Sprintf("Resources (%d)", len(v.res))) + "   " + tab(updates, fmt.Sprintf("Updates (%d)", len(v.ups))) +
		st.Muted.Render("   v switches · /p/"+v.portal.Slug)}
	text := "The portal's page lists these links in this order, under its welcome text."
	if updates {
		text = "The portal's page shows the newest updates first, under its resources."
	}
	style := st.Muted
	if v.portal.Upstream != "" {
		text = "⚠ /p/" + v.portal.Slug + " fronts " + v.portal.Upstream + ": clients see that app, not the built-in page (welcome text, resources, updates). They can still be edited here, for when the upstream is removed."
		style = st.Warn
	}
	for _, l := range wrapWords(text, max(v.w, 10)) {
		lines = append(lines, style.Render(l))
	}
	return lines
}

func (v *portalContent) View() string {
	return strings.Join(v.head(v.showUpdates), "\n") + "\n" + v.current().View()
}
