package tui

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"latchkey/core"
	"latchkey/tui/components/form"
	"latchkey/tui/components/status"
)

// Settings › Webhooks: the addresses the organization's events are posted
// to as they happen. a adds one (its signing secret is shown once, in a
// dialog that copies it with OSC 52), x or d removes one after a
// confirmation, e turns a disabled one back on, enter opens its delivery
// log. Core decides who may handle them (the owner or an instance admin)
// and which addresses it accepts, and says why not; the console only shows
// its answer.

// webhooksScreen is the organization's webhooks, oldest first, with their
// state.
type webhooksScreen struct {
	base
	list   *listView
	hooks  []core.Webhook
	loaded bool
	failed string // why core did not list them
}

type webhooksMsg struct {
	org   uint64
	hooks []core.Webhook
	err   error
}

var (
	webhooksKey      = bind("w", "w", "webhooks")
	addWebhookKey    = bind("a", "a", "add webhook")
	removeWebhookKey = bind("x,d", "x/d", "remove")
	enableWebhookKey = bind("e", "e", "enable")
	deliveriesKey    = bind("enter", "enter", "deliveries")
)

func newWebhooksScreen(c *Common) *webhooksScreen {
	s := &webhooksScreen{base: base{c: c}}
	s.list = newListView(c, []column{
		{Title: "ID", Min: 4},
		{Title: "Address", Min: 24, Flex: 2},
		{Title: "Events", Min: 16},                       // "link.deactivated", "3 events"
		{Title: "State", Min: 14, Flex: 2},               // "disabled 2 Mar 2026: …", whole with enter
		{Title: "Last delivered", Min: 14, Drop: 1},      // "2 Mar 09:30"
		{Title: "Created", Min: 11, Drop: 2},             // the delivery log's head says it too
		{Title: "Created by", Min: 20, Flex: 1, Drop: 3}, // an owner's email, or admin
	}, "No webhooks yet.")
	return s
}

func (s *webhooksScreen) load() tea.Cmd {
	ctx, svc, a, org := s.c.Ctx, s.c.Service, s.c.Actor, s.c.Org.ID
	return work("Loading the webhooks", func() tea.Msg {
		list, err := svc.WebhookList(ctx, a, org)
		return webhooksMsg{org, list, err}
	})
}

func (s *webhooksScreen) Init() tea.Cmd   { return s.load() }
func (s *webhooksScreen) Title() string   { return "Webhooks" }
func (s *webhooksScreen) Capturing() bool { return s.list.Capturing() }
func (s *webhooksScreen) holdsEsc() bool  { return s.list.HoldsEsc() }

func (s *webhooksScreen) ShortHelp() []key.Binding {
	if h := s.list.TypingHelp(); h != nil {
		return h
	}
	return []key.Binding{addWebhookKey, deliveriesKey, removeWebhookKey, enableWebhookKey, filterKey}
}

func (s *webhooksScreen) FullHelp() [][]key.Binding {
	return [][]key.Binding{{upKey, downKey, pageKeys, endKeys, filterKey}, {addWebhookKey, deliveriesKey, removeWebhookKey, enableWebhookKey}}
}

func (s *webhooksScreen) Update(msg tea.Msg) (screen, tea.Cmd) {
	if s.size(msg) {
		s.list.Resize(s.w, s.h-len(s.head()))
		return s, nil
	}
	switch msg := msg.(type) {
	case restyleMsg:
		s.list.Restyle()
	case refreshMsg: // after a dialog closes, and when webhooks change elsewhere (core's change events)
		return s, s.load()
	case doneNotice:
		if msg.selectKey != "" {
			s.list.Choose(msg.selectKey)
		}
		return s, s.load()
	case webhooksMsg:
		if msg.org != s.c.Org.ID {
			break
		}
		if msg.err != nil {
			s.failed = core.Describe(msg.err)
			return s, func() tea.Msg { return errMsg{msg.err} }
		}
		s.hooks, s.loaded, s.failed = msg.hooks, true, ""
		rows, ids := make([][]string, len(msg.hooks)), make([]string, len(msg.hooks))
		for i, w := range msg.hooks {
			ids[i] = fmt.Sprint(w.ID)
			rows[i] = []string{fmt.Sprint(w.ID), hookAddress(w.URL), eventsCell(w.Events), w.State(),
				fmtTime(w.LastDeliveryAt), fmtDate(w.CreatedAt), w.CreatorTag}
		}
		s.list.SetRows(rows, ids)
	case tea.KeyPressMsg:
		if cmd, used := s.list.Update(msg); used {
			return s, cmd
		}
		if cmd, ok := s.webhookKey(msg); ok {
			return s, cmd
		}
	}
	return s, s.list.Navigate(msg)
}

// webhookKey handles the screen's own keys.
func (s *webhooksScreen) webhookKey(k tea.KeyPressMsg) (tea.Cmd, bool) {
	if key.Matches(k, addWebhookKey) {
		return push(newWebhookForm(s.c)), true
	}
	if !key.Matches(k, removeWebhookKey, enableWebhookKey, deliveriesKey) {
		return nil, false
	}
	i := s.list.Selected()
	if i < 0 || i >= len(s.hooks) {
		if s.failed != "" && !s.loaded {
			return status.Infof("%s.", strings.TrimSuffix(s.failed, ".")), true
		}
		return status.Infof("There is no webhook to act on; a adds one."), true
	}
	w := s.hooks[i]
	ctx, svc, a := s.c.Ctx, s.c.Service, s.c.Actor
	switch {
	case key.Matches(k, deliveriesKey):
		return push(newDeliveryLog(s.c, w)), true
	case key.Matches(k, enableWebhookKey):
		if w.Active() {
			return status.Infof("Webhook %d is on already; e turns a disabled one back on.", w.ID), true
		}
		return work("Enabling the webhook", func() tea.Msg {
			on, err := svc.EnableWebhook(ctx, a, w.ID)
			if err != nil {
				return doneMsg{err: err}
			}
			return doneMsg{status: fmt.Sprintf("Webhook %d is on again: events are posted to %s from now on, starting with a ping.", on.ID, on.Host()),
				reload: true, selectKey: fmt.Sprint(on.ID)}
		}), true
	}
	return push(newConfirm(s.c, fmt.Sprintf("Remove webhook %d, which posts to %s?", w.ID, w.Host()),
		w.URL+"\nNo event is posted to it from now on, not even those still waiting, and its delivery log is deleted. "+
			"A removed webhook does not come back: a adds a new one, with a new secret.",
		work("Removing the webhook", func() tea.Msg {
			gone, err := svc.RemoveWebhook(ctx, a, w.ID)
			if err != nil {
				return doneMsg{err: err}
			}
			return doneMsg{status: fmt.Sprintf("Removed webhook %d: nothing is posted to %s any more.", gone.ID, gone.Host()), reload: true}
		}))), true
}

// hookAddress is a webhook's address as a list shows it: https:// goes
// without saying.
func hookAddress(u string) string { return strings.TrimPrefix(u, "https://") }

// eventsCell is a webhook's events as a list shows them: "all" for every
// one, an event by its name, more by their number (the delivery log's
// head names them).
func eventsCell(evs []core.WebhookEvent) string {
	switch {
	case slices.Equal(evs, core.WebhookEvents):
		return "all"
	case len(evs) == 1:
		return string(evs[0])
	}
	return count(len(evs), "event", "events")
}

// eventsList is a webhook's events named: "all" for every one.
func eventsList(evs []core.WebhookEvent) string {
	if slices.Equal(evs, core.WebhookEvents) {
		return "all"
	}
	return joinEvents(evs)
}

func joinEvents(evs []core.WebhookEvent) string {
	names := make([]string, len(evs))
	for i, e := range evs {
		names[i] = string(e)
	}
	return strings.Join(names, ",")
}

// head says what webhooks are, wrapped to the width.
func (s *webhooksScreen) head() []string {
	return wrapWords("Webhooks post "+s.c.Org.Name+"'s events to your other systems as they happen, signed with a secret shown once. "+
		"a adds one, enter shows its deliveries, x removes one, e turns a disabled one back on.", max(s.w, 10))
}

func (s *webhooksScreen) View() string {
	st := s.c.Styles
	head := st.Muted.Render(strings.Join(s.head(), "\n")) + "\n"
	switch {
	case s.failed != "" && !s.loaded:
		return head + "\n" + st.Warn.Render(strings.Join(wrapWords("Not available. "+strings.TrimSuffix(s.failed, ".")+".", max(s.w, 10)), "\n"))
	case !s.loaded:
		return head + "\n" + st.Muted.Render("Loading…")
	case s.list.Len() == 0 && !s.list.Capturing() && !s.list.HoldsEsc():
		text := "No webhooks yet. A webhook posts to an address of yours (a CRM, a chat bot, your own app) each time a link is made or redeemed, " +
			"someone asks for access or is let in, invited or removed, or an email fails, in " + s.c.Org.Name +
			". Press a to add one; its signing secret is shown once."
		return head + "\n" + st.Muted.Render(strings.Join(wrapWords(text, max(s.w, 10)), "\n"))
	}
	return head + s.list.View()
}

// eventHints say when each event is posted.
var eventHints = map[core.WebhookEvent]string{
	core.EventLinkCreated:     "a magic link was generated, replaced, or made by an invitation",
	core.EventLinkRedeemed:    "a client opened a portal with their link",
	core.EventLinkDeactivated: "a link was turned off",
	core.EventAccessRequested: "someone asked for access to a closed portal",
	core.EventAccessGranted:   "someone was given access to a portal",
	core.EventAccessDismissed: "an access request was dismissed",
	core.EventMemberInvited:   "someone was invited",
	core.EventMemberRemoved:   "someone lost their access to a portal, or to the organization",
	core.EventMailFailed:      "an email could not be delivered",
}

// ---- a new webhook

// webhookForm adds a webhook: its address and the events it takes (check
// boxes, two to a row, every one ticked at first). It follows the
// console's form rules: esc first in the help (asking before it discards
// input), the field with the keyboard marked "›", ctrl+s from any field,
// errors under their fields.
type webhookForm struct {
	base
	url    textinput.Model
	events []bool // by core.WebhookEvents
	cursor int    // the event under the cursor
	focus  int
	errs   map[string]string
}

const (
	whURL = iota
	whEvents
	whAdd
	whFields
)

// webhookFields are core's names of the fields (ValidationError.Field).
var webhookFields = map[string]int{"url": whURL, "events": whEvents}

// eventColumns is how many check boxes a row of the events holds.
const eventColumns = 2

var (
	addWebhookFormKey  = bind("ctrl+s", "ctrl+s", "add")
	enterAddWebhookKey = bind("enter", "enter", "add")
	tickEventKey       = bind("space", "space", "tick event")
	allEventsKey       = bind("a", "a", "all or none")
)

func newWebhookForm(c *Common) *webhookForm {
	f := &webhookForm{base: base{c: c}, events: make([]bool, len(core.WebhookEvents)), errs: map[string]string{}}
	for i := range f.events {
		f.events[i] = true
	}
	f.url = textinput.New()
	f.url.Placeholder = "https://crm.example.com/hooks/latchkey"
	f.url.CharLimit = 2000
	f.restyle()
	return f
}

func (f *webhookForm) restyle() { f.url.SetStyles(textinput.DefaultStyles(f.c.IsDark)) }

func (f *webhookForm) Init() tea.Cmd   { return f.url.Focus() }
func (f *webhookForm) Title() string   { return "New webhook" }
func (f *webhookForm) Capturing() bool { return f.focus == whURL }
func (f *webhookForm) holdsEsc() bool  { return true }
func (f *webhookForm) Dirty() bool     { return f.url.Value() != "" || slices.Contains(f.events, false) }
func (f *webhookForm) claims(k tea.KeyPressMsg) bool {
	return claimsFormKey(k) || (f.focus == whEvents && key.Matches(k, tickEventKey, allEventsKey, moveScopeKey))
}

func (f *webhookForm) ShortHelp() []key.Binding {
	switch f.focus {
	case whEvents:
		return []key.Binding{cancelKey, tickEventKey, nextFieldKey, addWebhookFormKey, allEventsKey, moveScopeKey}
	case whAdd:
		return []key.Binding{cancelKey, enterAddWebhookKey, nextFieldKey}
	}
	return []key.Binding{cancelKey, nextFieldKey, addWebhookFormKey}
}

func (f *webhookForm) FullHelp() [][]key.Binding {
	return [][]key.Binding{{cancelKey, nextFieldKey, prevFieldKey, addWebhookFormKey}, {tickEventKey, allEventsKey, moveScopeKey}}
}

func (f *webhookForm) refocus() tea.Cmd {
	return form.FocusOn(f.focus, map[int]form.Focusable{whURL: &f.url})
}

func (f *webhookForm) next() tea.Cmd {
	f.focus = (f.focus + 1) % whFields
	return f.refocus()
}

func (f *webhookForm) prev() tea.Cmd {
	f.focus = (f.focus + whFields - 1) % whFields
	return f.refocus()
}

func (f *webhookForm) Update(msg tea.Msg) (screen, tea.Cmd) {
	if f.size(msg) {
		fitInputs(f.w, &f.url)
		return f, nil
	}
	switch msg := msg.(type) {
	case restyleMsg:
		f.restyle()
		return f, nil
	case failedNotice:
		if i, ok := failedField(msg.err, f.errs, webhookFields); ok {
			f.focus = i
			return f, f.refocus()
		}
		return f, nil
	case tea.PasteMsg:
		if f.focus != whURL {
			return f, status.Infof("Paste into the address: tab goes to it.")
		}
	case tea.KeyPressMsg:
		switch {
		case msg.String() == "esc":
			return f, closeForm("No webhook was added.")
		case key.Matches(msg, addWebhookFormKey), msg.String() == "enter" && f.focus == whAdd:
			return f, f.create()
		case f.focus == whEvents:
			if cmd, ok := f.eventKey(msg); ok {
				return f, cmd
			}
		case key.Matches(msg, nextFieldKey), msg.String() == "enter":
			return f, f.next()
		case key.Matches(msg, prevFieldKey):
			return f, f.prev()
		case f.focus == whAdd && msg.Text != "":
			return f, status.Infof("This is the button: enter adds the webhook; tab goes back to the fields.")
		}
	}
	var cmd tea.Cmd
	if f.focus == whURL {
		f.url, cmd = f.url.Update(msg)
		switch msg.(type) {
		case tea.KeyPressMsg, tea.PasteMsg:
			delete(f.errs, "url")
		}
	}
	return f, cmd
}

// eventKey handles a key on the events: the arrows move between the check
// boxes (up on the first row and down on the last leave them), space ticks
// the one under the cursor, a ticks all of them, or none when all are.
func (f *webhookForm) eventKey(k tea.KeyPressMsg) (tea.Cmd, bool) {
	n := len(f.events)
	switch k.String() {
	case "space":
		f.events[f.cursor] = !f.events[f.cursor]
		delete(f.errs, "events")
		return nil, true
	case "a":
		all := !slices.Contains(f.events, false)
		for i := range f.events {
			f.events[i] = !all
		}
		delete(f.errs, "events")
		return nil, true
	case "left":
		f.cursor = max(f.cursor-1, 0)
		return nil, true
	case "right":
		f.cursor = min(f.cursor+1, n-1)
		return nil, true
	case "up":
		if f.cursor >= eventColumns {
			f.cursor -= eventColumns
			return nil, true
		}
		return f.prev(), true
	case "down":
		if f.cursor+eventColumns < n {
			f.cursor += eventColumns
			return nil, true
		}
		return f.next(), true
	case "tab", "enter":
		return f.next(), true
	case "shift+tab":
		return f.prev(), true
	}
	if k.Text != "" {
		return status.Infof("Events are check boxes: space ticks the one marked, a ticks all (or none), tab goes to the next field."), true
	}
	return nil, false
}

// chosen are the events ticked, in core's order.
func (f *webhookForm) chosen() []core.WebhookEvent {
	var out []core.WebhookEvent
	for i, on := range f.events {
		if on {
			out = append(out, core.WebhookEvents[i])
		}
	}
	return out
}

// create asks core for the webhook; core checks the address (https, a
// public host) and the events (and who may), and a refusal is shown under
// its field.
func (f *webhookForm) create() tea.Cmd {
	n := core.NewWebhook{OrgID: f.c.Org.ID, URL: f.url.Value(), Events: f.chosen()}
	f.errs = map[string]string{}
	c, ctx, svc, a := f.c, f.c.Ctx, f.c.Service, f.c.Actor
	return work("Adding the webhook", func() tea.Msg {
		w, secret, err := svc.CreateWebhook(ctx, a, n)
		if err != nil {
			return doneMsg{err: err}
		}
		return doneMsg{status: fmt.Sprintf("Added webhook %d for %s: copy its secret now, it is not shown again.", w.ID, w.Host()),
			close: true, push: newWebhookSecret(c, w, secret)}
	})
}

func (f *webhookForm) eventsView() string {
	st := f.c.Styles
	width := 0
	for _, e := range core.WebhookEvents {
		width = max(width, len(e))
	}
	var rows []string
	for r := 0; r < len(core.WebhookEvents); r += eventColumns {
		var cells []string
		for i := r; i < min(r+eventColumns, len(core.WebhookEvents)); i++ {
			box := "[ ]"
			if f.events[i] {
				box = "[x]"
			}
			cell := box + " " + string(core.WebhookEvents[i]) + strings.Repeat(" ", width-len(core.WebhookEvents[i]))
			if f.focus == whEvents && i == f.cursor { // marked in any colour profile
				cells = append(cells, st.Selected.Render("›"+cell+" "))
			} else {
				cells = append(cells, " "+cell+" ")
			}
		}
		rows = append(rows, strings.Join(cells, "  "))
	}
	indent := strings.Repeat(" ", labelWidth)
	return form.Label(st, f.focus == whEvents, "Events") + strings.Join(rows, "\n"+indent)
}

func (f *webhookForm) hint() string {
	switch f.focus {
	case whURL:
		return "Where the events are posted, signed as Standard Webhooks says: an https address on the internet; latchkey checks its host when you add it."
	case whEvents:
		e := core.WebhookEvents[f.cursor]
		return string(e) + ": posted when " + eventHints[e] + ". A ping is posted once, when the webhook is added, whatever is ticked."
	}
	return "Its signing secret is shown once, after this: copy it then. A ping is posted to the address at once."
}

func (f *webhookForm) View() string {
	st := f.c.Styles
	under := func(name string) string { return form.ErrorUnder(st, f.errs[name], f.w) }
	out := strings.Join([]string{
		st.Muted.Render(fit("An address of yours that "+f.c.Org.Name+"'s events are posted to.", f.w)),
		"",
		form.Label(st, f.focus == whURL, "Address") + f.url.View() + under("url"),
		f.eventsView() + under("events"),
		"",
		button(st, f.focus == whAdd, "Add webhook"),
	}, "\n")
	// The hint goes when a refusal under a field leaves it no room: it is
	// never cut in the middle of a sentence.
	if hint := form.Indent(st.Muted.Render(f.hint()), 0, f.w); f.h == 0 || lipgloss.Height(out)+1+lipgloss.Height(hint) <= f.h {
		out += "\n\n" + hint
	}
	return out
}

// ---- the new webhook's secret, shown once

// webhookSecret shows a new webhook's signing secret, the only time it is
// shown; c copies it to the clipboard with OSC 52 (which reaches the
// terminal of the person at the keyboard, over SSH too).
type webhookSecret struct {
	base
	hook   core.Webhook
	secret string
	copied bool
}

func newWebhookSecret(c *Common, w core.Webhook, secret string) *webhookSecret {
	return &webhookSecret{base: base{c: c}, hook: w, secret: secret}
}

func (*webhookSecret) isDialog() {}

func (d *webhookSecret) Title() string            { return "New webhook" }
func (d *webhookSecret) ShortHelp() []key.Binding { return []key.Binding{copySecretKey, closeKey} }
func (d *webhookSecret) Capturing() bool          { return true }
func (d *webhookSecret) Update(msg tea.Msg) (screen, tea.Cmd) {
	d.size(msg)
	if k, ok := msg.(tea.KeyPressMsg); ok {
		switch k.String() {
		case "enter", "esc", "q":
			return d, func() tea.Msg {
				return doneMsg{close: true, status: fmt.Sprintf("The secret of webhook %d is not shown again; x on the list removes the webhook.", d.hook.ID),
					selectKey: fmt.Sprint(d.hook.ID)}
			}
		case "c":
			d.copied = true
			return d, func() tea.Msg {
				return doneMsg{status: "Copied the webhook's secret to your clipboard.", clipboard: d.secret}
			}
		}
	}
	return d, nil
}

func (d *webhookSecret) View() string {
	st := d.c.Styles
	width := min(max(d.w-dialogFrame, 20), 72)
	wrap := func(s string) string { return strings.Join(wrapWords(s, width), "\n") }
	copied := st.Muted.Render("c copies it to your clipboard (OSC 52).")
	if d.copied {
		copied = st.Good.Render("✓ copied to your clipboard") + st.Muted.Render(" (OSC 52; c copies again)")
	}
	body := strings.Join([]string{
		st.Label.Render(wrap(fmt.Sprintf("Signing secret of webhook %d for %s", d.hook.ID, d.c.Org.Name))),
		st.Muted.Render(wrap(d.hook.URL)),
		"",
		st.Accent.Render(d.secret),
		"",
		st.Warn.Render(wrap("Copy it now: it is not shown again. The receiver checks the webhook-signature of every delivery with it; " +
			"if it is lost, remove the webhook and add it again.")),
		st.Muted.Render(wrap("Events: " + eventsList(d.hook.Events) + ". A ping is on its way; enter on the list shows the deliveries.")),
		"",
		copied,
	}, "\n")
	return center(st.Dialog.Render(body), d.w, d.h)
}

// ---- a webhook's delivery log

// deliveryLog is a webhook's deliveries, newest first, a page at a time
// (m loads older ones); enter shows one whole, with its payload. It reads
// the webhook again with every page, so that its head says its state now.
type deliveryLog struct {
	base
	hook       core.Webhook
	list       *listView
	deliveries []core.WebhookDelivery
	more       bool // older deliveries may exist
	loaded     bool
	gone       bool   // the webhook was removed meanwhile
	failed     string // why core did not list them
}

type deliveryLogMsg struct {
	hook       core.Webhook
	deliveries []core.WebhookDelivery
	before     uint64
	limit      int
	err        error
}

// deliveryPage is how many deliveries a page holds.
const deliveryPage = 50

var (
	moreDeliveriesKey = bind("m", "m", "load older")
	deliveryKey       = bind("enter", "enter", "details")
)

func newDeliveryLog(c *Common, w core.Webhook) *deliveryLog {
	v := &deliveryLog{base: base{c: c}, hook: w}
	v.list = newListView(c, []column{
		{Title: "Queued", Min: 11}, // "2 Mar 09:30"
		{Title: "Event", Min: 16},
		{Title: "State", Min: 9},
		{Title: "Tries", Min: 5},
		{Title: "HTTP", Min: 4},
		{Title: "Latency", Min: 8},
		{Title: "Response", Min: 10, Flex: 1, Drop: 1}, // whole with enter
	}, "Nothing was posted to it yet.")
	return v
}

// load reads the webhook and a page of its deliveries: the newest (as
// many as are loaded, so that a refresh keeps the older ones m loaded),
// or those before the id given.
func (v *deliveryLog) load(before uint64) tea.Cmd {
	ctx, svc, a, id := v.c.Ctx, v.c.Service, v.c.Actor, v.hook.ID
	limit := deliveryPage
	if before == 0 {
		limit = max(deliveryPage, len(v.deliveries))
	}
	return work("Loading the deliveries", func() tea.Msg {
		w, err := svc.ShowWebhook(ctx, a, id)
		if err != nil {
			return deliveryLogMsg{before: before, limit: limit, err: err}
		}
		ds, err := svc.WebhookDeliveryLog(ctx, a, id, before, limit+1) // one more: whether older ones follow
		return deliveryLogMsg{w, ds, before, limit, err}
	})
}

func (v *deliveryLog) Init() tea.Cmd   { return v.load(0) }
func (v *deliveryLog) Title() string   { return fmt.Sprintf("Deliveries of webhook %d", v.hook.ID) }
func (v *deliveryLog) Capturing() bool { return v.list.Capturing() }
func (v *deliveryLog) holdsEsc() bool  { return v.list.HoldsEsc() }

func (v *deliveryLog) ShortHelp() []key.Binding {
	if h := v.list.TypingHelp(); h != nil {
		return h
	}
	keys := []key.Binding{deliveryKey}
	if v.more {
		keys = append(keys, moreDeliveriesKey)
	}
	return append(keys, filterKey)
}

func (v *deliveryLog) FullHelp() [][]key.Binding {
	return [][]key.Binding{{upKey, downKey, pageKeys, endKeys, filterKey}, {deliveryKey, moreDeliveriesKey}}
}

func (v *deliveryLog) Update(msg tea.Msg) (screen, tea.Cmd) {
	if v.size(msg) {
		v.layout()
		return v, nil
	}
	switch msg := msg.(type) {
	case restyleMsg:
		v.list.Restyle()
	case refreshMsg, doneNotice:
		if v.gone {
			return v, nil
		}
		return v, v.load(0)
	case deliveryLogMsg:
		return v, v.loaded1(msg)
	case tea.KeyPressMsg:
		if cmd, used := v.list.Update(msg); used {
			return v, cmd
		}
		switch {
		case key.Matches(msg, deliveryKey):
			if i := v.list.Selected(); i >= 0 && i < len(v.deliveries) {
				return v, push(newDeliveryViewer(v.c, v.hook, v.deliveries[i]))
			}
			return v, status.Infof("There is no delivery to show yet.")
		case key.Matches(msg, moreDeliveriesKey):
			if !v.more || len(v.deliveries) == 0 {
				return v, status.Infof("That is the whole log (%s).", count(len(v.deliveries), "delivery", "deliveries"))
			}
			return v, v.load(v.deliveries[len(v.deliveries)-1].ID)
		}
	}
	return v, v.list.Navigate(msg)
}

// loaded1 takes a page of the log.
func (v *deliveryLog) loaded1(msg deliveryLogMsg) tea.Cmd {
	if msg.err != nil {
		if errors.Is(msg.err, core.ErrNotFound) {
			v.gone, v.deliveries, v.more = true, nil, false
			v.list.SetRows(nil, nil)
			v.layout()
			return nil
		}
		v.failed = core.Describe(msg.err)
		return func() tea.Msg { return errMsg{msg.err} }
	}
	v.hook, v.failed = msg.hook, ""
	more := len(msg.deliveries) > msg.limit
	if more {
		msg.deliveries = msg.deliveries[:msg.limit]
	}
	if msg.before != 0 { // m: older ones, unless they no longer follow what is loaded
		if len(v.deliveries) == 0 || v.deliveries[len(v.deliveries)-1].ID != msg.before {
			return nil
		}
		v.deliveries = append(v.deliveries, msg.deliveries...)
	} else {
		v.deliveries = msg.deliveries
	}
	v.more, v.loaded = more, true
	v.layout()
	rows, ids := make([][]string, len(v.deliveries)), make([]string, len(v.deliveries))
	for i, d := range v.deliveries {
		ids[i] = fmt.Sprint(d.ID)
		rows[i] = []string{fmtTime(d.CreatedAt), string(d.Event), string(d.State), fmt.Sprint(d.Attempts),
			httpCell(d), latencyCell(d), responseCell(d)}
	}
	v.list.SetRows(rows, ids)
	if msg.before != 0 {
		return status.Infof("%s loaded.", core.FirstUpper(count(len(v.deliveries), "delivery", "deliveries")))
	}
	return nil
}

// httpCell is the status the receiver answered the last attempt with.
func httpCell(d core.WebhookDelivery) string {
	switch {
	case d.Attempts == 0:
		return "—"
	case d.LastStatus == 0:
		return "none" // no answer: the error is the response
	}
	return fmt.Sprint(d.LastStatus)
}

func latencyCell(d core.WebhookDelivery) string {
	if d.Attempts == 0 {
		return "—"
	}
	return fmt.Sprintf("%d ms", d.LastLatencyMS)
}

// responseCell is the start of the receiver's last answer, or why there
// is none.
func responseCell(d core.WebhookDelivery) string {
	switch {
	case d.LastResponse != "":
		return d.LastResponse
	case d.Attempts == 0 && d.Pending():
		return "not sent yet"
	case d.Attempts == 0:
		return "never sent"
	}
	return "(an empty answer)"
}

// head says which webhook the log is of, and where it stands, wrapped to
// the width.
func (v *deliveryLog) head() []string {
	w := max(v.w, 10)
	h := v.hook
	lines := wrapWords(fmt.Sprintf("Webhook %d posts to %s", h.ID, h.URL), w)
	state := h.State()
	if !h.Active() {
		state += " (e on the list turns it back on)"
	}
	lines = append(lines, wrapWords(fmt.Sprintf("Events: %s · %s · added %s by %s", eventsList(h.Events), state, fmtDate(h.CreatedAt), h.CreatorTag), w)...)
	return lines
}

// layout gives the list the screen's lines, but the head's and one for the
// note under it while older deliveries may exist.
func (v *deliveryLog) layout() {
	if v.w == 0 {
		return
	}
	h := v.h - len(v.head())
	if v.more {
		h--
	}
	v.list.Resize(v.w, h)
}

func (v *deliveryLog) View() string {
	st := v.c.Styles
	head := st.Muted.Render(strings.Join(v.head(), "\n")) + "\n"
	wrap := func(s string) string { return strings.Join(wrapWords(s, max(v.w, 10)), "\n") }
	switch {
	case v.gone:
		return head + "\n" + st.Warn.Render(wrap(fmt.Sprintf("Webhook %d was removed, and its delivery log with it. esc goes back to the webhooks.", v.hook.ID)))
	case v.failed != "" && !v.loaded:
		return head + "\n" + st.Warn.Render(wrap("Not available. "+strings.TrimSuffix(v.failed, ".")+"."))
	case !v.loaded:
		return head + "\n" + st.Muted.Render("Loading…")
	case v.list.Len() == 0 && !v.list.Capturing() && !v.list.HoldsEsc():
		return head + "\n" + st.Muted.Render(wrap("Nothing was posted to it yet. Every event it takes shows here, newest first, with how its delivery went."))
	}
	out := head + v.list.View()
	if v.more {
		out += "\n" + st.Muted.Render(fmt.Sprintf("Showing the newest %d; m loads older deliveries.", len(v.deliveries)))
	}
	return out
}

// newDeliveryViewer shows one delivery whole: its attempts, the answer to
// the last, and the payload it posts (the same on every attempt).
func newDeliveryViewer(c *Common, w core.Webhook, d core.WebhookDelivery) *textViewer {
	when := func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.Local().Format("Mon 2 Jan 2006 15:04:05")
	}
	head := [][2]string{
		{"Delivery", fmt.Sprint(d.ID)}, {"Webhook", fmt.Sprintf("%d, %s", w.ID, w.URL)}, {"Event", string(d.Event)},
		{"State", string(d.State)}, {"webhook-id", d.MsgID}, {"Queued", when(d.CreatedAt)}, {"Attempts", fmt.Sprint(d.Attempts)},
	}
	if d.Attempts > 0 {
		head = append(head, [2]string{"Last attempt", when(d.LastAttemptAt)}, [2]string{"HTTP status", httpCell(d)}, [2]string{"Latency", latencyCell(d)})
	}
	switch {
	case d.Pending():
		head = append(head, [2]string{"Next attempt", when(d.NextAttemptAt)})
	case d.State == core.DeliveryDelivered:
		head = append(head, [2]string{"Delivered", when(d.DeliveredAt)})
	}
	var b strings.Builder
	switch {
	case d.Attempts == 0 && d.Pending():
		b.WriteString("Not sent yet: it is posted when its attempt falls due.")
	case d.Attempts == 0:
		b.WriteString("It was never sent: " + responseCell(d) + ".")
	default:
		b.WriteString("The answer to the last attempt:\n\n" + responseCell(d))
	}
	b.WriteString("\n\nPayload (the same on every attempt, with the same webhook-id):\n\n")
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, d.Payload, "", "  "); err != nil {
		b.Write(d.Payload)
	} else {
		b.Write(pretty.Bytes())
	}
	return newTextViewer(c, fmt.Sprintf("Delivery %d", d.ID), head, b.String())
}
