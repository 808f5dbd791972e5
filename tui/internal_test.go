package tui

import (
	"fmt"
	"latchkey/tui/components/status"
	"slices"
	"strings"
	"testing"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"latchkey/core"
	"latchkey/storage/storetest"
)

// boom is a screen whose Update panics.
type boom struct{ base }

func (b *boom) Title() string                    { return "Boom" }
func (b *boom) ShortHelp() []key.Binding         { return nil }
func (b *boom) View() string                     { return "" }
func (b *boom) Update(tea.Msg) (screen, tea.Cmd) { panic("kaboom") }

// A panic in a screen is recovered, reported, and the section starts over.
func TestPanicInAScreenIsReported(t *testing.T) {
	a := adminConsole(t, storetest.New(t))
	a.stack = []screen{&boom{base{c: a.c}}}
	a.Update(tea.KeyPressMsg{Code: 'x', Text: "x"})
	if !a.status.IsError() || !strings.Contains(a.status.Text(), "Internal error in Boom") || !strings.Contains(a.status.Text(), "kaboom") {
		t.Fatalf("status %q", a.status.Text())
	}
	if _, ok := a.top().(*projects); !ok {
		t.Fatalf("the section did not start over: %T", a.top())
	}
}

func TestParseBulk(t *testing.T) {
	lines := parseBulk("ann@example.com\n\n  Ben Ode <BEN@example.com>  \nAnn@Example.com\nnope\nx <y>\nEve \u202eredwO <eve@example.com>\n")
	want := []struct{ email, problem string }{
		{"ann@example.com", ""}, {"ben@example.com", ""}, {"", "the same address as line 1"}, {"", "not an email address"}, {"", "not an address like"},
		{"", "text-direction"},
	}
	if len(lines) != len(want) {
		t.Fatalf("%d lines: %+v", len(lines), lines)
	}
	for i, w := range want {
		if lines[i].email != w.email || !strings.Contains(lines[i].problem, w.problem) || (w.problem == "") != (lines[i].problem == "") {
			t.Errorf("line %d: %+v, want %+v", i, lines[i], w)
		}
	}
	if lines[1].name != "Ben Ode" || lines[1].n != 3 {
		t.Errorf("line 2: %+v", lines[1])
	}
}

// A manager is not offered what only the owner may do to an owner's or a
// manager's link and role; the owner is.
func TestMemberMenuOffersOnlyWhatTheActorMay(t *testing.T) {
	env := demoEnv(t)
	mia := env.User("mia@northwind.test")
	owner := env.User("owner@northwind.test")
	manager := core.UserActor(mia, "ssh:test")
	ref := storetest.Must(env.Svc.PortalBySlug(env.Ctx, env.Admin, "website-redesign"))
	if by, err := env.Svc.RoleIn(env.Ctx, manager, ref.Org.ID); err != nil || by != core.RoleManager {
		t.Fatalf("RoleIn(mia) = %v, %v", by, err)
	}
	a := New(Deps{Service: env.Svc, Actor: manager, Where: "test"})
	defer a.Close()
	if _, err := env.Svc.Invite(env.Ctx, env.Admin, core.InviteInput{OrgID: ref.Org.ID, Email: owner.Email, Role: core.RoleClient, PortalID: ref.Portal.ID}); err != nil {
		t.Fatal(err) // the owner with an active link on the portal
	}
	actors := map[core.Role]core.Actor{core.RoleManager: manager, core.RoleOwner: core.UserActor(owner, "ssh:test")}
	for _, tc := range []struct {
		by      core.Role
		refused bool
	}{{core.RoleManager, true}, {core.RoleOwner, false}} {
		m := newMembers(a.c, ref.Portal, ref.Project)
		var target core.PortalMember // the owner's row, as core lists it for this actor
		for _, pm := range storetest.Must(env.Svc.PortalMembers(env.Ctx, actors[tc.by], ref.Portal.ID)) {
			if pm.Email == owner.Email {
				target = pm
			}
		}
		menu := m.menu(target).(*menu)
		for _, it := range menu.items {
			if got := strings.Contains(it.why, "only the owner"); got != tc.refused {
				t.Errorf("acting as %s, %q: why %q", tc.by, it.label, it.why)
			}
		}
	}
}

// Preload makes the console's very first frame the finished projects
// screen, with no loading frames before it.
func TestPreloadMakesTheFirstFrameComplete(t *testing.T) {
	env := demoEnv(t)
	a := adminConsole(t, env)
	a.Preload(env.Ctx)
	first := a.View().Content
	for _, want := range []string{"Northwind Studio", "Website Redesign", "/p/website-redesign"} {
		if !strings.Contains(first, want) {
			t.Errorf("the first frame lacks %q:\n%s", want, first)
		}
	}
	if !a.ready || a.initial != nil || strings.Contains(first, "Loading") {
		t.Errorf("ready %v, work left %v, frame:\n%s", a.ready, a.initial != nil, first)
	}
}

// Messages that change nothing reuse the last frame; any other renders anew.
func TestFrameIsRenderedAgainOnlyAfterAChange(t *testing.T) {
	env := demoEnv(t)
	a := adminConsole(t, env)
	a.Preload(env.Ctx)
	first := a.View().Content
	for _, msg := range []tea.Msg{
		tea.ColorProfileMsg{}, tea.EnvMsg{}, bgQuery,
		tea.WindowSizeMsg{Width: a.c.Width, Height: a.c.Height},
		tea.BackgroundColorMsg{Color: lipgloss.Color("#000000")}, // dark, as assumed
	} {
		a.Update(msg)
		if a.frame == "" {
			t.Errorf("%T dropped the frame", msg)
		}
	}
	for _, tc := range []struct {
		msg  tea.Msg
		what string
	}{
		{tea.KeyPressMsg{Code: tea.KeyDown}, "moving down"},
		{tea.WindowSizeMsg{Width: 90, Height: 28}, "a new size"},
		{tea.BackgroundColorMsg{Color: lipgloss.Color("#ffffff")}, "a light background"},
	} {
		a.Update(tc.msg)
		next := a.View().Content
		if next == first {
			t.Errorf("after %s the frame is the same", tc.what)
		}
		first = next
	}
}

// Only the owner is offered the manager role: in the role picker (change a
// role, grant a request) and in the Invite form.
func TestOnlyTheOwnerIsOfferedTheManagerRole(t *testing.T) {
	env := demoEnv(t)
	a := adminConsole(t, env)
	for _, by := range []core.Role{core.RoleManager, core.RoleOwner} {
		p := newRolePicker(a.c, "Role", core.RoleClient, core.RoleChoices(by, core.RoleClient), func(core.Role, time.Time) tea.Cmd { return nil })
		for _, it := range p.items {
			refused := it.why != ""
			if want := by != core.RoleOwner && strings.HasPrefix(it.label, "manager"); refused != want {
				t.Errorf("picker for a %s: %q refused=%v (%q)", by, it.label, refused, it.why)
			}
		}
		grant := newRolePicker(a.c, "Grant", "", core.RoleChoices(by, ""), func(core.Role, time.Time) tea.Cmd { return nil })
		for i, it := range grant.items {
			if strings.Contains(it.label, "current") || (i == grant.cursor) != strings.HasPrefix(it.label, "client") {
				t.Errorf("granting to a newcomer, as a %s: %q (cursor %d)", by, it.label, grant.cursor)
			}
		}
		f := newInvite(a.c, 0)
		if slices.Contains(f.roles, core.RoleManager) {
			t.Errorf("the invite form offers manager before it knows the user's role: %v", f.roles)
		}
		f.role = 2 // guest: stays chosen
		f.Update(invitePortalsMsg{by: by})
		if got := slices.Contains(f.roles, core.RoleManager); got != (by == core.RoleOwner) {
			t.Errorf("invite form for a %s offers %v", by, f.roles)
		}
		if f.roles[f.role] != core.RoleGuest {
			t.Errorf("invite form for a %s: the chosen role became %s", by, f.roles[f.role])
		}
	}
}

// panicOnData is a projects screen that panics on its data.
type panicOnData struct{ *projects }

func (p panicOnData) Update(msg tea.Msg) (screen, tea.Cmd) {
	if _, ok := msg.(projectsMsg); ok {
		panic("a bad row")
	}
	s, cmd := p.projects.Update(msg)
	return panicOnData{s.(*projects)}, cmd
}

// panicOnFetch is a projects screen whose load panics.
type panicOnFetch struct{ *projects }

func (p panicOnFetch) fetch() tea.Msg { panic("the store broke") }

func (p panicOnFetch) Update(msg tea.Msg) (screen, tea.Cmd) {
	s, cmd := p.projects.Update(msg)
	return panicOnFetch{s.(*projects)}, cmd
}

// A screen that panics while Preload loads it is reported like any other
// panic: Preload returns, and the console shows the error.
func TestPreloadSurvivesAPanickingScreen(t *testing.T) {
	env := demoEnv(t)
	for _, tc := range []struct {
		screen func(*Common) screen
		status string
	}{
		{func(c *Common) screen { return panicOnData{newProjects(c)} }, "Internal error in Projects (a bad row)"},
		{func(c *Common) screen { return panicOnFetch{newProjects(c)} }, "Internal error while loading: the store broke"},
	} {
		a := adminConsole(t, env)
		a.sections[0].open = tc.screen // this console's only
		done := make(chan struct{})
		go func() { defer close(done); a.Preload(env.Ctx) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("Preload did not return")
		}
		if !a.status.IsError() || !strings.Contains(a.status.Text(), tc.status) {
			t.Errorf("status %q, want %q", a.status.Text(), tc.status)
		}
		if a.loadNow {
			t.Error("screens opened later would load in the UI's goroutine")
		}
	}
}

// SetSize lays the preloaded screen out for the terminal, so that the
// program's first size report changes nothing.
func TestSetSizeBeforePreload(t *testing.T) {
	env, a := preloaded(t, 120, 40)
	first := a.View().Content
	a.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	if a.frame == "" {
		t.Error("the program's first size report, the same size, dropped the frame")
	}
	// The same as a console that was told its size by the program.
	b := adminConsole(t, env)
	b.Preload(env.Ctx)
	b.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	if resized := b.View().Content; first != resized || lipgloss.Height(first) != 40 {
		t.Errorf("the first frame, %d lines:\n%s\nafter a resize:\n%s", lipgloss.Height(first), first, resized)
	}
}

// demoEnv is a service holding the demo data.
func demoEnv(t *testing.T) *storetest.Env {
	t.Helper()
	env := storetest.New(t)
	if _, err := env.Svc.LoadDemo(env.Ctx); err != nil {
		t.Fatal(err)
	}
	return env
}

// adminConsole is the instance admin's console, closed with the test.
func adminConsole(t *testing.T, env *storetest.Env) *App {
	a := New(Deps{Service: env.Svc, Actor: core.AdminActor("test"), Where: "test"})
	t.Cleanup(a.Close)
	return a
}

// preloaded is the admin's console over the demo data at width×height, its
// first screen loaded as the SSH server loads it.
func preloaded(t *testing.T, width, height int) (*storetest.Env, *App) {
	env := demoEnv(t)
	a := adminConsole(t, env)
	a.SetSize(width, height)
	a.Preload(env.Ctx)
	return env, a
}

// A manager is not offered to add or remove the keys of the owner (core
// would refuse), and is offered their own.
func TestKeyMenuOffersOnlyKeysTheUserMayManage(t *testing.T) {
	env := demoEnv(t)
	mia := env.User("mia@northwind.test")
	a := New(Deps{Service: env.Svc, Actor: core.UserActor(mia, "ssh:test"), Where: "test"})
	t.Cleanup(a.Close)
	a.Preload(env.Ctx)
	s := newSettings(a.c)
	s.Update(a.bodySize())
	s.Update(s.peopleLoader()())
	if len(s.members) < 2 {
		t.Fatalf("people: %+v", s.members)
	}
	for _, m := range s.members {
		menu := s.keyMenu(m).(*menu)
		refused := menu.items[0].why != ""
		if want := m.User.ID != mia.ID; refused != want || (refused && !strings.Contains(menu.items[0].why, "only your own keys")) {
			t.Errorf("%s's keys, as a manager: why %q", m.User.Email, menu.items[0].why)
		}
	}
}

// Switching sections clears the status line, which spoke of the section left.
func TestSwitchingSectionsClearsTheStatus(t *testing.T) {
	a := adminConsole(t, demoEnv(t))
	a.Preload(t.Context())
	a.status.Set(status.Msg{Kind: status.KindInfo, Text: "Nothing was changed."})
	a.Update(tea.KeyPressMsg{Code: '3', Text: "3"})
	if a.status.Text() != "" || a.section != 2 {
		t.Fatalf("section %d, status %q", a.section, a.status.Text())
	}
}

// A prompt shows why its value was refused under its field, until the
// person types again.
func TestPromptShowsWhyItsValueWasRefused(t *testing.T) {
	a := adminConsole(t, demoEnv(t))
	a.Preload(t.Context())
	p := newPrompt(a.c, "Rename project", "New name", "", "Website Redesign", func(string) tea.Cmd { return nil })
	p.Update(a.bodySize())
	a.stack = append(a.stack, p)
	a.Update(doneMsg{err: fmt.Errorf("%w: a project named %q exists already in this organization", core.ErrConflict, "Brand Guidelines")})
	if v := p.View(); !strings.Contains(v, `"Brand Guidelines" exists already`) {
		t.Fatalf("the prompt does not say why:\n%s", v)
	}
	p.Update(tea.KeyPressMsg{Code: 'x', Text: "x"})
	if strings.Contains(p.View(), "exists already") {
		t.Fatal("the reason stays after the value changed")
	}
}

// A new project is selected once the list has it, so that e gives it a
// portal, as the status line says.
func TestNewProjectIsSelected(t *testing.T) {
	env, a := preloaded(t, 100, 30)
	p := a.top().(*projects)
	proj := storetest.Must(env.Svc.CreateProject(env.Ctx, env.Admin, p.c.Org.ID, "Zeta Launch"))
	a.Update(doneMsg{reload: true, selectKey: fmt.Sprint(proj.ID), status: "Created the project Zeta Launch."})
	if sel, _ := p.selected(); sel.Project.ID == proj.ID {
		t.Fatal("selected before the list has it")
	}
	a.Update(p.fetch()) // the reload's result
	if sel, ok := p.selected(); !ok || sel.Project.ID != proj.ID {
		t.Fatalf("selected %+v, want the new project", sel.Project)
	}
}

// auditOf is the admin's audit screen, 98x24, for the demo organization
// with n more events.
func auditOf(t *testing.T, n int) (*storetest.Env, core.Org, *audit) {
	env := demoEnv(t)
	org := storetest.Must(env.Svc.Orgs(env.Ctx, env.Admin))[0]
	env.FillAudit(org.ID, n)
	c := &Common{Deps: Deps{Service: env.Svc, Actor: env.Admin}, Width: 100, Height: 30, IsDark: true, Styles: newStyles(true), Org: org}
	v := newAudit(c)
	v.Update(tea.WindowSizeMsg{Width: 98, Height: 24})
	return env, org, v
}

// Older events loaded with m stay loaded when the log refreshes (after any
// change), and the note that more exist is on screen.
func TestAuditKeepsOlderEventsThroughRefresh(t *testing.T) {
	env, org, v := auditOf(t, 1200)
	load := func(before uint64) {
		t.Helper()
		q := v.query(before)
		events, err := env.Svc.Audit(env.Ctx, env.Admin, q)
		if err != nil {
			t.Fatal(err)
		}
		v.Update(auditMsg{q, events, nil})
	}
	load(0)
	lines := strings.Split(v.View(), "\n")
	if len(lines) != 24 || !strings.Contains(lines[23], "Showing the newest 500; m loads older events.") {
		t.Fatalf("%d lines, the last %q", len(lines), lines[len(lines)-1])
	}
	load(v.events[len(v.events)-1].ID) // m
	if len(v.events) != 1000 {
		t.Fatalf("%d events after m", len(v.events))
	}
	v.list.Navigate(tea.KeyPressMsg{Code: tea.KeyEnd})
	chosen := v.events[v.list.Selected()].ID
	storetest.Must(env.Svc.CreateProject(env.Ctx, env.Admin, org.ID, "One more event"))
	load(0) // the refresh a change brings
	if len(v.events) != 1001 || v.events[0].Action != "project.created" {
		t.Fatalf("%d events after a refresh, the newest %q", len(v.events), v.events[0].Action)
	}
	if v.events[v.list.Selected()].ID != chosen {
		t.Fatal("the selection moved off its event")
	}
}

// Once a filter is typed (enter), the console's keys work again; esc first
// clears the filter, then closes the screen.
func TestFilterLetsKeysThroughOnceTyped(t *testing.T) {
	_, a := preloaded(t, 100, 30)
	press := func(keys ...tea.KeyPressMsg) { pressKeys(a, keys...) }
	esc, enter := tea.KeyPressMsg{Code: tea.KeyEscape}, tea.KeyPressMsg{Code: tea.KeyEnter}
	press(enter) // the first project's members
	m, ok := a.top().(*members)
	if !ok {
		t.Fatalf("enter opened %T", a.top())
	}
	press(char('/'), char('c'), char('f'), char('o'))
	if !strings.Contains(ansi.Strip(a.render()), "enter done • esc clear") {
		t.Fatal("no filter help while typing")
	}
	press(enter, esc)
	if a.top() != m || m.list.Filter() != "" {
		t.Fatalf("esc with a filter: top %T, filter %q", a.top(), m.list.Filter())
	}
	press(esc)
	if _, ok := a.top().(*projects); !ok {
		t.Fatalf("second esc: top %T", a.top())
	}
	press(char('/'), char('w'), enter, char('3'))
	if a.section != 2 {
		t.Fatalf("3 after a typed filter: section %d", a.section)
	}
}

// pressKeys gives a the keys, one by one, with the messages their commands
// make (see runCmd).
func pressKeys(a *App, keys ...tea.KeyPressMsg) {
	for _, k := range keys {
		_, cmd := a.Update(k)
		for _, m := range runCmd(cmd) {
			a.Update(m)
		}
	}
}

func char(r rune) tea.KeyPressMsg { return tea.KeyPressMsg{Code: r, Text: string(r)} }

// runCmd runs a command and the batches it makes, returning their messages
// but ticks (which would wait).
func runCmd(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	done := make(chan tea.Msg, 1)
	go func() { done <- cmd() }()
	select {
	case msg := <-done:
		if b, ok := msg.(tea.BatchMsg); ok {
			var out []tea.Msg
			for _, c := range b {
				out = append(out, runCmd(c)...)
			}
			return out
		}
		return []tea.Msg{msg}
	case <-time.After(50 * time.Millisecond):
		return nil
	}
}

// enter on an outbox message shows its delivery, the last error whole (a
// mail server's answer can span lines and outgrow its column).
func TestOutboxShowsADeliveryWhole(t *testing.T) {
	env := demoEnv(t)
	due := storetest.Must(env.Svc.DueMail(env.Ctx, 10))
	answer := "421-4.7.0 Try again later, closing connection.\n421 4.7.0 For more information, go to https://support.example.com/mail/answer/7606 and read the part about rate limits"
	if err := env.Svc.RecordDeliveries(env.Ctx, []core.Delivery{{ID: due[0].ID, Outcome: core.Retry, Detail: answer, Next: env.Clock.Now().Add(time.Minute)}}); err != nil {
		t.Fatal(err)
	}
	a := adminConsole(t, env)
	a.SetSize(80, 24)
	a.Preload(env.Ctx)
	a.Update(tea.KeyPressMsg{Code: '4', Text: "4"})
	for _, m := range runCmd(a.top().Init()) {
		a.Update(m)
	}
	ms := a.top().(*mailScreen)
	ms.outbox.Choose(fmt.Sprint(due[0].ID))
	_, cmd := a.Update(tea.KeyPressMsg{Code: tea.KeyEnter})
	for _, m := range runCmd(cmd) {
		a.Update(m)
	}
	screen := ansi.Strip(a.render())
	words := strings.Join(strings.Fields(screen), " ")
	if _, ok := a.top().(*textViewer); !ok || !strings.Contains(words, "read the part about rate limits") || !strings.Contains(screen, "next try") {
		t.Fatalf("top %T:\n%s", a.top(), screen)
	}
	for _, line := range strings.Split(screen, "\n") {
		if ansi.StringWidth(line) > 80 {
			t.Fatalf("a line wider than the terminal: %q", line)
		}
	}
}

// The audit log starts over when an admin switches between their
// organization's log and every organization's; an answer to m that no
// longer follows what is loaded is dropped.
func TestAuditScopeAndLateAnswers(t *testing.T) {
	env, org, v := auditOf(t, 700)
	answer := func(before uint64) auditMsg {
		q := v.query(before)
		return auditMsg{q, storetest.Must(env.Svc.Audit(env.Ctx, env.Admin, q)), nil}
	}
	v.Update(answer(0))
	m := answer(v.events[len(v.events)-1].ID)
	v.Update(m)
	v.Update(m) // m pressed twice: the second answer repeats the first
	if all := storetest.Must(env.Svc.Audit(env.Ctx, env.Admin, core.AuditQuery{OrgID: org.ID, Limit: 10000})); len(v.events) != len(all) {
		t.Fatalf("%d events after m twice, of %d", len(v.events), len(all))
	}
	seen := map[uint64]bool{}
	for _, e := range v.events {
		if seen[e.ID] {
			t.Fatalf("event %d twice", e.ID)
		}
		seen[e.ID] = true
	}
	v.Update(tea.KeyPressMsg{Code: 'A', Text: "A"})
	if len(v.events) != 0 || v.more {
		t.Fatalf("after A: %d events of the other log kept, more %v", len(v.events), v.more)
	}
}

// A section left for another comes back as it was: its selection, the
// screen opened in it, a form's input (which quitting still warns about).
func TestSectionsComeBackAsLeft(t *testing.T) {
	_, a := preloaded(t, 100, 30)
	press := func(keys ...tea.KeyPressMsg) { pressKeys(a, keys...) }
	down := tea.KeyPressMsg{Code: tea.KeyDown}
	press(down, down)
	want, _ := a.top().(*projects).selected()
	press(char('5'), char('1'))
	p, ok := a.top().(*projects)
	if !ok {
		t.Fatalf("back in Projects: %T", a.top())
	}
	if got, _ := p.selected(); got.Project.ID != want.Project.ID {
		t.Fatalf("selected %q after leaving and coming back, want %q", got.Project.Name, want.Project.Name)
	}
	press(char('2'), tea.KeyPressMsg{Code: tea.KeyEnter}, char('z'), char('o'), char('e'), tea.KeyPressMsg{Code: tea.KeyEscape}, char('1'))
	if !a.dirty() {
		t.Fatal("input typed in Invite, then left, is not counted as unsaved")
	}
	press(char('2'))
	if f, ok := a.top().(*invite); !ok || !f.Dirty() {
		t.Fatalf("Invite came back as %T without its input", a.top())
	}
	// Its own key starts a section afresh, asking first while input would be lost.
	press(tea.KeyPressMsg{Code: tea.KeyEscape}, char('1'), char('1'))
	if !strings.Contains(a.status.Text(), "unsaved input. Start Projects afresh anyway?") {
		t.Fatalf("status %q", a.status.Text())
	}
	press(char('n'))
	if got, _ := a.top().(*projects).selected(); got.Project.ID != want.Project.ID {
		t.Fatal("n started the section afresh")
	}
	press(char('1'), char('y'))
	if got, _ := a.top().(*projects).selected(); got.Project.ID == want.Project.ID {
		t.Fatal("the section's own key kept the selection")
	}
}

// While the terminal is too small to show the console, keys change nothing
// (only ctrl+c quits), and the note says what a question is.
func TestKeysWaitForATerminalLargeEnough(t *testing.T) {
	_, a := preloaded(t, 100, 30)
	a.Update(tea.KeyPressMsg{Code: tea.KeyDown})
	want, _ := a.top().(*projects).selected()
	a.Update(tea.WindowSizeMsg{Width: 40, Height: 10})
	for _, k := range []tea.KeyPressMsg{{Code: tea.KeyDown}, {Code: '3', Text: "3"}, {Code: tea.KeyEnter}, {Code: 'q', Text: "q"}} {
		if _, cmd := a.Update(k); cmd != nil {
			if _, quit := cmd().(tea.QuitMsg); quit {
				t.Fatalf("%s quit", k)
			}
		}
	}
	a.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
	p, ok := a.top().(*projects)
	if got, _ := p.selected(); !ok || a.section != 0 || got.Project.ID != want.Project.ID {
		t.Fatalf("keys acted unseen: section %d, top %T", a.section, a.top())
	}
}

// The header says which of the organizations is being managed.
func TestHeaderCountsTheOrganization(t *testing.T) {
	env, a := preloaded(t, 100, 30)
	second := storetest.Must(env.Svc.CreateOrg(env.Ctx, env.Admin, core.NewOrg{Name: "Second Org", OwnerEmail: "boss@second.test"}))
	a.c.Orgs = storetest.Must(env.Svc.Orgs(env.Ctx, env.Admin))
	a.Update(switchOrgMsg(second))
	if out := ansi.Strip(a.render()); !strings.Contains(out, "Second Org  (2 of 2 · o switches)") {
		t.Fatalf("header:\n%s", out[:200])
	}
}
