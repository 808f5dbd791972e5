package main

import (
	"io"
	"strings"
	"testing"
)

// FuzzConfig: any command line is parsed and validated without panicking,
// and a configuration that validates has a usable public URL.
func FuzzConfig(f *testing.F) {
	for _, s := range []string{"--http 127.0.0.1:8080", "--public-url https://x.test --ssh off", "--smtp-relay smtp://u:p@h:587",
		"--session-idle 1h --session-lifetime 1m", "keys add a@b c", "--admin-keys ssh-ed25519", "--http :0 --trusted-proxies 10.0.0.0/8,::1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		var c config
		fs := newFlagSet("latchkey", &c, io.Discard)
		if _, err := parseInterleaved(fs, strings.Fields(line)); err != nil {
			return
		}
		if c.validate() == nil && !strings.HasPrefix(c.PublicURL, "http://") && !strings.HasPrefix(c.PublicURL, "https://") {
			t.Fatalf("%q validated with public URL %q", line, c.PublicURL)
		}
	})
}
