package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"latchkey/core"
)

// A backup taken under load restores into a new data directory that starts,
// and holds every change acknowledged before the backup began.
func TestRestoreDrill(t *testing.T) {
	dir := t.TempDir()
	c := config{Data: filepath.Join(dir, "data"), HTTP: "127.0.0.1:0", SSH: "off", SMTPCatcher: "127.0.0.1:0", MailFrom: "latchkey <no-reply@localhost>",
		SessionIdle: time.Hour, SessionLifetime: 2 * time.Hour, LogLevel: "error", RateLimits: "on", PublicURL: "http://127.0.0.1:8080"}
	if err := c.validate(); err != nil {
		t.Fatal(err)
	}
	in, err := openInstance(c, newLogger(io.Discard, "error"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := in.svc.LoadDemo(ctx); err != nil {
		t.Fatal(err)
	}
	org := must(in.svc.Orgs(ctx, core.AdminActor("t")))[0]
	portal := must(in.svc.PortalBySlug(ctx, core.AdminActor("t"), "website-redesign")).Portal

	var mu sync.Mutex
	var acked []string
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				email := fmt.Sprintf("drill-%d-%d@acme.test", g, i)
				if _, err := in.svc.Invite(ctx, core.AdminActor("t"), core.InviteInput{OrgID: org.ID, Email: email, Role: core.RoleClient, PortalID: portal.ID}); err != nil {
					t.Errorf("invite: %v", err)
					return
				}
				mu.Lock()
				acked = append(acked, email)
				mu.Unlock()
			}
		}(g)
	}
	time.Sleep(300 * time.Millisecond) // let the load run
	mu.Lock()
	before := append([]string(nil), acked...) // acknowledged before the backup starts
	mu.Unlock()
	path, err := in.bolt.BackupInto(filepath.Join(dir, "backups"), time.Now(), 3)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // the load goes on after the backup
	close(stop)
	wg.Wait()
	in.Close()
	if len(before) < 10 {
		t.Fatalf("only %d invitations before the backup: the load did not run", len(before))
	}

	restored := filepath.Join(dir, "restored")
	os.MkdirAll(restored, 0o700)
	copyFile(t, path, filepath.Join(restored, dbFile))
	copyFile(t, filepath.Join(c.Data, keyFile), filepath.Join(restored, keyFile))
	_, stopServe := serveUntilHealthy(t, "--data", restored)
	if r := stopServe(); r.code != 0 {
		t.Fatalf("the restored instance: %+v", r)
	}
	c.Data = restored
	back, err := openInstance(c, newLogger(io.Discard, "error"))
	if err != nil {
		t.Fatal(err)
	}
	defer back.Close()
	people := must(back.svc.PortalMembers(ctx, core.AdminActor("t"), portal.ID))
	have := map[string]bool{}
	for _, p := range people {
		have[p.Email] = p.LinkState == core.LinkActive
	}
	for _, email := range before {
		if !have[email] {
			t.Fatalf("%s was acknowledged before the backup but is not in it", email)
		}
	}
	if err := back.bolt.Check(); err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, from, to string) {
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
