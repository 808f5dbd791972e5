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
	err = s.update(ctx, func(w *txw) error {
		links = nil
		if n, err := w.CountUsers(); err != nil {
			return err
		} else if orgs, err := w.Orgs(); err != nil {
			return err
		} else if n > 0 || len(orgs) > 0 {
			return ErrNotEmpty
		}
		d := demo{w: w, a: AdminActor("demo"), v: Visitor{Addr: "198.51.100.23", UserAgent: "demo"}}
		return d.load(hash, &links)
	})
	return links, err
}

type demo struct {
	w   *txw
	a   Actor
	v   Visitor
	err error
}

func (d *demo) load(ownerHash string, links *[]DemoLink) error {
	w, a := d.w, d.a
	org, err := w.createOrg(a, NewOrg{Name: "Northwind Studio", Slug: "northwind", OwnerEmail: "owner@northwind.test", OwnerName: "Olivia Owner"})
	if err != nil {
		return err
	}
	owner, err := w.UserByEmail("owner@northwind.test")
	if err != nil {
		return err
	}
	owner.PasswordHash, owner.PasswordChangedAt = ownerHash, w.now
	if err := w.PutUser(&owner); err != nil {
		return err
	}
	d.member(org, "mia@northwind.test", "Mia Manager", RoleManager)
	sam := d.member(org, "sam@northwind.test", "Sam Member", RoleMember)
	website := d.portal(org, "Website Redesign", PortalSettings{Slug: "website-redesign", Title: "Website Redesign", Access: AccessClosed,
		Welcome: "Welcome to the Website Redesign portal. Here you will find the latest designs, the timeline and everything we need from you."})
	brand := d.portal(org, "Brand Guidelines", PortalSettings{Slug: "brand-guidelines", Title: "Brand Guidelines", Access: AccessOpen,
		Welcome: "Our brand guidelines: logo, colours, type and tone of voice. Everyone may look; sign in to comment."})
	d.portal(org, "Onboarding Kit", PortalSettings{Slug: "onboarding", Title: "Onboarding Kit", Access: AccessEmail,
		Welcome: "Everything a new client needs to start working with Northwind Studio."})
	if _, err := w.createProject(a, org.ID, "Internal Ops"); err != nil {
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
	cfo, err := w.ActiveLink(website.ID, "cfo@acme.test")
	if err != nil {
		return err
	}
	if err := w.endLink(&cfo, LinkDeactivated, a); err != nil {
		return err
	}
	if err := w.auditPortal(a, website, "link.deactivated", cfo.Email, "portal "+website.Slug); err != nil {
		return err
	}
	if err := w.addPortalAccess(a, website.ID, sam.ID); err != nil {
		return err
	}
	if _, err := w.recordRequest(d.v.anonymous(), website, "newcomer@acme.test", d.v); err != nil {
		return err
	}
	// The demo's own request starts no quiet period: the first request a
	// newcomer makes tells the owner at once, as on a fresh portal.
	if err := w.PutNotices(PortalNotices{PortalID: website.ID}); err != nil {
		return err
	}
	return d.err
}

func (d *demo) member(org Org, email, name string, role Role) User {
	if d.err != nil {
		return User{}
	}
	u, _, err := d.w.findOrCreateUser(email, name)
	if err == nil {
		err = d.w.PutMember(Member{OrgID: org.ID, UserID: u.ID, Role: role, CreatedAt: d.w.now})
	}
	if err == nil {
		err = d.w.know(org.ID, email)
	}
	if err == nil {
		err = d.w.audit(d.a, org.ID, "member.added", email, "as "+string(role))
	}
	d.err = err
	return u
}

func (d *demo) portal(org Org, project string, ps PortalSettings) Portal {
	if d.err != nil {
		return Portal{}
	}
	proj, err := d.w.createProject(d.a, org.ID, project)
	if err != nil {
		d.err = err
		return Portal{}
	}
	p, err := d.w.setPortal(d.a, proj.ID, ps)
	d.err = err
	return p
}

// client invites email to the portal as a client and redeems the link once,
// as if the client had pressed Open portal (without keeping a session).
func (d *demo) client(org Org, p Portal, email, name string) DemoLink {
	if d.err != nil {
		return DemoLink{}
	}
	res, err := d.w.invite(d.a, InviteInput{OrgID: org.ID, Email: email, Name: name, Role: RoleClient, PortalID: p.ID})
	if err != nil {
		d.err = err
		return DemoLink{}
	}
	if _, err := d.w.redeem(res.Link.Token, d.v, false); err != nil {
		d.err = fmt.Errorf("demo redeem: %w", err)
		return DemoLink{}
	}
	return DemoLink{Email: email, Portal: p.Slug, URL: res.Link.URL}
}
