package main

import (
	"context"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	"latchkey/core"
)

// apiTokenIn loads the demo into a new data directory and makes an API
// token of its owner there, before latchkey starts on it.
func apiTokenIn(t *testing.T, data string) string {
	t.Helper()
	var c config
	if err := newFlagSet("test", &c, io.Discard).Parse([]string{"--data", data, "--ssh", "off"}); err != nil {
		t.Fatal(err)
	}
	if err := c.validate(); err != nil {
		t.Fatal(err)
	}
	in, err := openInstance(c, newLogger(io.Discard, "error"))
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	ctx := context.Background()
	if _, err := in.svc.LoadDemo(ctx); err != nil {
		t.Fatal(err)
	}
	admin := core.AdminActor("test")
	org := must(in.svc.Orgs(ctx, admin))[0]
	for _, m := range must(in.svc.Members(ctx, admin, org.ID)) {
		if m.Member.Role == core.RoleOwner {
			_, secret, err := in.svc.CreateAPIToken(ctx, core.UserActor(m.User, "test"),
				core.NewAPIToken{OrgID: org.ID, Name: "limits", Scopes: []core.Scope{core.ScopeProjectsRead}})
			if err != nil {
				t.Fatal(err)
			}
			return secret
		}
	}
	t.Fatal("the demo has no owner")
	return ""
}

// --rate-limits off reaches the HTTP admin API too, as make bench needs: a
// token may go past its budget (bursts of 200, then 20 a second). With the
// limits on, requests past the budget are refused with 429.
func TestRateLimitsOffTurnsOffTheAPILimitToo(t *testing.T) {
	for _, limits := range []string{"off", "on"} {
		t.Run(limits, func(t *testing.T) {
			data := t.TempDir()
			secret := apiTokenIn(t, data)
			base, stop := serveUntilHealthy(t, "--data", data, "--rate-limits", limits)
			defer stop()
			var ok, refused, other atomic.Int64
			var wg sync.WaitGroup
			for range 8 {
				wg.Go(func() {
					for range 60 { // 480 in all: well past the burst, in far less time than refills it
						req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/projects", nil)
						req.Header.Set("Authorization", "Bearer "+secret)
						resp, err := http.DefaultClient.Do(req)
						if err != nil {
							other.Add(1)
							return
						}
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						switch resp.StatusCode {
						case http.StatusOK:
							ok.Add(1)
						case http.StatusTooManyRequests:
							refused.Add(1)
						default:
							other.Add(1)
						}
					}
				})
			}
			wg.Wait()
			if other.Load() != 0 || limits == "off" && refused.Load() != 0 || limits == "on" && (refused.Load() == 0 || ok.Load() < 200) {
				t.Fatalf("--rate-limits %s: %d answered, %d refused with 429, %d otherwise", limits, ok.Load(), refused.Load(), other.Load())
			}
		})
	}
}
