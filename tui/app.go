package tui

import (
	"context"
	"fmt"
	"latchkey/tui/components/status"
	"maps"
	"runtime/debug"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

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

// Close ends the console's subscription to changes.
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

// showBusyAfter: work that takes longer shows the spinner; quicker work
// never does, which spares the frames (and the flicker) for it.
const showBusyAfter = 150 * time.Millisecond

var workIDs atomic.Uint64

// work runs fn in a command; if it runs long, the status line shows label
// with a spinner meanwhile. A panic in fn becomes an error in the status line.
func work(label string, fn func() tea.Msg) tea.Cmd {
	id := workIDs.Add(1)
	return tea.Batch(
		tea.Tick(showBusyAfter, func(time.Time) tea.Msg { return busyMsg{id, label} }),
		func() tea.Msg { return finishedMsg{id, recovered(label, fn)} })
}

// recovered runs fn; a panic in it becomes an error for the status line.
func recovered(label string, fn func() tea.Msg) (msg tea.Msg) {
	defer func() {
		if p := recover(); p != nil {
			msg = errMsg{fmt.Errorf("internal error while %s: %v", strings.ToLower(label), p)}
		}
	}()
	return fn()
}

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

// chrome is how many lines the header, tabs, crumb, status and help take.
func (a *App) chrome() int {
	return 3 + len(a.statusLines()) + a.helpHeight() // header, tabs, crumb; status; help
}

// helpHeight is how many lines the help takes: the bar's one, or all of ?.
func (a *App) helpHeight() int {
	if !a.help.ShowAll {
		return 1
	}
	return lipgloss.Height(a.helpView())
}

// minBody is the fewest lines the screen's body keeps for itself.
const minBody = 3

// statusLines is the status line's text wrapped to the terminal's width,
// at word boundaries: a long message takes the rows it needs, which the
// body gives up, rather than being cut. While work runs, its spinner shows
// in the first of those rows.
func (a *App) statusLines() []string {
	width := a.c.Width - 2
	lines := wrapWords(a.status.Text(), width)
	// What the help and the body need comes first; a message longer than
	// the rest (not one the console writes) ends with "…".
	if room := max(a.c.Height-3-a.helpHeight()-minBody, 1); len(lines) > room {
		lines = lines[:room]
		lines[room-1] = fit(lines[room-1]+" …", width)
	}
	st := a.c.Styles
	for i, l := range lines {
		if a.status.IsError() {
			lines[i] = st.Bad.Render(l)
		}
	}
	if a.inflight > 0 {
		lines[0] = a.spinner.View() + " " + a.busy + "…"
		for i := 1; i < len(lines); i++ {
			lines[i] = ""
		}
	}
	return lines
}

// wrapWords breaks text into lines of at most width cells at its spaces;
// only a word longer than a line is broken. It is one empty line for "".
func wrapWords(text string, width int) []string {
	var lines []string
	for _, para := range strings.Split(text, "\n") {
		line := ""
		for _, w := range strings.Fields(para) {
			for ansi.StringWidth(w) > width { // an address or a URL longer than the line
				if line != "" {
					lines, line = append(lines, line), ""
				}
				lines, w = append(lines, ansi.Truncate(w, width, "")), ansi.TruncateLeft(w, width, "")
			}
			switch {
			case line == "":
				line = w
			case ansi.StringWidth(line)+1+ansi.StringWidth(w) <= width:
				line += " " + w
			default:
				lines, line = append(lines, line), w
			}
		}
		lines = append(lines, line)
	}
	return lines
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
	a.status.Clear()
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
			a.fail(core.Describe(e.err))
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

// popDialogs closes the dialogs on top of the stack (menus, prompts,
// confirmations), however many an operation went through, back to the
// screen they were opened from; never the section's first screen.
func (a *App) popDialogs() tea.Cmd {
	n := 0
	for n < len(a.stack)-1 && isDialog(a.stack[len(a.stack)-1-n]) {
		n++
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
			a.fail(fmt.Sprintf("Internal error in %s (%v); the screen was reset.", s.Title(), p))
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

// inform shows text in the status line until its lifetime ends (the
// command returned ends it).
func (a *App) inform(text string) tea.Cmd {
	return a.status.Set(status.Msg{Kind: status.KindInfo, Text: text})
}

// fail shows what failed, until another message replaces it.
func (a *App) fail(text string) { a.status.Set(status.Msg{Kind: status.KindError, Text: text}) }

// ask shows a question that waits for its answer.
func (a *App) ask(text string) { a.status.Set(status.Msg{Kind: status.KindQuestion, Text: text}) }

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

func (a *App) key(k tea.KeyPressMsg) tea.Cmd {
	if then := a.discard; then != nil {
		onlyY := a.onlyY
		a.discard, a.onlyY = nil, false
		a.status.Clear()
		if s := k.String(); s == "y" || s == "Y" || (s == "enter" && !onlyY) {
			return then()
		}
		return nil
	}
	if a.tooSmall() && k.String() != "ctrl+c" {
		return nil // nothing that a key would change can be seen
	}
	s := a.top()
	capturing := s != nil && s.Capturing()
	switch {
	case k.String() == "ctrl+c" || (!capturing && key.Matches(k, a.keys.Quit)):
		return a.unlessDirty("Quit", func() tea.Cmd { return tea.Quit })
	case s == nil:
		return nil
	case capturing, claims(s, k):
		return a.sendTop(k)
	case key.Matches(k, a.keys.Help):
		a.help.ShowAll = !a.help.ShowAll
		return a.resizeBody()
	case key.Matches(k, a.keys.NextTab) && a.ready && len(a.c.Orgs) > 0:
		return a.switchTo((a.section + 1) % len(a.sections))
	case key.Matches(k, a.keys.PrevTab) && a.ready && len(a.c.Orgs) > 0:
		return a.switchTo((a.section + len(a.sections) - 1) % len(a.sections))
	case key.Matches(k, a.keys.SwitchOrg) && len(a.c.Orgs) > 1:
		return a.push(s, newOrgPicker(a.c))
	case key.Matches(k, a.keys.Back) && len(a.stack) > 1 && !holdsEsc(s):
		return a.pop(1)
	}
	for i, b := range a.keys.Sections {
		if key.Matches(k, b) && a.ready && len(a.c.Orgs) > 0 {
			return a.switchTo(i)
		}
	}
	return a.sendTop(k)
}

func (a *App) resizeBody() tea.Cmd {
	body := a.bodySize()
	a.laid = body
	var cmds []tea.Cmd
	for i, s := range a.stack {
		var cmd tea.Cmd
		a.stack[i], cmd = a.safeUpdate(s, body)
		cmds = append(cmds, cmd)
	}
	return tea.Batch(cmds...)
}

// claims reports whether the screen uses the key itself just now, before
// the console's shortcuts, while it does not take every key (a form being
// edited, on a field that takes no text, keeps tab, arrows and esc).
func claims(s screen, k tea.KeyPressMsg) bool {
	c, ok := s.(interface{ claims(tea.KeyPressMsg) bool })
	return ok && c.claims(k)
}

// holdsEsc reports whether the screen uses esc itself just now (a list
// clearing its filter) rather than letting it close the screen.
func holdsEsc(s screen) bool {
	h, ok := s.(interface{ holdsEsc() bool })
	return ok && h.holdsEsc()
}

var (
	quitKey   = bind("ctrl+c", "ctrl+c", "quit")
	closeHelp = bind("?", "?", "close this help")
)

// shortHelp is the help bar: the screen's keys, the most important first,
// then the root's (which a screen that has the keyboard leaves to ctrl+c).
// Keys that do not fit the width are left to ? (the screen's last first),
// so the bar is never cut with "…".
func (a *App) shortHelp() []key.Binding {
	s := a.top()
	var own, root []key.Binding
	if s != nil {
		own = s.ShortHelp()
	}
	switch {
	case s != nil && s.Capturing():
		root = []key.Binding{quitKey}
	default:
		if len(a.stack) > 1 && !holdsEsc(s) {
			root = append(root, a.keys.Back)
		}
		root = append(root, a.keys.Help, a.keys.Quit)
	}
	for {
		keys := append(slices.Clip(own), root...)
		if len(keys) <= 1 || shortHelpWidth(keys) <= a.c.Width-2 {
			return keys
		}
		if len(own) > 1 {
			own = own[:len(own)-1]
		} else {
			root = root[:len(root)-1]
		}
	}
}

// shortHelpWidth is how wide help.ShortHelpView draws keys: "key desc"
// items joined by " • " (its styles add colour, no width).
func shortHelpWidth(keys []key.Binding) int {
	w, n := 0, 0
	for _, k := range keys {
		if k.Enabled() {
			w += ansi.StringWidth(k.Help().Key) + 1 + ansi.StringWidth(k.Help().Desc)
			n++
		}
	}
	return w + 3*max(n-1, 0)
}

// fullHelp is what ? shows: the screen's columns of keys, then the
// console's.
func (a *App) fullHelp() [][]key.Binding {
	s := a.top()
	if s != nil && s.Capturing() { // keys go to the screen: only its own, and ctrl+c
		return [][]key.Binding{a.shortHelp()}
	}
	var out [][]key.Binding
	if s != nil {
		out = append(out, s.FullHelp()...)
	}
	var nav []key.Binding // the console's keys, but those the screen uses itself now
	if !claims(s, tea.KeyPressMsg{Code: tea.KeyTab}) {
		nav = append(nav, a.keys.NextTab)
	}
	if !claims(s, tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift}) {
		nav = append(nav, a.keys.PrevTab)
	}
	nav = append(nav, bind("1", fmt.Sprintf("1-%d", len(a.sections)), "sections")) // one line for the digits the tabs show
	if len(a.stack) > 1 && !holdsEsc(s) {
		nav = append(nav, a.keys.Back)
	}
	if len(a.c.Orgs) > 1 {
		nav = append(nav, a.keys.SwitchOrg)
	}
	return append(out, append(nav, closeHelp, a.keys.Quit))
}

// helpView is the help bar, or with ? every key: its columns side by side
// as far as the width goes, the rest in rows below, none cut.
func (a *App) helpView() string {
	h := a.help
	h.SetWidth(0)
	if !a.help.ShowAll {
		return h.ShortHelpView(a.shortHelp())
	}
	const sep = "    "
	width := a.c.Width - 2
	var rows, row []string
	used := 0
	for _, g := range a.fullHelp() {
		col := h.FullHelpView([][]key.Binding{g})
		if col == "" {
			continue
		}
		w := lipgloss.Width(col)
		if len(row) > 0 && used+len(sep)+w > width {
			rows = append(rows, lipgloss.JoinHorizontal(lipgloss.Top, row...))
			row, used = nil, 0
		}
		if len(row) > 0 {
			row, used = append(row, sep), used+len(sep)
		}
		row, used = append(row, col), used+w
	}
	if len(row) > 0 {
		rows = append(rows, lipgloss.JoinHorizontal(lipgloss.Top, row...))
	}
	return strings.Join(rows, "\n\n")
}

// View composes the header, section tabs, the screen, status and help.
func (a *App) View() tea.View {
	if a.frame == "" {
		a.frame = a.render()
	}
	v := tea.NewView(a.frame)
	v.AltScreen = true
	v.WindowTitle = "latchkey"
	if a.c.Org.Name != "" {
		v.WindowTitle = "latchkey · " + a.c.Org.Name
	}
	return v
}

func (a *App) render() string {
	st := a.c.Styles
	w := a.c.Width
	if a.tooSmall() {
		msg := fmt.Sprintf("latchkey needs at least 60×16; this terminal is %d×%d.", w, a.c.Height)
		if t := a.status.Text(); t != "" {
			msg += "\n\n" + t
		}
		return center(st.Warn.Width(max(min(w-2, lipgloss.Width(msg)), 10)).Render(msg), w, a.c.Height)
	}
	who := a.c.Actor.Email
	if a.c.Actor.Admin {
		who = "admin"
	}
	left := st.Title.Render("latchkey")
	if a.c.Org.Name != "" {
		left += "  " + st.Crumb.Render(a.c.Org.Name)
		if len(a.c.Orgs) > 1 {
			at := slices.IndexFunc(a.c.Orgs, func(o core.Org) bool { return o.ID == a.c.Org.ID }) + 1
			left += st.Muted.Render(fmt.Sprintf("  (%d of %d · o switches)", at, len(a.c.Orgs)))
		}
	}
	right := st.Muted.Render(who + " · " + a.c.Where)
	gap := max(w-2-lipgloss.Width(left)-lipgloss.Width(right), 1)
	header := left + strings.Repeat(" ", gap) + right

	var tabs []string
	for i, s := range a.sections {
		label := fmt.Sprintf("%d %s", i+1, s.name)
		if i == a.section {
			tabs = append(tabs, st.TabActive.Render(label))
		} else {
			tabs = append(tabs, st.Tab.Render(label))
		}
	}
	tabLine := fit(strings.Join(tabs, ""), w-2)

	var crumbs []string
	for _, s := range a.stack {
		if t := s.Title(); t != "" {
			crumbs = append(crumbs, t)
		}
	}
	crumb := st.Crumb.Render(fit(strings.Join(crumbs, " › "), w-2))

	body := ""
	bs := a.bodySize()
	if s := a.top(); s != nil {
		body = s.View()
	} else if !a.ready {
		body = st.Muted.Render("Loading…")
	}

	// Compose by hand, line by line: the renderer takes lines of any width
	// up to the terminal's, and styling the whole screen again was the
	// largest cost of a frame.
	var b strings.Builder
	b.Grow((w + 16) * a.c.Height)
	line := func(s string) {
		b.WriteByte(' ')
		b.WriteString(ansi.Truncate(s, w-2, "…"))
		b.WriteByte('\n')
	}
	line(header)
	line(tabLine)
	line(crumb)
	lines := strings.Split(body, "\n")
	for i := 0; i < bs.Height; i++ {
		if i < len(lines) {
			line(lines[i])
		} else {
			b.WriteByte('\n')
		}
	}
	for _, l := range a.statusLines() {
		line(l)
	}
	helpLines := strings.Split(a.helpView(), "\n")
	for i, h := range helpLines {
		b.WriteByte(' ')
		b.WriteString(ansi.Truncate(h, w-2, "…"))
		if i < len(helpLines)-1 {
			b.WriteByte('\n')
		}
	}
	return b.String()
}
