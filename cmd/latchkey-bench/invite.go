package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"latchkey/core"
	"latchkey/storage"
)

// invitePortal is the demo portal the invitations are for.
const invitePortal = "website-redesign"

// apiInvites: POST /api/v1/portals/{slug}/members, an invitation with a
// portal for a new email each time, with a bearer token, over the load's
// 64 connections to latchkey (durable, rate limits off), against the same
// invitations made by 64 goroutines of this program calling core's Invite
// on a store opened as latchkey opens its own: no HTTP, no token check, no
// JSON. Both queue each invitation's email in the same transaction and
// neither delivers it while measured: latchkey's relay is one that never
// greets (see holdSMTP), so that the ratio is the API's cost and not the
// mail's (the mail scenario measures that). Each side has its own copy of
// the same data; they are measured in turns, like the landing page.
func apiInvites(ctx context.Context, c *benchConfig, _, _ *dataDir, add func(row)) error {
	coreDir, err := prepare(filepath.Join(c.dir, "invite-core"), 10000)
	if err != nil {
		return err
	}
	apiDir, err := prepare(filepath.Join(c.dir, "invite-api"), 10000)
	if err != nil {
		return err
	}
	secret, err := makeToken(apiDir.path)
	if err != nil {
		return err
	}
	syscall.Sync()

	base, err := newCoreInviter(ctx, c.conns, coreDir.path)
	if err != nil {
		return err
	}
	defer base.close()
	relay, release, err := holdSMTP()
	if err != nil {
		return err
	}
	defer release()
	lk, _, err := runLatchkey(c, apiDir, "api-invite", "--smtp-relay", "smtp://"+relay+"?starttls=off")
	if err != nil {
		return err
	}
	defer lk.stop()
	defer release() // before latchkey stops: its mail worker waits for the relay
	var n atomic.Uint64
	next := func(base string, _ int) (*http.Request, error) {
		body := `{"email":"api` + strconv.FormatUint(n.Add(1), 10) + `@invite.test","role":"client"}`
		req, err := http.NewRequest(http.MethodPost, base+"/api/v1/portals/"+invitePortal+"/members", strings.NewReader(body))
		if err == nil {
			req.Header.Set("Authorization", "Bearer "+secret)
			req.Header.Set("Content-Type", "application/json")
		}
		return req, err
	}
	ok := status(http.StatusCreated)

	// A second of warm-up each, then rounds of one slot each.
	base.run(ctx, time.Second)
	load(ctx, lk.base, c.conns, time.Second, ok, next)
	const rounds = 3
	slot := c.duration / rounds
	var viaCore, viaAPI result
	var coreCPU, serverCPU, genCPU float64
	for r := 0; r < rounds; r++ {
		stopProfile := func() {}
		if r == 0 && c.profile != "" { // the baseline runs in this process: profile it here
			if stopProfile, err = profileSelf(filepath.Join(c.profile, "core-invite.pprof")); err != nil {
				return err
			}
		}
		g0, _ := cpuSeconds(os.Getpid())
		viaCore.add(base.run(ctx, slot))
		g1, _ := cpuSeconds(os.Getpid())
		stopProfile()
		coreCPU += g1 - g0

		var profiled chan struct{}
		if r == 0 && c.profile != "" && lk.pprof != "" {
			profiled = make(chan struct{})
			go func() { defer close(profiled); lk.cpuProfile(slot, filepath.Join(c.profile, lk.name+".pprof")) }()
		}
		s0, _ := cpuSeconds(lk.cmd.Process.Pid)
		g0, _ = cpuSeconds(os.Getpid())
		viaAPI.add(load(ctx, lk.base, c.conns, slot, ok, next))
		s1, _ := cpuSeconds(lk.cmd.Process.Pid)
		g1, _ = cpuSeconds(os.Getpid())
		serverCPU, genCPU = serverCPU+s1-s0, genCPU+g1-g0
		if profiled != nil {
			<-profiled
		}
	}
	if viaCore.errs+viaAPI.errs > 0 {
		return fmt.Errorf("invitations: %d errors through core, %d through the API", viaCore.errs, viaAPI.errs)
	}
	if n := float64(len(viaCore.lat)); n > 0 {
		say("core-invite: %.0f invitations/s; CPU per invitation %.1f µs", viaCore.rate, coreCPU/n*1e6)
	}
	if n := float64(len(viaAPI.lat)); n > 0 {
		say("api-invite: %.0f req/s; CPU per request: server %.1f µs, load generator %.1f µs", viaAPI.rate, serverCPU/n*1e6, genCPU/n*1e6)
	}
	ratio := viaAPI.rate / viaCore.rate
	add(row{Scenario: "API invite with a portal POST /api/v1/portals/{slug}/members (durable, 64 connections), req/s", Measured: viaAPI.rate, Baseline: viaCore.rate, Ratio: ratio, Target: ">= 0.85", Met: ratio >= 0.85})
	return nil
}

// coreInviter is the baseline: a data directory opened as latchkey opens
// it (durable, group-committed, rate limits off), and goroutines inviting
// a new email each time through core.
type coreInviter struct {
	st    *storage.Store
	svc   *core.Service
	owner core.Actor
	in    core.InviteInput
	conns int
	n     atomic.Uint64
}

func newCoreInviter(ctx context.Context, conns int, dir string) (*coreInviter, error) {
	st, err := storage.Open(filepath.Join(dir, "latchkey.db"), storage.Options{GroupCommit: true})
	if err != nil {
		return nil, err
	}
	ci := &coreInviter{st: st, conns: conns}
	if ci.svc, err = openService(st, dir, core.Options{RateLimitsOff: true}); err != nil {
		st.Close()
		return nil, err
	}
	owner, org, err := demoOwner(ctx, ci.svc)
	if err != nil {
		st.Close()
		return nil, err
	}
	ref, err := ci.svc.PortalBySlug(ctx, owner, invitePortal)
	if err != nil {
		st.Close()
		return nil, err
	}
	ci.owner, ci.in = owner, core.InviteInput{OrgID: org.ID, PortalID: ref.Portal.ID, Role: core.RoleClient}
	return ci, nil
}

func (ci *coreInviter) close() { ci.st.Close() }

// run invites over ci.conns goroutines for d, as load drives a server.
func (ci *coreInviter) run(ctx context.Context, d time.Duration) result {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var mu sync.Mutex
	var lat []time.Duration
	errs := 0
	var wg sync.WaitGroup
	start := time.Now()
	for g := 0; g < ci.conns; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			bad := 0
			for ctx.Err() == nil {
				in := ci.in
				in.Email = "core" + strconv.FormatUint(ci.n.Add(1), 10) + "@invite.test"
				t0 := time.Now()
				if _, err := ci.svc.Invite(context.WithoutCancel(ctx), ci.owner, in); err != nil {
					bad++
					continue
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat, errs = append(lat, mine...), errs+bad
			mu.Unlock()
		}()
	}
	wg.Wait()
	var r result
	r.add(result{lat: lat, elapsed: time.Since(start), errs: errs})
	return r
}

// holdSMTP is a relay on 127.0.0.1 that accepts connections and never
// greets: latchkey's mail worker waits there for its greeting (30 s at
// most), so it delivers nothing while latchkey is measured and the mail
// stays queued, as in the baseline. release closes it and its
// connections; the messages then wait for their next attempt.
func holdSMTP() (addr string, release func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, conn)
			mu.Unlock()
		}
	}()
	var once sync.Once
	return ln.Addr().String(), func() {
		once.Do(func() {
			ln.Close()
			mu.Lock()
			defer mu.Unlock()
			for _, c := range conns {
				c.Close()
			}
		})
	}, nil
}

// makeToken makes an API token of the demo organization's owner, with
// members:write, in a prepared data directory, and returns its secret.
func makeToken(dir string) (string, error) {
	st, err := storage.Open(filepath.Join(dir, "latchkey.db"), storage.Options{NoSync: true})
	if err != nil {
		return "", err
	}
	defer st.Close()
	svc, err := openService(st, dir, core.Options{})
	if err != nil {
		return "", err
	}
	ctx := context.Background()
	owner, org, err := demoOwner(ctx, svc)
	if err != nil {
		return "", err
	}
	_, secret, err := svc.CreateAPIToken(ctx, owner, core.NewAPIToken{OrgID: org.ID, Name: "bench", Scopes: []core.Scope{core.ScopeMembersWrite}})
	return secret, err
}

// openService builds core on an opened store and the data directory's key
// file, as latchkey does.
func openService(st *storage.Store, dir string, o core.Options) (*core.Service, error) {
	keys, _, err := storage.LoadOrCreateKeys(filepath.Join(dir, "latchkey.key"))
	if err != nil {
		return nil, err
	}
	if err := st.BindKeys(keys); err != nil {
		return nil, err
	}
	return core.New(core.Config{Store: st, Keys: keys, PublicURL: "http://127.0.0.1", Logger: slog.New(slog.DiscardHandler), Options: o})
}

// demoOwner is the demo organization and its owner, as an actor.
func demoOwner(ctx context.Context, svc *core.Service) (core.Actor, core.Org, error) {
	admin := core.AdminActor("bench")
	orgs, err := svc.Orgs(ctx, admin)
	if err != nil || len(orgs) == 0 {
		return core.Actor{}, core.Org{}, fmt.Errorf("the demo organization: %v", err)
	}
	members, err := svc.Members(ctx, admin, orgs[0].ID)
	if err != nil {
		return core.Actor{}, core.Org{}, err
	}
	for _, m := range members {
		if m.Member.Role == core.RoleOwner {
			return core.UserActor(m.User, "bench"), orgs[0], nil
		}
	}
	return core.Actor{}, core.Org{}, errors.New("the demo organization has no owner")
}
