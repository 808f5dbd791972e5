package sshd_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"latchkey/tui/sshd"
)

// A script of commands from a registered key runs through under the
// default limits: the key has its own budget, not a stranger's.
func TestScriptsFromAnAuthenticatedKeyAreNotThrottled(t *testing.T) {
	in := startInstance(t, func(c *sshd.Config) { c.Limits = nil })
	for i := range 200 {
		r := in.run(in.mia, fmt.Sprintf("invite script-%d@acme.test --role client --portal website-redesign", i))
		if r.code != 0 {
			t.Fatalf("command %d of 200: exit %d, %q", i+1, r.code, r.stderr)
		}
	}
	if r := in.run(in.admin, "projects --org northwind"); r.code != 0 {
		t.Fatalf("another key after the script: %+v", r)
	}
}

// A key over its budget of sessions is told, in one line, when to try
// again; other keys from the same address are not held up.
func TestAKeyOverItsSessionBudgetIsToldWhenToRetry(t *testing.T) {
	in := startInstance(t, func(c *sshd.Config) {
		c.Limits = &sshd.Limits{PerKey: sshd.Limit{Every: time.Second, Burst: 2}, FailedSignIns: sshd.DefaultLimits().FailedSignIns}
	})
	for range 2 {
		if r := in.run(in.mia, "projects"); r.code != 0 {
			t.Fatalf("within the budget: %+v", r)
		}
	}
	const refusal = "latchkey: too many sessions from this key; try again in 1 second\n"
	if r := in.run(in.mia, "projects"); r.code != 1 || r.stderr != refusal || r.stdout != "" {
		t.Fatalf("over the budget: exit %d, stdout %q, stderr %q; want exit 1 and %q", r.code, r.stdout, r.stderr, refusal)
	}
	// A console is refused the same way, with a carriage return for its raw terminal.
	c, err := in.dial(in.mia)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	s.Stdout, s.Stderr = &out, &out
	if err := s.RequestPty("xterm-256color", 30, 100, gossh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	var ee *gossh.ExitError
	if err := s.Run(""); !asExit(err, &ee) || ee.ExitStatus() != 1 || !strings.HasSuffix(out.String(), strings.TrimSuffix(refusal, "\n")+"\r\n") {
		t.Fatalf("console over the budget: %v, %q", err, out.String())
	}
	if r := in.run(in.other, "projects"); r.code != 0 {
		t.Fatalf("another key from the same address: %+v", r)
	}
	in.env.Clock.Advance(time.Second)
	if r := in.run(in.mia, "projects"); r.code != 0 {
		t.Fatalf("after waiting as told: %+v", r)
	}
}

func asExit(err error, ee **gossh.ExitError) bool {
	e, ok := err.(*gossh.ExitError)
	*ee = e
	return ok
}

// signIn dials with keys and reports the banners shown and whether the
// connection signed in.
func (in *instance) signIn(keys ...gossh.Signer) (banners []string, ok bool) {
	in.t.Helper()
	c, err := gossh.Dial("tcp", in.addr, &gossh.ClientConfig{User: "anyone", Auth: []gossh.AuthMethod{gossh.PublicKeys(keys...)},
		HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 5 * time.Second,
		BannerCallback: func(m string) error { banners = append(banners, m); return nil }})
	if err != nil {
		if !strings.Contains(err.Error(), "unable to authenticate") {
			in.t.Fatalf("dial: %v", err)
		}
		return banners, false
	}
	c.Close()
	return banners, true
}

// Unknown keys from one address are refused, and after the strict budget
// (20 at once, then one every 3 seconds) every key from that address is,
// with one line that says when to retry.
func TestUnknownKeysFromOneAddressAreRefusedAfterTheStrictBudget(t *testing.T) {
	in := startInstance(t, func(c *sshd.Config) { c.Limits = nil })
	stranger, _ := newKey(t)
	for i := range 20 {
		if banners, ok := in.signIn(stranger); ok || len(banners) != 0 {
			t.Fatalf("attempt %d: signed in %v, banners %q", i+1, ok, banners)
		}
	}
	const refusal = "latchkey: too many failed sign-ins from this address; try again in 3 seconds\n"
	for _, key := range []gossh.Signer{stranger, in.mia} {
		if banners, ok := in.signIn(key); ok || len(banners) != 1 || banners[0] != refusal {
			t.Fatalf("over the budget: signed in %v, banners %q; want %q", ok, banners, refusal)
		}
	}
	in.env.Clock.Advance(3 * time.Second)
	if banners, ok := in.signIn(in.mia); !ok || len(banners) != 0 {
		t.Fatalf("a registered key after waiting as told: signed in %v, banners %q", ok, banners)
	}
	if _, ok := in.signIn(stranger); ok {
		t.Fatal("a stranger signed in")
	}
	if banners, _ := in.signIn(stranger); len(banners) != 1 || banners[0] != refusal {
		t.Fatalf("one refill is one more attempt: banners %q", banners)
	}
}

// A client that offers other keys before its registered one (an agent with
// several) signs in, and those keys do not count against its address.
func TestKeysOfferedBeforeTheRegisteredOneCostNothing(t *testing.T) {
	in := startInstance(t, func(c *sshd.Config) { c.Limits = nil })
	a, _ := newKey(t)
	b, _ := newKey(t)
	c, _ := newKey(t)
	for i := range 10 { // 30 refused keys, more than the budget
		if banners, ok := in.signIn(a, b, c, in.mia); !ok || len(banners) != 0 {
			t.Fatalf("connection %d: signed in %v, banners %q", i+1, ok, banners)
		}
	}
	for i := range 20 {
		if banners, _ := in.signIn(a); len(banners) != 0 {
			t.Fatalf("the budget was spent: attempt %d shows %q", i+1, banners)
		}
	}
	if banners, _ := in.signIn(a); len(banners) != 1 {
		t.Fatalf("past the budget: banners %q", banners)
	}
}
