package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

func newSigner(t *testing.T) gossh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// sshRun runs one command over SSH and returns its exit status (-1: not
// signed in) and the banners the server showed.
func sshRun(t *testing.T, addr string, key gossh.Signer, cmd string) (int, []string) {
	t.Helper()
	var banners []string
	c, err := gossh.Dial("tcp", addr, &gossh.ClientConfig{User: "anyone", Auth: []gossh.AuthMethod{gossh.PublicKeys(key)},
		HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 5 * time.Second,
		BannerCallback: func(m string) error { banners = append(banners, m); return nil }})
	if err != nil {
		if !strings.Contains(err.Error(), "unable to authenticate") {
			t.Fatalf("dial: %v", err)
		}
		return -1, banners
	}
	defer c.Close()
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Run(cmd); err != nil {
		if ee, ok := err.(*gossh.ExitError); ok {
			return ee.ExitStatus(), banners
		}
		t.Fatalf("run %q: %v", cmd, err)
	}
	return 0, banners
}

// --rate-limits off reaches the SSH console too: neither sessions per key
// nor failed sign-ins per address are limited. With the limits on, an
// address that has spent its budget of failed sign-ins is refused.
func TestRateLimitsOffTurnsOffTheSSHLimitsToo(t *testing.T) {
	admin := newSigner(t)
	adminLine := strings.TrimSpace(string(gossh.MarshalAuthorizedKey(admin.PublicKey())))
	stranger := newSigner(t)
	for _, limits := range []string{"off", "on"} {
		t.Run(limits, func(t *testing.T) {
			addr := "127.0.0.1:" + freePort(t)
			_, stop := serveUntilHealthy(t, "--data", t.TempDir(), "--demo", "--ssh", addr, "--admin-keys", adminLine, "--rate-limits", limits)
			defer stop()
			for i := range 40 { // more than wish's old 20 per address
				if code, _ := sshRun(t, addr, admin, "help"); code != 0 {
					t.Fatalf("session %d: exit %d", i+1, code)
				}
			}
			for range 25 { // more than the 20 failed sign-ins an address may have
				if code, _ := sshRun(t, addr, stranger, "help"); code != -1 {
					t.Fatal("a stranger signed in")
				}
			}
			code, banners := sshRun(t, addr, admin, "help")
			if limits == "off" && (code != 0 || len(banners) != 0) {
				t.Fatalf("with --rate-limits off, the admin after strangers: exit %d, banners %q", code, banners)
			}
			if limits == "on" && (code != -1 || len(banners) != 1 || !strings.Contains(banners[0], "too many failed sign-ins from this address; try again in ")) {
				t.Fatalf("with the limits on, the admin after strangers: exit %d, banners %q", code, banners)
			}
		})
	}
}
