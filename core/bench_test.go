package core_test

import (
	"crypto/rand"
	"fmt"
	"testing"

	"latchkey/core"
)

// fillLinks stores n active links for distinct emails in portal p, in large
// transactions, and returns up to 1,000 of their tokens.
func (e *env) fillLinks(p core.Portal, n int) []string {
	var sample []string
	const perTx = 20000
	for start := 0; start < n; start += perTx {
		err := e.store.Update(e.ctx, func(tx core.Tx) error {
			for i := start; i < start+perTx && i < n; i++ {
				tok, err := core.NewToken(rand.Reader)
				if err != nil {
					return err
				}
				l := core.Link{OrgID: p.OrgID, PortalID: p.ID, Email: fmt.Sprintf("bulk%d@x.test", i), Role: core.RoleClient,
					State: core.LinkActive, Lookup: e.keys.Lookup(tok), Sealed: e.keys.Seal(tok, "link"), CreatedAt: e.clock.Now(), CreatedBy: "bench"}
				if err := tx.PutLink(&l); err != nil {
					return err
				}
				if i%(n/1000+1) == 0 && len(sample) < 1000 {
					sample = append(sample, tok)
				}
			}
			return nil
		})
		if err != nil {
			e.t.Fatal(err)
		}
	}
	return sample
}

// BenchmarkRedeemLookup is the read side of a redemption (the landing page's
// lookup: HMAC, index, link, portal, project, organization). Compare
// links=1000 with links=1000000: the target is within 2×.
func BenchmarkRedeemLookup(b *testing.B) {
	for _, n := range []int{1000, 1000000} {
		b.Run(fmt.Sprintf("links=%d", n), func(b *testing.B) {
			e := newEnv(b)
			w := e.world("Bench")
			tokens := e.fillLinks(w.closed, n)
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				if _, err := e.svc.Landing(e.ctx, tokens[i%len(tokens)]); err != nil {
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
	tokens := e.fillLinks(w.closed, 1000)
	for i := 0; b.Loop(); i++ {
		if _, err := e.svc.Redeem(e.ctx, tokens[i%len(tokens)], visitor); err != nil {
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
		if _, err := e.svc.GenerateLink(e.ctx, w.ownerA, w.closed.ID, "c@x.test"); err != nil {
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
		if _, err := e.svc.Invite(e.ctx, w.ownerA, in); err != nil {
			b.Fatal(err)
		}
	}
}
