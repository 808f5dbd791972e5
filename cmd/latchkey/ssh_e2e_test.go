package main

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"latchkey/storage/storetest"
)

// The OpenSSH client against the built binary: invite, then link show, then
// a console session in a real terminal (tmux).
func TestOpenSSHClient(t *testing.T) {
	for _, tool := range []string{"ssh", "ssh-keygen", "tmux"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed: run `make test` (it installs openssh-client and tmux)", tool)
		}
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "latchkey")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	key := filepath.Join(dir, "id_ed25519")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "olivia@e2e", "-f", key).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v %s", err, out)
	}
	httpPort, sshPort := freePort(t), freePort(t)
	srv := exec.Command(bin, "serve", "--data", filepath.Join(dir, "data"), "--demo", "--http", "127.0.0.1:"+httpPort,
		"--ssh", "127.0.0.1:"+sshPort, "--smtp-catcher", "127.0.0.1:"+freePort(t), "--admin-keys", key+".pub")
	logs := &storetest.SyncBuffer{}
	srv.Stdout, srv.Stderr = logs, logs
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		srv.Process.Signal(syscall.SIGTERM)
		srv.Wait()
	})
	for deadline := time.Now().Add(20 * time.Second); ; {
		if resp, err := http.Get("http://127.0.0.1:" + httpPort + "/healthz"); err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("latchkey did not start:\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	sshArgs := []string{"-o", "StrictHostKeyChecking=accept-new", "-o", "UserKnownHostsFile=" + filepath.Join(dir, "known_hosts"),
		"-o", "BatchMode=yes", "-o", "LogLevel=ERROR", "-i", key, "-p", sshPort}
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("ssh", append(append(sshArgs, "127.0.0.1"), args...)...)
		out, err := cmd.Output()
		if err != nil {
			stderr := ""
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = string(ee.Stderr)
			}
			t.Fatalf("ssh %s: %v %s", strings.Join(args, " "), err, stderr)
		}
		return string(out)
	}
	if out := run("invite", "e2e@acme.test", "--role", "client", "--portal", "website-redesign"); !strings.HasPrefix(out, "invited\te2e@acme.test") {
		t.Fatalf("invite: %q", out)
	}
	out := run("link", "show", "website-redesign", "e2e@acme.test")
	if !strings.HasPrefix(out, "http://127.0.0.1:"+httpPort+"/m/") {
		t.Fatalf("link show: %q", out)
	}
	if resp, err := http.Get(strings.TrimSpace(out)); err != nil || resp.StatusCode != 200 {
		t.Fatalf("the link does not open the landing page: %v", err)
	}

	// One console session in a real terminal.
	script := fmt.Sprintf("ssh -t %s 127.0.0.1; echo SSH-EXIT=$?; sleep 60", strings.Join(sshArgs, " "))
	s := newTmux(t, script)
	s.waitFor("/p/website-redesign")
	s.waitFor("admin · ssh")
	s.keys("3")
	s.waitFor("newcomer@acme.test")
	s.keys("q")
	s.waitFor("SSH-EXIT=0")
	if _, err := os.Stat(filepath.Join(dir, "data", hostKeyFile)); err != nil {
		t.Fatalf("no host key: %v", err)
	}
}
