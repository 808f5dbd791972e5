package mail_test

import (
	"latchkey/core/mail/message"
	"strings"
	"testing"
	"time"

	"latchkey/core"
	"latchkey/core/mail"
	"latchkey/storage/storetest"
)

// Every mail any flow queues renders, and every link in it works or points
// at this instance.
func TestEveryQueuedMailRenders(t *testing.T) {
	e := storetest.New(t, storetest.PublicURL(publicURL))
	storetest.Must(e.Svc.LoadDemo(e.Ctx))
	org := storetest.Must(e.Svc.Orgs(e.Ctx, e.Admin))[0]
	v := core.Visitor{Addr: "198.51.100.1"}
	web := storetest.Must(e.Svc.PortalBySlug(e.Ctx, e.Admin, "website-redesign"))
	storetest.Must(e.Svc.GenerateLink(e.Ctx, e.Admin, web.Portal.ID, "client@acme.test"))
	storetest.Must(0, e.Svc.ResendLink(e.Ctx, e.Admin, web.Portal.ID, "client@acme.test"))
	storetest.Must(e.Svc.Invite(e.Ctx, e.Admin, core.InviteInput{OrgID: org.ID, Email: "joiner@northwind.test", Role: core.RoleMember}))
	storetest.Must(e.Svc.RequestAccess(e.Ctx, "website-redesign", "client@acme.test", v))
	storetest.Must(e.Svc.RequestAccess(e.Ctx, "website-redesign", "stranger@acme.test", v))
	storetest.Must(e.Svc.RequestAccess(e.Ctx, "website-redesign", "another@acme.test", v)) // within 10 minutes: the summary
	storetest.Must(0, e.Svc.SendMyLinks(e.Ctx, "client@acme.test", v))
	storetest.Must(e.Svc.PostUpdate(e.Ctx, e.Admin, web.Portal.ID, "The designs are up.\n\nTell us what you think.", true))
	storetest.Must(e.Svc.RequestAccess(e.Ctx, "onboarding", "new@acme.test", v))
	storetest.Must(0, e.Svc.RequestRestore(e.Ctx, "client@acme.test", v))
	storetest.Must(e.Svc.CompleteRestore(e.Ctx, e.LastToken("client@acme.test", core.MailPasswordReset), "a new password", v))
	// A webhook failing for 3 days is stopped, and its owner told.
	hook, _, err := e.Svc.CreateWebhook(e.Ctx, e.Admin, core.NewWebhook{OrgID: org.ID, URL: "https://203.0.113.7/h", Events: core.WebhookEvents})
	if err != nil {
		t.Fatal(err)
	}
	fail := func() {
		t.Helper()
		due := storetest.Must(e.Svc.DueWebhooks(e.Ctx, 10))
		if len(due) == 0 || due[0].WebhookID != hook.ID {
			t.Fatalf("due: %+v", due)
		}
		if err := e.Svc.RecordWebhookAttempts(e.Ctx, []core.WebhookAttempt{{DeliveryID: due[0].ID, At: e.Clock.Now(), Status: 502,
			Next: e.Clock.Now().Add(time.Minute)}}); err != nil {
			t.Fatal(err)
		}
	}
	fail()
	e.Clock.Advance(core.WebhookFailingLimit)
	fail()

	c, err := mail.NewComposer("latchkey <no-reply@portal.example.com>", publicURL)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[core.MailKind]bool{}
	for _, m := range e.Messages() {
		token, err := e.Svc.OpenSealedMail(m)
		if err != nil {
			t.Fatal(err)
		}
		env, err := c.Compose(m, token)
		if err != nil {
			t.Fatalf("%s to %s: %v", m.Kind, m.To, err)
		}
		p, err := message.Parse(env.Data)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range urlRE.FindAllString(p.Text, -1) {
			if !strings.HasPrefix(u, publicURL+"/") {
				t.Fatalf("%s links to %s", m.Kind, u)
			}
		}
		seen[m.Kind] = true
	}
	for _, k := range kinds {
		if !seen[k] {
			t.Errorf("no flow queued a %s mail", k)
		}
	}
}
