package core_test

import (
	"fmt"
	"testing"

	"latchkey/core"
	"latchkey/storage"
)

// BenchmarkRedeemLookup is the read side of a redemption (the landing page's
// lookup: HMAC, index, link, portal, project, organization). Compare
// links=1000 with links=1000000: the target is within 2×.
func BenchmarkRedeemLookup(b *testing.B) {
	for _, n := range []int{1000, 1000000} {
		b.Run(fmt.Sprintf("links=%d", n), func(b *testing.B) {
			e := newEnv(b)
			w := e.world("Bench")
			tokens := e.FillLinks(w.closed, n)
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				if _, err := e.Svc.Landing(e.Ctx, tokens[i%len(tokens)], ""); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRedeem is a whole redemption: account, membership, access,
// session, use count and audit in one (not fsynced) transaction.
func BenchmarkRedeem(b *testing.B) {
	e := newEnv(b)
	w := e.world("Bench")
	tokens := e.FillLinks(w.closed, 1000)
	for i := 0; b.Loop(); i++ {
		if _, err := e.Svc.Redeem(e.Ctx, tokens[i%len(tokens)], visitor); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGenerateLink rotates one person's link: the old one is replaced,
// a new one created and its email queued.
func BenchmarkGenerateLink(b *testing.B) {
	e := newEnv(b)
	w := e.world("Bench")
	e.clientWithLink(w, w.closed, "c@x.test")
	for b.Loop() {
		if _, err := e.Svc.GenerateLink(e.Ctx, w.ownerA, w.closed.ID, "c@x.test"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkInvite invites a new email with a portal each time.
func BenchmarkInvite(b *testing.B) {
	e := newEnv(b)
	w := e.world("Bench")
	for i := 0; b.Loop(); i++ {
		in := core.InviteInput{OrgID: w.org.ID, Email: fmt.Sprintf("i%d@x.test", i), Role: core.RoleClient, PortalID: w.closed.ID}
		if _, err := e.Svc.Invite(e.Ctx, w.ownerA, in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRedeemPages redeems links among 1,000,000, each in its own
// commit, and reports the pages each redemption writes: with fsync on,
// pages per commit are what a redemption costs.
func BenchmarkRedeemPages(b *testing.B) {
	e := newEnv(b)
	w := e.world("Bench")
	bb, ok := e.Store.(*storage.Store)
	if !ok {
		b.Skip("pages are bbolt's measure")
	}
	tokens := e.FillLinks(w.closed, 1000000)
	before := bb.Stats()
	n := 0
	for i := 0; b.Loop(); i++ {
		if _, err := e.Svc.Redeem(e.Ctx, tokens[i%len(tokens)], visitor); err != nil {
			b.Fatal(err)
		}
		n++
	}
	after := bb.Stats()
	b.ReportMetric(float64(after.PagesWritten-before.PagesWritten)/float64(n), "pages/op")
}
