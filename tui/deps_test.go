package tui_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoSMTPInTheConsole: the console and the web read caught mail through
// core/mail/message, which does not pull the SMTP stack in with it.
func TestNoSMTPInTheConsole(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	out, err := exec.Command("go", "list", "-deps", "latchkey/tui", "latchkey/tui/sshd", "latchkey/core/web").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, "github.com/emersion/go-smtp") {
			t.Errorf("the console or the web imports %s", dep)
		}
	}
}
