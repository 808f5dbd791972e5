package tui

import (
	"context"
	"fmt"
	"maps"
	"runtime/debug"
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
	cancel   context.CancelFunc // ends c.Ctx
	c        *Common
	sections []section
	keys     globalKeys
	help     help.Model
	spinner  spinner.Model
	section  int
	stack    []screen
	status   string
	isErr    bool
	inflight int                 // work shown as running (longer than showBusyAfter)
	busy     string              // what the running work is doing
	running  map[uint64]string   // work shown as running, by id
	finished map[uint64]struct{} // work that finished before it was shown
	discard  func() tea.Cmd      // asking whether to discard input for this (quitting, starting a section afresh)
	onlyY    bool                // and only y says yes (closing a form: enter, out of habit, keeps the input)
	ready    bool                // organizations loaded
	events   <-chan core.Change
	unsub    func()
	pending  bool // a refresh is scheduled
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
	parent := deps.Ctx
	if parent == nil {
		parent = context.Background()
	}
	var cancel context.CancelFunc
	deps.Ctx, cancel = context.WithCancel(parent)
	c := &Common{Deps: deps, Width: 100, Height: 30, IsDark: true}
	c.Styles = newStyles(true)
	a := &App{c: c, sections: slices.Clone(sections), keys: newGlobalKeys(), help: help.New(), status: deps.Notice,
		running: map[uint64]string{}, finished: map[uint64]struct{}{}}
	a.SetSize(c.Width, c.Height) // as a WindowSizeMsg of the default size would
	a.spinner = spinner.New(spinner.WithSpinner(spinner.Dot))
	a.events, a.unsub = deps.Service.Events().Subscribe()
	a.cancel = cancel
	return a
}

// Close ends the console's subscription to changes and cancels the work
// its screens still have in flight.
func (a *App) Close() {
	a.unsub()
	a.cancel()
}

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
	svc, actor := a.c.Service, a.c.Actor
	return work("Loading", func() tea.Msg {
		orgs, err := svc.Orgs(a.c.Ctx, actor)
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
	return tea.Batch(tea.RequestBackgroundColor, load, a.listen())
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

func (a *App) bodySize() tea.WindowSizeMsg {
	return tea.WindowSizeMsg{Width: max(a.c.Width-2, 20), Height: max(a.c.Height-a.chrome(), minBody)}
}

// open starts section i afresh.
func (a *App) open(i int) tea.Cmd {
	a.section = i
	s := a.sections[i].open(a.c)
	a.stack = []screen{s}
	return a.push(nil, s)
}

// switchTo opens section i for the person who asked for it: the status line
// spoke of the section left, so it is cleared. A section left earlier comes
// back as it was, its data loaded again; the current section's own key
// starts it afresh.
func (a *App) switchTo(i int) tea.Cmd {
	a.status, a.isErr = "", false
	if i == a.section {
		return a.unlessDirty("Start "+a.sections[i].name+" afresh", func() tea.Cmd { return a.open(i) })
	}
	if a.kept == nil {
		a.kept = map[int][]screen{}
	}
	a.kept[a.section] = a.stack
	if st := a.kept[i]; len(st) > 0 {
		delete(a.kept, i)
		a.section, a.stack = i, st
		return tea.Batch(a.resizeBody(), a.sendTop(refreshMsg{}))
	}
	return a.open(i)
}

// push sizes and initializes a screen (already on the stack when prev is nil).
func (a *App) push(prev screen, s screen) tea.Cmd {
	if prev != nil {
		a.stack = append(a.stack, s)
	}
	s, c1 := a.safeUpdate(s, a.bodySize())
	a.stack[len(a.stack)-1] = s
	if f, ok := s.(fetcher); ok && a.loadNow {
		msg := recovered("Loading", f.fetch) // as work runs its function
		if e, failed := msg.(errMsg); failed {
			a.status, a.isErr = core.Describe(e.err), true
			return c1
		}
		s, c2 := a.safeUpdate(s, msg)
		a.stack[len(a.stack)-1] = s
		return tea.Batch(c1, c2)
	}
	return tea.Batch(c1, s.Init())
}

func (a *App) pop(n int) tea.Cmd {
	if n <= 0 {
		return nil
	}
	if n >= len(a.stack) {
		n = len(a.stack) - 1
	}
	a.stack = a.stack[:len(a.stack)-n]
	return a.sendTop(refreshMsg{})
}

func (a *App) sendTop(msg tea.Msg) tea.Cmd {
	s := a.top()
	if s == nil {
		return nil
	}
	s, cmd := a.safeUpdate(s, msg)
	a.stack[len(a.stack)-1] = s
	return cmd
}

// safeUpdate keeps a panicking screen from taking the console down.
func (a *App) safeUpdate(s screen, msg tea.Msg) (out screen, cmd tea.Cmd) {
	defer func() {
		if p := recover(); p != nil {
			a.c.Service.Logger().Error("console screen panicked", "screen", s.Title(), "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			a.status, a.isErr = fmt.Sprintf("Internal error in %s (%v); the screen was reset.", s.Title(), p), true
			a.loadNow = false // the fresh screen loads in a command: a fetch that panics again must not recurse
			out, cmd = a.sections[a.section].open(a.c), nil
			a.stack = []screen{out}
			cmd = a.push(nil, out)
		}
	}()
	return s.Update(msg)
}

func (a *App) dirty() bool {
	for _, st := range append([][]screen{a.stack}, slices.Collect(maps.Values(a.kept))...) {
		for _, s := range st {
			if s.Dirty() {
				return true
			}
		}
	}
	return false
}

// Update handles the root's messages and passes the rest to the screen on top.
func (a *App) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
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
		a.status, a.isErr = "Created "+msg.name+".", false
		return a, a.loadOrgs()
	case switchOrgMsg:
		return a, a.unlessDirty("Switch to "+msg.Name, func() tea.Cmd {
			a.c.Org, a.kept = core.Org(msg), nil
			a.status, a.isErr = "Managing "+a.c.Org.Name+".", false
			return tea.Batch(a.pop(len(a.stack)), a.open(0))
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
	case statusMsg:
		a.status, a.isErr = msg.text, msg.err
		return a, nil
	case errMsg:
		a.status, a.isErr = core.Describe(msg.err), true
		return a, a.sendTop(failedNotice{msg.err})
	case doneMsg:
		return a, a.done(msg)
	case closeMsg:
		closeIt := func() tea.Cmd { return a.done(doneMsg{pop: 1, status: msg.status}) }
		if s := a.top(); s == nil || !s.Dirty() {
			return a, closeIt()
		}
		a.discard, a.onlyY = closeIt, true
		a.status, a.isErr = "You have unsaved input here. Discard it? (y discards; any other key keeps it)", true
		return a, nil
	case tea.KeyPressMsg:
		return a, a.key(msg)
	}
	return a, a.sendTop(msg)
}
