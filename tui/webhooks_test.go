package tui

import (
	"encoding/base64"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"latchkey/core"
	"latchkey/storage/storetest"
)

// hookURL is a documentation address (TEST-NET-3): public, so the default
// policy takes it, and an IP, so nothing is looked up.
const hookURL = "https://203.0.113.7/hook"

// toWebhooks opens Settings › Webhooks and waits for want (what is read
// from the program's output is not read again).
func toWebhooks(c *console, want string) {
	c.key("6")
	c.waitFor("Disclosure")
	c.key("w")
	c.waitFor(want)
}

// toWebhookForm opens the form of a new webhook.
func toWebhookForm(c *console) {
	toWebhooks(c, "Webhooks post")
	c.key("a")
	c.waitFor("events are posted to.")
}

// withWebhook adds a webhook the way SSH or the API would.
func withWebhook(c *console, url string, events ...core.WebhookEvent) core.Webhook {
	if len(events) == 0 {
		events = core.WebhookEvents
	}
	w, _, err := c.env.Svc.CreateWebhook(c.env.Ctx, c.env.Admin, core.NewWebhook{OrgID: northwind(c).ID, URL: url, Events: events})
	if err != nil {
		c.t.Fatal(err)
	}
	return w
}

// rowText is the screen's line that holds key ("" when none).
func rowText(screen, key string) string {
	for _, l := range strings.Split(screen, "\n") {
		if strings.Contains(l, key) {
			return l
		}
	}
	return ""
}

func webhookURLs(c *console) []string {
	var out []string
	for _, w := range storetest.Must(c.env.Svc.WebhookList(c.env.Ctx, c.env.Admin, northwind(c).ID)) {
		out = append(out, w.URL)
	}
	return out
}

var secretRE = regexp.MustCompile(`whsec_[A-Za-z0-9+/=]+`)

// A webhook is added through the form, every event ticked at first: its
// secret, shown once, begins with whsec_ and is copied with OSC 52 on c;
// the list shows the webhook, never its secret.
func TestWebhookFormAddsAWebhook(t *testing.T) {
	c := startConsole(t)
	toWebhooks(c, "No webhooks yet")
	c.key("a")
	c.waitFor("events are posted to.")
	c.key(hookURL, "ctrl+s")
	c.waitFor("not shown again")
	c.key("c")
	c.waitFor("copied to your clipboard")
	m := osc52.FindSubmatch(c.out.Bytes())
	if m == nil {
		c.waitFor("\x1b]52;c;")
		m = osc52.FindSubmatch(c.out.Bytes())
	}
	if m == nil {
		t.Fatal("no OSC 52 sequence was written")
	}
	raw, err := base64.StdEncoding.DecodeString(string(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	secret := string(raw)
	if !strings.HasPrefix(secret, core.WebhookSecretPrefix) || len(secret) < 40 {
		t.Fatalf("the secret copied is %q", secret)
	}
	if !strings.Contains(ansi.Strip(c.out.String()), secret) {
		t.Errorf("the dialog did not show the secret it copied")
	}
	hooks := storetest.Must(c.env.Svc.WebhookList(c.env.Ctx, c.env.Admin, northwind(c).ID))
	if len(hooks) != 1 || hooks[0].URL != hookURL || !slices.Equal(hooks[0].Events, core.WebhookEvents) || !hooks[0].Active() {
		t.Fatalf("webhooks %+v", hooks)
	}

	c.out.Reset()
	c.key("enter") // closes the secret, back to the list
	c.waitFor("Last delivered")
	out := c.screen()
	if strings.Contains(out, secret) || strings.Contains(ansi.Strip(c.out.String()), secret) {
		t.Fatalf("the list shows the secret:\n%s", out)
	}
	if row := rowOf(t, out, "203.0.113.7/hook"); !slices.Equal(row[:5], []string{"1", "203.0.113.7/hook", "all", "active", "—"}) {
		t.Errorf("row %q", row)
	}
	if !strings.Contains(words(out), "The secret of webhook 1 is not shown again") {
		t.Errorf("the status line:\n%s", out)
	}
}

// Events left unticked are not subscribed to; the list names those that are.
func TestWebhookFormTakesSomeEvents(t *testing.T) {
	c := startConsole(t)
	toWebhookForm(c)
	// a on the events unticks them all; then link.redeemed (right of the
	// first) and access.requested (below it).
	c.key(hookURL, "tab", "a", "right", " ", "down", " ", "ctrl+s")
	c.waitFor("not shown again")
	hooks := storetest.Must(c.env.Svc.WebhookList(c.env.Ctx, c.env.Admin, northwind(c).ID))
	want := []core.WebhookEvent{core.EventLinkRedeemed, core.EventAccessRequested}
	if len(hooks) != 1 || !slices.Equal(hooks[0].Events, want) {
		t.Fatalf("webhooks %+v", hooks)
	}
	c.key("enter")
	c.waitFor("Last delivered")
	c.key("enter") // the delivery log's head names them
	c.waitFor("Events: link.redeemed,access.requested · active")
	c.key("esc")
	c.waitFor("Last delivered")
	if row := rowOf(t, c.screen(), "203.0.113.7/hook"); row[2] != "2 events" {
		t.Errorf("row %q", row)
	}
}

// Core refuses what webhooks may not reach, and the form says why under
// the field; no webhook is added.
func TestWebhookFormRefusesBadInput(t *testing.T) {
	for _, tc := range []struct {
		name  string
		keys  []string
		field string // the field's label
		next  string // what follows the field
		want  string
	}{
		{"http", []string{"http://203.0.113.7/hook"}, "Address", "Events",
			"Webhooks are sent over https only; this instance refuses http:// addresses"},
		{"a private address", []string{"https://10.0.0.1/"}, "Address", "Events",
			"10.0.0.1 is a private network: webhooks are not sent to loopback, private,"},
		{"loopback", []string{"https://127.0.0.1:8443/hook"}, "Address", "Events", "127.0.0.1 is loopback"},
		{"no address", []string{"tab"}, "Address", "Events", "Give the address the events are posted to"},
		{"not an address", []string{"crm"}, "Address", "Events", `"crm" is not an absolute address`},
		{"no event", []string{hookURL, "tab", "a"}, "Events", "Add webhook", "Give at least one event: link.created"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := startConsole(t)
			toWebhookForm(c)
			c.key(tc.keys...)
			c.key("ctrl+s")
			// The message's opening words: its end may already be on the
			// screen (the events' help names link.created).
			c.waitFor(tc.want[:16])
			out := c.screen()
			i := strings.Index(out, "› "+tc.field)
			if i < 0 {
				t.Fatalf("%s is not marked:\n%s", tc.field, out)
			}
			j := i + strings.Index(out[i:], tc.next)
			if j < i || !strings.Contains(words(out[i:j]), tc.want) {
				t.Fatalf("%q is not under %s:\n%s", tc.want, tc.field, out)
			}
			if !strings.Contains(out, "Add webhook") {
				t.Fatalf("the form closed:\n%s", out)
			}
			if urls := webhookURLs(c); len(urls) != 0 {
				t.Fatalf("webhooks were added: %q", urls)
			}
		})
	}
}

// An address another webhook of the organization posts to is refused
// under the field, and the first stays alone.
func TestWebhookFormRefusesADuplicate(t *testing.T) {
	c := startConsole(t)
	withWebhook(c, hookURL)
	toWebhooks(c, "203.0.113.7/hook")
	c.key("a")
	c.waitFor("events are posted to.")
	c.key(hookURL, "ctrl+s")
	c.waitFor("already posts")
	out := words(c.screen())
	if !strings.Contains(out, "Webhook 1 already posts to this address; remove it first, or give another address") {
		t.Fatalf("the duplicate:\n%s", out)
	}
	if urls := webhookURLs(c); !slices.Equal(urls, []string{hookURL}) {
		t.Fatalf("webhooks %q", urls)
	}
}

// enter opens the webhook's delivery log: the ping its creation queued,
// pending (nothing delivers it here); enter on it shows it whole with its
// payload; esc goes back.
func TestWebhookDeliveryLog(t *testing.T) {
	c := startConsole(t)
	w := withWebhook(c, hookURL)
	toWebhooks(c, "203.0.113.7/hook")
	c.key("enter")
	c.waitFor("not sent yet")
	c.key("enter")
	c.waitFor("Payload")
	c.key("esc")
	c.waitFor("Queued")
	c.key("esc")
	c.waitFor("Last delivered")
	c.key("enter")
	c.waitFor("not sent yet")
	out := c.screen()
	if row := rowOf(t, out, "ping"); !slices.Equal(row, []string{"2 Mar 09:30", "ping", "pending", "0", "—", "—", "not sent yet"}) {
		t.Errorf("row %q", row)
	}
	if !strings.Contains(words(out), fmt.Sprintf("Webhook %d posts to %s", w.ID, hookURL)) ||
		!strings.Contains(words(out), "Events: all · active · added 2 Mar 2026 by admin") {
		t.Errorf("the head:\n%s", out)
	}

	c = startConsole(t)
	withWebhook(c, hookURL)
	toWebhooks(c, "203.0.113.7/hook")
	c.key("enter")
	c.waitFor("not sent yet")
	c.key("enter")
	c.waitFor("Payload")
	out = words(c.screen())
	ds := storetest.Must(c.env.Svc.WebhookDeliveryLog(c.env.Ctx, c.env.Admin, w.ID, 0, 10))
	if len(ds) != 1 {
		t.Fatalf("deliveries %+v", ds)
	}
	for _, want := range []string{"Delivery 1", "Event ping", "State pending", "webhook-id " + ds[0].MsgID, "Queued Mon 2 Mar 2026 09:30:00",
		"Attempts 0", "Next attempt Mon 2 Mar 2026 09:30:00", "Not sent yet", `"type": "ping"`, `"url": "` + hookURL + `"`} {
		if !strings.Contains(out, want) {
			t.Errorf("the delivery lacks %q:\n%s", want, out)
		}
	}
}

// The log shows an attempt's outcome as the worker recorded it, and
// follows changes without a key press; m loads older pages.
func TestWebhookDeliveryLogPages(t *testing.T) {
	c := startConsole(t)
	w := withWebhook(c, hookURL, core.EventLinkCreated)
	p := portalID(c, "website-redesign")
	for range deliveryPage + 4 { // a ping and 54 links: two pages
		storetest.Must(c.env.Svc.GenerateLink(c.env.Ctx, c.env.Admin, p, "cfo@acme.test"))
	}
	toWebhooks(c, "203.0.113.7/hook")
	c.key("enter")
	c.waitFor("m loads older")
	c.key("m")
	c.waitFor("55 deliveries loaded")
	// The status may show before the list holds the older rows: "end" is
	// pressed again until the oldest, the ping, is drawn (on the screen as
	// the model draws it, not in the renderer's output, which writes only
	// the cells that changed).
	c.waitScreen("the ping row at the end", func(s string) bool {
		if strings.Contains(s, "ping") {
			return true
		}
		c.key("end")
		return false
	})

	due := storetest.Must(c.env.Svc.DueWebhooks(c.env.Ctx, 100))
	var attempts []core.WebhookAttempt
	for _, d := range due {
		if d.Event == core.EventPing {
			attempts = append(attempts, core.WebhookAttempt{DeliveryID: d.ID, At: fixed, Status: 204, Latency: 42e6, Response: "thanks"})
		}
	}
	if len(attempts) != 1 {
		t.Fatalf("due %+v", due)
	}
	if err := c.env.Svc.RecordWebhookAttempts(c.env.Ctx, attempts); err != nil {
		t.Fatal(err)
	}
	c.waitScreen("the ping delivered", func(s string) bool { return strings.Contains(s, "thanks") })
	out := c.screen()
	if row := rowOf(t, out, "ping"); !slices.Equal(row, []string{"2 Mar 09:30", "ping", "delivered", "1", "204", "42 ms", "thanks"}) {
		t.Errorf("row %q", row)
	}
	if strings.Contains(out, "m loads older") {
		t.Errorf("the whole log is loaded, and still more is offered:\n%s", out)
	}
	if n := len(storetest.Must(c.env.Svc.WebhookDeliveryLog(c.env.Ctx, c.env.Admin, w.ID, 0, 100))); n != 55 {
		t.Fatalf("%d deliveries", n)
	}
}

// x removes the selected webhook after y; n keeps it.
func TestWebhookRemoveAsksFirst(t *testing.T) {
	c := startConsole(t)
	withWebhook(c, hookURL)
	toWebhooks(c, "203.0.113.7/hook")
	c.key("x")
	c.waitFor("Remove webhook 1, which posts to 203.0.113.7?")
	c.key("n")
	c.waitFor("Nothing was changed.")
	if urls := webhookURLs(c); !slices.Equal(urls, []string{hookURL}) {
		t.Fatalf("n removed the webhook: %q", urls)
	}
	c.key("d")
	c.waitFor("Remove webhook 1, which posts to 203.0.113.7?")
	c.key("y")
	c.waitFor("No webhooks yet")
	if urls := webhookURLs(c); len(urls) != 0 {
		t.Fatalf("the webhook stayed: %q", urls)
	}
	c.key("x")
	c.waitFor("no webhook to act on")
	out := words(c.screen())
	if !strings.Contains(out, "There is no webhook to act on; a adds one.") || strings.Contains(out, "Confirm") {
		t.Errorf("x on an empty list:\n%s", out)
	}
	if !c.env.HasEvent("webhook.removed", core.WebhookTarget(hookURL)) {
		t.Errorf("no audit event")
	}
}

// A webhook the receiver disabled (410 Gone) says so and why; e turns it
// back on, and e on an active one says it is on.
func TestWebhookEnable(t *testing.T) {
	c := startConsole(t)
	w := withWebhook(c, hookURL)
	due := storetest.Must(c.env.Svc.DueWebhooks(c.env.Ctx, 10))
	if len(due) != 1 {
		t.Fatalf("due %+v", due)
	}
	if err := c.env.Svc.RecordWebhookAttempts(c.env.Ctx, []core.WebhookAttempt{{DeliveryID: due[0].ID, At: fixed, Status: 410, Response: "gone"}}); err != nil {
		t.Fatal(err)
	}
	toWebhooks(c, "disabled 2 Mar")
	c.key("enter")
	c.waitFor("turns it back on")
	if out := words(c.screen()); !strings.Contains(out, "disabled 2 Mar 2026: the receiver answered 410 Gone (e on the list turns it back on)") {
		t.Fatalf("the log's head:\n%s", out)
	}
	c = startConsole(t)
	w = withWebhook(c, hookURL)
	due = storetest.Must(c.env.Svc.DueWebhooks(c.env.Ctx, 10))
	if err := c.env.Svc.RecordWebhookAttempts(c.env.Ctx, []core.WebhookAttempt{{DeliveryID: due[0].ID, At: fixed, Status: 410, Response: "gone"}}); err != nil {
		t.Fatal(err)
	}
	toWebhooks(c, "disabled 2 Mar")
	c.key("enter")
	c.waitFor("turns it back on")
	c.key("esc")
	c.waitFor("Last delivered")
	c.key("e")
	c.waitScreen("the webhook on again, the list read again", func(s string) bool {
		return strings.Contains(s, "is on again") && strings.Contains(rowText(s, "203.0.113.7/hook"), "active")
	})
	c.key("e")
	c.waitFor("back on.") // the end of "… is on already; e turns a disabled one back on." (the renderer writes what changed)
	out := c.screen()
	if row := rowOf(t, out, "203.0.113.7/hook"); row[3] != "active" {
		t.Errorf("row %q", row)
	}
	if !strings.Contains(words(out), "Webhook 1 is on already; e turns a disabled one back on.") {
		t.Errorf("e on an active webhook:\n%s", out)
	}
	if got := storetest.Must(c.env.Svc.ShowWebhook(c.env.Ctx, c.env.Admin, w.ID)); !got.Active() {
		t.Fatalf("still disabled: %+v", got)
	}
	if ds := storetest.Must(c.env.Svc.WebhookDeliveryLog(c.env.Ctx, c.env.Admin, w.ID, 0, 10)); len(ds) != 2 || ds[0].Event != core.EventPing || !ds[0].Pending() {
		t.Fatalf("enabling queued no ping: %+v", ds)
	}
}

// The list shows webhooks added elsewhere (over SSH, by the API) without a
// key press; an empty list says what webhooks are for and fits 80×24.
func TestWebhooksRefreshOnChanges(t *testing.T) {
	c := startConsole(t)
	toWebhooks(c, "No webhooks yet")
	withWebhook(c, hookURL, core.EventMailFailed)
	c.waitFor("mail.failed")
	if row := rowOf(t, c.screen(), "203.0.113.7/hook"); row[2] != "mail.failed" || row[3] != "active" {
		t.Errorf("row %q", row)
	}

	c = startConsoleSized(t, 80, 24)
	toWebhooks(c, "No webhooks yet")
	out := c.screen()
	requireFits(t, out, 80, 24)
	if !strings.Contains(words(out), "Press a to add one; its signing secret is shown once.") {
		t.Errorf("the empty list:\n%s", out)
	}
}

// A webhook removed elsewhere while its log is open says so; esc goes back.
func TestWebhookRemovedWhileItsLogIsOpen(t *testing.T) {
	c := startConsole(t)
	w := withWebhook(c, hookURL)
	toWebhooks(c, "203.0.113.7/hook")
	c.key("enter")
	c.waitFor("not sent yet")
	storetest.Must(c.env.Svc.RemoveWebhook(c.env.Ctx, c.env.Admin, w.ID))
	c.waitFor("was removed")
	c.key("esc")
	c.waitFor("No webhooks yet")
	c.screen()
}

// Only the owner and an instance admin handle webhooks: core says so to a
// manager, and the console shows its reason; the owner adds one.
func TestWebhooksAreTheOwners(t *testing.T) {
	m := startConsoleAs(t, 100, 30, "mia@northwind.test")
	toWebhooks(m, "Only the owner")
	if out := words(m.screen()); !strings.Contains(out, "Not available. Only the owner adds and removes webhooks.") {
		t.Fatalf("a manager's webhooks:\n%s", out)
	}

	o := startConsoleAs(t, 100, 30, "owner@northwind.test")
	toWebhookForm(o)
	o.key(hookURL, "ctrl+s")
	o.waitFor("not shown again")
	o.key("enter")
	o.waitFor("Last delivered")
	if row := rowOf(t, o.screen(), "203.0.113.7/hook"); row[2] != "all" || row[3] != "active" {
		t.Fatalf("row %q", row)
	}
}

// The screens of webhooks at 100×30 and 80×24: they fit, and look as their
// golden files say (the secret and message ids, random, masked).
func TestWebhookScreens(t *testing.T) {
	msgID := regexp.MustCompile(`msg_[A-Za-z0-9_-]+`)
	for _, size := range [][2]int{{100, 30}, {80, 24}} {
		for _, tc := range []struct {
			name  string
			drive func(c *console)
		}{
			{"webhooks", func(c *console) {
				withWebhook(c, hookURL)
				withWebhook(c, "https://203.0.113.8/crm/hooks/latchkey", core.EventLinkRedeemed, core.EventAccessRequested)
				toWebhooks(c, "203.0.113.8")
			}},
			{"webhooks_empty", func(c *console) { toWebhooks(c, "No webhooks yet") }},
			{"webhook_form", toWebhookForm},
			{"webhook_events", func(c *console) { toWebhookForm(c); c.key("tab"); c.waitFor("space tick event") }},
			{"webhook_refused", func(c *console) { toWebhookForm(c); c.key("https://10.0.0.1/", "ctrl+s"); c.waitFor("private network") }},
			{"webhook_secret", func(c *console) { toWebhookForm(c); c.key(hookURL, "ctrl+s"); c.waitFor("not shown again") }},
			{"webhook_confirm", func(c *console) {
				withWebhook(c, hookURL)
				toWebhooks(c, "203.0.113.7")
				c.key("x")
				c.waitFor("Remove webhook")
			}},
			{"deliveries", func(c *console) {
				withWebhook(c, hookURL)
				toWebhooks(c, "203.0.113.7")
				c.key("enter")
				c.waitFor("not sent yet")
			}},
			{"delivery", func(c *console) {
				withWebhook(c, hookURL)
				toWebhooks(c, "203.0.113.7")
				c.key("enter")
				c.waitFor("not sent yet")
				c.key("enter")
				c.waitFor("Payload")
			}},
		} {
			t.Run(fmt.Sprintf("%s_%dx%d", tc.name, size[0], size[1]), func(t *testing.T) {
				c := startConsoleSized(t, size[0], size[1])
				tc.drive(c)
				out := c.screen()
				requireFits(t, out, size[0], size[1])
				bar := strings.TrimSpace(out[strings.LastIndexByte(out, '\n')+1:])
				if strings.HasSuffix(bar, "…") {
					t.Errorf("the help bar was cut: %q", bar)
				}
				out = secretRE.ReplaceAllStringFunc(out, func(s string) string { return "whsec_" + strings.Repeat("X", len(s)-6) })
				out = msgID.ReplaceAllStringFunc(out, func(s string) string { return "msg_" + strings.Repeat("X", len(s)-4) })
				golden.RequireEqual(t, out)
			})
		}
	}
}

// ? shows every key of the webhooks' screens, in columns that fit the
// terminal.
func TestWebhookFullHelpFits(t *testing.T) {
	for _, size := range [][2]int{{100, 30}, {80, 24}} {
		for _, tc := range []struct {
			name  string
			drive func(c *console)
			want  []string
		}{
			{"webhooks", func(c *console) { withWebhook(c, hookURL); toWebhooks(c, "203.0.113.7") },
				[]string{"a add webhook", "enter deliveries", "x/d remove", "e enable"}},
			{"deliveries", func(c *console) {
				withWebhook(c, hookURL)
				toWebhooks(c, "203.0.113.7")
				c.key("enter")
				c.waitFor("not sent yet")
			},
				[]string{"enter details", "m load older"}},
			{"webhook_events", func(c *console) { toWebhookForm(c); c.key("tab"); c.waitFor("space tick event") },
				[]string{"space tick event", "a all or none", "ctrl+s add"}},
		} {
			t.Run(fmt.Sprintf("%s_%dx%d", tc.name, size[0], size[1]), func(t *testing.T) {
				c := startConsoleSized(t, size[0], size[1])
				tc.drive(c)
				c.key("?")
				c.waitFor("close this help")
				out := c.screen()
				requireFits(t, out, size[0], size[1])
				for _, w := range tc.want {
					if !strings.Contains(words(out), w) { // columns pad the key to its column's width
						t.Errorf("the help lacks %q:\n%s", w, out)
					}
				}
			})
		}
	}
}
