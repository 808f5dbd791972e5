package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"latchkey/core"
	"latchkey/storage"
	"latchkey/storage/storetest"
)

// TestCrashes kills the real binary at random moments under a mixed load
// (SSH commands, the access form, redemptions) 20 times, restarting it each
// time, and checks after every kill that the database is consistent, that
// every acknowledged change is there, that no (portal, email) has two
// active links and that every invitation has its email queued; at the end,
// that the pending mail is delivered.
func TestCrashes(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "latchkey")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	signer, _ := gossh.NewSignerFromKey(priv)
	keyFile := filepath.Join(dir, "admin.pub")
	os.WriteFile(keyFile, gossh.MarshalAuthorizedKey(signer.PublicKey()), 0o600)
	data := filepath.Join(dir, "data")
	rng := mrand.New(mrand.NewPCG(uint64(time.Now().UnixNano()), 1))

	var (
		mu          sync.Mutex
		invited     []string // acknowledged by the SSH command's exit status 0
		requested   []string // acknowledged by the access form's 403
		redemptions int      // acknowledged by a 303
		sessions    []string // the session cookies those 303s set
		token       string   // client@acme.test's demo link
	)
	for cycle := 0; cycle < 20; cycle++ {
		p := startBinary(t, bin, data, keyFile)
		if cycle == 0 {
			token = regexp.MustCompile(`/m/([A-Za-z0-9_-]{43})`).FindStringSubmatch(p.waitLog(t, "website-redesign   http"))[1]
		}
		ctx, stop := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		worker := func(f func(n int)) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := 0; ctx.Err() == nil; n++ {
					f(n)
				}
			}()
		}
		worker(func(n int) {
			email := fmt.Sprintf("crash-%d-%d@acme.test", cycle, n)
			if p.ssh(signer, "invite "+email+" --role client --portal website-redesign") == 0 {
				mu.Lock()
				invited = append(invited, email)
				mu.Unlock()
			}
		})
		worker(func(n int) {
			email := fmt.Sprintf("asks-%d-%d@acme.test", cycle, n)
			resp, err := p.client.PostForm(p.base+"/p/website-redesign/access", url.Values{"email": {email}})
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusForbidden {
					mu.Lock()
					requested = append(requested, email)
					mu.Unlock()
				}
			}
		})
		worker(func(int) {
			resp, err := p.client.PostForm(p.base+"/m/"+token, nil)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusSeeOther {
					mu.Lock()
					redemptions++
					for _, c := range resp.Cookies() {
						if strings.HasSuffix(c.Name, "latchkey_session") {
							sessions = append(sessions, c.Value)
						}
					}
					mu.Unlock()
				}
			}
		})
		time.Sleep(time.Duration(150+rng.IntN(550)) * time.Millisecond)
		p.kill()
		stop()
		wg.Wait()

		mu.Lock()
		checkAfterCrash(t, data, cycle, invited, requested, redemptions, sessions, token)
		mu.Unlock()
	}
	if len(invited) < 20 || len(requested) < 20 || redemptions < 20 {
		t.Fatalf("the load hardly ran: %d invitations, %d requests, %d redemptions", len(invited), len(requested), redemptions)
	}

	// After the last restart every pending message goes out.
	p := startBinary(t, bin, data, keyFile)
	deadline := time.Now().Add(60 * time.Second)
	for p.metric(t, "latchkey_mail_queued") != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("mail still pending after a minute: %v", p.metric(t, "latchkey_mail_queued"))
		}
		time.Sleep(100 * time.Millisecond)
	}
	p.stop(t)
}

// checkAfterCrash opens the database the killed process left behind.
//
// A redemption appends its use, which a background step folds into the
// link's stored counters: whatever moment the kill chose, the stored
// counter plus the uses not folded yet equals the uses in the link's
// history, reads return that sum, and folding now leaves it.
func checkAfterCrash(t *testing.T, data string, cycle int, invited, requested []string, redemptions int, sessions []string, token string) {
	t.Helper()
	st, err := storage.Open(filepath.Join(data, dbFile), storage.Options{})
	if err != nil {
		t.Fatalf("cycle %d: reopen: %v", cycle, err)
	}
	defer st.Close()
	if err := st.Check(); err != nil {
		t.Fatalf("cycle %d: consistency check: %v", cycle, err)
	}
	keys, _, err := storage.LoadOrCreateKeys(filepath.Join(data, keyFile))
	if err != nil {
		t.Fatal(err)
	}
	active := map[string]bool{}
	err = st.Walk(func(bucket string, _, v []byte) error {
		if bucket != "links" {
			return nil
		}
		l, err := storage.DecodeLink(v)
		if err != nil {
			return err
		}
		if l.State == core.LinkActive {
			k := fmt.Sprint(l.PortalID, l.Email)
			if active[k] {
				return fmt.Errorf("two active links for %s", l.Email)
			}
			active[k] = true
		}
		return nil
	})
	if err != nil {
		t.Fatalf("cycle %d: %v", cycle, err)
	}
	mails := map[string]bool{}
	st.Walk(func(bucket string, _, v []byte) error {
		if bucket == "outbox" {
			var m core.Message
			if json.Unmarshal(v, &m) == nil && m.Kind == core.MailInvitePortal {
				mails[m.To] = true
			}
		}
		return nil
	})
	err = st.View(context.Background(), func(tx core.Tx) error {
		org, err := tx.OrgBySlug("northwind")
		if err != nil {
			return err
		}
		portal, err := tx.PortalBySlug("website-redesign")
		if err != nil {
			return err
		}
		for _, email := range invited {
			inv, err := tx.LatestInvitation(org.ID, email)
			if err != nil {
				return fmt.Errorf("acknowledged invitation of %s is lost: %v", email, err)
			}
			if _, err := tx.ActiveLink(portal.ID, email); err != nil || inv.LinkID == 0 {
				return fmt.Errorf("acknowledged invitation of %s has no active link", email)
			}
			if !mails[email] {
				return fmt.Errorf("the invitation of %s has no outbox row", email)
			}
		}
		for _, email := range requested {
			if _, err := tx.LatestRequest(portal.ID, email); err != nil {
				return fmt.Errorf("acknowledged access request of %s is lost", email)
			}
		}
		l, err := tx.LinkByLookup(keys.Lookup(token))
		if err != nil {
			return err
		}
		if int(l.UseCount) < redemptions+1 { // +1: the demo's own redemption
			return fmt.Errorf("%d acknowledged redemptions, but the link counts %d uses", redemptions, l.UseCount)
		}
		if got := redeemedEvents(t, tx, l.ID); got != l.UseCount {
			return fmt.Errorf("the link reads %d uses, its history holds %d", l.UseCount, got)
		}
		for _, id := range sessions {
			key, ok := core.SessionKey(id)
			if !ok {
				return fmt.Errorf("a session cookie of a new shape: %q", id)
			}
			if _, err := tx.Session(key); err != nil {
				return fmt.Errorf("the session of an acknowledged redemption is lost: %v", err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("cycle %d: %v", cycle, err)
	}
	// The stored counter, beside the uses that wait to be folded.
	lookup := keys.Lookup(token)
	var stored core.Link
	unfolded := uint64(0)
	st.Walk(func(bucket string, k, v []byte) error {
		switch {
		case bucket == "links" && bytes.Equal(k, lookup):
			stored, _ = storage.DecodeLink(v)
		case bucket == "link_uses":
			unfolded++ // the demo's link is the only one redeemed here
		}
		return nil
	})
	var events uint64
	st.View(context.Background(), func(tx core.Tx) error { events = redeemedEvents(t, tx, stored.ID); return nil })
	if stored.UseCount+unfolded != events {
		t.Fatalf("cycle %d: stored counter %d + %d unfolded uses, but %d uses in the history", cycle, stored.UseCount, unfolded, events)
	}
	if n, err := st.FoldLinkUses(context.Background()); err != nil || uint64(n) != unfolded {
		t.Fatalf("cycle %d: folded %d uses (%v), want %d", cycle, n, err, unfolded)
	}
	st.View(context.Background(), func(tx core.Tx) error {
		if l, err := tx.Link(stored.ID); err != nil || l.UseCount != events || redeemedEvents(t, tx, l.ID) != events {
			t.Fatalf("cycle %d: after the fold, %d uses (%v), want %d", cycle, l.UseCount, err, events)
		}
		return nil
	})
	t.Logf("cycle %d: %d uses, %d of them unfolded at the kill", cycle, events, unfolded)
}

// redeemedEvents counts the redemptions in a link's history.
func redeemedEvents(t *testing.T, tx core.Tx, linkID uint64) uint64 {
	t.Helper()
	events, err := tx.LinkEvents(linkID)
	if err != nil {
		t.Fatal(err)
	}
	n := uint64(0)
	for _, e := range events {
		if e.Kind == core.LinkEventRedeemed {
			n++
		}
	}
	return n
}

// binary is one run of the real latchkey.
type binary struct {
	cmd     *exec.Cmd
	base    string
	sshAddr string
	out     *storetest.SyncBuffer
	client  *http.Client
	done    chan struct{}
}

func startBinary(t *testing.T, bin, data, adminKeys string, extra ...string) *binary {
	t.Helper()
	hp, sp := freePort(t), freePort(t)
	p := &binary{base: "http://127.0.0.1:" + hp, sshAddr: "127.0.0.1:" + sp, out: &storetest.SyncBuffer{}, done: make(chan struct{}),
		client: &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	args := append([]string{"serve", "--data", data, "--demo", "--http", "127.0.0.1:" + hp, "--ssh", p.sshAddr,
		"--smtp-catcher", "127.0.0.1:" + freePort(t), "--admin-keys", adminKeys, "--rate-limits", "off", "--log-level", "warn"}, extra...)
	p.cmd = exec.Command(bin, args...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	t.Cleanup(p.kill)
	deadline := time.Now().Add(20 * time.Second)
	for {
		if resp, err := p.client.Get(p.base + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		select {
		case <-p.done:
			t.Fatalf("latchkey exited at start:\n%s", p.out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("latchkey did not start:\n%s", p.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (p *binary) kill() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

func (p *binary) stop(t *testing.T) {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		t.Fatal("latchkey did not stop on SIGTERM")
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit status %d:\n%s", code, p.out.String())
	}
}

func (p *binary) waitLog(t *testing.T, s string) string {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if out := p.out.String(); strings.Contains(out, s) {
			return out
		}
	}
	t.Fatalf("latchkey never printed %q:\n%s", s, p.out.String())
	return ""
}

// ssh runs a command and returns its exit status (-1: no answer).
func (p *binary) ssh(signer gossh.Signer, cmd string) int {
	c, err := gossh.Dial("tcp", p.sshAddr, &gossh.ClientConfig{User: "crash", Auth: []gossh.AuthMethod{gossh.PublicKeys(signer)},
		HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 5 * time.Second})
	if err != nil {
		return -1
	}
	defer c.Close()
	s, err := c.NewSession()
	if err != nil {
		return -1
	}
	defer s.Close()
	var out, errs bytes.Buffer
	s.Stdout, s.Stderr = &out, &errs
	if err := s.Run(cmd); err != nil {
		if ee, ok := err.(*gossh.ExitError); ok {
			return ee.ExitStatus()
		}
		return -1
	}
	return 0
}

// metric reads one value from /metrics.
func (p *binary) metric(t *testing.T, name string) float64 {
	resp, err := p.client.Get(p.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	for _, line := range strings.Split(b.String(), "\n") {
		if strings.HasPrefix(line, name+" ") {
			var v float64
			fmt.Sscan(strings.TrimPrefix(line, name+" "), &v)
			return v
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}
