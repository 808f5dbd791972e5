package postgres

import (
	"encoding/json"
	"fmt"

	"latchkey/core"
)

// The store of portals, access to them and their owners' notices.

const portalColumns = `id, org_id, project_id, slug, title, access, disclosure, welcome, upstream, host,
	contact_id, language, rules, created_at, updated_at`

func scanPortal(r row) (core.Portal, error) {
	var p core.Portal
	var rules []byte
	err := r.Scan(&p.ID, &p.OrgID, &p.ProjectID, &p.Slug, &p.Title, &p.Access, &p.Disclosure, &p.Welcome,
		&p.Upstream, &p.Host, &p.ContactID, &p.Language, &rules, &p.CreatedAt, &p.UpdatedAt)
	if err != nil {
		return p, err
	}
	if err := json.Unmarshal(rules, &p.Rules); err != nil {
		return p, fmt.Errorf("decode the rules of portal %d: %w", p.ID, err)
	}
	return p, nil
}

func (x *tx) Portal(id uint64) (core.Portal, error) {
	return queryOne(x, scanPortal, `SELECT `+portalColumns+` FROM portals WHERE id = $1`, id)
}

func (x *tx) PortalBySlug(slug string) (core.Portal, error) {
	if slug == "" { // bbolt indexes no empty key
		return core.Portal{}, core.ErrNotFound
	}
	return queryOne(x, scanPortal, `SELECT `+portalColumns+` FROM portals WHERE slug = $1`, slug)
}

func (x *tx) PortalOfProject(projectID uint64) (core.Portal, error) {
	return queryOne(x, scanPortal, `SELECT `+portalColumns+` FROM portals WHERE project_id = $1`, projectID)
}

// PortalByHost finds the portal whose host is host; "" is no portal's
// (the portals without a host of their own have it empty).
func (x *tx) PortalByHost(host string) (core.Portal, error) {
	if host == "" {
		return core.Portal{}, core.ErrNotFound
	}
	return queryOne(x, scanPortal, `SELECT `+portalColumns+` FROM portals WHERE host = $1`, host)
}

func (x *tx) PutPortal(p *core.Portal) error {
	if err := x.portalConflict(p); err != nil {
		return err
	}
	rules, err := json.Marshal(p.Rules)
	if err != nil {
		return fmt.Errorf("encode the rules of portal %d: %w", p.ID, err)
	}
	args := []any{p.OrgID, p.ProjectID, p.Slug, p.Title, p.Access, p.Disclosure, p.Welcome, p.Upstream, p.Host,
		p.ContactID, p.Language, rules, ts(p.CreatedAt), ts(p.UpdatedAt)}
	if p.ID == 0 {
		return x.insertID(&p.ID, `INSERT INTO portals (org_id, project_id, slug, title, access, disclosure, welcome,
				upstream, host, contact_id, language, rules, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id`, args...)
	}
	_, err = x.exec(`INSERT INTO portals (id, org_id, project_id, slug, title, access, disclosure, welcome,
			upstream, host, contact_id, language, rules, created_at, updated_at)
		VALUES ($15, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
		ON CONFLICT (id) DO UPDATE SET org_id = EXCLUDED.org_id, project_id = EXCLUDED.project_id,
			slug = EXCLUDED.slug, title = EXCLUDED.title, access = EXCLUDED.access,
			disclosure = EXCLUDED.disclosure, welcome = EXCLUDED.welcome, upstream = EXCLUDED.upstream,
			host = EXCLUDED.host, contact_id = EXCLUDED.contact_id, language = EXCLUDED.language,
			rules = EXCLUDED.rules, created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at`,
		append(args, p.ID)...)
	return err
}

// portalConflict is bbolt's three checks of PutPortal, in its order: the
// slug, the project, the host name (when there is one).
func (x *tx) portalConflict(p *core.Portal) error {
	checks := []struct {
		query  string
		arg    any
		reason error
	}{
		{`SELECT 1 FROM portals WHERE slug = $1 AND id <> $2`, p.Slug, conflict("the portal slug %q is taken", p.Slug)},
		{`SELECT 1 FROM portals WHERE project_id = $1 AND id <> $2`, p.ProjectID, conflict("the project has a portal already")},
		{`SELECT 1 FROM portals WHERE host = $1 AND id <> $2`, p.Host, conflict("the host name %s belongs to another portal", p.Host)},
	}
	if p.Host == "" { // no host name is no claim on one
		checks = checks[:2]
	}
	for _, c := range checks {
		taken, err := x.exists(c.query, c.arg, p.ID)
		if err != nil {
			return err
		}
		if taken {
			return c.reason
		}
	}
	return nil
}

// Portals lists an organization's portals oldest first (by id).
func (x *tx) Portals(orgID uint64) ([]core.Portal, error) {
	return queryAll(x, scanPortal, `SELECT `+portalColumns+` FROM portals WHERE org_id = $1 ORDER BY id`, orgID)
}

const accessColumns = `portal_id, user_id, granted_at, via`

func scanAccess(r row) (core.Access, error) {
	var a core.Access
	err := r.Scan(&a.PortalID, &a.UserID, &a.GrantedAt, &a.Via)
	return a, err
}

func (x *tx) Access(portalID, userID uint64) (core.Access, error) {
	return queryOne(x, scanAccess, `SELECT `+accessColumns+` FROM access WHERE portal_id = $1 AND user_id = $2`, portalID, userID)
}

func (x *tx) PutAccess(a core.Access) error {
	_, err := x.exec(`INSERT INTO access (`+accessColumns+`) VALUES ($1, $2, $3, $4)
		ON CONFLICT (portal_id, user_id) DO UPDATE SET granted_at = EXCLUDED.granted_at, via = EXCLUDED.via`,
		a.PortalID, a.UserID, ts(a.GrantedAt), a.Via)
	return err
}

// DeleteAccess removes the access; ErrNotFound when there is none.
func (x *tx) DeleteAccess(portalID, userID uint64) error {
	n, err := x.exec(`DELETE FROM access WHERE portal_id = $1 AND user_id = $2`, portalID, userID)
	if err == nil && n == 0 {
		err = core.ErrNotFound
	}
	return err
}

// AccessList lists a portal's access by user id, as bbolt's portal|user
// keys order it.
func (x *tx) AccessList(portalID uint64) ([]core.Access, error) {
	return queryAll(x, scanAccess, `SELECT `+accessColumns+` FROM access WHERE portal_id = $1 ORDER BY user_id`, portalID)
}

// AccessOf lists a user's access by portal id.
func (x *tx) AccessOf(userID uint64) ([]core.Access, error) {
	return queryAll(x, scanAccess, `SELECT `+accessColumns+` FROM access WHERE user_id = $1 ORDER BY portal_id`, userID)
}

const noticesColumns = `portal_id, last_sent_at, digest_id`

func scanNotices(r row) (core.PortalNotices, error) {
	var n core.PortalNotices
	err := r.Scan(&n.PortalID, &n.LastSentAt, &n.DigestID)
	return n, err
}

func (x *tx) Notices(portalID uint64) (core.PortalNotices, error) {
	return queryOne(x, scanNotices, `SELECT `+noticesColumns+` FROM portal_notices WHERE portal_id = $1`, portalID)
}

func (x *tx) PutNotices(n core.PortalNotices) error {
	_, err := x.exec(`INSERT INTO portal_notices (`+noticesColumns+`) VALUES ($1, $2, $3)
		ON CONFLICT (portal_id) DO UPDATE SET last_sent_at = EXCLUDED.last_sent_at, digest_id = EXCLUDED.digest_id`,
		n.PortalID, ts(n.LastSentAt), n.DigestID)
	return err
}
