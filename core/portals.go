package core

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"strings"
)

// PortalSettings are what an owner or manager sets on a portal.
type PortalSettings struct {
	Slug       string
	Title      string
	Access     AccessLevel
	Disclosure Disclosure
	Welcome    string // Markdown
	Upstream   string // the agency's app that the portal fronts; "" for the built-in page
	Host       string // the portal's own host name; "" for none
	Contact    string // the email of the member clients write to; "" for none
	Language   string // the portal's default language (one of Languages); "" for English
}

func (ps PortalSettings) clean() (PortalSettings, error) {
	var err error
	if ps.Slug, err = ValidateSlug(ps.Slug); err != nil {
		return ps, err
	}
	if ps.Title, err = cleanName("title", ps.Title, true); err != nil {
		return ps, err
	}
	if ps.Access, err = ParseAccessLevel(string(ps.Access)); err != nil {
		return ps, err
	}
	if ps.Disclosure, err = ParseDisclosure(string(ps.Disclosure)); err != nil {
		return ps, err
	}
	if ps.Welcome, err = cleanText("welcome text", ps.Welcome, MaxWelcomeLen); err != nil {
		return ps, err
	}
	if ps.Upstream, err = ParseUpstream(ps.Upstream); err != nil {
		return ps, err
	}
	if ps.Host, err = ParseHostName(ps.Host); err != nil {
		return ps, err
	}
	if ps.Language, err = ParseLanguage(ps.Language); err != nil {
		return ps, err
	}
	if c := strings.TrimSpace(ps.Contact); c != "" && !strings.EqualFold(c, "none") {
		if ps.Contact, err = NormalizeEmail(c); err != nil {
			var ve *ValidationError
			if errors.As(err, &ve) {
				ve.Field = "contact"
			}
			return ps, err
		}
	} else {
		ps.Contact = ""
	}
	return ps, nil
}

// PortalPatch changes some of a portal's settings; nil fields stay as they are.
type PortalPatch struct {
	Title      *string
	Access     *AccessLevel
	Disclosure *Disclosure
	Welcome    *string
	Upstream   *string
	Host       *string
	Contact    *string
	Language   *string
	Rules      RulesPatch // the access rules (accessrules.go)
}

// SetPortal creates the project's portal or updates its settings.
func (s *Portals) SetPortal(ctx context.Context, a Actor, projectID uint64, in PortalSettings) (Portal, error) {
	return writeResult(s.engine, ctx, func(op *operation) (Portal, error) { return op.setPortal(a, projectID, in, RulesPatch{}) })
}

// PatchPortal changes the settings a patch names, in one transaction with
// reading the others.
func (s *Portals) PatchPortal(ctx context.Context, a Actor, portalID uint64, patch PortalPatch) (Portal, error) {
	return writeResult(s.engine, ctx, func(op *operation) (Portal, error) {
		p, _, err := op.portalFor(a, portalID)
		if err != nil {
			return Portal{}, err
		}
		in, err := op.settingsOf(p)
		if err != nil {
			return Portal{}, err
		}
		set := func(dst *string, v *string) {
			if v != nil {
				*dst = *v
			}
		}
		set(&in.Title, patch.Title)
		set(&in.Welcome, patch.Welcome)
		set(&in.Upstream, patch.Upstream)
		set(&in.Host, patch.Host)
		set(&in.Contact, patch.Contact)
		set(&in.Language, patch.Language)
		if patch.Access != nil {
			in.Access = *patch.Access
		}
		if patch.Disclosure != nil {
			in.Disclosure = *patch.Disclosure
		}
		return op.setPortal(a, p.ProjectID, in, patch.Rules)
	})
}

// settingsOf is a portal's settings as SetPortal takes them.
func (op *operation) settingsOf(p Portal) (PortalSettings, error) {
	in := PortalSettings{Slug: p.Slug, Title: p.Title, Access: p.Access, Disclosure: p.Disclosure, Welcome: p.Welcome,
		Upstream: p.Upstream, Host: p.Host, Language: p.Language}
	if p.ContactID != 0 {
		u, err := op.User(p.ContactID)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return in, err
		}
		in.Contact = u.Email
	}
	return in, nil
}

// PortalSettingsOf is a portal's settings, for a form that edits them.
func (s *Portals) PortalSettingsOf(ctx context.Context, a Actor, portalID uint64) (PortalSettings, error) {
	return readResult(s.engine, ctx, func(op *operation) (PortalSettings, error) {
		p, _, err := op.portalFor(a, portalID)
		if err != nil {
			return PortalSettings{}, err
		}
		return op.settingsOf(p)
	})
}

// setPortal saves the settings, and the rules the patch changes.
func (op *operation) setPortal(a Actor, projectID uint64, in PortalSettings, rules RulesPatch) (Portal, error) {
	in, err := in.clean()
	if err != nil {
		return Portal{}, err
	}
	proj, err := op.projectFor(a, projectID)
	if err != nil {
		return Portal{}, err
	}
	if other, err := op.PortalBySlug(in.Slug); err == nil && other.ProjectID != projectID {
		return Portal{}, &FieldConflict{Field: "slug", Reason: fmt.Sprintf("the address /p/%s is taken by another portal; choose another", in.Slug)}
	} else if err != nil && !errors.Is(err, ErrNotFound) {
		return Portal{}, err
	}
	if in.Host != "" {
		if pub, err := url.Parse(op.s.publicURL); err == nil && strings.EqualFold(pub.Hostname(), in.Host) {
			return Portal{}, invalid("host", "%s is latchkey's own address (--public-url); a portal's host is another name", in.Host)
		}
		if other, err := op.PortalByHost(in.Host); err == nil && other.ProjectID != projectID {
			return Portal{}, &FieldConflict{Field: "host", Reason: fmt.Sprintf("the host name %s belongs to the portal /p/%s", in.Host, other.Slug)}
		} else if err != nil && !errors.Is(err, ErrNotFound) {
			return Portal{}, err
		}
	}
	var contact uint64
	if in.Contact != "" {
		u, err := op.UserByEmail(in.Contact)
		if errors.Is(err, ErrNotFound) {
			return Portal{}, invalid("contact", "%s has no account here; the contact is a member of the organization", in.Contact)
		}
		if err != nil {
			return Portal{}, err
		}
		m, err := op.Member(proj.OrgID, u.ID)
		switch {
		case errors.Is(err, ErrNotFound):
			return Portal{}, invalid("contact", "%s is not a member of this organization", in.Contact)
		case err != nil:
			return Portal{}, err
		case !m.Role.MayBeContact():
			return Portal{}, invalid("contact", "%s is a %s; the contact is someone of the organization (owner, manager or member)", in.Contact, m.Role)
		}
		contact = u.ID
	}
	action := "portal.updated"
	p, err := op.PortalOfProject(projectID)
	switch {
	case errors.Is(err, ErrNotFound):
		action = "portal.created"
		p = Portal{OrgID: proj.OrgID, ProjectID: projectID, CreatedAt: op.now}
	case err != nil:
		return Portal{}, err
	}
	before := p
	p.Slug, p.Title, p.Access, p.Disclosure, p.Welcome = in.Slug, in.Title, in.Access, in.Disclosure, in.Welcome
	p.Upstream, p.Host, p.ContactID, p.Language = in.Upstream, in.Host, contact, in.Language
	if p.Rules, err = rules.apply(p.Rules); err != nil {
		return Portal{}, err
	}
	if err := rules.checkFor(p.Rules, p.Access); err != nil {
		return Portal{}, err
	}
	if action == "portal.updated" && samePortal(p, before) {
		return p, nil // nothing changed: nothing to audit
	}
	p.UpdatedAt = op.now
	if err := op.PutPortal(&p); err != nil {
		return Portal{}, err
	}
	op.changed(Change{Kind: ChangeProjectChanged, OrgID: p.OrgID, PortalID: p.ID})
	return p, op.auditPortal(a, p, action, p.Slug, portalChanges(before, p, in.Contact, action == "portal.created"))
}

// portalChanges says what a change to a portal did, for the audit log.
func portalChanges(before, after Portal, contact string, created bool) string {
	var out []string
	add := func(changed bool, what string) {
		if created || changed {
			out = append(out, what)
		}
	}
	// Title, access and disclosure always, as the log has said since the start.
	out = append(out, fmt.Sprintf("title %q", after.Title), "access "+string(after.Access), "disclosure "+disclosureName(after.Disclosure))
	add(before.Slug != after.Slug && !created, "address /p/"+after.Slug)
	add(before.Welcome != after.Welcome, fmt.Sprintf("welcome text (%d characters)", len([]rune(after.Welcome))))
	add(before.Upstream != after.Upstream, "upstream "+orNone(after.Upstream))
	add(before.Host != after.Host, "host "+orNone(after.Host))
	add(before.ContactID != after.ContactID, "contact "+orNone(contact))
	if before.Language != after.Language { // a new portal in English says nothing of it
		out = append(out, "language "+orDefault(after.Language))
	}
	out = append(out, rulesChanges(before.Rules, after.Rules)...)
	return strings.Join(out, ", ")
}

// samePortal: nothing of the portal changed.
func samePortal(a, b Portal) bool {
	if !a.Rules.Equal(b.Rules) {
		return false
	}
	a.Rules, b.Rules = AccessRules{}, AccessRules{}
	return reflect.DeepEqual(a, b)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func orDefault(s string) string {
	if s == "" {
		return "default"
	}
	return s
}

func disclosureName(d Disclosure) string {
	if d == DisclosureDefault {
		return "default"
	}
	return string(d)
}

// EffectiveDisclosure is how a portal answers the access form.
func (s *engine) EffectiveDisclosure(p Portal) Disclosure {
	if s.opts.UniformResponses || p.Disclosure == DisclosureGeneric {
		return DisclosureGeneric
	}
	return DisclosureExplicit
}
