package message_test

import (
	"testing"

	"latchkey/core/mail/message"
)

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
		message.Parse(raw)
	})
}
