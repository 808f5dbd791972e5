package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/net/websocket"
)

// upstreamApp is the agency's own web app (testdata/upstream), a process
// of its own on 127.0.0.1.
type upstreamApp struct {
	cmd  *exec.Cmd
	addr string
	done chan struct{}
}

func startUpstream(t *testing.T, bin string) *upstreamApp {
	t.Helper()
	u := &upstreamApp{cmd: exec.Command(bin), done: make(chan struct{})}
	out, err := u.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := u.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { u.cmd.Wait(); close(u.done) }()
	t.Cleanup(u.stop)
	line, err := bufio.NewReader(out).ReadString('\n')
	if addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on "); err == nil && ok {
		u.addr = addr
		return u
	}
	t.Fatalf("the upstream did not start: %q %v", line, err)
	return nil
}

func (u *upstreamApp) stop() {
	u.cmd.Process.Signal(syscall.SIGKILL)
	<-u.done
}

func buildBinaries(t *testing.T) (latchkey, upstream string) {
	t.Helper()
	dir := t.TempDir()
	latchkey, upstream = filepath.Join(dir, "latchkey"), filepath.Join(dir, "upstream")
	for bin, pkg := range map[string]string{latchkey: ".", upstream: "./testdata/upstream"} {
		if out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput(); err != nil {
			t.Fatalf("build %s: %v\n%s", pkg, err, out)
		}
	}
	return latchkey, upstream
}

// sshRun runs an SSH command with standard input and returns its exit
// status and output.
func (p *binary) sshRun(t *testing.T, signer gossh.Signer, cmd, stdin string) (int, string, string) {
	t.Helper()
	c, err := gossh.Dial("tcp", p.sshAddr, &gossh.ClientConfig{User: "test", Auth: []gossh.AuthMethod{gossh.PublicKeys(signer)},
		HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var out, errs bytes.Buffer
	s.Stdout, s.Stderr, s.Stdin = &out, &errs, strings.NewReader(stdin)
	err = s.Run(cmd)
	if ee, ok := err.(*gossh.ExitError); ok {
		return ee.ExitStatus(), out.String(), errs.String()
	}
	if err != nil {
		t.Fatalf("ssh %q: %v", cmd, err)
	}
	return 0, out.String(), errs.String()
}

func (p *binary) must(t *testing.T, signer gossh.Signer, cmd string) string {
	t.Helper()
	code, out, errs := p.sshRun(t, signer, cmd, "")
	if code != 0 {
		t.Fatalf("ssh %q: exit %d: %s", cmd, code, errs)
	}
	return out
}

// echoed is what the upstream's /echo saw.
type echoed struct {
	Path    string              `json:"path"`
	Host    string              `json:"host"`
	Headers map[string][]string `json:"headers"`
}

// rss is the resident memory of a process, from /proc.
func rss(t *testing.T, pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`VmRSS:\s+(\d+) kB`).FindSubmatch(b)
	n, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return n << 10
}

// The real binary in front of a real upstream process: a client redeems a
// link and goes through latchkey in path and in host mode; the upstream
// gets identity headers and an assertion that verifies against the JWKS,
// never the client's X-Latchkey-* headers nor latchkey's cookie; a 50 MB
// download streams without latchkey's memory growing by it; WebSockets and
// redirects pass; a stopped upstream gives the 502 page; deactivating the
// link cuts the client off at the next request.
func TestProxyInFrontOfARealUpstream(t *testing.T) {
	bin, upBin := buildBinaries(t)
	up := startUpstream(t, upBin)
	dir := t.TempDir()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	admin, _ := gossh.NewSignerFromKey(priv)
	keyFile := filepath.Join(dir, "admin.pub")
	os.WriteFile(keyFile, gossh.MarshalAuthorizedKey(admin.PublicKey()), 0o600)
	p := startBinary(t, bin, filepath.Join(dir, "data"), keyFile)
	token := regexp.MustCompile(`/m/([A-Za-z0-9_-]{43})`).FindStringSubmatch(p.waitLog(t, "website-redesign   http"))[1]
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(p.base, "http://"))

	// Bad values are refused, with exit 2, and change nothing.
	for _, bad := range []string{"ftp://" + up.addr, "http://user:pw@" + up.addr, "http://bad host/", "http://" + up.addr + "/?q=1"} {
		if code, _, errs := p.sshRun(t, admin, "portal set website-redesign --upstream '"+bad+"'", ""); code != 2 || !strings.Contains(errs, "upstream") {
			t.Fatalf("--upstream %q: exit %d, %q", bad, code, errs)
		}
	}
	p.must(t, admin, "portal set website-redesign --upstream http://"+up.addr)
	if out := p.must(t, admin, "portal show website-redesign"); !strings.Contains(out, "upstream\thttp://"+up.addr) {
		t.Fatalf("portal show:\n%s", out)
	}

	// The client's browser: every address dials latchkey (portal.localhost too).
	jar, _ := cookiejar.New(nil)
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	client := &http.Client{Jar: jar, Timeout: 30 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, "127.0.0.1:"+port)
		}}}
	noFollow := *client
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	get := func(c *http.Client, u string, h map[string]string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", u, nil)
		for k, v := range h {
			req.Header.Set(k, v)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", u, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, err := client.PostForm(p.base+"/m/"+token, url.Values{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Request.URL.Path != "/p/website-redesign/" || !strings.Contains(string(b), "The agency's app") {
		t.Fatalf("after Open portal: %d at %s:\n%s", resp.StatusCode, resp.Request.URL, b)
	}

	// Path mode: identity in, spoofing and latchkey's cookie out.
	base, _ := url.Parse(p.base)
	jar.SetCookies(base, []*http.Cookie{{Name: "app_session", Value: "mine"}})
	resp, body := get(client, p.base+"/p/website-redesign/echo", map[string]string{
		"X-Latchkey-Email": "ceo@evil.test", "X-Latchkey-Assertion": "forged", "x-latchkey-role": "owner", "X-Forwarded-Prefix": "/elsewhere"})
	var e echoed
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatalf("echo: %d %v\n%s", resp.StatusCode, err, body)
	}
	h := http.Header(e.Headers)
	for name, want := range map[string]string{"X-Latchkey-Email": "client@acme.test", "X-Latchkey-Name": "Casey Client", "X-Latchkey-Role": "client",
		"X-Latchkey-Portal": "website-redesign", "X-Forwarded-Prefix": "/p/website-redesign", "X-Forwarded-Proto": "http",
		"X-Forwarded-Host": "127.0.0.1:" + port, "X-Forwarded-For": "127.0.0.1", "Cookie": "app_session=mine"} {
		if got := h.Values(name); len(got) != 1 || got[0] != want {
			t.Errorf("upstream got %s: %q, want %q", name, got, want)
		}
	}
	if e.Path != "/echo" || h.Get("X-Latchkey-User") == "" {
		t.Errorf("upstream path %q, user %q", e.Path, h.Get("X-Latchkey-User"))
	}
	verifyAssertion(t, client, p.base, h.Get("X-Latchkey-Assertion"))

	// Redirects to the upstream's own address come back as the portal's.
	resp, _ = get(&noFollow, p.base+"/p/website-redesign/redirect", nil)
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || loc != p.base+"/p/website-redesign/landed?from=redirect" {
		t.Errorf("redirect: %d to %q", resp.StatusCode, loc)
	}
	// The upstream's Set-Cookie for latchkey's cookie never reaches the client.
	resp, _ = get(&noFollow, p.base+"/p/website-redesign/cookies", nil)
	for _, c := range resp.Cookies() {
		if c.Name == "latchkey_session" {
			t.Errorf("the upstream set latchkey's cookie: %v", c)
		}
	}
	if len(resp.Cookies()) != 1 {
		t.Errorf("the upstream's own cookie: %v", resp.Cookies())
	}

	// WebSockets pass through, with the session's cookie.
	cfg, _ := websocket.NewConfig("ws://127.0.0.1:"+port+"/p/website-redesign/ws", p.base)
	cfg.Header = http.Header{"Cookie": {cookieHeader(jar, base)}}
	ws, err := websocket.DialConfig(cfg)
	if err != nil {
		t.Fatalf("websocket: %v", err)
	}
	ws.Write([]byte("hello through latchkey"))
	msg := make([]byte, 64)
	n, _ := ws.Read(msg)
	ws.Close()
	if string(msg[:n]) != "hello through latchkey" {
		t.Errorf("websocket echo %q", msg[:n])
	}

	// 50 MB stream through without latchkey holding them.
	before := rss(t, p.cmd.Process.Pid)
	var peak int64
	var wg sync.WaitGroup
	stopSampling := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stopSampling:
				return
			case <-time.After(5 * time.Millisecond):
				if r := rss(t, p.cmd.Process.Pid); r > peak {
					peak = r
				}
			}
		}
	}()
	resp, err = client.Get(p.base + "/p/website-redesign/large?mb=50")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	close(stopSampling)
	wg.Wait()
	if err != nil || got != 50<<20 {
		t.Fatalf("download: %d bytes, %v", got, err)
	}
	if grew := peak - before; grew > 20<<20 {
		t.Errorf("latchkey's memory grew by %d MB during a 50 MB download", grew>>20)
	}
	t.Logf("50 MB download: latchkey's resident memory %d MB before, %d MB at most during", before>>20, peak>>20)

	// Host mode: the sign-in hop to the main host and back.
	for _, bad := range []string{"https://portal.localhost", "portal.localhost:8080", "192.0.2.1", "bad_host.test", "nodot"} {
		if code, _, errs := p.sshRun(t, admin, "portal set website-redesign --host '"+bad+"'", ""); code != 2 || !strings.Contains(errs, "host") {
			t.Fatalf("--host %q: exit %d, %q", bad, code, errs)
		}
	}
	p.must(t, admin, "portal set website-redesign --host portal.localhost")
	hostBase := "http://portal.localhost:" + port
	resp, body = get(client, hostBase+"/echo?x=1", nil)
	e = echoed{}
	if err := json.Unmarshal([]byte(body), &e); err != nil || resp.Request.URL.Host != "portal.localhost:"+port {
		t.Fatalf("host mode: %d at %s: %v\n%s", resp.StatusCode, resp.Request.URL, err, body)
	}
	h = http.Header(e.Headers)
	if h.Get("X-Latchkey-Email") != "client@acme.test" || h.Get("X-Forwarded-Prefix") != "" || strings.Contains(h.Get("Referer"), "code=") || h.Get("X-Forwarded-Host") != "portal.localhost:"+port || e.Path != "/echo" {
		t.Errorf("host mode headers: %v, path %q", h, e.Path)
	}
	for _, c := range jar.Cookies(&url.URL{Scheme: "http", Host: "portal.localhost:" + port}) {
		if c.Name == "latchkey_session" && c.Value == "" {
			t.Error("no session on the portal host")
		}
	}

	// The upstream stopped: a branded 502, never Go's error.
	up.stop()
	resp, body = get(client, p.base+"/p/website-redesign/echo", nil)
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(body, "not answering") || strings.Contains(body, "connection refused") {
		t.Errorf("a stopped upstream: %d\n%s", resp.StatusCode, body)
	}
	up = startUpstream(t, upBin)
	p.must(t, admin, "portal set website-redesign --upstream http://"+up.addr)
	if resp, _ = get(client, p.base+"/p/website-redesign/echo", nil); resp.StatusCode != 200 {
		t.Fatalf("after the upstream came back: %d", resp.StatusCode)
	}

	// Deactivating the link cuts the client off at the next request, both ways.
	p.must(t, admin, "link deactivate website-redesign client@acme.test")
	resp, body = get(&noFollow, p.base+"/p/website-redesign/echo", nil)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "This portal is closed") {
		t.Errorf("path mode after deactivation: %d\n%s", resp.StatusCode, body)
	}
	resp, _ = get(&noFollow, hostBase+"/echo", nil)
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), p.base+"/_latchkey/authorize") {
		t.Errorf("host mode after deactivation: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if v := p.metric(t, `latchkey_proxy_requests_total{portal="website-redesign",status="200"}`); v < 3 {
		t.Errorf("proxied requests counted: %v", v)
	}
}

func cookieHeader(jar http.CookieJar, u *url.URL) string {
	var parts []string
	for _, c := range jar.Cookies(u) {
		parts = append(parts, c.Name+"="+c.Value)
	}
	return strings.Join(parts, "; ")
}

// verifyAssertion checks an upstream assertion as an upstream would: with
// the keys at /.well-known/jwks.json.
func verifyAssertion(t *testing.T, client *http.Client, base, raw string) {
	t.Helper()
	resp, err := client.Get(base + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatalf("JWKS: %v", err)
	}
	resp.Body.Close()
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.EdDSA})
	if err != nil {
		t.Fatalf("assertion %q: %v", raw, err)
	}
	if len(tok.Headers) != 1 || len(set.Key(tok.Headers[0].KeyID)) != 1 {
		t.Fatalf("the assertion's kid %v is not in the JWKS", tok.Headers)
	}
	var claims jwt.Claims
	var own struct {
		Email  string `json:"email"`
		Role   string `json:"role"`
		Portal string `json:"portal"`
	}
	if err := tok.Claims(set.Key(tok.Headers[0].KeyID)[0].Key, &claims, &own); err != nil {
		t.Fatalf("the assertion does not verify: %v", err)
	}
	if err := claims.ValidateWithLeeway(jwt.Expected{Issuer: base, AnyAudience: jwt.Audience{"website-redesign"}, Time: time.Now()}, 0); err != nil {
		t.Fatalf("claims: %v", err)
	}
	if own.Email != "client@acme.test" || own.Role != "client" || own.Portal != "website-redesign" || claims.Expiry.Time().Sub(time.Now()) > time.Minute {
		t.Fatalf("claims %+v %+v", claims, own)
	}
}
