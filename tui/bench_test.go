package tui

import (
	"runtime"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"latchkey/core"
	"latchkey/storage/storetest"
)

// BenchmarkMembersScreen: an organization of 10,000 members with 1,000,000
// audit events. "open" is the members screen taking its loaded data and
// drawing; "filter" is one keystroke in its filter, redrawn. Target: each
// under 16 ms, and the process under 200 MB.
//
//	go test ./tui -run '^$' -bench MembersScreen
func BenchmarkMembersScreen(b *testing.B) {
	env := storetest.New(b)
	org := storetest.Must(env.Svc.CreateOrg(env.Ctx, env.Admin, core.NewOrg{Name: "Big Agency", OwnerEmail: "owner@big.test"}))
	proj := storetest.Must(env.Svc.CreateProject(env.Ctx, env.Admin, org.ID, "Everything"))
	portal := storetest.Must(env.Svc.SetPortal(env.Ctx, env.Admin, proj.ID, core.PortalSettings{Slug: "everything", Title: "Everything", Access: core.AccessClosed}))
	env.FillMembers(portal, 10000)
	env.FillAudit(org.ID, 1000000)
	people := storetest.Must(env.Svc.PortalMembers(env.Ctx, env.Admin, portal.ID))
	if len(people) != 10000 {
		b.Fatalf("%d people", len(people))
	}
	c := &Common{Deps: Deps{Service: env.Svc, Actor: env.Admin}, Width: 100, Height: 30, IsDark: true, Styles: newStyles(true), Org: org}
	size := tea.WindowSizeMsg{Width: 98, Height: 24}
	loaded := membersMsg{portal: portal.ID, items: people}
	heap := func(b *testing.B) {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "MB-heap")
	}

	b.Run("open", func(b *testing.B) {
		for b.Loop() {
			m := newMembers(c, portal, proj)
			m.Update(size)
			m.Update(loaded)
			_ = m.View()
		}
		heap(b)
	})
	b.Run("filter", func(b *testing.B) {
		m := newMembers(c, portal, proj)
		m.Update(size)
		m.Update(loaded)
		m.Update(tea.KeyPressMsg{Code: '/', Text: "/"})
		m.Update(tea.KeyPressMsg{Code: '9', Text: "9"})
		for i := 0; b.Loop(); i++ {
			if i%2 == 0 {
				m.Update(tea.KeyPressMsg{Code: '9', Text: "9"})
			} else {
				m.Update(tea.KeyPressMsg{Code: tea.KeyBackspace})
			}
			_ = m.View()
		}
		heap(b)
	})
}

// BenchmarkFirstFrame is the console's own share of an SSH session's time
// to its first frame: building the console for a manager of the demo
// organization, loading its projects screen at 100x30 and drawing it once.
//
//	go test ./tui -run '^$' -bench FirstFrame -benchmem
func BenchmarkFirstFrame(b *testing.B) {
	env := storetest.New(b)
	storetest.Must(env.Svc.LoadDemo(env.Ctx))
	orgs := storetest.Must(env.Svc.Orgs(env.Ctx, env.Admin))
	var mia core.User
	for _, m := range storetest.Must(env.Svc.Members(env.Ctx, env.Admin, orgs[0].ID)) {
		if m.User.Email == "mia@northwind.test" {
			mia = m.User
		}
	}
	if mia.ID == 0 {
		b.Fatal("no mia@northwind.test in the demo")
	}
	actor := core.UserActor(mia, "bench")
	for b.Loop() {
		a := New(Deps{Service: env.Svc, Actor: actor, Where: "ssh"})
		a.SetSize(100, 30)
		a.Preload(env.Ctx)
		if v := a.View(); !strings.Contains(v.Content, "/p/website-redesign") {
			b.Fatalf("first frame without the projects:\n%s", v.Content)
		}
		a.Close()
	}
}
