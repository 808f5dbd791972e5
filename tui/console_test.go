package tui

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest/v2"
	gossh "golang.org/x/crypto/ssh"

	"latchkey/core"
	"latchkey/storage/storetest"
)

const publicURL = "http://127.0.0.1:8080"

var fixed = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

func TestMain(m *testing.M) {
	time.Local = time.UTC // dates on screens do not depend on the machine's zone
	os.Exit(m.Run())
}

// console is the real console over a real store with the demo data, run by teatest.
type console struct {
	t     *testing.T
	env   *storetest.Env
	tm    *teatest.TestModel
	links map[string]string // portal slug → client@acme.test's token
	out   bytes.Buffer      // everything the program wrote, for OSC 52 checks
}

func startConsole(t *testing.T) *console { return startConsoleSized(t, 100, 30) }

func startConsoleSized(t *testing.T, w, h int) *console { return startConsoleAs(t, w, h, "") }

// startConsoleAs is the console of the demo's owner or manager with that
// email, over SSH; of the instance admin for "".
func startConsoleAs(t *testing.T, w, h int, email string) *console {
	t.Helper()
	// Link uses stay unfolded (FoldLater): the screens show the counters
	// as reads add the uses up.
	env := storetest.New(t, storetest.PublicURL(publicURL), storetest.At(fixed), storetest.Seeded(7), storetest.FoldLater)
	demo, err := env.Svc.LoadDemo(env.Ctx)
	if err != nil {
		t.Fatal(err)
	}
	c := &console{t: t, env: env, links: map[string]string{}}
	for _, l := range demo {
		c.links[l.Portal] = storetest.TokenOf(l.URL)
	}
	deps := Deps{Service: env.Svc, Actor: core.AdminActor("console"), CatcherOn: true, Where: "console"}
	if email != "" {
		deps.Actor, deps.Where = core.UserActor(env.User(email), "ssh:SHA256:test"), "ssh"
	}
	app := New(deps)
	t.Cleanup(app.Close)
	c.tm = teatest.NewTestModel(t, app, teatest.WithInitialTermSize(w, h),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.Ascii)))
	t.Cleanup(func() { c.tm.Quit() }) // a test that does not read the final screen leaves no program running
	c.waitFor("Website Redesign")
	return c
}

// key sends named keys ("enter", "down", "esc", "tab", "ctrl+s") or text.
func (c *console) key(keys ...string) {
	for _, k := range keys {
		switch k {
		case "enter":
			c.tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
		case "down":
			c.tm.Send(tea.KeyPressMsg{Code: tea.KeyDown})
		case "up":
			c.tm.Send(tea.KeyPressMsg{Code: tea.KeyUp})
		case "esc":
			c.tm.Send(tea.KeyPressMsg{Code: tea.KeyEscape})
		case "tab":
			c.tm.Send(tea.KeyPressMsg{Code: tea.KeyTab})
		case "shift+tab":
			c.tm.Send(tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift})
		case "right":
			c.tm.Send(tea.KeyPressMsg{Code: tea.KeyRight})
		case "left":
			c.tm.Send(tea.KeyPressMsg{Code: tea.KeyLeft})
		case "end":
			c.tm.Send(tea.KeyPressMsg{Code: tea.KeyEnd})
		case "ctrl+s":
			c.tm.Send(tea.KeyPressMsg{Code: 's', Mod: tea.ModCtrl})
		case "ctrl+b":
			c.tm.Send(tea.KeyPressMsg{Code: 'b', Mod: tea.ModCtrl})
		default:
			c.tm.Type(k)
		}
	}
}

// waitFor waits until the program has written s (as the renderer draws it).
func (c *console) waitFor(s string) {
	c.t.Helper()
	teatest.WaitFor(c.t, c.tm.Output(), func(b []byte) bool {
		c.out.Write(b)
		return bytes.Contains(b, []byte(s))
	}, teatest.WithDuration(10*time.Second), teatest.WithCheckInterval(20*time.Millisecond))
}

// waitScreen waits until the screen as the model draws it now (plain text)
// satisfies ok, and returns it.
func (c *console) waitScreen(what string, ok func(screen string) bool) string {
	c.t.Helper()
	var last string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		got := make(chan string, 1)
		c.tm.Send(inspectMsg(func(a *App) { got <- ansi.Strip(a.render()) }))
		select {
		case last = <-got:
		case <-time.After(time.Second):
			continue
		}
		if ok(last) {
			return last
		}
	}
	c.t.Fatalf("the screen never showed %s; it shows:\n%s", what, last)
	return ""
}

// screen quits and returns the last frame as plain text.
func (c *console) screen() string {
	c.t.Helper()
	if err := c.tm.Quit(); err != nil {
		c.t.Fatal(err)
	}
	app := c.tm.FinalModel(c.t, teatest.WithFinalTimeout(10*time.Second)).(*App)
	app.inflight = 0 // a background reload's spinner frame depends on timing, not on the screen
	return ansi.Strip(app.render())
}

// toRemoveAccessConfirm opens the confirmation of a member's access removal.
func toRemoveAccessConfirm(c *console) {
	c.key("enter")
	c.waitFor("cfo@acme.test")
	c.key("down", "enter")
	c.waitFor("Remove portal access")
	c.key("down", "down", "down", "down", "down", "enter")
	c.waitFor("Their link is deactivated")
}

func TestScreens(t *testing.T) {
	for _, tc := range []struct {
		name  string
		drive func(c *console)
	}{
		{"projects", func(c *console) {}},
		{"members", func(c *console) { c.key("enter"); c.waitFor("cfo@acme.test") }},
		{"member_menu", func(c *console) {
			c.key("enter")
			c.waitFor("cfo@acme.test")
			c.key("down", "enter")
			c.waitFor("Remove portal access")
		}},
		{"link_dialog", func(c *console) {
			c.key("enter")
			c.waitFor("cfo@acme.test")
			c.key("enter")
			c.waitFor("Remove portal access")
			c.key("enter")
			c.waitFor("emailed to")
		}},
		{"confirm", toRemoveAccessConfirm},
		{"activity", func(c *console) { c.key("a"); c.waitFor("Access requests") }},
		{"invite", func(c *console) { c.key("2"); c.waitFor("brand-guidelines") }}, // the portals loaded
		{"invite_editing", func(c *console) {
			c.key("2")
			c.waitFor("brand-guidelines")
			c.key("enter", "ann@example.com", "tab", "tab")
		}},
		{"bulk_preview", func(c *console) {
			c.key("2")
			c.waitFor("Send invitation")
			c.key("ctrl+b")
			c.waitFor("Paste one person per line")
			c.tm.Send(tea.PasteMsg{Content: "ann@example.com\nBen Ode <ben@example.com>\nnot an address\nann@example.com"})
			c.key("ctrl+s")
			c.waitFor("can be invited")
		}},
		{"requests", func(c *console) { c.key("3"); c.waitFor("newcomer@acme.test") }},
		{"mail", func(c *console) { c.key("4"); c.waitFor("invite_portal") }},
		{"audit", func(c *console) { c.key("5"); c.waitFor("link.redeemed") }},
		{"settings", func(c *console) { c.key("6"); c.waitFor("Disclosure") }},
		{"settings_people", func(c *console) { c.key("6"); c.waitFor("Disclosure"); c.key("v"); c.waitFor("mia@northwind.test") }},
		{"portal_form", func(c *console) {
			c.key("6")
			c.waitFor("Disclosure")
			c.key("enter")
			c.waitFor("Welcome text")
			c.waitScreen("the contact, read after the form opens", func(s string) bool { return strings.Contains(s, "Mia Manager <mia@northwind.test>") })
		}},
		{"content", toContent},
		{"content_updates", func(c *console) { toContent(c); c.key("v"); c.waitFor("Posted") }},
		{"resource_form", func(c *console) { toContent(c); c.key("n"); c.waitFor("A titled link") }},
		{"update_composer", func(c *console) { toContent(c); c.key("v", "n"); c.waitFor("people)") }},
		{"tokens", func(c *console) { withTokens(c); toTokens(c, "Old deploy") }},
		{"token_form", toTokenForm},
		{"help", func(c *console) { c.key("?"); c.waitFor("previous section") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := startConsole(t)
			tc.drive(c)
			golden.RequireEqual(t, c.screen())
		})
	}
}

// At 80×24 every screen still fits, with its borders whole.
func TestScreensAt80x24(t *testing.T) {
	for _, tc := range []struct {
		name  string
		drive func(c *console)
	}{
		{"projects", func(c *console) {}},
		{"members", func(c *console) { c.key("enter"); c.waitFor("cfo@acme.test") }},
		{"member_menu", func(c *console) {
			c.key("enter")
			c.waitFor("cfo@acme.test")
			c.key("enter")
			c.waitFor("Remove portal access")
		}},
		{"link_dialog", func(c *console) {
			c.key("enter")
			c.waitFor("cfo@acme.test")
			c.key("enter")
			c.waitFor("Remove portal access")
			c.key("enter")
			c.waitFor("emailed to")
		}},
		{"invite", func(c *console) { c.key("2"); c.waitFor("brand-guidelines") }}, // the portals loaded
		{"confirm", toRemoveAccessConfirm},
		{"audit", func(c *console) { c.key("5"); c.waitFor("link.redeemed") }},
		{"filtering", func(c *console) { c.key("5"); c.waitFor("link.redeemed"); c.key("/", "cfo"); c.waitFor(" of ") }},
		{"prompt", func(c *console) { c.key("n"); c.waitFor("Name of the new project") }},
		{"settings", func(c *console) { c.key("6"); c.waitFor("Disclosure") }},
		{"settings_people", func(c *console) { c.key("6"); c.waitFor("Disclosure"); c.key("v"); c.waitFor("mia@northwind.test") }},
		{"portal_form", func(c *console) { toPortalForm(c) }},
		{"content", toContent},
		{"update_composer", func(c *console) { toContent(c); c.key("v", "n"); c.waitFor("people)") }},
		{"tokens", func(c *console) { withTokens(c); toTokens(c, "Old deploy") }},
		{"token_form", toTokenForm},
		{"bulk", func(c *console) {
			c.key("2")
			c.waitFor("Send invitation")
			c.key("ctrl+b")
			c.waitFor("Paste one person per line")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := startConsoleSized(t, 80, 24)
			tc.drive(c)
			out := c.screen()
			lines := strings.Split(out, "\n")
			if len(lines) != 24 {
				t.Fatalf("%d lines", len(lines))
			}
			for i, l := range lines {
				if w := ansi.StringWidth(l); w > 80 {
					t.Fatalf("line %d is %d wide: %q", i, w, l)
				}
				// Content wider than the body is cut with "…" at the edge:
				// empty lines that end so, or a box without its right side.
				trimmed := strings.TrimSpace(l)
				if trimmed == "…" || (strings.HasPrefix(trimmed, "╭") && !strings.HasSuffix(trimmed, "╮")) {
					t.Fatalf("line %d was cut at the edge: %q", i, l)
				}
				// Sentences above the help bar are not cut either.
				if i < len(lines)-1 && ansi.StringWidth(l) >= 78 && strings.HasSuffix(trimmed, "…") && !strings.Contains(l, "  ") {
					t.Fatalf("line %d was cut at the edge: %q", i, l)
				}
			}
			golden.RequireEqual(t, out)
		})
	}
}

// A redemption or an access request made elsewhere shows up without a key press.
func TestConsoleRefreshesOnChanges(t *testing.T) {
	c := startConsole(t)
	c.key("enter")
	c.waitFor("cfo@acme.test")
	storetest.Must(c.env.Svc.GenerateLink(c.env.Ctx, c.env.Admin, portalID(c, "website-redesign"), "cfo@acme.test"))
	c.waitFor("active ") // cfo's link: deactivated → active
	c.key("3")
	c.waitFor("newcomer@acme.test")
	storetest.Must(c.env.Svc.RequestAccess(c.env.Ctx, "website-redesign", "latecomer@acme.test", core.Visitor{Addr: "192.0.2.9"}))
	c.waitFor("latecomer@acme.test")
	c.screen()
}

// Enter on a confirmation means no: a habitual enter replaces nothing.
func TestEnterDoesNotConfirm(t *testing.T) {
	c := startConsole(t)
	old := c.links["website-redesign"]
	c.key("enter")
	c.waitFor("client@acme.test")
	c.key("down", "enter")
	c.waitFor("Generate new magic link for portal")
	c.key("enter")
	c.waitFor("Replace client@acme.test")
	c.key("enter")
	c.waitFor("Nothing was changed.")
	if _, err := c.env.Svc.Landing(c.env.Ctx, old, ""); err != nil {
		t.Fatalf("the link was replaced: %v", err)
	}
	c.screen()
}

// Quitting with unsaved input asks first; the answer no keeps the input.
func TestQuitAsksWhenInputWouldBeLost(t *testing.T) {
	c := startConsole(t)
	c.key("2")
	c.waitFor("Send invitation")
	c.key("enter", "half-typed@")
	c.tm.Send(tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl})
	c.waitFor("unsaved input")
	c.key("n") // keep going: the input stays
	c.key("x")
	c.waitFor("x") // a frame without the question, so that asking again is drawn again
	c.tm.Send(tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl})
	c.waitFor("unsaved input")
	c.key("y")
	app := c.tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(*App)
	if f, ok := app.top().(*invite); !ok || f.email.Value() != "half-typed@x" {
		t.Fatalf("the form lost its input: %T", app.top())
	}
}

// The flow of DESIGN.md: project → member → generate (the link reaches the
// clipboard by OSC 52, the old one stops working, a mail is queued) →
// deactivate (confirmed) → invite a new client with the portal → grant the
// demo's access request.
func TestFlowFromProjectToGrant(t *testing.T) {
	c := startConsole(t)
	old := c.links["website-redesign"]
	c.key("enter")
	c.waitFor("client@acme.test")
	c.key("down", "enter") // client@acme.test, sorted after cfo@
	c.waitFor("Generate new magic link for portal")
	c.key("enter")
	c.waitFor("Replace client@acme.test")
	c.key("y")
	c.waitFor("emailed to client@acme.test")
	il, err := c.env.Svc.RevealLink(c.env.Ctx, c.env.Admin, portalID(c, "website-redesign"), "client@acme.test")
	if err != nil {
		t.Fatal(err)
	}
	// The clipboard gets the new link by OSC 52 (which reaches the terminal of
	// the person at the keyboard, over SSH too).
	osc := "\x1b]52;c;" + base64.StdEncoding.EncodeToString([]byte(il.URL))
	if !bytes.Contains(c.out.Bytes(), []byte(osc)) {
		c.waitFor(osc)
	}
	if _, err := c.env.Svc.Redeem(c.env.Ctx, old, core.Visitor{Addr: "127.0.0.1"}); err == nil {
		t.Fatal("the old link still opens the portal")
	}
	if m := c.env.LastMail("client@acme.test", core.MailNewLink); !strings.HasPrefix(c.env.LastToken("client@acme.test", core.MailNewLink), "") || m.State != core.MessageQueued {
		t.Fatalf("new link mail: %+v", m)
	}

	c.key("enter") // close the dialog
	c.waitFor("member menu")
	c.key("enter")
	c.waitFor("Generate new magic link for portal")
	c.key("2") // a digit picks the item
	c.waitFor("Deactivate client@acme.test")
	c.key("y")
	c.waitFor("deactivated.")
	if _, err := c.env.Svc.Redeem(c.env.Ctx, storetest.TokenOf(il.URL), core.Visitor{Addr: "127.0.0.1"}); err == nil {
		t.Fatal("the deactivated link still opens the portal")
	}

	c.key("i")
	c.waitFor("Send invitation")
	c.key("newclient@acme.test", "enter", "New Client", "ctrl+s")
	c.waitFor("Invited newclient@acme.test")
	inv := c.env.LastMail("newclient@acme.test", core.MailInvitePortal)
	if inv.Data["portal"] != "Website Redesign" {
		t.Fatalf("invitation %+v", inv)
	}

	c.key("esc", "3")
	c.waitFor("newcomer@acme.test")
	c.key("g")
	c.waitFor("Grant newcomer@acme.test")
	c.key("enter") // client, preselected
	c.waitFor("Granted")
	if m := c.env.LastMail("newcomer@acme.test", core.MailInvitePortal); m.Data["portal"] != "Website Redesign" {
		t.Fatalf("grant invitation %+v", m)
	}
	if reqs, _ := c.env.Svc.Requests(c.env.Ctx, c.env.Admin, 1, true); len(reqs) != 0 {
		t.Fatalf("still pending: %+v", reqs)
	}
	c.screen()
}

func portalID(c *console, slug string) uint64 {
	ref, err := c.env.Svc.PortalBySlug(c.env.Ctx, c.env.Admin, slug)
	if err != nil {
		c.t.Fatal(err)
	}
	return ref.Portal.ID
}

// r renames the project under the cursor; a name another project has is
// refused and the prompt stays open with what was typed.
func TestRenameProject(t *testing.T) {
	c := startConsole(t)
	c.key("r")
	c.waitFor("New name of Website Redesign")
	c.tm.Send(tea.KeyPressMsg{Code: 'u', Mod: tea.ModCtrl}) // clear the field
	c.key("brand GUIDELINES", "enter")
	c.waitFor("exists already")
	c.tm.Send(tea.KeyPressMsg{Code: 'u', Mod: tea.ModCtrl})
	c.key("Website Relaunch", "enter")
	c.waitFor("Renamed Website Redesign to Website Relaunch.")
	if p := storetest.Must(c.env.Svc.PortalBySlug(c.env.Ctx, c.env.Admin, "website-redesign")); p.Project.Name != "Website Relaunch" {
		t.Fatalf("project %+v", p.Project)
	}
}

// rowOf is the line of a screen that holds s, its cells split on runs of
// two spaces or more.
func rowOf(t *testing.T, screen, s string) []string {
	t.Helper()
	for _, line := range strings.Split(screen, "\n") {
		if strings.Contains(line, s) {
			var cells []string
			for _, c := range regexp.MustCompile(`\s{2,}`).Split(strings.TrimSpace(line), -1) {
				cells = append(cells, c)
			}
			return cells
		}
	}
	t.Fatalf("no line holds %q:\n%s", s, screen)
	return nil
}

// A project without a portal has nobody, no link and no request to count:
// its People, Links and Requests say "—", while a portal that nobody has
// yet says 0 (as SSH does).
func TestProjectWithoutAPortalCountsNoPeople(t *testing.T) {
	out := startConsole(t).screen()
	if got := rowOf(t, out, "Internal Ops"); !slices.Equal(got, []string{"Internal Ops", "—", "—", "—", "—", "—"}) {
		t.Errorf("Internal Ops: %q", got)
	}
	if got := rowOf(t, out, "Onboarding Kit"); !slices.Equal(got, []string{"Onboarding Kit", "/p/onboarding", "email", "0", "0", "0"}) {
		t.Errorf("Onboarding Kit: %q", got)
	}
}

// Members' Created, like Last used and Uses, is about the current link: a
// link generated later shows when it was (and that it was not used yet),
// and someone with access but no link shows none.
func TestMembersCreatedIsTheLinksCreation(t *testing.T) {
	c := startConsole(t)
	c.env.Clock.Advance(2 * time.Hour)
	storetest.Must(c.env.Svc.GenerateLink(c.env.Ctx, c.env.Admin, portalID(c, "website-redesign"), "cfo@acme.test"))
	c.key("enter")
	c.waitFor("cfo@acme.test")
	out := c.screen()
	if got := rowOf(t, out, "cfo@acme.test"); !slices.Equal(got[:7], []string{"Chris CFO", "cfo@acme.test", "client", "yes", "active", "2 Mar 11:30", "—"}) {
		t.Errorf("cfo: %q", got)
	}
	if got := rowOf(t, out, "sam@northwind.test"); !slices.Equal(got[:7], []string{"Sam Member", "sam@northwind.test", "member", "yes", "none", "—", "—"}) {
		t.Errorf("sam: %q", got)
	}
}

// Last used and Uses are exact the moment a redemption commits: the uses
// are appended and not yet folded into the link when the list shows them,
// and folding them changes no figure.
func TestMembersShowUsesAtOnce(t *testing.T) {
	c := startConsole(t)
	storetest.Must(c.env.Svc.FoldLinkUses(c.env.Ctx)) // the demo's own
	before := usesOf(t, c.env, "website-redesign", "client@acme.test")
	c.env.Clock.Advance(3 * time.Hour)
	v := core.Visitor{Addr: "198.51.100.7", UserAgent: "Mozilla/5.0 (iPhone)"}
	for range 2 {
		storetest.Must(c.env.Svc.Redeem(c.env.Ctx, c.links["website-redesign"], v))
	}
	c.key("enter")
	c.waitFor("client@acme.test")
	want := []string{fmtTime(c.env.Clock.Now()), fmt.Sprint(before + 2)}
	if got := rowOf(t, c.screen(), "client@acme.test"); !slices.Equal(got[len(got)-2:], want) {
		t.Fatalf("before the fold: %q, want last used and uses %q", got, want)
	}
	if n := storetest.Must(c.env.Svc.FoldLinkUses(c.env.Ctx)); n != 2 {
		t.Fatalf("folded %d uses, want the 2 the screen counted unfolded", n)
	}
	if got := usesOf(t, c.env, "website-redesign", "client@acme.test"); got != before+2 {
		t.Fatalf("after the fold: %d uses, want %d", got, before+2)
	}
}

// usesOf is a member's uses of their current link, as core counts them.
func usesOf(t *testing.T, env *storetest.Env, slug, email string) uint64 {
	t.Helper()
	ref := storetest.Must(env.Svc.PortalBySlug(env.Ctx, env.Admin, slug))
	for _, m := range storetest.Must(env.Svc.PortalMembers(env.Ctx, env.Admin, ref.Portal.ID)) {
		if m.Email == email {
			return m.UseCount
		}
	}
	t.Fatalf("no %s on %s", email, slug)
	return 0
}

// requireFits fails when a line of the screen is wider than the terminal,
// or was cut at its edge: a line that ends in "…" there, or a box that lost
// its right side.
func requireFits(t *testing.T, screen string, w, h int) {
	t.Helper()
	lines := strings.Split(screen, "\n")
	if len(lines) != h {
		t.Fatalf("%d lines, not %d:\n%s", len(lines), h, screen)
	}
	for i, l := range lines {
		trimmed := strings.TrimSpace(l)
		switch {
		case ansi.StringWidth(l) > w:
			t.Fatalf("line %d is %d wide:\n%s", i, ansi.StringWidth(l), screen)
		case ansi.StringWidth(l) >= w-2 && strings.HasSuffix(trimmed, "…"):
			t.Fatalf("line %d was cut at the edge: %q\n%s", i, l, screen)
		case strings.HasPrefix(trimmed, "╭") && !strings.HasSuffix(trimmed, "╮"),
			strings.HasPrefix(trimmed, "╰") && !strings.HasSuffix(trimmed, "╯"):
			t.Fatalf("line %d is a box cut at the edge: %q\n%s", i, l, screen)
		}
	}
}

// words is the screen's text with its line breaks and runs of spaces as
// single spaces, so that a wrapped sentence reads as one; box sides go.
func words(screen string) string {
	return strings.Join(strings.Fields(strings.NewReplacer("│", " ", "╭", " ", "╮", " ", "╰", " ", "╯", " ", "─", " ").Replace(screen)), " ")
}

// A manager's dialogs fit 100×30 and 80×24: the member menu and the SSH
// keys of the owner, which the manager may not manage (the reason shows,
// whole, under the items), and the members list with its Uses column at
// 100 columns.
func TestManagerDialogsFit(t *testing.T) {
	for _, size := range [][2]int{{100, 30}, {80, 24}} {
		w, h := size[0], size[1]
		t.Run(fmt.Sprintf("%dx%d", w, h), func(t *testing.T) {
			c := startConsoleAs(t, w, h, "mia@northwind.test")
			c.key("6")
			c.waitFor("Disclosure")
			c.key("v")
			c.waitFor("owner@northwind.test")
			c.key("enter")
			c.waitFor("Add an SSH key")
			out := c.screen()
			requireFits(t, out, w, h)
			if !strings.Contains(words(out), "you may manage only your own keys, or as an owner the keys of your own managers") {
				t.Errorf("the reason is not whole:\n%s", out)
			}

			c = startConsoleAs(t, w, h, "mia@northwind.test")
			c.key("enter")
			c.waitFor("cfo@acme.test")
			out = c.screen()
			requireFits(t, out, w, h)
			if header := rowOf(t, out, "Email"); w == 100 && !slices.Equal(header, []string{"Name", "Email", "Role", "Access", "Link", "Created", "Last used", "Uses"}) {
				t.Errorf("members at 100 columns: %q", header)
			}

			c = startConsoleAs(t, w, h, "mia@northwind.test")
			c.key("enter")
			c.waitFor("cfo@acme.test")
			c.key("enter")
			c.waitFor("Remove portal access")
			requireFits(t, c.screen(), w, h)
		})
	}
}

// Counts in the console say "1 SSH key" and "2 SSH keys", never "key(s)".
func TestCountsAreSingularOrPlural(t *testing.T) {
	c := startConsole(t)
	for i, email := range []string{"owner@northwind.test", "mia@northwind.test", "mia@northwind.test"} {
		storetest.Must(c.env.Svc.AddSSHKey(c.env.Ctx, c.env.Admin, email, sshKey(t, byte(i))))
	}
	c.key("6")
	c.waitFor("Disclosure")
	c.key("v")
	c.waitFor("2 keys")
	c.key("enter") // the owner, first
	c.waitFor("Add an SSH key")
	if out := words(c.screen()); strings.Contains(out, "(s)") || !strings.Contains(out, "1 SSH key ") {
		t.Fatalf("the owner's keys: %s", out)
	}
}

// sshKey is an authorized_keys line of an ed25519 key made from seed.
func sshKey(t *testing.T, seed byte) string {
	signer, err := gossh.NewSignerFromKey(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed + 1}, ed25519.SeedSize)))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(gossh.MarshalAuthorizedKey(signer.PublicKey())))
}

// Deactivate stops a leaked link, it does not keep anyone out: the member
// menu and the confirmation say that they can ask for a new link at once,
// and point an owner who wants someone out at Remove portal access.
func TestDeactivateSaysTheyCanAskForANewLinkAtOnce(t *testing.T) {
	c := startConsole(t)
	c.key("enter")
	c.waitFor("client@acme.test")
	c.key("down", "enter") // client@acme.test: an active link
	c.waitFor("Remove portal access")
	c.key("down")
	c.waitFor("Stops this link")
	menu := words(c.screen())
	for _, want := range []string{"can ask for a new link at once", "To end their access, choose Remove portal access"} {
		if !strings.Contains(menu, want) {
			t.Errorf("the menu does not say %q:\n%s", want, menu)
		}
	}

	c = startConsole(t)
	c.key("enter")
	c.waitFor("client@acme.test")
	c.key("down", "enter")
	c.waitFor("Remove portal access")
	c.key("2")
	c.waitFor("Deactivate client@acme.test")
	confirm := words(c.screen())
	for _, want := range []string{"can ask for a new link on the portal page and get it at once", "Remove portal access instead"} {
		if !strings.Contains(confirm, want) {
			t.Errorf("the confirmation does not say %q:\n%s", want, confirm)
		}
	}
}

// helpDrives lead to each of the console's screens, with keys its help bar
// must show.
var helpDrives = []struct {
	name  string
	drive func(c *console)
	want  []string
}{
	{"projects", func(c *console) {}, []string{"enter open", "? all keys", "q quit"}},
	{"members", func(c *console) { c.key("enter"); c.waitFor("cfo@acme.test") }, []string{"enter member menu", "esc back", "? all keys"}},
	{"member_menu", func(c *console) {
		c.key("enter")
		c.waitFor("cfo@acme.test")
		c.key("enter")
		c.waitFor("Remove portal access")
	}, []string{"esc close"}},
	{"confirm", toRemoveAccessConfirm, []string{"y yes", "n no"}},
	{"activity", func(c *console) { c.key("a"); c.waitFor("Access requests") }, []string{"esc back", "? all keys"}},
	{"invite", func(c *console) { c.key("2"); c.waitFor("brand-guidelines") }, nil},
	{"invite_from_project", func(c *console) { c.key("i"); c.waitFor("brand-guidelines") }, nil},
	{"bulk", func(c *console) {
		c.key("2")
		c.waitFor("Send invitation")
		c.key("ctrl+b")
		c.waitFor("Paste one person")
	}, []string{"ctrl+s check the list", "esc cancel"}},
	{"requests", func(c *console) { c.key("3"); c.waitFor("newcomer@acme.test") }, []string{"g grant", "d dismiss", "? all keys"}},
	{"grant", func(c *console) { c.key("3"); c.waitFor("newcomer@acme.test"); c.key("g"); c.waitFor("Grant newcomer") }, []string{"esc close"}},
	{"mail", func(c *console) { c.key("4"); c.waitFor("invite_portal") }, []string{"enter delivery details", "? all keys"}},
	{"outbox_message", func(c *console) { c.key("4"); c.waitFor("invite_portal"); c.key("enter"); c.waitFor("No delivery") }, []string{"scroll", "esc back"}},
	{"caught", func(c *console) {
		c.key("4")
		c.waitFor("invite_portal")
		c.key("v")
		c.waitFor("received nothing yet")
	}, []string{"enter read", "? all keys"}},
	{"audit", func(c *console) { c.key("5"); c.waitFor("link.redeemed") }, []string{"/ filter", "? all keys"}},
	{"filtering", func(c *console) { c.key("5"); c.waitFor("link.redeemed"); c.key("/", "cfo"); c.waitFor(" of ") }, []string{"enter done", "esc clear"}},
	{"settings", func(c *console) { c.key("6"); c.waitFor("Disclosure") }, []string{"enter edit portal", "? all keys"}},
	{"settings_people", func(c *console) { c.key("6"); c.waitFor("Disclosure"); c.key("v"); c.waitFor("mia@northwind.test") }, []string{"enter keys", "? all keys"}},
	{"key_menu", func(c *console) {
		c.key("6")
		c.waitFor("Disclosure")
		c.key("v")
		c.waitFor("mia@northwind.test")
		c.key("enter")
		c.waitFor("Add an SSH key")
	}, []string{"esc close"}},
	{"portal_form", func(c *console) { c.key("6"); c.waitFor("Disclosure"); c.key("enter"); c.waitFor("Welcome text") }, []string{"esc cancel", "ctrl+s save"}},
	{"portal_form_choice", func(c *console) {
		c.key("6")
		c.waitFor("Disclosure")
		c.key("enter")
		c.waitFor("Welcome text")
		c.key("tab", "tab")
	}, []string{"esc cancel", "←/→ choose", "? all keys"}},
	{"portal_form_contact", func(c *console) {
		toPortalForm(c)
		c.key("tab", "tab", "tab", "tab", "tab", "tab")
		c.waitFor("of 4")
	}, []string{"esc cancel", "←/→ choose", "? all keys"}},
	{"portal_form_welcome", func(c *console) {
		toPortalForm(c)
		c.key("shift+tab") // from the first field to the last
		c.waitFor("enter new line")
	}, []string{"esc cancel", "ctrl+s save", "enter new line"}},
	{"portal_form_error", func(c *console) {
		c.key("e")
		c.waitFor("· manager")
		c.key("tab", "tab", "tab", "tab", "ftp://x", "ctrl+s")
		c.waitFor("allowed")
	}, []string{"esc cancel", "ctrl+s save"}},
	{"content", toContent, []string{"n add resource", "K/J move", "esc back", "? all keys"}},
	{"content_updates", func(c *console) { toContent(c); c.key("v"); c.waitFor("Posted") }, []string{"n post update", "esc back", "? all keys"}},
	{"content_upstream", func(c *console) {
		up := "https://app.acme.example"
		storetest.Must(c.env.Svc.PatchPortal(c.env.Ctx, c.env.Admin, portalID(c, "website-redesign"), core.PortalPatch{Upstream: &up}))
		toContent(c)
	}, []string{"n add resource", "esc back"}},
	{"resource_details", func(c *console) { toContent(c); c.key("enter"); c.waitFor("Position") }, []string{"scroll", "esc back"}},
	{"resource_confirm", func(c *console) { toContent(c); c.key("d"); c.waitFor("Remove") }, []string{"y yes", "n no"}},
	{"resource_form", func(c *console) { toContent(c); c.key("n"); c.waitFor("A titled link") }, []string{"esc cancel", "tab next field", "ctrl+s add"}},
	{"resource_button", func(c *console) {
		toContent(c)
		c.key("n")
		c.waitFor("A titled link")
		c.key("tab", "tab", "tab")
		c.waitFor("enter add")
	}, []string{"esc cancel", "enter add", "? all keys"}},
	{"update_composer", func(c *console) {
		toContent(c)
		c.key("v", "n")
		c.waitFor("people)")
	}, []string{"esc cancel", "ctrl+s post", "enter new line"}},
	{"update_email", func(c *console) {
		toContent(c)
		c.key("v", "n")
		c.waitFor("people)")
		c.key("tab")
		c.waitFor("email or not")
	}, []string{"esc cancel", "space email or not", "? all keys"}},
	{"update_read", func(c *console) { toContent(c); c.key("v"); c.waitFor("Posted"); c.key("enter"); c.waitFor("Emailed") }, []string{"scroll", "esc back"}},
	{"prompt", func(c *console) { c.key("n"); c.waitFor("Name of the new project") }, []string{"enter save", "esc cancel"}},
	{"invite_email", func(c *console) { c.key("2"); c.waitFor("Send invitation"); c.key("enter") }, []string{"esc leave form", "tab next field", "ctrl+s send", "ctrl+c quit"}},
	{"invite_role", func(c *console) { c.key("2"); c.waitFor("Send invitation"); c.key("enter", "tab", "tab") }, []string{"esc leave form", "←/→ choose", "? all keys"}},
	{"invite_button", func(c *console) {
		c.key("2")
		c.waitFor("Send invitation")
		c.key("enter", "tab", "tab", "tab", "tab")
	}, []string{"esc leave form", "enter send", "? all keys"}},
	{"bulk_preview", func(c *console) {
		c.key("2")
		c.waitFor("Send invitation")
		c.key("ctrl+b")
		c.waitFor("Paste one person per line")
		c.tm.Send(tea.PasteMsg{Content: "ann@example.com\nnot an address"})
		c.key("ctrl+s")
		c.waitFor("can be invited")
	}, []string{"enter send the invitations", "? all keys"}},
	{"link_dialog", func(c *console) {
		c.key("enter")
		c.waitFor("cfo@acme.test")
		c.key("enter")
		c.waitFor("Remove portal access")
		c.key("enter")
		c.waitFor("emailed to")
	}, []string{"enter close", "c copy again"}},
	{"audit_event", func(c *console) { c.key("5"); c.waitFor("link.redeemed"); c.key("enter"); c.waitFor("Event ") }, []string{"scroll", "esc back"}},
	{"tokens", func(c *console) { toTokens(c, "Tokens let other systems") }, []string{"n new token", "d revoke", "esc back", "? all keys"}},
	{"token_form", toTokenForm, []string{"esc cancel", "tab next field", "ctrl+s create"}},
	{"token_scopes", func(c *console) { toTokenForm(c); c.key("tab"); c.waitFor("space tick scope") }, []string{"esc cancel", "space tick scope", "? all keys"}},
	{"token_button", func(c *console) { toTokenForm(c); c.key("tab", "tab", "tab"); c.waitFor("enter create") }, []string{"esc cancel", "enter create", "? all keys"}},
	{"token_details", func(c *console) {
		withTokens(c)
		toTokens(c, "Old deploy")
		c.key("enter")
		c.waitFor("Scopes (")
	}, []string{"scroll", "esc back"}},
	{"token_confirm", func(c *console) {
		withTokens(c)
		toTokens(c, "CRM sync")
		c.key("d")
		c.waitFor("Revoke the API token")
	}, []string{"y yes", "n no"}},
	{"token_secret", func(c *console) {
		toTokenForm(c)
		c.key("CRM sync", "tab", "a", "ctrl+s")
		c.waitFor("not shown again")
	}, []string{"c copy to clipboard", "enter close"}},
}

// ownersOnly are the drives that need the tokens, which only the owner
// and an instance admin may see.
var ownersOnly = map[string]bool{"token_details": true, "token_confirm": true, "token_secret": true}

// forms are the drives that end in a form being edited.
var forms = map[string]bool{"bulk": true, "portal_form": true, "portal_form_choice": true, "prompt": true,
	"portal_form_contact": true, "portal_form_welcome": true, "portal_form_error": true,
	"resource_form": true, "resource_button": true, "update_composer": true, "update_email": true,
	"invite_email": true, "invite_role": true, "invite_button": true, "invite_from_project": true,
	"token_form": true, "token_scopes": true, "token_button": true}

// The help bar of every screen shows what matters there, whole, at 80 and
// 100 columns: it never ends in "…"; and nothing else on the screen is cut.
func TestShortHelpIsNeverCut(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {100, 30}} {
		for _, d := range helpDrives {
			t.Run(fmt.Sprintf("%s_%dx%d", d.name, size[0], size[1]), func(t *testing.T) {
				c := startConsoleSized(t, size[0], size[1])
				d.drive(c)
				out := c.screen()
				requireFits(t, out, size[0], size[1])
				lines := strings.Split(out, "\n")
				bar := strings.TrimSpace(lines[len(lines)-1])
				if strings.HasSuffix(bar, "…") || ansi.StringWidth(lines[len(lines)-1]) > size[0] {
					t.Fatalf("the help bar was cut: %q", bar)
				}
				for _, w := range d.want {
					if !strings.Contains(bar, w) {
						t.Errorf("the help bar lacks %q: %q", w, bar)
					}
				}
				if forms[d.name] && !strings.HasPrefix(bar, "esc ") {
					t.Errorf("a form's way out is not its first key: %q", bar)
				}
			})
		}
	}
}

// ? shows every key of the screen and of the console, in columns that fit
// the terminal: none is cut off at its right edge.
func TestFullHelpShowsEveryColumn(t *testing.T) {
	// Screens that take every key (a dialog, a text field) have no ?.
	typing := map[string]bool{"member_menu": true, "confirm": true, "grant": true, "key_menu": true, "filtering": true, "prompt": true,
		"bulk": true, "invite_email": true, "invite_from_project": true, "link_dialog": true, "portal_form": true,
		"portal_form_welcome": true, "portal_form_error": true, "resource_confirm": true, "resource_form": true, "update_composer": true,
		"token_form": true, "token_confirm": true, "token_secret": true}
	for _, size := range [][2]int{{80, 24}, {100, 30}} {
		for _, d := range helpDrives {
			if typing[d.name] {
				continue
			}
			t.Run(fmt.Sprintf("%s_%dx%d", d.name, size[0], size[1]), func(t *testing.T) {
				c := startConsoleSized(t, size[0], size[1])
				d.drive(c)
				c.key("?")
				c.waitFor("close this help")
				out := c.screen()
				requireFits(t, out, size[0], size[1])
				want := []string{"shift+tab previous section", "1-6 sections", "q quit"}
				if forms[d.name] { // tab moves between the fields
					want = []string{"tab next field", "1-6 sections", "q quit"}
				}
				if d.name == "projects" || d.name == "members" {
					want = append(want, "home/end", "a activity")
				}
				for _, w := range want {
					if !strings.Contains(words(out), w) {
						t.Errorf("the help lacks %q:\n%s", w, out)
					}
				}
				if forms[d.name] && strings.Contains(words(out), "tab next section") {
					t.Errorf("the help gives tab to the sections and to the fields:\n%s", out)
				}
			})
		}
	}
}

// A status message longer than a line wraps into the rows the screen's
// body gives up for it, at word boundaries, and nothing is cut.
func TestLongStatusWrapsIntoFreeRows(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {100, 30}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			c := startConsoleSized(t, size[0], size[1])
			c.key("i")
			c.waitFor("Send invitation")
			c.key("newclient@acme.test", "ctrl+s")
			c.waitFor("Invited")
			out := c.screen()
			requireFits(t, out, size[0], size[1])
			if want := "Invited newclient@acme.test as client to Website Redesign: the email with an Open portal button is on its way."; !strings.Contains(words(out), want) {
				t.Fatalf("the status is not whole:\n%s", out)
			}
			if !strings.Contains(out, "Send invitation") {
				t.Fatalf("the form went:\n%s", out)
			}
		})
	}
}

// The Invite form never traps the keyboard nor swallows a key: reached with
// its section key it is not being edited, and says so, so that 3 and tab go
// on to the next sections as everywhere; enter edits it, marks the field
// that has the keyboard, and shows esc, its way out, first in the help bar;
// a digit types into a text field, and goes to the sections on a choice;
// after esc a letter is answered in the status line, neither typed unseen
// nor passed to the screen behind.
func TestInviteFormNeverTrapsOrSwallowsKeys(t *testing.T) {
	for _, size := range [][2]int{{100, 30}, {80, 24}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			c := startConsoleSized(t, size[0], size[1])
			c.key("2")
			c.waitFor("Not editing")
			c.key("3")
			c.waitFor("newcomer@acme.test")
			c.key("shift+tab")
			c.waitFor("Not editing")
			c.key("tab")
			c.waitFor("g grant")
			c.key("shift+tab")
			c.waitFor("Not editing")
			c.key("enter")
			c.waitFor("Editing · esc leaves the form")
			c.key("ann3@x.test", "tab", "tab") // on Role: not a text field
			c.waitFor("› Role")
			c.key("4")
			c.waitFor("invite_portal")
			c.key("2")
			c.waitFor("› Role")
			c.key("esc")
			c.waitFor("Not editing")
			c.key("g")
			c.waitFor("not being edited")
			out := c.screen()
			if bar := strings.TrimSpace(out[strings.LastIndexByte(out, '\n'):]); !strings.HasPrefix(bar, "enter edit form") {
				t.Errorf("the help bar after esc: %q", bar)
			}
			for _, want := range []string{"Email         > ann3@x.test", "Not editing"} {
				if !strings.Contains(out, want) {
					t.Errorf("the form lacks %q:\n%s", want, out)
				}
			}

			for tabs, field := range map[int]string{0: "Email", 2: "Role", 4: "Send invitation"} {
				c = startConsoleSized(t, size[0], size[1])
				c.key("2")
				c.waitFor("Not editing")
				c.key("enter")
				c.waitFor("Editing")
				for range tabs {
					c.key("tab")
				}
				out = c.screen()
				if bar := strings.TrimSpace(out[strings.LastIndexByte(out, '\n'):]); !strings.HasPrefix(bar, "esc leave form") {
					t.Errorf("the help bar on %s: %q", field, bar)
				}
				if !strings.Contains(out, "› "+field) && !strings.Contains(out, "›               │  Send invitation") {
					t.Errorf("%s is not marked:\n%s", field, out)
				}
			}
		})
	}
}

// The portal form follows the rule of every form: esc, its way out, first
// in the help bar; the field with the keyboard marked; on a choice, a digit
// goes to the sections (the form stays as it was, for when Settings is
// opened again) instead of vanishing.
func TestPortalFormPassesSectionKeysOnChoices(t *testing.T) {
	c := startConsole(t)
	c.key("6")
	c.waitFor("Disclosure")
	c.key("enter")
	c.waitFor("Welcome text")
	c.key("tab", "tab") // Access
	c.waitFor("› Access")
	c.key("1")
	c.waitFor("Internal Ops")
	c.key("6")
	c.waitFor("› Access")
	out := c.screen()
	if bar := strings.TrimSpace(out[strings.LastIndexByte(out, '\n'):]); !strings.HasPrefix(bar, "esc cancel") {
		t.Errorf("the help bar: %q", bar)
	}
}

// The newest audit events are always at hand: with the selection on the
// newest, the list follows new ones; with it further down, a marker counts
// those that arrived above, and g goes to them. enter shows an event whole.
func TestAuditShowsNewEventsAtOnce(t *testing.T) {
	start := func(t *testing.T) (*console, func(string)) {
		c := startConsole(t)
		org := storetest.Must(c.env.Svc.Orgs(c.env.Ctx, c.env.Admin))[0]
		c.env.FillAudit(org.ID, 60)
		c.key("5")
		c.waitFor("member59@x.test")
		return c, func(name string) { storetest.Must(c.env.Svc.CreateProject(c.env.Ctx, c.env.Admin, org.ID, name)) }
	}
	t.Run("on the newest", func(t *testing.T) {
		c, newProject := start(t)
		newProject("Alpha")
		c.waitFor("Alpha")
		c.key("enter")
		c.waitFor("Event ")
		if out := words(c.screen()); !strings.Contains(out, "Target Alpha") {
			t.Fatalf("enter showed another event than the newest: %s", out)
		}
	})
	t.Run("further down", func(t *testing.T) {
		c, newProject := start(t)
		c.key("end")
		for _, name := range []string{"Beta", "Gamma", "Delta"} {
			newProject(name)
		}
		c.waitFor("3 new events above")
		c.key("g", "enter")
		c.waitFor("Event ")
		if out := words(c.screen()); !strings.Contains(out, "Target Delta") {
			t.Fatalf("g, enter did not show the newest event: %s", out)
		}
	})
}

// enter on an audit event shows all of it, the detail whole, at 100×30
// and 80×24: who, from where (the key's fingerprint for SSH, the address
// for the web), what, on which portal.
func TestAuditEventShowsItsWholeDetail(t *testing.T) {
	for _, size := range [][2]int{{100, 30}, {80, 24}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			c := startConsoleSized(t, size[0], size[1])
			owner := core.UserActor(c.env.User("owner@northwind.test"), "ssh:SHA256:ZmluZ2VycHJpbnQgb2YgdGhlIG93bmVyJ3Mga2V5IGhlcmU")
			title := "Website Redesign — the long title an agency gives its biggest client's portal, with every word of it kept"
			ref := storetest.Must(c.env.Svc.PortalBySlug(c.env.Ctx, c.env.Admin, "website-redesign"))
			storetest.Must(c.env.Svc.SetPortal(c.env.Ctx, owner, ref.Project.ID, core.PortalSettings{
				Title: title, Slug: "website-redesign", Access: core.AccessClosed}))
			c.key("5")
			c.waitFor("portal.updated")
			c.key("enter")
			c.waitFor("Event ")
			out := c.screen()
			requireFits(t, out, size[0], size[1])
			for _, want := range []string{"When Mon 2 Mar 2026 09:30:00 UTC", "Who owner@northwind.test", "Action portal.updated",
				"Target website-redesign", "Portal /p/website-redesign", "Source ssh", "Key SHA256:ZmluZ2VycHJpbnQgb2YgdGhlIG93bmVyJ3Mga2V5IGhlcmU",
				"title " + strconv.Quote(title) + ", access closed"} {
				if !strings.Contains(words(out), want) {
					t.Errorf("the event lacks %q:\n%s", want, out)
				}
			}

			c = startConsoleSized(t, size[0], size[1])
			c.key("5")
			c.waitFor("access.requested")
			c.key("enter") // the newest: the demo's access request
			c.waitFor("Event ")
			if out := words(c.screen()); !strings.Contains(out, "Source web Address 198.51.100.23") {
				t.Errorf("the request lacks its address: %s", out)
			}
		})
	}
}

// The audit list names each event's portal at 100 columns.
func TestAuditListShowsThePortal(t *testing.T) {
	c := startConsole(t)
	c.key("5")
	c.waitFor("link.deactivated")
	out := c.screen()
	if header := rowOf(t, out, "When"); !slices.Contains(header, "Portal") {
		t.Fatalf("columns %q", header)
	}
	if row := rowOf(t, out, "link.deactivated"); !slices.Contains(row, "/p/website-redesign") {
		t.Fatalf("link.deactivated: %q", row)
	}
}

// A manager's console fits 80×24 and 100×30 on every screen, as the
// admin's does: nothing wider than the terminal, nothing cut at its edge.
func TestEveryScreenFitsForAManager(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {100, 30}} {
		for _, d := range helpDrives {
			if d.name == "caught" || ownersOnly[d.name] { // the catcher's inbox is the instance admin's
				continue
			}
			t.Run(fmt.Sprintf("%s_%dx%d", d.name, size[0], size[1]), func(t *testing.T) {
				c := startConsoleAs(t, size[0], size[1], "mia@northwind.test")
				d.drive(c)
				requireFits(t, c.screen(), size[0], size[1])
			})
		}
	}
}
