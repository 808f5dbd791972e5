package tui

import (
	"context"
	"latchkey/tui/components/status"
	"slices"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"

	"latchkey/core"
)

// screen is one page of the console. Screens render strings; the root
// composes them into the view.
type screen interface {
	Init() tea.Cmd
	Update(tea.Msg) (screen, tea.Cmd)
	View() string
	Title() string
	ShortHelp() []key.Binding
	FullHelp() [][]key.Binding
	// Capturing: keys go to the screen (typing), not to the root's shortcuts.
	Capturing() bool
	// Dirty: the screen holds input that quitting would lose.
	Dirty() bool
}

// section is one of the console's sections, reached with tab or its number.
type section struct {
	name string
	open func(*Common) screen
}

// The sections; an App opens its own copy (tests replace a section's screen).
var sections = []section{
	{"Projects", func(c *Common) screen { return newProjects(c) }},
	{"Invite", func(c *Common) screen { return newInviteSection(c) }},
	{"Requests", func(c *Common) screen { return newRequests(c) }},
	{"Mail", func(c *Common) screen { return newMailScreen(c) }},
	{"Audit", func(c *Common) screen { return newAudit(c) }},
	{"Settings", func(c *Common) screen { return newSettings(c) }},
}

// App is the console's root model.
type App struct {
	c        *Common
	sections []section
	keys     globalKeys
	help     help.Model
	spinner  spinner.Model
	section  int
	stack    []screen
	status   status.Model
	// noticeExpiry clears Deps.Notice when its lifetime ends (Init starts it).
	noticeExpiry tea.Cmd
	inflight     int                 // work shown as running (longer than showBusyAfter)
	busy         string              // what the running work is doing
	running      map[uint64]string   // work shown as running, by id
	finished     map[uint64]struct{} // work that finished before it was shown
	discard      func() tea.Cmd      // asking whether to discard input for this (quitting, starting a section afresh)
	onlyY        bool                // and only y says yes (closing a form: enter, out of habit, keeps the input)
	ready        bool                // organizations loaded
	events       <-chan core.Change
	unsub        func()
	pending      bool // a refresh is scheduled
	// frame is the last rendered screen, "" once a message may have changed
	// it: bubbletea asks for a view after every message, and most of the
	// terminal's own reports change nothing.
	frame string
	// preloaded: Preload ran, and initial is what is left of its work.
	preloaded bool
	initial   tea.Cmd
	// loadNow: screens opened now fetch their data in this goroutine.
	loadNow bool
	// kept are the sections left for another, as they were (their screens,
	// selections and input), in the same organization.
	kept map[int][]screen
	// laid is the body size the screens were last laid out for.
	laid tea.WindowSizeMsg
}

// New builds the console for deps.Actor.
func New(deps Deps) *App {
	ctx := deps.Context
	if ctx == nil {
		ctx = context.Background()
	}
	c := &Common{Deps: deps, Ctx: ctx, Width: 100, Height: 30, IsDark: true}
	c.Styles = newStyles(true)
	a := &App{c: c, sections: slices.Clone(sections), keys: newGlobalKeys(), help: help.New(),
		running: map[uint64]string{}, finished: map[uint64]struct{}{}}
	a.noticeExpiry = a.status.Set(status.Msg{Kind: status.KindInfo, Text: deps.Notice})
	a.SetSize(c.Width, c.Height) // as a WindowSizeMsg of the default size would
	a.spinner = spinner.New(spinner.WithSpinner(spinner.Dot))
	a.events, a.unsub = deps.Service.Events().Subscribe()
	return a
}

// Close ends the console's subscription to changes and cancels the work
// its screens still have in flight.
func (a *App) Close() { a.unsub() }

// Messages of the root.
type (
	orgsMsg struct {
		orgs []core.Org
		err  error
	}
	changeMsg core.Change
	busyMsg   struct {
		id    uint64
		label string
	}
	finishedMsg struct {
		id    uint64
		inner tea.Msg
	}
	switchOrgMsg core.Org
)

func (a *App) listen() tea.Cmd {
	ch := a.events
	return func() tea.Msg {
		c, ok := <-ch
		if !ok {
			return nil
		}
		return changeMsg(c)
	}
}

func (a *App) loadOrgs() tea.Cmd {
	ctx, svc, actor := a.c.Ctx, a.c.Service, a.c.Actor
	return work("Loading", func() tea.Msg {
		orgs, err := svc.Orgs(ctx, actor)
		return orgsMsg{orgs, err}
	})
}

// Init asks for the background colour, loads the organizations (unless
// Preload did) and starts listening for changes.
func (a *App) Init() tea.Cmd {
	load := a.loadOrgs()
	if a.preloaded {
		load = a.initial
	}
	return tea.Batch(tea.RequestBackgroundColor, load, a.listen(), a.noticeExpiry)
}

// Preload loads the organizations and the first screen's data before the
// program starts, so that its first frame is the finished screen rather
// than a series of loading frames, each of which a terminal (and an SSH
// connection) would have to be sent.
func (a *App) Preload(ctx context.Context) {
	orgs, err := a.c.Service.Orgs(ctx, a.c.Actor)
	a.loadNow = true
	a.initial = a.orgsLoaded(orgsMsg{orgs, err})
	a.loadNow, a.preloaded = false, true
}

// fetcher is a screen whose Init does nothing but load its data: fetch is
// that load, run in the caller's goroutine, returning the message Init's
// command would have.
type fetcher interface {
	fetch() tea.Msg
}

// SetSize gives the console its terminal's size before the program starts
// (Preload then lays the first screen out for it); the program's own size
// reports keep it up to date afterwards.
func (a *App) SetSize(width, height int) {
	if width > 0 && height > 0 {
		a.c.Width, a.c.Height = width, height
	}
}

func (a *App) top() screen {
	if len(a.stack) == 0 {
		return nil
	}
	return a.stack[len(a.stack)-1]
}

// inform shows text in the status line until its lifetime ends (the
// command returned ends it).
func (a *App) inform(text string) tea.Cmd {
	return a.status.Set(status.Msg{Kind: status.KindInfo, Text: text})
}

// fail shows what failed, until another message replaces it.
func (a *App) fail(text string) { a.status.Set(status.Msg{Kind: status.KindError, Text: text}) }

// ask shows a question that waits for its answer.
func (a *App) ask(text string) { a.status.Set(status.Msg{Kind: status.KindQuestion, Text: text}) }

// inspectMsg runs a function on the model inside its own update loop, where
// reading it is safe: tests send it to see the screen as it is now, which
// the renderer's output, drawing only what changed, does not show whole.
type inspectMsg func(*App)

// Update handles the root's messages and passes the rest to the screen on top.
func (a *App) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if f, ok := msg.(inspectMsg); ok {
		f(a)
		return a, nil
	}
	if a.changesNothing(msg) {
		return a, nil
	}
	a.frame = ""
	m, cmd := a.update(msg)
	// A status message that wraps onto more rows, or fewer, and the full
	// help shown or hidden, change the body's size: its screens lay out anew.
	if a.ready && a.bodySize() != a.laid && !a.tooSmall() {
		cmd = tea.Batch(cmd, a.resizeBody())
	}
	return m, cmd
}

// bgQuery is Init's request for the background colour, which bubbletea
// passes on to Update after sending the query to the terminal.
var bgQuery = tea.RequestBackgroundColor()

// changesNothing: messages that leave every part of the console as it was.
func (a *App) changesNothing(msg tea.Msg) bool {
	if msg == bgQuery { // never panics: the query's type is comparable
		return true
	}
	switch msg := msg.(type) {
	case tea.ColorProfileMsg, tea.EnvMsg:
		return true // the renderer applies the profile; the console reads no environment
	case tea.WindowSizeMsg:
		return msg.Width == a.c.Width && msg.Height == a.c.Height
	case tea.BackgroundColorMsg:
		return msg.IsDark() == a.c.IsDark
	case spinner.TickMsg:
		return a.inflight == 0
	}
	return false
}

func (a *App) update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if cmd, ours := a.status.Update(msg); ours { // a screen's status.Info, Error, or an expiry
		return a, cmd
	}
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		a.SetSize(msg.Width, msg.Height)
		return a, a.resizeBody()
	case tea.BackgroundColorMsg:
		a.c.IsDark = msg.IsDark()
		a.c.Styles = newStyles(a.c.IsDark)
		a.help.Styles = help.DefaultStyles(a.c.IsDark)
		return a, a.sendTop(restyleMsg{})
	case spinner.TickMsg: // while work runs (idle, changesNothing stops the spinner)
		var cmd tea.Cmd
		a.spinner, cmd = a.spinner.Update(msg)
		return a, cmd
	case busyMsg:
		if _, done := a.finished[msg.id]; done {
			delete(a.finished, msg.id)
			return a, nil
		}
		a.running[msg.id] = msg.label
		a.inflight++
		a.busy = msg.label
		if a.inflight == 1 {
			return a, a.spinner.Tick
		}
		return a, nil
	case finishedMsg:
		if _, shown := a.running[msg.id]; shown {
			delete(a.running, msg.id)
			a.inflight = max(a.inflight-1, 0)
		} else {
			a.finished[msg.id] = struct{}{} // its busy tick, still to come, is stale
		}
		if msg.inner == nil {
			return a, nil
		}
		return a.Update(msg.inner)
	case orgsMsg:
		return a, a.orgsLoaded(msg)
	case orgCreatedMsg:
		a.ready, a.stack, a.kept = false, nil, nil
		return a, tea.Batch(a.inform("Created "+msg.name+"."), a.loadOrgs())
	case switchOrgMsg:
		return a, a.unlessDirty("Switch to "+msg.Name, func() tea.Cmd {
			a.c.Org, a.kept = core.Org(msg), nil
			return tea.Batch(a.inform("Managing "+a.c.Org.Name+"."), a.pop(len(a.stack)), a.open(0))
		})
	case changeMsg:
		cmds := []tea.Cmd{a.listen()}
		if !a.pending && (msg.OrgID == 0 || msg.OrgID == a.c.Org.ID) {
			a.pending = true
			cmds = append(cmds, tea.Tick(150*time.Millisecond, func(time.Time) tea.Msg { return refreshTick{} }))
		}
		return a, tea.Batch(cmds...)
	case refreshTick:
		a.pending = false
		return a, a.sendTop(refreshMsg{})
	case errMsg:
		a.fail(core.Describe(msg.err))
		return a, a.sendTop(failedNotice{msg.err})
	case doneMsg:
		return a, a.done(msg)
	case closeMsg:
		closeIt := func() tea.Cmd { return a.done(doneMsg{close: true, status: msg.status}) }
		if s := a.top(); s == nil || !s.Dirty() {
			return a, closeIt()
		}
		a.discard, a.onlyY = closeIt, true
		a.ask("You have unsaved input here. Discard it? (y discards; any other key keeps it)")
		return a, nil
	case tea.KeyPressMsg:
		return a, a.key(msg)
	}
	return a, a.sendTop(msg)
}

type (
	refreshTick struct{}
	restyleMsg  struct{}
)

func (a *App) orgsLoaded(msg orgsMsg) tea.Cmd {
	if msg.err != nil {
		a.fail(core.Describe(msg.err))
		return nil
	}
	a.c.Orgs = msg.orgs
	if len(msg.orgs) == 0 {
		if core.InstanceActionsOf(a.c.Actor).CreateOrg.OK() {
			a.ready = true
			a.stack = []screen{newCreateOrg(a.c)}
			return a.push(nil, a.stack[0])
		}
		a.fail("You are not an owner or manager of any organization.")
		return nil
	}
	found := false
	for _, o := range msg.orgs {
		if o.ID == a.c.Org.ID {
			a.c.Org, found = o, true
		}
	}
	if !found {
		a.c.Org = msg.orgs[0]
	}
	if a.ready {
		return nil
	}
	a.ready = true
	return a.open(0)
}

func (a *App) done(msg doneMsg) tea.Cmd {
	var cmds []tea.Cmd
	switch {
	case msg.err != nil:
		a.fail(core.Describe(msg.err))
		if !msg.close && !msg.back && msg.push == nil {
			cmds = append(cmds, a.sendTop(failedNotice{msg.err}))
		}
	case msg.status != "":
		cmds = append(cmds, a.inform(msg.status))
	}
	if msg.clipboard != "" {
		cmds = append(cmds, tea.SetClipboard(msg.clipboard))
	}
	switch {
	case msg.close:
		cmds = append(cmds, a.pop(1))
	case msg.back:
		cmds = append(cmds, a.popDialogs())
	}
	if msg.push != nil {
		cmds = append(cmds, a.push(a.top(), msg.push))
	} else if msg.reload && !msg.close && !msg.back {
		cmds = append(cmds, a.sendTop(refreshMsg{}))
	}
	if msg.err == nil && msg.push == nil {
		cmds = append(cmds, a.sendTop(doneNotice{selectKey: msg.selectKey}))
	}
	return tea.Batch(cmds...)
}

// doneNotice tells the screen on top that an operation it started finished,
// and which of its rows that operation made, if any.
type doneNotice struct{ selectKey string }

// failedNotice tells the screen on top that an operation failed (the status
// line says so too), so that a dialog can show why next to its field.
type failedNotice struct{ err error }

// unlessDirty runs then, or first asks whether to do what (then) when
// some screen holds input it would lose.
func (a *App) unlessDirty(what string, then func() tea.Cmd) tea.Cmd {
	if !a.dirty() {
		return then()
	}
	a.discard, a.onlyY = then, false
	a.ask("You have unsaved input. " + what + " anyway? (y/n)")
	return nil
}

// tooSmall: the terminal shows only a note that it is too small.
func (a *App) tooSmall() bool { return a.c.Width < 60 || a.c.Height < 16 }
