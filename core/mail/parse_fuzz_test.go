package mail_test

import (
	"strings"
	"testing"

	lkmail "latchkey/core/mail"
)

// FuzzParseRelayURL: any --smtp-relay value is refused clearly or accepted,
// and its password never shows in an error or in the relay's description.
func FuzzParseRelayURL(f *testing.F) {
	for _, s := range []string{"smtp://u:hunter2@mail.example.com:587", "smtps://h:465", "smtp://127.0.0.1:25?starttls=off", "smtp://u:hunter2@h", "http://u:hunter2@h:1", "smtp://%zz", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := lkmail.ParseRelayURL(s)
		if err != nil {
			if c.Password != "" && len(c.Password) > 3 && strings.Contains(err.Error(), c.Password) {
				t.Fatalf("the error shows the password: %v", err)
			}
			if strings.Contains(s, ":hunter2@") && strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("the error shows the password: %v", err)
			}
			return
		}
		if c.Host == "" || c.Port == "" || (c.Password != "" && len(c.Password) > 3 && strings.Contains(c.String(), c.Password)) {
			t.Fatalf("%q parsed as %+v (%s)", s, c, c)
		}
	})
}
