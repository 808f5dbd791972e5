package core_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
	"testing"

	"latchkey/core"
	"latchkey/storage/storetest"
)

// TestRedeemMatchesModel runs random sequences of link operations against
// the real service and a tiny model: redeem(t) succeeds exactly when t is
// the current active token of its (portal, email).
func TestRedeemMatchesModel(t *testing.T) {
	e := newEnv(t, storetest.NoRateLimits) // thousands of requests to the same portals
	w := e.world("Model")
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0x1a7c4))
	const sequences, steps = 1000, 24
	for seq := 0; seq < sequences; seq++ {
		if err := runSequence(e, w, rng, seq, steps); err != nil {
			t.Fatalf("sequence %d (seed %d): %v", seq, seed, err)
		}
	}
}

type pe struct {
	portal int
	email  string
}

type model struct {
	active map[pe]string   // current active token
	access map[pe]bool     // account with portal access
	known  map[pe]bool     // ever had a link
	issued map[string]pe   // every token ever issued
	member map[string]bool // email is a member of the organization
}

func runSequence(e *env, w world, rng *rand.Rand, seq, steps int) error {
	proj := must(e.Svc.CreateProject(e.Ctx, w.ownerA, w.org.ID, fmt.Sprintf("P%d", seq)))
	portal := must(e.Svc.SetPortal(e.Ctx, w.ownerA, proj.ID, core.PortalSettings{Slug: fmt.Sprintf("seq-%d", seq), Title: "T", Access: core.AccessClosed}))
	portals := []core.Portal{portal, w.closed, w.email}
	emails := []string{fmt.Sprintf("a%d@x.test", seq), fmt.Sprintf("b%d@x.test", seq)}
	m := model{active: map[pe]string{}, access: map[pe]bool{}, known: map[pe]bool{}, issued: map[string]pe{}, member: map[string]bool{}}
	issue := func(k pe, token string) {
		m.active[k], m.known[k], m.issued[token] = token, true, k
	}
	for step := 0; step < steps; step++ {
		k := pe{rng.IntN(len(portals)), emails[rng.IntN(len(emails))]}
		p := portals[k.portal]
		switch op := rng.IntN(8); op {
		case 0: // invite with the portal
			res, err := e.Svc.Invite(e.Ctx, w.managerA, core.InviteInput{OrgID: w.org.ID, Email: k.email, Role: core.RoleClient, PortalID: p.ID, Replace: true})
			if err != nil {
				return fmt.Errorf("step %d invite: %v", step, err)
			}
			issue(k, res.Link.Token)
		case 1: // generate new magic link
			il, err := e.Svc.GenerateLink(e.Ctx, w.managerA, p.ID, k.email)
			if ok := m.access[k] || m.known[k]; ok != (err == nil) {
				return fmt.Errorf("step %d generate: err %v, model allows %v", step, err, ok)
			}
			if err == nil {
				issue(k, il.Token)
			}
		case 2: // deactivate
			err := e.Svc.DeactivateLink(e.Ctx, w.managerA, p.ID, k.email)
			if _, ok := m.active[k]; ok != (err == nil) {
				return fmt.Errorf("step %d deactivate: err %v, model has active %v", step, err, ok)
			}
			delete(m.active, k)
		case 3: // remove portal access
			err := e.Svc.RemoveAccess(e.Ctx, w.managerA, p.ID, k.email)
			_, hasActive := m.active[k]
			if ok := m.access[k] || hasActive; ok != (err == nil) {
				return fmt.Errorf("step %d remove: err %v, model allows %v", step, err, ok)
			}
			delete(m.active, k)
			m.access[k] = false
		case 4: // Send access link on the closed portal
			res, err := e.Svc.RequestAccess(e.Ctx, p.Slug, k.email, visitor)
			if err != nil {
				return fmt.Errorf("step %d access form: %v", step, err)
			}
			_, hasActive := m.active[k]
			entitled := m.access[k] || hasActive || p.Access == core.AccessEmail
			if entitled != (res.Outcome == core.OutcomeLinkSent) {
				return fmt.Errorf("step %d access form: outcome %v, model entitled %v", step, res.Outcome, entitled)
			}
			if entitled {
				tok := e.LastToken(k.email, core.MailAccessLink)
				if hasActive && tok != m.active[k] {
					return fmt.Errorf("step %d access form sent a new link although one was active", step)
				}
				issue(k, tok)
			}
		case 5: // remove the person from the organization
			var id uint64
			e.View(func(tx core.Tx) error {
				if u, err := tx.UserByEmail(k.email); err == nil {
					if _, err := tx.Member(w.org.ID, u.ID); err == nil {
						id = u.ID
					}
				}
				return nil
			})
			if (id != 0) != m.member[k.email] {
				return fmt.Errorf("step %d: member %s in store %v, model %v", step, k.email, id != 0, m.member[k.email])
			}
			if id == 0 {
				continue
			}
			if err := e.Svc.RemoveMember(e.Ctx, w.managerA, w.org.ID, id); err != nil {
				return fmt.Errorf("step %d remove member: %v", step, err)
			}
			m.member[k.email] = false
			for i := range portals {
				delete(m.active, pe{i, k.email})
				m.access[pe{i, k.email}] = false
			}
		default: // redeem a random token ever issued in this sequence
			if len(m.issued) == 0 {
				continue
			}
			tokens := make([]string, 0, len(m.issued))
			for tok := range m.issued {
				tokens = append(tokens, tok)
			}
			sort.Strings(tokens)
			tok := tokens[rng.IntN(len(tokens))]
			tk := m.issued[tok]
			_, err := e.Svc.Redeem(e.Ctx, tok, visitor)
			want := m.active[tk] == tok
			if want != (err == nil) {
				return fmt.Errorf("step %d redeem: err %v, model says active %v", step, err, want)
			}
			if err != nil && !errors.Is(err, core.ErrLinkInactive) {
				return fmt.Errorf("step %d redeem: unexpected error %v", step, err)
			}
			if err == nil {
				m.access[tk] = true
				m.member[tk.email] = true
			}
		}
	}
	// Every token ever issued: the landing page agrees with the model.
	for tok, k := range m.issued {
		_, err := e.Svc.Landing(e.Ctx, tok, "")
		if active := m.active[k] == tok; active != (err == nil) {
			return fmt.Errorf("landing of a token: err %v, model active %v", err, active)
		}
	}
	return nil
}

// TestConcurrentRedeemAndRotate: redeemers and rotators race on one link.
// Afterwards only the newest token redeems, the links form one chain of
// replacements (never two active at once), and no session opened by an
// older link survives.
func TestConcurrentRedeemAndRotate(t *testing.T) {
	e := newEnv(t, storetest.GroupCommit)
	w := e.world("Race")
	email := "c@x.test"
	first := e.clientWithLink(w, w.closed, email)

	var mu sync.Mutex
	tokens := []string{first}
	current := func() string {
		mu.Lock()
		defer mu.Unlock()
		return tokens[len(tokens)-1]
	}
	const redeemers, rotators, rounds = 32, 4, 25
	var wg sync.WaitGroup
	errs := make(chan error, redeemers+rotators)
	for i := 0; i < rotators; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < rounds; j++ {
				il, err := e.Svc.GenerateLink(e.Ctx, w.managerA, w.closed.ID, email)
				if err != nil {
					errs <- fmt.Errorf("rotate: %w", err)
					return
				}
				mu.Lock()
				tokens = append(tokens, il.Token)
				mu.Unlock()
			}
		}()
	}
	for i := 0; i < redeemers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < rounds; j++ {
				_, err := e.Svc.Redeem(e.Ctx, current(), visitor)
				if err != nil && !errors.Is(err, core.ErrLinkInactive) {
					errs <- fmt.Errorf("redeem: %w", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	var links []core.Link
	e.View(func(tx core.Tx) (err error) { links, err = tx.Links(w.closed.ID); return })
	if len(links) != 1+rotators*rounds {
		t.Fatalf("%d links, want %d", len(links), 1+rotators*rounds)
	}
	newest := links[len(links)-1]
	for i, l := range links[:len(links)-1] {
		if l.State != core.LinkReplaced || l.ReplacedBy != links[i+1].ID {
			t.Fatalf("link %d: state %s replaced by %d, want replaced by %d", l.ID, l.State, l.ReplacedBy, links[i+1].ID)
		}
	}
	if newest.State != core.LinkActive {
		t.Fatalf("newest link is %s", newest.State)
	}
	e.assertOneActivePerPortalEmail()
	var sessions []core.Session
	e.View(func(tx core.Tx) (err error) { sessions, err = tx.SessionsOfUser(e.User(email).ID); return })
	for _, s := range sessions {
		if s.LinkID != 0 && s.LinkID != newest.ID {
			t.Fatalf("a session of replaced link %d survived", s.LinkID)
		}
	}
	// Exactly one token still redeems, and it is the newest link's.
	redeemed := 0
	for _, tok := range tokens {
		_, err := e.Svc.Redeem(e.Ctx, tok, visitor)
		if err == nil {
			redeemed++
		} else if !errors.Is(err, core.ErrLinkInactive) {
			t.Fatal(err)
		}
	}
	var after core.Link
	e.View(func(tx core.Tx) (err error) { after, err = tx.Link(newest.ID); return })
	if redeemed != 1 || after.UseCount != newest.UseCount+1 {
		t.Fatalf("%d tokens redeem (newest link used %d→%d), want exactly the newest", redeemed, newest.UseCount, after.UseCount)
	}
}
