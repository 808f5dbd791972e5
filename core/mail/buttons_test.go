package mail_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"latchkey/core"
	lkmail "latchkey/core/mail"
)

// Issue 16, part 4: an access request's notice carries Grant access and
// Dismiss buttons to the request's page (with the button named), in both
// parts, and says that nothing changes before the page's confirmation.
func TestAccessRequestHasGrantAndDismissButtons(t *testing.T) {
	c, err := lkmail.NewComposer("latchkey <no-reply@portal.example.com>", publicURL)
	if err != nil {
		t.Fatal(err)
	}
	m := sample(core.MailAccessRequest)
	m.LinkPath = "/requests/"
	env, err := c.Compose(m, fixedToken)
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "access_request_buttons.eml")
	if *update {
		os.WriteFile(golden, env.Data, 0o644)
	}
	if want, err := os.ReadFile(golden); err != nil || !bytes.Equal(env.Data, want) {
		t.Fatalf("differs from %s (run with -update after checking the change): %v\n%s", golden, err, env.Data)
	}
	p, err := lkmail.Parse(env.Data)
	if err != nil {
		t.Fatal(err)
	}
	page := publicURL + "/requests/" + fixedToken
	for _, part := range []string{p.Text, p.HTML} {
		for _, want := range []string{page + "?do=grant", page + "?do=dismiss", "Grant access", "Dismiss", "nothing changes until you confirm"} {
			if !strings.Contains(strings.Join(strings.Fields(part), " "), want) {
				t.Errorf("a part lacks %q:\n%s", want, part)
			}
		}
	}
}

// An access link asked for from a browser carries its code in both parts.
func TestAccessLinkCarriesItsCode(t *testing.T) {
	c, err := lkmail.NewComposer("latchkey <no-reply@portal.example.com>", publicURL)
	if err != nil {
		t.Fatal(err)
	}
	m := sample(core.MailAccessLink)
	env, err := c.Compose(m, fixedToken)
	if err != nil {
		t.Fatal(err)
	}
	p, err := lkmail.Parse(env.Data)
	if err != nil {
		t.Fatal(err)
	}
	for _, part := range []string{p.Text, p.HTML} {
		if !strings.Contains(part, "314159") || !strings.Contains(strings.Join(strings.Fields(part), " "), "10 minutes") {
			t.Errorf("a part lacks the code:\n%s", part)
		}
	}
	delete(m.Data, "code")
	env, _ = c.Compose(m, fixedToken)
	if strings.Contains(string(env.Data), "10 minutes") {
		t.Error("a link asked for without a browser secret speaks of a code")
	}
}
