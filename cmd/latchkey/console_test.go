package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"latchkey/core"
	"latchkey/storage"
)

// tmuxSession runs a command in a detached 100×30 tmux terminal.
type tmuxSession struct {
	t    *testing.T
	name string
}

func newTmux(t *testing.T, command string) *tmuxSession {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Fatal("tmux is not installed: run `make test` (it installs it) or `apt-get install -y tmux`")
	}
	s := &tmuxSession{t: t, name: fmt.Sprintf("latchkey-test-%d", os.Getpid())}
	if out, err := exec.Command("tmux", "new-session", "-d", "-s", s.name, "-x", "100", "-y", "30", command).CombinedOutput(); err != nil {
		t.Fatalf("tmux: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("tmux", "kill-session", "-t", s.name).Run() })
	return s
}

func (s *tmuxSession) pane() string {
	out, _ := exec.Command("tmux", "capture-pane", "-p", "-t", s.name).Output()
	return string(out)
}

func (s *tmuxSession) keys(keys ...string) {
	s.t.Helper()
	if out, err := exec.Command("tmux", append([]string{"send-keys", "-t", s.name}, keys...)...).CombinedOutput(); err != nil {
		s.t.Fatalf("send-keys: %v %s", err, out)
	}
}

func (s *tmuxSession) waitFor(text string) string {
	s.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		p := s.pane()
		if strings.Contains(p, text) {
			return p
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("the terminal never showed %q; it shows:\n%s", text, p)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// The built binary in a real terminal: start with the demo, walk to a
// member, generate a link, quit; latchkey exits 0 and the terminal is back
// as it was.
func TestConsoleInARealTerminal(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "latchkey")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	data := filepath.Join(dir, "data")
	exitFile := filepath.Join(dir, "exit")
	cmd := fmt.Sprintf("%s --data %s --demo --http 127.0.0.1:%s --smtp-catcher 127.0.0.1:%s --ssh off; echo EXIT=$? > %s; sleep 60",
		bin, data, freePort(t), freePort(t), exitFile)
	s := newTmux(t, cmd)
	s.waitFor("1 Projects")
	s.waitFor("/p/website-redesign")
	s.keys("Enter")
	s.waitFor("cfo@acme.test")
	s.keys("Enter")
	s.waitFor("Generate new magic link for portal")
	s.keys("Enter")
	pane := s.waitFor("emailed to cfo@acme.test")
	url := regexp.MustCompile(`http://127\.0\.0\.1:\d+/m/[A-Za-z0-9_-]{43}`).FindString(pane)
	if url == "" {
		t.Fatalf("no link on screen:\n%s", pane)
	}
	s.keys("Enter")
	s.waitFor("member menu")
	s.keys("q")
	deadline := time.Now().Add(20 * time.Second)
	for {
		b, err := os.ReadFile(exitFile)
		if err == nil {
			if strings.TrimSpace(string(b)) != "EXIT=0" {
				t.Fatalf("latchkey exited with %s", b)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("latchkey did not exit; the terminal shows:\n%s", s.pane())
		}
		time.Sleep(50 * time.Millisecond)
	}
	after := s.pane()
	if strings.Contains(after, "1 Projects") || !strings.Contains(after, "Portal listener on") || !strings.Contains(after, "latchkey stopped.") {
		t.Fatalf("the terminal was not restored:\n%s", after)
	}
	// The link on screen is the active link in the database, and the log went to its file.
	st, err := storage.Open(filepath.Join(data, dbFile), storage.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	keys, _, err := storage.LoadOrCreateKeys(filepath.Join(data, keyFile))
	if err != nil {
		t.Fatal(err)
	}
	err = st.View(context.Background(), func(tx core.Tx) error {
		l, err := tx.LinkByLookup(keys.Lookup(url[strings.LastIndexByte(url, '/')+1:]))
		if err == nil && (l.Email != "cfo@acme.test" || l.State != core.LinkActive) {
			err = fmt.Errorf("the link on screen is %s's, %s", l.Email, l.State)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(data, logFile)); err != nil || !strings.Contains(string(b), "listening") {
		t.Fatalf("log file: %v", err)
	}
}
