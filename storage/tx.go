package storage

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"

	"latchkey/core"
)

// tx implements core.Tx on a bbolt transaction.
type tx struct {
	t            *bolt.Tx
	cat          *catalog
	gen          uint64 // the catalog's generation when the transaction began
	wroteCatalog bool
}

var _ core.Tx = (*tx)(nil)

func (x *tx) b(name []byte) *bolt.Bucket { return x.t.Bucket(name) }

// get decodes the record at key; core.ErrNotFound when there is none.
func get[T any](b *bolt.Bucket, key []byte) (T, error) {
	raw := b.Get(key)
	if raw == nil {
		var zero T
		return zero, core.ErrNotFound
	}
	return decode[T](raw)
}

// decode reads one JSON record (and so copies it out of the database's map).
func decode[T any](raw []byte) (T, error) {
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		return v, fmt.Errorf("decode %T: %w", v, err)
	}
	return v, nil
}

// valuesByPrefix decodes the records of b whose keys start with prefix (all
// of them for an empty prefix), in key order.
func valuesByPrefix[T any](b *bolt.Bucket, prefix []byte) ([]T, error) {
	var out []T
	err := scanPrefix(b, prefix, false, func(_, raw []byte) (bool, error) {
		v, err := decode[T](raw)
		if err != nil {
			return false, err
		}
		out = append(out, v)
		return true, nil
	})
	return out, err
}

// newestBefore decodes the records of b, keyed by id, newest first: those
// below beforeID when it is not 0, at most limit of them (0: all).
func newestBefore[T any](b *bolt.Bucket, beforeID uint64, limit int) ([]T, error) {
	var out []T
	c := b.Cursor()
	var k, raw []byte
	if beforeID == 0 {
		k, raw = c.Last()
	} else {
		k, raw = seekBefore(c, u64(beforeID))
	}
	for ; k != nil && (limit <= 0 || len(out) < limit); k, raw = c.Prev() {
		v, err := decode[T](raw)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func put(b *bolt.Bucket, key []byte, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %T: %w", v, err)
	}
	return b.Put(key, raw)
}

// getByIndex follows an index entry (key → id) to the record in primary.
func getByIndex[T any](x *tx, index, primary, key []byte) (T, error) {
	id := x.b(index).Get(key)
	if id == nil {
		var zero T
		return zero, core.ErrNotFound
	}
	return get[T](x.b(primary), id)
}

// listByPrefix follows the index entries prefix|id to records in primary, in
// key order or reversed; limit 0 means all.
func listByPrefix[T any](x *tx, index, primary, prefix []byte, reverse bool, limit int) ([]T, error) {
	var out []T
	err := scanPrefix(x.b(index), prefix, reverse, func(k, _ []byte) (bool, error) {
		v, err := get[T](x.b(primary), k[len(k)-8:])
		if err != nil {
			return false, err
		}
		out = append(out, v)
		return limit == 0 || len(out) < limit, nil
	})
	return out, err
}

// scanPrefix visits the keys that start with prefix until fn returns false.
func scanPrefix(b *bolt.Bucket, prefix []byte, reverse bool, fn func(k, v []byte) (bool, error)) error {
	c := b.Cursor()
	var k, v []byte
	if reverse {
		k, v = seekLast(c, prefix)
	} else {
		k, v = c.Seek(prefix)
	}
	for ; k != nil && bytes.HasPrefix(k, prefix); k, v = step(c, reverse) {
		more, err := fn(k, v)
		if err != nil || !more {
			return err
		}
	}
	return nil
}

func step(c *bolt.Cursor, reverse bool) ([]byte, []byte) {
	if reverse {
		return c.Prev()
	}
	return c.Next()
}

// seekLast positions c on the last key that starts with prefix (or before it).
func seekLast(c *bolt.Cursor, prefix []byte) ([]byte, []byte) {
	if len(prefix) == 0 {
		return c.Last()
	}
	end := append([]byte(nil), prefix...)
	for i := len(end) - 1; i >= 0; i-- { // smallest key greater than every key with the prefix
		if end[i] < 0xff {
			end[i]++
			end = end[:i+1]
			return seekBefore(c, end)
		}
	}
	return c.Last()
}

// seekBefore positions c on the last key before key.
func seekBefore(c *bolt.Cursor, key []byte) ([]byte, []byte) {
	if k, _ := c.Seek(key); k == nil {
		return c.Last()
	}
	return c.Prev()
}

func nextID(b *bolt.Bucket, id *uint64) error {
	if *id != 0 {
		return nil
	}
	n, err := b.NextSequence()
	if err != nil {
		return err
	}
	*id = n
	return nil
}

func idBytes(k []byte) uint64 { return binary.BigEndian.Uint64(k[len(k)-8:]) }

// ---- users

func (x *tx) User(id uint64) (core.User, error) { return get[core.User](x.b(bUsers), u64(id)) }

func (x *tx) UserByEmail(email string) (core.User, error) {
	return getByIndex[core.User](x, bUsersEmail, bUsers, []byte(email))
}

func (x *tx) PutUser(u *core.User) error {
	if id := x.b(bUsersEmail).Get([]byte(u.Email)); id != nil && binary.BigEndian.Uint64(id) != u.ID {
		return fmt.Errorf("%w: another account has the email %s", core.ErrConflict, u.Email)
	}
	if u.ID != 0 {
		if old, err := x.User(u.ID); err == nil && old.Email != u.Email {
			if err := x.b(bUsersEmail).Delete([]byte(old.Email)); err != nil {
				return err
			}
		}
	}
	if err := nextID(x.b(bUsers), &u.ID); err != nil {
		return err
	}
	if err := x.b(bUsersEmail).Put([]byte(u.Email), u64(u.ID)); err != nil {
		return err
	}
	return put(x.b(bUsers), u64(u.ID), u)
}

func (x *tx) CountUsers() (int, error) { return x.b(bUsers).Stats().KeyN, nil }

// ---- organizations and members

func (x *tx) Org(id uint64) (core.Org, error) { return cached(x, orgsOf, bOrgs, id) }

func (x *tx) OrgBySlug(slug string) (core.Org, error) {
	id := x.b(bOrgsSlug).Get([]byte(slug))
	if id == nil {
		return core.Org{}, core.ErrNotFound
	}
	return x.Org(binary.BigEndian.Uint64(id))
}

func (x *tx) PutOrg(o *core.Org) error {
	if id := x.b(bOrgsSlug).Get([]byte(o.Slug)); id != nil && binary.BigEndian.Uint64(id) != o.ID {
		return fmt.Errorf("%w: the organization slug %q is taken", core.ErrConflict, o.Slug)
	}
	if o.ID != 0 {
		if old, err := x.Org(o.ID); err == nil && old.Slug != o.Slug {
			if err := x.b(bOrgsSlug).Delete([]byte(old.Slug)); err != nil {
				return err
			}
		}
	}
	if err := nextID(x.b(bOrgs), &o.ID); err != nil {
		return err
	}
	x.catalogWritten()
	if err := x.b(bOrgsSlug).Put([]byte(o.Slug), u64(o.ID)); err != nil {
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
	var out []core.Member
	err := scanPrefix(x.b(bMembersUser), u64(userID), false, func(k, _ []byte) (bool, error) {
		m, err := x.Member(idBytes(k), userID)
		if err != nil {
			return false, err
		}
		out = append(out, m)
		return true, nil
	})
	return out, err
}

// ---- projects

func (x *tx) Project(id uint64) (core.Project, error) {
	return cached(x, projectsOf, bProjects, id)
}

func (x *tx) PutProject(p *core.Project) error {
	if err := nextID(x.b(bProjects), &p.ID); err != nil {
		return err
	}
	x.catalogWritten()
	if err := x.b(bProjectsOrg).Put(cat(u64(p.OrgID), u64(p.ID)), nil); err != nil {
		return err
	}
	return put(x.b(bProjects), u64(p.ID), p)
}

func (x *tx) Projects(orgID uint64) ([]core.Project, error) {
	return listByPrefix[core.Project](x, bProjectsOrg, bProjects, u64(orgID), false, 0)
}

// ---- portals and access

func (x *tx) Portal(id uint64) (core.Portal, error) { return cached(x, portalsOf, bPortals, id) }

func (x *tx) PortalBySlug(slug string) (core.Portal, error) {
	id := x.b(bPortalsSlug).Get([]byte(slug))
	if id == nil {
		return core.Portal{}, core.ErrNotFound
	}
	return x.Portal(binary.BigEndian.Uint64(id))
}

func (x *tx) PortalOfProject(projectID uint64) (core.Portal, error) {
	id := x.b(bPortalsProject).Get(u64(projectID))
	if id == nil {
		return core.Portal{}, core.ErrNotFound
	}
	return x.Portal(binary.BigEndian.Uint64(id))
}

func (x *tx) PortalByHost(host string) (core.Portal, error) {
	id := x.b(bPortalsHost).Get([]byte(host))
	if id == nil {
		return core.Portal{}, core.ErrNotFound
	}
	return x.Portal(binary.BigEndian.Uint64(id))
}

func (x *tx) PutPortal(p *core.Portal) error {
	if id := x.b(bPortalsSlug).Get([]byte(p.Slug)); id != nil && binary.BigEndian.Uint64(id) != p.ID {
		return fmt.Errorf("%w: the portal slug %q is taken", core.ErrConflict, p.Slug)
	}
	if id := x.b(bPortalsProject).Get(u64(p.ProjectID)); id != nil && binary.BigEndian.Uint64(id) != p.ID {
		return fmt.Errorf("%w: the project has a portal already", core.ErrConflict)
	}
	if p.Host != "" {
		if id := x.b(bPortalsHost).Get([]byte(p.Host)); id != nil && binary.BigEndian.Uint64(id) != p.ID {
			return fmt.Errorf("%w: the host name %s belongs to another portal", core.ErrConflict, p.Host)
		}
	}
	if p.ID != 0 {
		if old, err := x.Portal(p.ID); err == nil {
			if old.Slug != p.Slug {
				if err := x.b(bPortalsSlug).Delete([]byte(old.Slug)); err != nil {
					return err
				}
			}
			if old.Host != "" && old.Host != p.Host {
				if err := x.b(bPortalsHost).Delete([]byte(old.Host)); err != nil {
					return err
				}
			}
		}
	}
	if err := nextID(x.b(bPortals), &p.ID); err != nil {
		return err
	}
	x.catalogWritten()
	for _, e := range []struct{ b, k, v []byte }{
		{bPortalsSlug, []byte(p.Slug), u64(p.ID)},
		{bPortalsProject, u64(p.ProjectID), u64(p.ID)},
		{bPortalsOrg, cat(u64(p.OrgID), u64(p.ID)), nil},
	} {
		if err := x.b(e.b).Put(e.k, e.v); err != nil {
			return err
		}
	}
	if p.Host != "" {
		if err := x.b(bPortalsHost).Put([]byte(p.Host), u64(p.ID)); err != nil {
			return err
		}
	}
	return put(x.b(bPortals), u64(p.ID), p)
}

func (x *tx) Portals(orgID uint64) ([]core.Portal, error) {
	return listByPrefix[core.Portal](x, bPortalsOrg, bPortals, u64(orgID), false, 0)
}

func (x *tx) Access(portalID, userID uint64) (core.Access, error) {
	return get[core.Access](x.b(bAccess), cat(u64(portalID), u64(userID)))
}

func (x *tx) PutAccess(a core.Access) error {
	if err := x.b(bAccessUser).Put(cat(u64(a.UserID), u64(a.PortalID)), nil); err != nil {
		return err
	}
	return put(x.b(bAccess), cat(u64(a.PortalID), u64(a.UserID)), a)
}

func (x *tx) DeleteAccess(portalID, userID uint64) error {
	key := cat(u64(portalID), u64(userID))
	if x.b(bAccess).Get(key) == nil {
		return core.ErrNotFound
	}
	if err := x.b(bAccessUser).Delete(cat(u64(userID), u64(portalID))); err != nil {
		return err
	}
	return x.b(bAccess).Delete(key)
}

func (x *tx) AccessList(portalID uint64) ([]core.Access, error) {
	return valuesByPrefix[core.Access](x.b(bAccess), u64(portalID))
}

func (x *tx) AccessOf(userID uint64) ([]core.Access, error) {
	var out []core.Access
	err := scanPrefix(x.b(bAccessUser), u64(userID), false, func(k, _ []byte) (bool, error) {
		a, err := x.Access(idBytes(k), userID)
		if err != nil {
			return false, err
		}
		out = append(out, a)
		return true, nil
	})
	return out, err
}

// ---- links
//
// Links are stored under their lookup hash, so that resolving a token (the
// hot path) walks one B+tree; the other indexes hold the lookup hash too.

func (x *tx) linkAt(lookup []byte) (core.Link, error) {
	if lookup == nil {
		return core.Link{}, core.ErrNotFound
	}
	raw := x.b(bLinks).Get(lookup)
	if raw == nil {
		return core.Link{}, core.ErrNotFound
	}
	return DecodeLink(raw)
}

func (x *tx) Link(id uint64) (core.Link, error) { return x.linkAt(x.b(bLinksID).Get(u64(id))) }

func (x *tx) LinkByLookup(lookup []byte) (core.Link, error) { return x.linkAt(lookup) }

func portalEmail(portalID uint64, email string) []byte { return cat(u64(portalID), []byte(email)) }

func (x *tx) ActiveLink(portalID uint64, email string) (core.Link, error) {
	return x.linkAt(x.b(bLinksActive).Get(portalEmail(portalID, email)))
}

func (x *tx) LatestLink(portalID uint64, email string) (core.Link, error) {
	return x.linkAt(x.b(bLinksLatest).Get(portalEmail(portalID, email)))
}

func (x *tx) PutLink(l *core.Link) error {
	if len(l.Lookup) == 0 {
		return errors.New("a link needs its lookup hash")
	}
	pe := portalEmail(l.PortalID, l.Email)
	active := x.b(bLinksActive)
	cur := active.Get(pe)
	isNew := l.ID == 0
	if l.State == core.LinkActive && cur != nil && !bytes.Equal(cur, l.Lookup) {
		return fmt.Errorf("%w: %s has an active link for this portal already", core.ErrConflict, l.Email)
	}
	if isNew && x.b(bLinks).Get(l.Lookup) != nil {
		return fmt.Errorf("%w: duplicate link token", core.ErrConflict)
	}
	if err := nextID(x.b(bLinksID), &l.ID); err != nil {
		return err
	}
	var err error
	// The index is written only when it changes: an unchanged write still
	// costs a page per level of a large tree at every commit.
	switch {
	case l.State == core.LinkActive && cur == nil:
		err = active.Put(pe, l.Lookup)
	case l.State != core.LinkActive && cur != nil && bytes.Equal(cur, l.Lookup):
		err = active.Delete(pe)
	}
	if err != nil {
		return err
	}
	if isNew {
		for _, e := range []struct{ b, k []byte }{
			{bLinksID, u64(l.ID)},
			{bLinksLatest, pe},
			{bLinksPortal, cat(u64(l.PortalID), u64(l.ID))},
		} {
			if err := x.b(e.b).Put(e.k, l.Lookup); err != nil {
				return err
			}
		}
	}
	return x.b(bLinks).Put(l.Lookup, EncodeLink(l))
}

func (x *tx) Links(portalID uint64) ([]core.Link, error) {
	var out []core.Link
	err := scanPrefix(x.b(bLinksPortal), u64(portalID), false, func(_, lookup []byte) (bool, error) {
		l, err := x.linkAt(lookup)
		if err != nil {
			return false, err
		}
		out = append(out, l)
		return true, nil
	})
	return out, err
}

// ---- invitations

func (x *tx) Invitation(id uint64) (core.Invitation, error) {
	return get[core.Invitation](x.b(bInvitations), u64(id))
}

func (x *tx) LatestInvitation(orgID uint64, email string) (core.Invitation, error) {
	return getByIndex[core.Invitation](x, bInvitationsLatest, bInvitations, cat(u64(orgID), []byte(email)))
}

func (x *tx) PutInvitation(inv *core.Invitation) error {
	isNew := inv.ID == 0
	if err := nextID(x.b(bInvitations), &inv.ID); err != nil {
		return err
	}
	if isNew {
		if err := x.b(bInvitationsLatest).Put(cat(u64(inv.OrgID), []byte(inv.Email)), u64(inv.ID)); err != nil {
			return err
		}
		if err := x.b(bInvitationsOrg).Put(cat(u64(inv.OrgID), u64(inv.ID)), nil); err != nil {
			return err
		}
		if err := x.b(bInvitationsEmail).Put(cat(orgEmail(inv.OrgID, inv.Email), u64(inv.ID)), nil); err != nil {
			return err
		}
	}
	return put(x.b(bInvitations), u64(inv.ID), inv)
}

// orgEmail is the prefix org|email|0: the NUL ends the email (emails hold no
// control characters), so one email's prefix never matches a longer one's.
func orgEmail(orgID uint64, email string) []byte { return cat(u64(orgID), []byte(email), []byte{0}) }

func (x *tx) InvitationsOf(orgID uint64, email string) ([]core.Invitation, error) {
	return listByPrefix[core.Invitation](x, bInvitationsEmail, bInvitations, orgEmail(orgID, email), false, 0)
}

func (x *tx) Invitations(orgID uint64) ([]core.Invitation, error) {
	return listByPrefix[core.Invitation](x, bInvitationsOrg, bInvitations, u64(orgID), true, 0)
}

// ---- single-use tokens

func (x *tx) Token(hash []byte) (core.Token, error) { return get[core.Token](x.b(bTokens), hash) }

func (x *tx) PutToken(t core.Token) error { return put(x.b(bTokens), t.Hash, t) }

func (x *tx) DeleteTokensBefore(t time.Time) (int, error) {
	var dead [][]byte
	err := x.b(bTokens).ForEach(func(k, v []byte) error {
		tok, err := decode[core.Token](v)
		if err != nil {
			return err
		}
		if tok.ExpiresAt.Before(t) {
			dead = append(dead, append([]byte(nil), k...))
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	for _, k := range dead {
		if err := x.b(bTokens).Delete(k); err != nil {
			return 0, err
		}
	}
	return len(dead), nil
}

// ---- sessions

func (x *tx) Session(hash []byte) (core.Session, error) {
	return get[core.Session](x.b(bSessions), hash)
}

func (x *tx) PutSession(s core.Session) error {
	if err := x.b(bSessionsUser).Put(cat(u64(s.UserID), s.Hash), nil); err != nil {
		return err
	}
	return put(x.b(bSessions), s.Hash, s)
}

func (x *tx) DeleteSession(hash []byte) error {
	s, err := x.Session(hash)
	if errors.Is(err, core.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := x.b(bSessionsUser).Delete(cat(u64(s.UserID), s.Hash)); err != nil {
		return err
	}
	return x.b(bSessions).Delete(hash)
}

func (x *tx) sessionsByIndex(index []byte, id uint64) ([]core.Session, error) {
	var out []core.Session
	err := scanPrefix(x.b(index), u64(id), false, func(k, _ []byte) (bool, error) {
		s, err := x.Session(k[8:])
		if err != nil {
			return false, err
		}
		out = append(out, s)
		return true, nil
	})
	return out, err
}

func (x *tx) SessionsOfUser(userID uint64) ([]core.Session, error) {
	return x.sessionsByIndex(bSessionsUser, userID)
}

func (x *tx) DeleteSessionsBefore(abs, idle time.Time) (int, error) {
	var dead [][]byte
	err := x.b(bSessions).ForEach(func(k, v []byte) error {
		s, err := decode[core.Session](v)
		if err != nil {
			return err
		}
		if !s.ExpiresAt.After(abs) || !s.LastSeenAt.After(idle) {
			dead = append(dead, append([]byte(nil), k...))
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	for _, k := range dead {
		if err := x.DeleteSession(k); err != nil {
			return 0, err
		}
	}
	return len(dead), nil
}

// ---- access requests

func (x *tx) Request(id uint64) (core.Request, error) {
	return get[core.Request](x.b(bRequests), u64(id))
}

func (x *tx) LatestRequest(portalID uint64, email string) (core.Request, error) {
	return getByIndex[core.Request](x, bRequestsLatest, bRequests, portalEmail(portalID, email))
}

func (x *tx) PutRequest(r *core.Request) error {
	isNew := r.ID == 0
	if err := nextID(x.b(bRequests), &r.ID); err != nil {
		return err
	}
	if isNew {
		if err := x.b(bRequestsLatest).Put(portalEmail(r.PortalID, r.Email), u64(r.ID)); err != nil {
			return err
		}
		if err := x.b(bRequestsOrg).Put(cat(u64(r.OrgID), u64(r.ID)), nil); err != nil {
			return err
		}
	}
	return put(x.b(bRequests), u64(r.ID), r)
}

func (x *tx) Requests(orgID uint64) ([]core.Request, error) {
	return listByPrefix[core.Request](x, bRequestsOrg, bRequests, u64(orgID), true, 0)
}

// ---- audit log

func (x *tx) AppendEvent(e *core.Event) error {
	if e.ID != 0 {
		return errors.New("audit events are append-only")
	}
	if err := nextID(x.b(bAudit), &e.ID); err != nil {
		return err
	}
	if e.OrgID != 0 {
		if err := x.b(bAuditOrg).Put(cat(u64(e.OrgID), u64(e.ID)), nil); err != nil {
			return err
		}
	}
	return put(x.b(bAudit), u64(e.ID), e)
}

func (x *tx) Events(q core.AuditQuery) ([]core.Event, error) {
	var out []core.Event
	keep := func(id uint64) bool { return q.BeforeID == 0 || id < q.BeforeID }
	more := func() bool { return q.Limit == 0 || len(out) < q.Limit }
	if q.OrgID == 0 {
		return newestBefore[core.Event](x.b(bAudit), q.BeforeID, q.Limit)
	}
	c := x.b(bAuditOrg).Cursor()
	prefix := u64(q.OrgID)
	var k []byte
	if q.BeforeID == 0 {
		k, _ = seekLast(c, prefix)
	} else {
		k, _ = seekBefore(c, cat(prefix, u64(q.BeforeID)))
	}
	for ; k != nil && bytes.HasPrefix(k, prefix) && more(); k, _ = c.Prev() {
		id := idBytes(k)
		if !keep(id) {
			continue
		}
		e, err := get[core.Event](x.b(bAudit), u64(id))
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// ---- outbox

func dueKey(m *core.Message) []byte {
	ns := m.NextAttemptAt.UnixNano()
	if ns < 0 || m.NextAttemptAt.IsZero() { // due since forever
		ns = 0
	}
	return cat(u64(uint64(ns)), u64(m.ID))
}

func (x *tx) Message(id uint64) (core.Message, error) {
	return get[core.Message](x.b(bOutbox), u64(id))
}

func (x *tx) PutMessage(m *core.Message) error {
	due := x.b(bOutboxDue)
	if m.ID != 0 {
		if old, err := x.Message(m.ID); err == nil && old.Pending() {
			if err := due.Delete(dueKey(&old)); err != nil {
				return err
			}
		}
	}
	if err := nextID(x.b(bOutbox), &m.ID); err != nil {
		return err
	}
	if m.Pending() {
		if err := due.Put(dueKey(m), nil); err != nil {
			return err
		}
	}
	return put(x.b(bOutbox), u64(m.ID), m)
}

func (x *tx) DueMessages(now time.Time, limit int) ([]core.Message, error) {
	var out []core.Message
	c := x.b(bOutboxDue).Cursor()
	for k, _ := c.First(); k != nil && (limit <= 0 || len(out) < limit); k, _ = c.Next() {
		if int64(binary.BigEndian.Uint64(k[:8])) > now.UnixNano() {
			break
		}
		m, err := x.Message(idBytes(k))
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

func (x *tx) NextDue() (time.Time, error) {
	k, _ := x.b(bOutboxDue).Cursor().First()
	if k == nil {
		return time.Time{}, nil
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(k[:8]))).UTC(), nil
}

func (x *tx) Messages(beforeID uint64, limit int) ([]core.Message, error) {
	return newestBefore[core.Message](x.b(bOutbox), beforeID, limit)
}

// ---- the built-in catcher

func (x *tx) PutCaught(m *core.CaughtMail) error {
	if err := nextID(x.b(bCaught), &m.ID); err != nil {
		return err
	}
	return put(x.b(bCaught), u64(m.ID), m)
}

func (x *tx) Caught(id uint64) (core.CaughtMail, error) {
	return get[core.CaughtMail](x.b(bCaught), u64(id))
}

func (x *tx) CaughtMails(beforeID uint64, limit int) ([]core.CaughtMail, error) {
	return newestBefore[core.CaughtMail](x.b(bCaught), beforeID, limit)
}

func (x *tx) TrimCaught(keep int) error {
	// Ids grow by one per message, so everything at or below newest-keep goes.
	b := x.b(bCaught)
	c := b.Cursor()
	last, _ := c.Last()
	if last == nil || binary.BigEndian.Uint64(last) <= uint64(keep) {
		return nil
	}
	cutoff := binary.BigEndian.Uint64(last) - uint64(keep)
	var old [][]byte
	for k, _ := c.First(); k != nil && binary.BigEndian.Uint64(k) <= cutoff; k, _ = c.Next() {
		old = append(old, append([]byte(nil), k...))
	}
	for _, k := range old {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// ---- SSH keys

func (x *tx) SSHKey(fp string) (core.SSHKey, error) {
	return get[core.SSHKey](x.b(bSSHKeys), []byte(fp))
}

func (x *tx) PutSSHKey(k core.SSHKey) error {
	if old, err := x.SSHKey(k.Fingerprint); err == nil && old.UserID != k.UserID {
		return fmt.Errorf("%w: the key belongs to another account", core.ErrConflict)
	}
	if err := x.b(bSSHKeysUser).Put(cat(u64(k.UserID), []byte(k.Fingerprint)), nil); err != nil {
		return err
	}
	return put(x.b(bSSHKeys), []byte(k.Fingerprint), k)
}

func (x *tx) DeleteSSHKey(fp string) error {
	k, err := x.SSHKey(fp)
	if err != nil {
		return err
	}
	if err := x.b(bSSHKeysUser).Delete(cat(u64(k.UserID), []byte(fp))); err != nil {
		return err
	}
	return x.b(bSSHKeys).Delete([]byte(fp))
}

func (x *tx) SSHKeysOf(userID uint64) ([]core.SSHKey, error) {
	var out []core.SSHKey
	err := scanPrefix(x.b(bSSHKeysUser), u64(userID), false, func(k, _ []byte) (bool, error) {
		key, err := x.SSHKey(string(k[8:]))
		if err != nil {
			return false, err
		}
		out = append(out, key)
		return true, nil
	})
	return out, err
}

// ---- known addresses and access-request notices

func (x *tx) KnownAddress(orgID uint64, skeleton string) (string, error) {
	v := x.b(bKnown).Get(cat(u64(orgID), []byte(skeleton)))
	if v == nil {
		return "", core.ErrNotFound
	}
	return string(v), nil
}

func (x *tx) PutKnownAddress(orgID uint64, skeleton, email string) error {
	return x.b(bKnown).Put(cat(u64(orgID), []byte(skeleton)), []byte(email))
}

func (x *tx) Notices(portalID uint64) (core.PortalNotices, error) {
	return get[core.PortalNotices](x.b(bNotices), u64(portalID))
}

func (x *tx) PutNotices(n core.PortalNotices) error { return put(x.b(bNotices), u64(n.PortalID), n) }

// indexKnownAddresses is migration 3: every member's address and every
// address with a link, under its organization and skeleton.
func indexKnownAddresses(t *bolt.Tx) error {
	x := &tx{t: t, cat: newCatalog()}
	known := func(orgID uint64, email string) error {
		sk := core.AddressSkeleton(email)
		if prev, err := x.KnownAddress(orgID, sk); err == nil && !core.PreferKnown(email, prev) {
			return nil
		}
		return x.PutKnownAddress(orgID, sk, email)
	}
	if err := scanPrefix(x.b(bMembers), nil, false, func(_, raw []byte) (bool, error) {
		m, err := decode[core.Member](raw)
		if err != nil {
			return false, err
		}
		u, err := x.User(m.UserID)
		if err != nil {
			return false, err
		}
		return true, known(m.OrgID, u.Email)
	}); err != nil {
		return err
	}
	return scanPrefix(x.b(bLinks), nil, false, func(_, raw []byte) (bool, error) {
		l, err := DecodeLink(raw)
		if err != nil {
			return false, err
		}
		return true, known(l.OrgID, l.Email)
	})
}

// ---- a portal's built-in content

func (x *tx) Resource(id uint64) (core.Resource, error) {
	return get[core.Resource](x.b(bResources), u64(id))
}

func (x *tx) Resources(portalID uint64) ([]core.Resource, error) {
	out, err := listByPrefix[core.Resource](x, bResourcesPortal, bResources, u64(portalID), false, 0)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Position < out[j].Position })
	return out, err
}

func (x *tx) PutResource(r *core.Resource) error {
	if err := nextID(x.b(bResources), &r.ID); err != nil {
		return err
	}
	if err := x.b(bResourcesPortal).Put(cat(u64(r.PortalID), u64(r.ID)), nil); err != nil {
		return err
	}
	return put(x.b(bResources), u64(r.ID), r)
}

func (x *tx) DeleteResource(id uint64) error {
	r, err := x.Resource(id)
	if err != nil {
		return err
	}
	if err := x.b(bResourcesPortal).Delete(cat(u64(r.PortalID), u64(id))); err != nil {
		return err
	}
	return x.b(bResources).Delete(u64(id))
}

func (x *tx) Update(id uint64) (core.Update, error) {
	return get[core.Update](x.b(bUpdates), u64(id))
}

func (x *tx) Updates(portalID uint64, limit int) ([]core.Update, error) {
	return listByPrefix[core.Update](x, bUpdatesPortal, bUpdates, u64(portalID), true, limit)
}

func (x *tx) PutUpdate(u *core.Update) error {
	if err := nextID(x.b(bUpdates), &u.ID); err != nil {
		return err
	}
	if err := x.b(bUpdatesPortal).Put(cat(u64(u.PortalID), u64(u.ID)), nil); err != nil {
		return err
	}
	return put(x.b(bUpdates), u64(u.ID), u)
}
