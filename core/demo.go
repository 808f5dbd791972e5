package core

import (
	"context"
	"errors"
	"fmt"
)

// DemoPassword is the demo owner's password.
const DemoPassword = "northwind-demo"

// DemoLink is one active magic link of the demo data.
type DemoLink struct {
	Email  string
	Portal string // slug
	URL    string
}

// ErrNotEmpty: the demo is loaded only into an empty database.
var ErrNotEmpty = errors.New("the database is not empty; the demo loads only into an empty one")

// LoadDemo loads the demo organization of DESIGN.md into an empty database,
// in one transaction, and returns its active links. On a database that holds
// anything it fails with ErrNotEmpty and changes nothing.
func (s *Service) LoadDemo(ctx context.Context) ([]DemoLink, error) {
	hash, err := HashPassword(ctx, DemoPassword, s.opts.Argon2, s.rand)
	if err != nil {
		return nil, err
	}
	var links []DemoLink
	err = s.write(ctx, func(op *operation) error {
		links = nil
		if n, err := op.CountUsers(); err != nil {
			return err
		} else if orgs, err := op.Orgs(); err != nil {
			return err
		} else if n > 0 || len(orgs) > 0 {
			return ErrNotEmpty
		}
		d := demo{op: op, a: AdminActor("demo"), v: Visitor{Addr: "198.51.100.23", UserAgent: "demo"}}
		return d.load(hash, &links)
	})
	return links, err
}

type demo struct {
	op  *operation
	a   Actor
	v   Visitor
	err error
}

func (d *demo) load(ownerHash string, links *[]DemoLink) error {
	op, a := d.op, d.a
	org, err := op.createOrg(a, NewOrg{Name: "Northwind Studio", Slug: "northwind", OwnerEmail: "owner@northwind.test", OwnerName: "Olivia Owner"})
	if err != nil {
		return err
	}
	if err := d.brandDemo(&org); err != nil {
		return err
	}
	owner, err := op.UserByEmail("owner@northwind.test")
	if err != nil {
		return err
	}
	owner.PasswordHash, owner.PasswordChangedAt = ownerHash, op.now
	if err := op.PutUser(&owner); err != nil {
		return err
	}
	d.member(org, "mia@northwind.test", "Mia Manager", RoleManager)
	sam := d.member(org, "sam@northwind.test", "Sam Member", RoleMember)
	website := d.portal(org, "Website Redesign", PortalSettings{Slug: "website-redesign", Title: "Website Redesign", Access: AccessClosed,
		Contact: "mia@northwind.test", Welcome: demoWebsiteWelcome})
	brand := d.portal(org, "Brand Guidelines", PortalSettings{Slug: "brand-guidelines", Title: "Brand Guidelines", Access: AccessOpen,
		Contact: "owner@northwind.test", Welcome: demoBrandWelcome})
	onboarding := d.portal(org, "Onboarding Kit", PortalSettings{Slug: "onboarding", Title: "Onboarding Kit", Access: AccessEmail,
		Contact: "sam@northwind.test", Welcome: demoOnboardingWelcome})
	d.content(website, []Resource{
		{Title: "Latest designs (Figma)", URL: "https://www.figma.com/files/northwind/website-redesign", Note: "home, product and contact pages, round 2"},
		{Title: "Staging site", URL: "https://staging.acme.example/", Note: "rebuilt every evening from the latest designs"},
		{Title: "Timeline", URL: "https://docs.example.com/northwind/website-redesign/timeline", Note: "milestones and who does what"},
		{Title: "What we need from you", URL: "https://docs.example.com/northwind/website-redesign/checklist", Note: "copy, photos and logins, with due dates"},
		{Title: "Invoices", URL: "https://billing.example.com/northwind/acme"},
	}, []demoUpdate{
		{days: 9, author: "Mia Manager", body: "Round 1 of the home page designs is in Figma. Comment right on the frames; we collect everything on Friday."},
		{days: 2, author: "Olivia Owner", body: "Round 2 is up, with your comments worked in.\n\nThe **staging site** now shows the new navigation. Next: the product pages, due in two weeks."},
	})
	d.content(brand, []Resource{
		{Title: "Logo pack", URL: "https://drive.example.com/northwind/acme-brand/logos", Note: "SVG, PNG and EPS, light and dark"},
		{Title: "Colour palette", URL: "https://docs.example.com/northwind/acme-brand/colours", Note: "with print and screen values"},
		{Title: "Type specimens", URL: "https://docs.example.com/northwind/acme-brand/type"},
	}, []demoUpdate{
		{days: 20, author: "Olivia Owner", body: "The guidelines are published. Everyone at Acme may read them here."},
		{days: 4, author: "Olivia Owner", body: "New: a dark version of the logo, for photos and dark backgrounds. It is in the logo pack."},
	})
	d.content(onboarding, []Resource{
		{Title: "Kick-off questionnaire", URL: "https://forms.example.com/northwind/kickoff", Note: "about 15 minutes"},
		{Title: "How we work", URL: "https://docs.example.com/northwind/how-we-work", Note: "meetings, reviews, feedback"},
	}, []demoUpdate{
		{days: 30, author: "Sam Member", body: "Welcome aboard! Start with the kick-off questionnaire, then book your first call with us."},
		{days: 6, author: "Sam Member", body: "We added *How we work*: how reviews and feedback rounds go."},
	})
	if _, err := op.createProject(a, org.ID, "Internal Ops"); err != nil {
		return err
	}
	if d.err != nil {
		return d.err
	}
	*links = append(*links,
		d.client(org, website, "client@acme.test", "Casey Client"),
		d.client(org, brand, "client@acme.test", "Casey Client"))
	d.client(org, website, "cfo@acme.test", "Chris CFO")
	if d.err != nil {
		return d.err
	}
	cfo, err := op.ActiveLink(website.ID, "cfo@acme.test")
	if err != nil {
		return err
	}
	if err := op.endLink(&cfo, LinkDeactivated, a); err != nil {
		return err
	}
	if err := op.auditPortal(a, website, "link.deactivated", cfo.Email, "portal "+website.Slug); err != nil {
		return err
	}
	if err := op.addPortalAccess(a, website.ID, sam.ID); err != nil {
		return err
	}
	if _, err := op.recordRequest(d.v.anonymous(), website, "newcomer@acme.test", d.v); err != nil {
		return err
	}
	// The demo's own request starts no quiet period: the first request a
	// newcomer makes tells the owner at once, as on a fresh portal.
	if err := op.PutNotices(PortalNotices{PortalID: website.ID}); err != nil {
		return err
	}
	return d.err
}

const (
	demoWebsiteWelcome = `Welcome to the **Website Redesign** portal. Here you will find the latest designs, the timeline and everything we need from you.

## Where we are
- Home page: round 2 of the designs is ready for your comments.
- Product pages: in design, due in two weeks.
- Launch: planned for the end of next month.

Questions? Write to your contact below.`
	demoBrandWelcome = `Our brand guidelines: logo, colours, type and tone of voice. Everyone may look; sign in to comment.

Download what you need from the resources below, and please use the **logo pack** rather than copies found elsewhere.`
	demoOnboardingWelcome = `Everything a new client needs to start working with Northwind Studio.

1. Fill in the kick-off questionnaire.
2. Read *How we work*.
3. Book your first call with your contact.`
)

// demoUpdate is an update of the demo, posted days ago.
type demoUpdate struct {
	days         int
	author, body string
}

// content gives a demo portal its resources and updates.
func (d *demo) content(p Portal, resources []Resource, updates []demoUpdate) {
	for i, r := range resources {
		if d.err != nil {
			return
		}
		r.PortalID, r.Position, r.CreatedAt, r.CreatedBy = p.ID, i+1, d.op.now, d.a.label()
		d.err = d.op.PutResource(&r)
	}
	for _, u := range updates {
		if d.err != nil {
			return
		}
		d.err = d.op.PutUpdate(&Update{PortalID: p.ID, Body: u.body, Author: u.author, CreatedAt: d.op.now.AddDate(0, 0, -u.days)})
	}
}

func (d *demo) member(org Org, email, name string, role Role) User {
	if d.err != nil {
		return User{}
	}
	u, _, err := d.op.findOrCreateUser(email, name)
	if err == nil {
		err = d.op.PutMember(Member{OrgID: org.ID, UserID: u.ID, Role: role, CreatedAt: d.op.now})
	}
	if err == nil {
		err = d.op.know(org.ID, email)
	}
	if err == nil {
		err = d.op.audit(d.a, org.ID, "member.added", email, "as "+string(role))
	}
	d.err = err
	return u
}

func (d *demo) portal(org Org, project string, ps PortalSettings) Portal {
	if d.err != nil {
		return Portal{}
	}
	proj, err := d.op.createProject(d.a, org.ID, project)
	if err != nil {
		d.err = err
		return Portal{}
	}
	p, err := d.op.setPortal(d.a, proj.ID, ps, RulesPatch{})
	d.err = err
	return p
}

// client invites email to the portal as a client and redeems the link once,
// as if the client had pressed Open portal (without keeping a session).
func (d *demo) client(org Org, p Portal, email, name string) DemoLink {
	if d.err != nil {
		return DemoLink{}
	}
	res, err := d.op.invite(d.a, InviteInput{OrgID: org.ID, Email: email, Name: name, Role: RoleClient, PortalID: p.ID})
	if err != nil {
		d.err = err
		return DemoLink{}
	}
	if _, err := d.op.redeem(res.Link.Token, d.v, false); err != nil {
		d.err = fmt.Errorf("demo redeem: %w", err)
		return DemoLink{}
	}
	return DemoLink{Email: email, Portal: p.Slug, URL: res.Link.URL}
}
