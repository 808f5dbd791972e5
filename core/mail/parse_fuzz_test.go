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

// FuzzParseMessage: whatever an SMTP client sends the catcher, reading it
// for the mail viewer never panics.
func FuzzParseMessage(f *testing.F) {
	for _, s := range []string{
		"Subject: hi\r\n\r\nbody\r\n",
		"Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\nContent-Type: multipart/alternative; boundary=x\r\n\r\n--x\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nhello=\r\n world\r\n--x--\r\n",
		"Content-Type: multipart/mixed; boundary=\"a\"\r\n\r\n--a\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\nContent-Transfer-Encoding: base64\r\n\r\naGVsbG8=\r\n--b--\r\n--a--\r\n",
		"garbage", "",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		lkmail.Parse(raw)
	})
}
