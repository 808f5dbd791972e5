package storage

import (
	"encoding/binary"
	"fmt"

	"latchkey/core"
)

// The store of organizations and members.

func (x *tx) Org(id uint64) (core.Org, error) { return cached(x, orgsOf, bOrgs, id) }

func (x *tx) OrgBySlug(slug string) (core.Org, error) {
	id := x.b(bOrgsSlug).Get([]byte(slug))
	if id == nil {
		return core.Org{}, core.ErrNotFound
	}
	return x.Org(binary.BigEndian.Uint64(id))
}

func (x *tx) PutOrg(o *core.Org) error {
	if x.takenBy(bOrgsSlug, []byte(o.Slug), o.ID) {
		return fmt.Errorf("%w: the organization slug %q is taken", core.ErrConflict, o.Slug)
	}
	var old []byte
	if prev, err := x.Org(o.ID); o.ID != 0 && err == nil {
		old = []byte(prev.Slug)
	}
	if err := nextID(x.b(bOrgs), &o.ID); err != nil {
		return err
	}
	x.catalogWritten()
	if err := x.reindex(bOrgsSlug, old, []byte(o.Slug), o.ID); err != nil {
		return err
	}
	return put(x.b(bOrgs), u64(o.ID), o)
}

func (x *tx) Orgs() ([]core.Org, error) { return valuesByPrefix[core.Org](x.b(bOrgs), nil) }

func (x *tx) Member(orgID, userID uint64) (core.Member, error) {
	return get[core.Member](x.b(bMembers), cat(u64(orgID), u64(userID)))
}

func (x *tx) OrgOwner(orgID uint64) (core.Member, error) {
	id := x.b(bOrgsOwner).Get(u64(orgID))
	if id == nil {
		return core.Member{}, core.ErrNotFound
	}
	return x.Member(orgID, binary.BigEndian.Uint64(id))
}

func (x *tx) PutMember(m core.Member) error {
	owners := x.b(bOrgsOwner)
	cur := owners.Get(u64(m.OrgID))
	switch {
	case m.Role == core.RoleOwner:
		if cur != nil && binary.BigEndian.Uint64(cur) != m.UserID {
			if prev, err := x.Member(m.OrgID, binary.BigEndian.Uint64(cur)); err == nil && prev.Role == core.RoleOwner {
				return fmt.Errorf("%w: the organization has an owner already", core.ErrConflict)
			}
		}
		if err := owners.Put(u64(m.OrgID), u64(m.UserID)); err != nil {
			return err
		}
	case cur != nil && binary.BigEndian.Uint64(cur) == m.UserID:
		if err := owners.Delete(u64(m.OrgID)); err != nil {
			return err
		}
	}
	if err := x.b(bMembersUser).Put(cat(u64(m.UserID), u64(m.OrgID)), nil); err != nil {
		return err
	}
	return put(x.b(bMembers), cat(u64(m.OrgID), u64(m.UserID)), m)
}

func (x *tx) DeleteMember(orgID, userID uint64) error {
	if cur := x.b(bOrgsOwner).Get(u64(orgID)); cur != nil && binary.BigEndian.Uint64(cur) == userID {
		if err := x.b(bOrgsOwner).Delete(u64(orgID)); err != nil {
			return err
		}
	}
	if err := x.b(bMembersUser).Delete(cat(u64(userID), u64(orgID))); err != nil {
		return err
	}
	return x.b(bMembers).Delete(cat(u64(orgID), u64(userID)))
}

func (x *tx) Members(orgID uint64) ([]core.Member, error) {
	return valuesByPrefix[core.Member](x.b(bMembers), u64(orgID))
}

func (x *tx) MembershipsOf(userID uint64) ([]core.Member, error) {
	return followIndex(x.b(bMembersUser), u64(userID), func(k, _ []byte) (core.Member, error) { return x.Member(idBytes(k), userID) })
}
