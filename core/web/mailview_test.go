package web_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"latchkey/core"
	"latchkey/core/mail"
	"latchkey/core/web"
	"latchkey/storage/storetest"
)

func withMailViewer(c *web.Config, _ *[]storetest.Option) { c.MailViewer = true }

// catch renders the newest outbox mail to email and stores it as caught.
func (s *site) catch(email string, kind core.MailKind) core.CaughtMail {
	s.T.Helper()
	c := storetest.Must(mail.NewComposer("latchkey <no-reply@localhost>", s.url))
	m := s.LastMail(email, kind)
	env := storetest.Must(c.Compose(m, s.LastToken(email, kind)))
	return storetest.Must(s.Svc.StoreCaught(s.Ctx, core.CaughtMail{From: env.From, To: env.To, Subject: env.Subject, Raw: env.Data}))
}

func TestMailViewer(t *testing.T) {
	s := newSite(t, withMailViewer)
	m := s.catch("client@acme.test", core.MailInvitePortal)
	c := s.client()
	c.get("/_mail").must(t, 200, "Mail caught on this machine", "Northwind Studio invited you to Brand Guidelines", "to client@acme.test")
	r := c.get("/_mail/"+itoa(m.ID)).must(t, 200, "Open portal:", `<a href="`+s.url+"/m/"+s.links["brand-guidelines"]+`">`, "View the HTML version")
	if strings.Contains(r.body, "<script") {
		t.Fatal("script on the viewer page")
	}
	h := c.get("/_mail/"+itoa(m.ID)+"/html").must(t, 200, "Open portal")
	if csp := h.header.Get("Content-Security-Policy"); !strings.HasPrefix(csp, "sandbox") || !strings.Contains(csp, "default-src 'none'") {
		t.Fatalf("the HTML part is served with CSP %q", csp)
	}
	c.get("/_mail/999").must(t, http.StatusNotFound, "No such message")
	c.get("/_mail/abc").must(t, http.StatusNotFound)

	// Without the viewer (catcher off, or a public listener) there is nothing there.
	off := newSite(t)
	off.client().get("/_mail").must(t, http.StatusNotFound, "Page not found")
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }
