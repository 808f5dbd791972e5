package tui

import (
	"fmt"
	"latchkey/tui/components/status"
	netmail "net/mail"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/progress"
	"charm.land/bubbles/v2/textarea"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"latchkey/core"
)

// bulkLine is one pasted line, parsed.
type bulkLine struct {
	n           int // line number
	raw         string
	name, email string
	problem     string // why the line cannot be invited
}

// parseBulk reads one address per line, bare or as "Name <email>".
func parseBulk(text string) []bulkLine {
	var out []bulkLine
	seen := map[string]int{}
	for i, raw := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		line := strings.TrimSpace(raw)
		if line == "" {
			continue
		}
		bl := bulkLine{n: i + 1, raw: line}
		addr := line
		if strings.ContainsAny(line, "<>") {
			a, err := netmail.ParseAddress(line)
			if err != nil {
				bl.problem = "not an address like Ann Lee <ann@example.com>"
				out = append(out, bl)
				continue
			}
			bl.name, addr = a.Name, a.Address
		}
		email, err := core.NormalizeEmail(addr)
		if err == nil {
			err = core.CheckName(bl.name) // as Invite will, so that the preview does not promise what fails
		}
		switch {
		case err != nil:
			bl.problem = core.Describe(err)
		case seen[email] != 0:
			bl.problem = fmt.Sprintf("the same address as line %d", seen[email])
		default:
			bl.email = email
			seen[email] = bl.n
		}
		out = append(out, bl)
	}
	return out
}

type bulkStage int

const (
	bulkEditing bulkStage = iota
	bulkPreview
	bulkRunning
	bulkDone
)

// bulkInvite invites a pasted list: first a preview that marks the lines it
// cannot use, then a progress bar; people already invited are skipped, so
// running it again is safe.
type bulkInvite struct {
	base
	portal   *core.ProjectSummary
	area     textarea.Model
	stage    bulkStage
	lines    []bulkLine
	valid    []bulkLine
	roles    []core.Role
	role     int
	bar      progress.Model
	next     int
	invited  int
	skipped  []string
	failed   []string
	canceled bool
}

type bulkStepMsg struct {
	i      int
	res    core.InviteResult
	err    error
	portal uint64
}

func newBulkInvite(c *Common, portal *core.ProjectSummary) *bulkInvite {
	b := &bulkInvite{base: base{c: c}, portal: portal, roles: []core.Role{core.RoleClient, core.RoleMember, core.RoleGuest}}
	b.area = textarea.New()
	b.area.Placeholder = "ann@example.com\nBen Ode <ben@example.com>\n…"
	b.area.ShowLineNumbers = true
	b.area.SetStyles(textarea.DefaultStyles(c.IsDark))
	b.bar = progress.New(progress.WithDefaultBlend())
	return b
}

func (b *bulkInvite) Init() tea.Cmd { return b.area.Focus() }
func (b *bulkInvite) Title() string {
	if b.portal != nil {
		return "Bulk invite to /p/" + b.portal.Portal.Slug
	}
	return "Bulk invite (no portal)"
}
func (b *bulkInvite) Capturing() bool { return b.stage == bulkEditing || b.stage == bulkRunning }
func (b *bulkInvite) Dirty() bool {
	return b.stage != bulkDone && strings.TrimSpace(b.area.Value()) != ""
}

var (
	previewKey = bind("ctrl+s", "ctrl+s", "check the list")
	runKey     = bind("enter", "enter", "send the invitations")
	editKey    = bind("e", "e", "edit the list")
)

func (b *bulkInvite) ShortHelp() []key.Binding {
	switch b.stage {
	case bulkEditing:
		return []key.Binding{cancelKey, previewKey} // the way out first, as in every form
	case bulkPreview:
		return []key.Binding{runKey, choiceKey, editKey}
	case bulkRunning:
		return []key.Binding{bind("esc", "esc", "stop")}
	}
	return []key.Binding{bind("enter", "enter", "done")}
}

func (b *bulkInvite) Update(msg tea.Msg) (screen, tea.Cmd) {
	if b.size(msg) {
		b.area.SetWidth(min(80, b.w-4))
		b.area.SetHeight(max(b.h-6, 4))
		b.bar.SetWidth(min(60, b.w-10))
		return b, nil
	}
	switch msg := msg.(type) {
	case restyleMsg:
		b.area.SetStyles(textarea.DefaultStyles(b.c.IsDark))
	case progress.FrameMsg:
		var cmd tea.Cmd
		b.bar, cmd = b.bar.Update(msg)
		return b, cmd
	case bulkStepMsg:
		return b, b.step(msg)
	case tea.KeyPressMsg:
		switch b.stage {
		case bulkEditing:
			switch msg.String() {
			case "esc":
				return b, closeSelf("Nobody was invited.")
			case "ctrl+s":
				b.lines = parseBulk(b.area.Value())
				b.valid = nil
				for _, l := range b.lines {
					if l.problem == "" {
						b.valid = append(b.valid, l)
					}
				}
				if len(b.lines) == 0 {
					return b, status.Infof("Paste one email address per line first.")
				}
				b.stage = bulkPreview
				b.area.Blur()
				return b, nil
			}
		case bulkPreview:
			switch {
			case msg.String() == "e":
				b.stage = bulkEditing
				return b, b.area.Focus()
			case key.Matches(msg, choiceKey):
				b.role = cycle(b.role, len(b.roles), msg.String() == "right")
				return b, nil
			case msg.String() == "enter":
				if len(b.valid) == 0 {
					return b, status.Infof("No line can be invited; press e to edit the list.")
				}
				b.stage = bulkRunning
				return b, b.send(0)
			}
			return b, nil
		case bulkRunning:
			if msg.String() == "esc" {
				b.canceled = true
			}
			return b, nil
		case bulkDone:
			if msg.String() == "enter" || msg.String() == "esc" {
				return b, closeSelf("")
			}
			return b, nil
		}
	}
	if b.stage == bulkEditing {
		var cmd tea.Cmd
		b.area, cmd = b.area.Update(msg)
		return b, cmd
	}
	return b, nil
}

// send invites valid[i]; each invitation is its own command and transaction.
func (b *bulkInvite) send(i int) tea.Cmd {
	l := b.valid[i]
	in := core.InviteInput{OrgID: b.c.Org.ID, Email: l.email, Name: l.name, Role: b.roles[b.role], SkipExisting: true}
	if b.portal != nil {
		in.PortalID = b.portal.Portal.ID
	}
	ctx, svc, a := b.c.Ctx, b.c.Service, b.c.Actor
	return func() tea.Msg {
		res, err := svc.Invite(ctx, a, in)
		return bulkStepMsg{i: i, res: res, err: err, portal: in.PortalID}
	}
}

func (b *bulkInvite) step(msg bulkStepMsg) tea.Cmd {
	l := b.valid[msg.i]
	switch {
	case msg.err != nil:
		b.failed = append(b.failed, l.email+": "+core.Describe(msg.err))
	case msg.res.Skipped:
		b.skipped = append(b.skipped, l.email+" ("+msg.res.Reason+")")
	default:
		b.invited++
	}
	b.next = msg.i + 1
	cmd := b.bar.SetPercent(float64(b.next) / float64(len(b.valid)))
	if b.next >= len(b.valid) || b.canceled {
		b.stage = bulkDone
		return tea.Batch(cmd, status.Infof("Invited %d, skipped %d, failed %d.", b.invited, len(b.skipped), len(b.failed)))
	}
	return tea.Batch(cmd, b.send(b.next))
}

func (b *bulkInvite) View() string {
	st := b.c.Styles
	switch b.stage {
	case bulkEditing:
		return st.Label.Render("Paste one person per line: ann@example.com or Ann Lee <ann@example.com>") +
			"\n\n" + b.area.View()
	case bulkPreview:
		// One row per pasted line; a problem that does not fit beside its
		// line wraps under it.
		var rows [][]string
		for _, l := range b.lines {
			if l.problem != "" {
				line := fmt.Sprintf("✗ %3d  %s", l.n, fit(l.raw, 40))
				if ansi.StringWidth(line)+2+ansi.StringWidth(l.problem) <= b.w {
					rows = append(rows, []string{st.Bad.Render(line) + st.Muted.Render("  "+l.problem)})
					continue
				}
				row := []string{st.Bad.Render(line)}
				for _, p := range wrapWords(l.problem, max(b.w-7, 10)) {
					row = append(row, "       "+st.Muted.Render(p))
				}
				rows = append(rows, row)
				continue
			}
			who := l.email
			if l.name != "" {
				who = l.name + " <" + l.email + ">"
			}
			rows = append(rows, []string{st.Good.Render(fmt.Sprintf("✓ %3d  ", l.n)) + who})
		}
		room := b.h - 6
		var lines []string
		for i, row := range rows {
			left := len(rows) - i
			if room > 0 && len(lines)+len(row) > room-min(left-1, 1) { // keep a line to say how many more
				lines = append(lines, st.Muted.Render("… and "+count(left, "more line", "more lines")))
				break
			}
			lines = append(lines, row...)
		}
		var roles []string
		for i, r := range b.roles {
			if i == b.role {
				roles = append(roles, st.Selected.Render(" "+string(r)+" "))
			} else {
				roles = append(roles, st.Muted.Render(" "+string(r)+" "))
			}
		}
		head := st.Label.Render(fmt.Sprintf("%d can be invited, %d cannot.", len(b.valid), len(b.lines)-len(b.valid))) +
			"  Role: " + strings.Join(roles, "") + st.Muted.Render("  (←/→)")
		return head + "\n" + st.Muted.Render("People already invited or with access are skipped.") + "\n\n" + strings.Join(lines, "\n")
	}
	done := len(b.valid)
	if b.stage == bulkRunning {
		done = b.next
	}
	out := st.Label.Render(fmt.Sprintf("Processed %d of %d", done, len(b.valid))) + "\n\n" + b.bar.View() + "\n\n" +
		fmt.Sprintf("invited %d · skipped %d · failed %d", b.invited, len(b.skipped), len(b.failed))
	if b.stage == bulkDone {
		for _, s := range b.skipped {
			out += "\n" + st.Muted.Render("skipped "+s)
		}
		for _, f := range b.failed {
			out += "\n" + st.Bad.Render("failed "+f)
		}
		if b.canceled {
			out += "\n" + st.Warn.Render("Stopped before the end; run it again to invite the rest (done ones are skipped).")
		}
		out += "\n\n" + st.Muted.Render("enter closes")
	}
	return out
}
