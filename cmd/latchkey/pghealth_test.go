package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"latchkey/storage/postgres/pgtest"
)

// /healthz on PostgreSQL says whether the database answers, and /metrics
// shows the pool: a cluster of its own, stopped under a running latchkey.
func TestHealthAndMetricsFollowTheDatabase(t *testing.T) {
	cluster, err := pgtest.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Stop()
	url := cluster.NewDatabase(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "latchkey")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	signer, _ := gossh.NewSignerFromKey(priv)
	keyFile := filepath.Join(dir, "admin.pub")
	os.WriteFile(keyFile, gossh.MarshalAuthorizedKey(signer.PublicKey()), 0o600)
	p := startBinary(t, bin, filepath.Join(dir, "data"), keyFile, "--store", url)
	if n := p.metricSum(t, "latchkey_db_pool_connections"); n <= 0 {
		t.Fatalf("pool connections %v", n)
	}
	if err := cluster.Stop(); err != nil {
		t.Fatal(err)
	}
	var last string
	within(t, 10*time.Second, "/healthz to say the database is gone", func() bool {
		resp, err := p.client.Get(p.base + "/healthz")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b := make([]byte, 200)
		n, _ := resp.Body.Read(b)
		last = string(b[:n])
		return resp.StatusCode == http.StatusServiceUnavailable && strings.Contains(last, `"storage":"not reachable"`)
	})
}
