package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	gossh "golang.org/x/crypto/ssh"

	"latchkey/storage/postgres/pgtest"
)

// TestMain stops the throwaway PostgreSQL cluster after the tests.
func TestMain(m *testing.M) { pgtest.Main(m) }

// sink is a real SMTP server on 127.0.0.1 that counts what it accepts, by
// recipient and by Message-ID; a hanging one takes DATA and never answers.
type sink struct {
	addr    string
	hang    chan struct{} // closed when the test ends; nil: accept at once
	mu      sync.Mutex
	byTo    map[string]int
	byID    map[string]int
	started int // DATA commands begun
}

func newSink(t *testing.T, hang bool) *sink {
	t.Helper()
	s := &sink{byTo: map[string]int{}, byID: map[string]int{}}
	if hang {
		s.hang = make(chan struct{})
	}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &sinkSession{s: s}, nil }))
	srv.Domain, srv.AllowInsecureAuth = "sink.test", true
	srv.ReadTimeout, srv.WriteTimeout = time.Minute, time.Minute
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	go srv.Serve(ln)
	t.Cleanup(func() {
		if s.hang != nil {
			close(s.hang)
		}
		srv.Close()
	})
	return s
}

func (s *sink) url() string { return "smtp://" + s.addr + "?starttls=off" }

// count is how many of the accepted messages went to addresses with the
// prefix, and the most any one of them (or any Message-ID) got.
func (s *sink) count(prefix string) (n, most int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for to, k := range s.byTo {
		if strings.HasPrefix(to, prefix) {
			n++
			most = max(most, k)
		}
	}
	for _, k := range s.byID {
		most = max(most, k)
	}
	return n, most
}

type sinkSession struct {
	s  *sink
	to []string
}

func (x *sinkSession) Reset()                                    { x.to = nil }
func (x *sinkSession) Logout() error                             { return nil }
func (x *sinkSession) Mail(string, *smtp.MailOptions) error      { return nil }
func (x *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error { x.to = append(x.to, to); return nil }
func (x *sinkSession) Data(r io.Reader) error {
	x.s.mu.Lock()
	x.s.started++
	x.s.mu.Unlock()
	if x.s.hang != nil {
		<-x.s.hang
		return &smtp.SMTPError{Code: 421, Message: "going away"}
	}
	id := ""
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "Message-ID: "); ok && id == "" {
			id = v
		}
	}
	x.s.mu.Lock()
	defer x.s.mu.Unlock()
	x.s.byID[id]++
	for _, to := range x.to {
		x.s.byTo[to]++
	}
	return nil
}

// metricSum adds up a metric's series of every label.
func (p *binary) metricSum(t *testing.T, name string) float64 {
	resp, err := p.client.Get(p.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	sum := 0.0
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, name+"{") || strings.HasPrefix(line, name+" ") {
			var v float64
			fmt.Sscan(line[strings.LastIndexByte(line, ' ')+1:], &v)
			sum += v
		}
	}
	return sum
}

func within(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); ; time.Sleep(10 * time.Millisecond) {
		if ok() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", d, what)
		}
	}
}

// Three latchkey processes on one PostgreSQL database, talked to one by
// one (no balancer): mail invited on node 1 is delivered exactly once by
// the three workers; a link redeems on node 2 and node 1's console shows
// it within a second; a link replaced on node 3 is refused at once on the
// others; a node killed while delivering leaves its mail to the others.
func TestThreeNodesOnPostgreSQL(t *testing.T) {
	for _, tool := range []string{"ssh", "ssh-keygen", "tmux"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed: run `make test` (it installs openssh-client and tmux)", tool)
		}
	}
	url := pgtest.NewDatabaseURL(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "latchkey")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	key := filepath.Join(dir, "id_ed25519")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "olivia@nodes", "-f", key).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v %s", err, out)
	}
	pem, _ := os.ReadFile(key)
	signer, err := gossh.ParsePrivateKey(pem)
	if err != nil {
		t.Fatal(err)
	}
	good, hang := newSink(t, false), newSink(t, true)
	data := []string{filepath.Join(dir, "n1"), filepath.Join(dir, "n2"), filepath.Join(dir, "n3")}
	const lease = 20 * time.Second
	start := func(i int, relay *sink) *binary {
		return startBinary(t, bin, data[i], key+".pub", "--store", url, "--smtp-relay", relay.url(), "--outbox-lease", lease.String())
	}
	n1 := start(0, good)
	// Every node has the first node's key file and SSH host key.
	for _, d := range data[1:] {
		os.MkdirAll(d, 0o700)
		for _, f := range []string{keyFile, hostKeyFile} {
			b, err := os.ReadFile(filepath.Join(data[0], f))
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(d, f), b, 0o600)
		}
	}
	n2, n3 := start(1, good), start(2, good)

	// 500 invitations on node 1: each mailed exactly once, by the three
	// workers together.
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < 500; i += 4 {
				if code := n1.ssh(signer, fmt.Sprintf("invite bulk%03d@multi.test --role client --portal onboarding", i)); code != 0 {
					t.Errorf("invite %d: exit %d", i, code)
				}
			}
		})
	}
	wg.Wait()
	within(t, time.Minute, "500 invitations delivered", func() bool { n, _ := good.count("bulk"); return n == 500 })
	time.Sleep(time.Second) // a second delivery would come now
	if n, most := good.count("bulk"); n != 500 || most != 1 {
		t.Fatalf("%d invitees got mail, one of them (or one Message-ID) %d times", n, most)
	}
	busy := 0
	for i, n := range []*binary{n1, n2, n3} {
		sent := n.metricSum(t, "latchkey_mail_sent_total")
		t.Logf("node %d sent %.0f messages", i+1, sent)
		if sent > 0 {
			busy++
		}
	}
	if busy < 2 {
		t.Fatalf("only %d of the three workers delivered: the test shows nothing about sharing", busy)
	}

	// A console on node 1 shows a redemption made on node 2 within a second.
	n1.must(t, signer, "invite watch@multi.test --role client --portal website-redesign")
	link := strings.TrimSpace(n1.must(t, signer, "link show website-redesign watch@multi.test"))
	token := link[strings.LastIndexByte(link, '/')+1:]
	_, sshPort, _ := net.SplitHostPort(n1.sshAddr)
	console := fmt.Sprintf("latchkey-nodes-%d", os.Getpid())
	cmd := fmt.Sprintf("ssh -t -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -i %s -p %s 127.0.0.1", key, sshPort)
	if out, err := exec.Command("tmux", "new-session", "-d", "-s", console, "-x", "160", "-y", "40", cmd).CombinedOutput(); err != nil {
		t.Fatalf("tmux: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("tmux", "kill-session", "-t", console).Run() })
	pane := func() string {
		out, _ := exec.Command("tmux", "capture-pane", "-p", "-t", console).Output()
		return string(out)
	}
	uses := func() string { // the Uses cell of watch@'s row
		for _, line := range strings.Split(pane(), "\n") {
			if strings.Contains(line, "watch@multi.test") {
				f := strings.Fields(line)
				return f[len(f)-1]
			}
		}
		return ""
	}
	within(t, 20*time.Second, "the console's projects", func() bool { return strings.Contains(pane(), "/p/website-redesign") })
	exec.Command("tmux", "send-keys", "-t", console, "Enter").Run()
	within(t, 10*time.Second, "watch@'s row, never used", func() bool { return uses() == "0" })
	resp, err := n2.client.PostForm(n2.base+"/m/"+token, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("redemption on node 2: %d", resp.StatusCode)
	}
	redeemed := time.Now()
	within(t, time.Second, "node 1's console shows the redemption made on node 2", func() bool { return uses() == "1" })
	t.Logf("node 1's console showed node 2's redemption after %s", time.Since(redeemed).Round(time.Millisecond))

	// The SSH backup command answers on PostgreSQL with pg_dump's.
	if code := n2.ssh(signer, "backup"); code != 1 {
		t.Fatalf("ssh backup on PostgreSQL: exit %d, want 1", code)
	}

	// Replaced on node 3, the old link is refused on nodes 1 and 2 at once.
	fresh := n3.must(t, signer, "link generate website-redesign watch@multi.test")
	for _, n := range []*binary{n1, n2} {
		resp, err := n.client.Get(n.base + "/m/" + token)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusGone {
			t.Fatalf("the replaced link on %s: %d, want 410", n.base, resp.StatusCode)
		}
	}
	if m := regexp.MustCompile(`/m/([A-Za-z0-9_-]{43})`).FindStringSubmatch(fresh); m == nil {
		t.Fatalf("link generate printed %q", fresh)
	} else if resp, err := n1.client.Get(n1.base + "/m/" + m[1]); err != nil || resp.StatusCode != 200 {
		t.Fatalf("the new link on node 1: %v %v", resp, err)
	}

	// Node 3, delivering to a relay that never answers, is killed while
	// it holds mail: the others deliver all of it once its lease ends.
	n3.stop(t)
	n3 = start(2, hang)
	for i := range 40 {
		if code := n3.ssh(signer, fmt.Sprintf("invite lost%02d@multi.test --role client --portal onboarding", i)); code != 0 {
			t.Fatalf("invite on node 3: exit %d", code)
		}
	}
	within(t, 10*time.Second, "node 3 delivering", func() bool { hang.mu.Lock(); defer hang.mu.Unlock(); return hang.started > 0 })
	n3.cmd.Process.Signal(syscall.SIGKILL)
	<-n3.done
	held, _ := good.count("lost")
	t.Logf("node 3 killed while delivering; %d of 40 delivered by the others so far", held)
	within(t, lease+30*time.Second, "the 40 invitations, node 3's included, delivered by the others", func() bool {
		n, _ := good.count("lost")
		return n == 40
	})
	time.Sleep(time.Second)
	if n, most := good.count("lost"); n != 40 || most != 1 {
		t.Fatalf("%d of 40 delivered, one %d times", n, most)
	}
}
