package postgres

import (
	"latchkey/core"
)

// The store of organizations, their members and the addresses they know.

const orgColumns = `id, slug, name, created_at, logo, accent, reply_to, sender_name, language`

func scanOrg(r row) (core.Org, error) {
	var o core.Org
	err := r.Scan(&o.ID, &o.Slug, &o.Name, &o.CreatedAt, &o.Logo, &o.Accent, &o.ReplyTo, &o.SenderName, &o.Language)
	return o, err
}

func (x *tx) Org(id uint64) (core.Org, error) {
	return queryOne(x, scanOrg, `SELECT `+orgColumns+` FROM orgs WHERE id = $1`, id)
}

func (x *tx) OrgBySlug(slug string) (core.Org, error) {
	if slug == "" { // bbolt indexes no empty key
		return core.Org{}, core.ErrNotFound
	}
	return queryOne(x, scanOrg, `SELECT `+orgColumns+` FROM orgs WHERE slug = $1`, slug)
}

func (x *tx) PutOrg(o *core.Org) error {
	taken, err := x.exists(`SELECT 1 FROM orgs WHERE slug = $1 AND id <> $2`, o.Slug, o.ID)
	if err != nil {
		return err
	}
	if taken {
		return conflict("the organization slug %q is taken", o.Slug)
	}
	args := []any{o.Slug, o.Name, ts(o.CreatedAt), o.Logo, o.Accent, o.ReplyTo, o.SenderName, o.Language}
	if o.ID == 0 {
		return x.insertID(&o.ID, `INSERT INTO orgs (slug, name, created_at, logo, accent, reply_to, sender_name, language)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`, args...)
	}
	_, err = x.exec(`INSERT INTO orgs (id, slug, name, created_at, logo, accent, reply_to, sender_name, language)
		VALUES ($9, $1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (id) DO UPDATE SET slug = EXCLUDED.slug, name = EXCLUDED.name, created_at = EXCLUDED.created_at,
			logo = EXCLUDED.logo, accent = EXCLUDED.accent, reply_to = EXCLUDED.reply_to,
			sender_name = EXCLUDED.sender_name, language = EXCLUDED.language`, append(args, o.ID)...)
	return err
}

func (x *tx) Orgs() ([]core.Org, error) {
	return queryAll(x, scanOrg, `SELECT `+orgColumns+` FROM orgs ORDER BY id`)
}

const memberColumns = `org_id, user_id, role, guest_until, created_at, reminded_for`

func scanMember(r row) (core.Member, error) {
	var m core.Member
	err := r.Scan(&m.OrgID, &m.UserID, &m.Role, &m.GuestUntil, &m.CreatedAt, &m.RemindedFor)
	return m, err
}

func (x *tx) Member(orgID, userID uint64) (core.Member, error) {
	return queryOne(x, scanMember, `SELECT `+memberColumns+` FROM members WHERE org_id = $1 AND user_id = $2`, orgID, userID)
}

func (x *tx) OrgOwner(orgID uint64) (core.Member, error) {
	return queryOne(x, scanMember, `SELECT `+memberColumns+` FROM members WHERE org_id = $1 AND role = $2`, orgID, core.RoleOwner)
}

// PutMember refuses a second owner (members_one_owner holds it too); a
// member who was the owner and is put with another role is no longer one.
func (x *tx) PutMember(m core.Member) error {
	if m.Role == core.RoleOwner {
		taken, err := x.exists(`SELECT 1 FROM members WHERE org_id = $1 AND role = $2 AND user_id <> $3`,
			m.OrgID, core.RoleOwner, m.UserID)
		if err != nil {
			return err
		}
		if taken {
			return conflict("the organization has an owner already")
		}
	}
	_, err := x.exec(`INSERT INTO members (`+memberColumns+`) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (org_id, user_id) DO UPDATE SET role = EXCLUDED.role, guest_until = EXCLUDED.guest_until,
			created_at = EXCLUDED.created_at, reminded_for = EXCLUDED.reminded_for`,
		m.OrgID, m.UserID, m.Role, ts(m.GuestUntil), ts(m.CreatedAt), ts(m.RemindedFor))
	return err
}

// DeleteMember removes the membership; none is no error.
func (x *tx) DeleteMember(orgID, userID uint64) error {
	_, err := x.exec(`DELETE FROM members WHERE org_id = $1 AND user_id = $2`, orgID, userID)
	return err
}

// Members lists an organization's members by user id, as bbolt's
// org|user keys order them.
func (x *tx) Members(orgID uint64) ([]core.Member, error) {
	return queryAll(x, scanMember, `SELECT `+memberColumns+` FROM members WHERE org_id = $1 ORDER BY user_id`, orgID)
}

// MembershipsOf lists a user's memberships by organization id.
func (x *tx) MembershipsOf(userID uint64) ([]core.Member, error) {
	return queryAll(x, scanMember, `SELECT `+memberColumns+` FROM members WHERE user_id = $1 ORDER BY org_id`, userID)
}

func (x *tx) KnownAddress(orgID uint64, skeleton string) (string, error) {
	return queryOne(x, func(r row) (string, error) {
		var email string
		err := r.Scan(&email)
		return email, err
	}, `SELECT email FROM known_addresses WHERE org_id = $1 AND skeleton = $2`, orgID, skeleton)
}

func (x *tx) PutKnownAddress(orgID uint64, skeleton, email string) error {
	_, err := x.exec(`INSERT INTO known_addresses (org_id, skeleton, email) VALUES ($1, $2, $3)
		ON CONFLICT (org_id, skeleton) DO UPDATE SET email = EXCLUDED.email`, orgID, skeleton, email)
	return err
}
