package storage_test

import (
	"os/exec"
	"strings"
	"testing"
)

// The layering, checked from the build's own graph (`go list`): core
// imports no adapter library; only storage imports bbolt and only core/mail
// imports go-smtp. The one named exception is the bench command, whose
// baselines are raw bbolt and raw go-smtp on purpose.
func TestLayering(t *testing.T) {
	goList := func(args ...string) []string {
		t.Helper()
		cmd := exec.Command("go", append([]string{"list"}, args...)...)
		cmd.Dir = ".."
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go list %v: %v\n%s", args, err, out)
		}
		return strings.Split(strings.TrimSpace(string(out)), "\n")
	}
	for _, dep := range goList("-deps", "latchkey/core") {
		for _, banned := range []string{"go.etcd.io/bbolt", "github.com/emersion/go-smtp", "charm.land/", "github.com/charmbracelet/", "net/http"} {
			if dep == banned || strings.HasPrefix(dep, banned+"/") || strings.HasSuffix(banned, "/") && strings.HasPrefix(dep, banned) {
				t.Errorf("package core depends on %s", dep)
			}
		}
	}
	// The console and the web read caught mail through core/mail/message,
	// which sends nothing: go-smtp is not in them at all.
	for _, dep := range goList("-deps", "latchkey/tui", "latchkey/core/web") {
		if strings.HasPrefix(dep, "github.com/emersion/go-smtp") {
			t.Errorf("the console or the web depends on %s", dep)
		}
	}
	const bench = "latchkey/cmd/latchkey-bench"
	for _, line := range goList("-f", "{{.ImportPath}} {{join .Imports \" \"}}", "latchkey/...") {
		pkg, imports, _ := strings.Cut(line, " ")
		if pkg == bench {
			continue
		}
		for _, imp := range strings.Fields(imports) {
			switch {
			case strings.HasPrefix(imp, "go.etcd.io/bbolt") && !strings.HasPrefix(pkg, "latchkey/storage"):
				t.Errorf("%s imports %s: only storage may", pkg, imp)
			case strings.HasPrefix(imp, "github.com/emersion/go-smtp") && pkg != "latchkey/core/mail":
				t.Errorf("%s imports %s: only core/mail may", pkg, imp)
			}
		}
	}
}
