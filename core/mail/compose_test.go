package mail_test

import (
	"bytes"
	"flag"
	"latchkey/core/mail/message"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"latchkey/core"
	lkmail "latchkey/core/mail"
)

var update = flag.Bool("update", false, "rewrite the golden files")

var fixedToken = strings.Repeat("Tk", 21) + "Q"

// sample is one outbox row of each kind, as core queues it.
func sample(kind core.MailKind) core.Message {
	m := core.Message{ID: 42, OrgID: 1, Kind: kind, To: "client@acme.test", ToName: "Casey Client",
		CreatedAt: time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC), State: core.MessageQueued,
		Data: map[string]string{"org": "Northwind Studio", "portal": "Website Redesign", "slug": "website-redesign", "by": "owner@northwind.test"}}
	switch kind {
	case core.MailInvitePortal, core.MailAccessLink, core.MailNewLink:
		m.LinkPath = "/m/"
		m.Data["role"] = "client"
		if kind == core.MailAccessLink {
			m.Data["code"] = "314159" // opened by the worker from the row's sealed code
		}
	case core.MailInviteJoin:
		m.LinkPath, m.ToName = "/join/", "Zoë Ölander"
		m.Data["role"], m.Data["expires"] = "member", "2026-03-09T09:30:00Z"
	case core.MailAccessRequest:
		m.To, m.ToName = "owner@northwind.test", "Olivia Owner"
		m.Data["email"], m.Data["request_id"], m.Data["at"], m.Data["addr"] = "newcomer@acme.test", "7", "2026-03-02T09:30:00Z", "198.51.100.23"
	case core.MailAccessDigest:
		m.To, m.ToName = "owner@northwind.test", "Olivia Owner"
		m.Data["count"], m.Data["since"] = "37", "2026-03-02T09:20:00Z"
		m.Data["emails"] = "a@acme.test\nb@acme.test\nclient@аcme.test\nd@acme.test\ne@acme.test\nf@acme.test\ng@acme.test\nh@acme.test\ni@acme.test\nj@acme.test"
	case core.MailPortalUpdate:
		m.Data["author"], m.Data["at"] = "Olivia Owner", "2026-03-02T09:30:00Z"
		m.Data["body"] = "The new home page is up on staging.\n\nPlease look at it <b>before Friday</b> & tell us what you think."
	case core.MailMyLinks:
		m.LinkPath, m.Data = "/m/", map[string]string{"links": "2", "portal_0": "Website Redesign", "org_0": "Northwind Studio",
			"portal_1": "Brand Guidelines", "org_1": "Northwind Studio"}
	case core.MailPasswordReset:
		m.LinkPath, m.Data = "/restore/", map[string]string{"expires": "2026-03-02T10:30:00Z", "addr": "198.51.100.23"}
	case core.MailPasswordChanged:
		m.Data = map[string]string{"at": "2026-03-02T09:30:00Z", "addr": "198.51.100.23"}
	case core.MailWebhookDisabled:
		m.To, m.ToName = "owner@northwind.test", "Olivia Owner"
		m.Data = map[string]string{"org": "Northwind Studio", "url": "https://crm.example.com/hooks/latchkey?k=1", "webhook_id": "3",
			"last": "HTTP 502", "since": "2026-02-27T09:30:00Z"}
	}
	return m
}

var kinds = []core.MailKind{core.MailInvitePortal, core.MailInviteJoin, core.MailAccessLink, core.MailNewLink,
	core.MailAccessRequest, core.MailPasswordReset, core.MailPasswordChanged, core.MailAccessDigest, core.MailMyLinks, core.MailPortalUpdate, core.MailWebhookDisabled}

var urlRE = regexp.MustCompile(`https?://[^\s"'<>]+`)

func TestRenderedMessagesMatchGoldenFiles(t *testing.T) {
	c, err := lkmail.NewComposer("latchkey <no-reply@portal.example.com>", publicURL)
	if err != nil {
		t.Fatal(err)
	}
	c.SSHLogin = "ssh -p 2222 portal.example.com"
	for _, lang := range core.Languages {
		for _, kind := range kinds {
			goldenMessage(t, c, lang, kind)
		}
	}
}

// goldenMessage renders one kind of message in one language and compares
// it with testdata/{lang}/{kind}.eml.
func goldenMessage(t *testing.T, c *lkmail.Composer, lang string, kind core.MailKind) {
	{
		t.Run(lang+"/"+string(kind), func(t *testing.T) {
			m := sample(kind)
			m.Lang = lang
			token := ""
			if m.LinkPath != "" {
				token = fixedToken
			}
			if kind == core.MailMyLinks {
				token = fixedToken + " " + strings.Repeat("Uv", 21) + "W"
			}
			env, err := c.Compose(m, token)
			if err != nil {
				t.Fatal(err)
			}
			again, _ := c.Compose(m, token)
			if !bytes.Equal(env.Data, again.Data) {
				t.Fatal("rendering the same row twice differs")
			}
			golden := filepath.Join("testdata", lang, string(kind)+".eml")
			if *update {
				os.MkdirAll(filepath.Dir(golden), 0o755)
				os.WriteFile(golden, env.Data, 0o644)
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./core/mail -run Golden -update)", err)
			}
			if !bytes.Equal(env.Data, want) {
				t.Fatalf("%s differs from %s (run with -update after checking the change):\n%s", kind, golden, env.Data)
			}
			msg, err := mail.ReadMessage(bytes.NewReader(env.Data))
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range []string{"From", "To", "Subject", "Date", "Message-Id", "Mime-Version", "Content-Type"} {
				if msg.Header.Get(h) == "" {
					t.Errorf("no %s header", h)
				}
			}
			if _, err := msg.Header.Date(); err != nil {
				t.Errorf("Date: %v", err)
			}
			if !strings.HasPrefix(msg.Header.Get("Content-Type"), "multipart/alternative;") {
				t.Errorf("content type %q", msg.Header.Get("Content-Type"))
			}
			p, err := message.Parse(env.Data)
			if err != nil || p.Text == "" || p.HTML == "" || p.Subject != env.Subject {
				t.Fatalf("parts: %v, text %d bytes, html %d bytes, subject %q", err, len(p.Text), len(p.HTML), p.Subject)
			}
			if !strings.Contains(p.HTML, `<html lang="`+lang+`">`) {
				t.Errorf("the HTML part does not say it is in %s", lang)
			}
			if strings.Contains(p.HTML, "<img") || strings.Contains(p.HTML, "<link") || strings.Contains(p.HTML, "<script") {
				t.Error("the HTML part loads something from elsewhere")
			}
			links := urlRE.FindAllString(p.Text+p.HTML, -1)
			for _, u := range links {
				if !strings.HasPrefix(u, publicURL+"/") {
					t.Errorf("link %s does not use the public URL", u)
				}
			}
			for _, tok := range strings.Fields(token) {
				if !strings.Contains(p.Text, publicURL+m.LinkPath+tok) || !strings.Contains(p.HTML, publicURL+m.LinkPath+tok) {
					t.Error("a link is missing from a part")
				}
			}
		})
	}
}

func TestSubjectsAndNamesAreEncoded(t *testing.T) {
	c, _ := lkmail.NewComposer("Acme Portals <no-reply@portal.example.com>", publicURL)
	m := sample(core.MailInvitePortal)
	m.Data["org"], m.Data["portal"], m.ToName = "Café Müller", "Brand\r\nBcc: victim@example.com", "Zoë \"Z\" Ölander\r\nX-Evil: 1"
	env, err := c.Compose(m, fixedToken)
	if err != nil {
		t.Fatal(err)
	}
	head := string(env.Data[:bytes.Index(env.Data, []byte("\r\n\r\n"))])
	msg, _ := mail.ReadMessage(bytes.NewReader(env.Data))
	if msg.Header.Get("Bcc") != "" || msg.Header.Get("X-Evil") != "" || strings.Contains(head, "Café") {
		t.Fatalf("header injection or raw non-ASCII:\n%s", head)
	}
	dec := new(mimeDecoder)
	if subj := dec.decode(msg.Header.Get("Subject")); subj != "Café Müller invited you to Brand Bcc: victim@example.com" {
		t.Fatalf("subject decodes to %q", subj)
	}
	to, err := msg.Header.AddressList("To")
	if err != nil || len(to) != 1 || to[0].Address != "client@acme.test" || to[0].Name != `Zoë "Z" Ölander X-Evil: 1` {
		t.Fatalf("To: %v %v", to, err)
	}
}

// Mail sent by an instance admin (the local console) names the organization
// alone, never "admin".
func TestMailFromTheInstanceAdminNamesTheOrganization(t *testing.T) {
	c, err := lkmail.NewComposer("latchkey <no-reply@portal.example.com>", publicURL)
	if err != nil {
		t.Fatal(err)
	}
	for kind, want := range map[core.MailKind]string{
		core.MailInvitePortal: "Northwind Studio invited you to the Website Redesign portal.",
		core.MailInviteJoin:   "You are invited to join Northwind Studio as a member.", // issue 13: "as a member", not "as member",
		core.MailNewLink:      "Northwind Studio sent you a link to the Website Redesign portal.",
	} {
		m := sample(kind)
		m.Data["by"] = ""
		env, err := c.Compose(m, fixedToken)
		if err != nil {
			t.Fatal(err)
		}
		body := strings.ReplaceAll(string(env.Data), "=\r\n", "") // quoted-printable soft breaks
		body = strings.ReplaceAll(body, "\r\n", "\n")
		// The sentence starts the line in the text part and the paragraph in the HTML part.
		if !strings.Contains(body, "\n"+want) || !strings.Contains(body, ">"+strings.Replace(want, "Website Redesign", "<strong>Website Redesign</strong>", 1)) &&
			!strings.Contains(body, ">"+strings.Replace(want, "Northwind Studio as", "<strong>Northwind Studio</strong> as", 1)) {
			t.Errorf("%s: %q does not start its line and paragraph in\n%s", kind, want, body)
		}
	}
}

// An access request's email gives the command that reaches this instance's
// SSH console, and none when SSH is off.
func TestAccessRequestNamesTheSSHCommand(t *testing.T) {
	c, err := lkmail.NewComposer("latchkey <no-reply@portal.example.com>", publicURL)
	if err != nil {
		t.Fatal(err)
	}
	for _, login := range []string{"ssh -p 22222 portal.example.com", ""} {
		c.SSHLogin = login
		env, err := c.Compose(sample(core.MailAccessRequest), "")
		if err != nil {
			t.Fatal(err)
		}
		p, err := message.Parse(env.Data)
		if err != nil {
			t.Fatal(err)
		}
		for _, part := range []string{p.Text, p.HTML} {
			switch {
			case login != "" && !strings.Contains(part, login+" requests grant 7"):
				t.Errorf("with SSH on %q, a part lacks the command:\n%s", login, part)
			case login == "" && (strings.Contains(part, "ssh") || !strings.Contains(part, "Access requests") && !strings.Contains(part, "Access\nrequests")):
				t.Errorf("with SSH off, a part speaks of ssh or not of the console:\n%s", part)
			}
		}
	}
}
