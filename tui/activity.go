package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"latchkey/core"
)

// activity charts a portal's redemptions and access requests per day over
// the last 30 days.
type activity struct {
	base
	portal core.Portal
	days   []core.DayActivity
	err    error
	loaded bool
}

type activityMsg struct {
	portal uint64
	days   []core.DayActivity
	err    error
}

const activityDays = 30

func newActivity(c *Common, p core.Portal) *activity { return &activity{base: base{c: c}, portal: p} }

func (v *activity) load() tea.Cmd {
	ctx, svc, a, id := v.c.Ctx, v.c.Service, v.c.Actor, v.portal.ID
	return work("Counting activity", func() tea.Msg {
		days, err := svc.Activity(ctx, a, id, activityDays)
		return activityMsg{id, days, err}
	})
}

func (v *activity) Init() tea.Cmd            { return v.load() }
func (v *activity) Title() string            { return "Activity of /p/" + v.portal.Slug }
func (v *activity) ShortHelp() []key.Binding { return nil }

func (v *activity) Update(msg tea.Msg) (screen, tea.Cmd) {
	v.size(msg)
	switch msg := msg.(type) {
	case refreshMsg:
		return v, v.load()
	case activityMsg:
		if msg.portal == v.portal.ID {
			v.days, v.err, v.loaded = msg.days, msg.err, true
		}
	}
	return v, nil
}

// bars draws one row of vertical bars, height rows tall, one column per day.
func bars(values []int, height int) []string {
	top := 0
	for _, x := range values {
		top = max(top, x)
	}
	levels := []rune(" ▁▂▃▄▅▆▇█")
	rows := make([]string, height)
	for r := 0; r < height; r++ {
		var b strings.Builder
		for _, x := range values {
			fill := 0
			if top > 0 {
				fill = x * height * 8 / top // eighths of the whole height
			}
			level := fill - (height-1-r)*8
			switch {
			case level >= 8:
				b.WriteRune('█')
			case level <= 0:
				if r == height-1 && x > 0 {
					b.WriteRune('▁')
				} else {
					b.WriteRune(' ')
				}
			default:
				b.WriteRune(levels[level])
			}
			b.WriteRune(' ')
		}
		rows[r] = b.String()
	}
	return rows
}

func (v *activity) chart(title string, pick func(core.DayActivity) int) string {
	st := v.c.Styles
	values := make([]int, len(v.days))
	total, peak := 0, 0
	for i, d := range v.days {
		values[i] = pick(d)
		total += values[i]
		peak = max(peak, values[i])
	}
	height := max(min((v.h-8)/2, 6), 2)
	out := []string{st.Label.Render(title) + st.Muted.Render(fmt.Sprintf("  %d in %d days, at most %d a day", total, activityDays, peak))}
	for _, row := range bars(values, height) {
		out = append(out, st.Accent.Render(row))
	}
	return strings.Join(out, "\n")
}

func (v *activity) View() string {
	st := v.c.Styles
	switch {
	case v.err != nil:
		return st.Bad.Render(core.Describe(v.err))
	case !v.loaded:
		return st.Muted.Render("Counting…")
	}
	first, last := v.days[0].Day.Format("2 Jan"), v.days[len(v.days)-1].Day.Format("2 Jan")
	axis := st.Muted.Render(first + strings.Repeat(" ", max(2*len(v.days)-len(first)-len(last)-1, 1)) + last)
	return strings.Join([]string{
		v.chart("Link redemptions (Open portal)", func(d core.DayActivity) int { return d.Redemptions }), axis, "",
		v.chart("Access requests", func(d core.DayActivity) int { return d.Requests }), axis,
	}, "\n")
}
