package storage

import (
	"encoding/binary"
	"fmt"

	"latchkey/core"
)

// The store of portals and access.

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
	if x.takenBy(bPortalsSlug, []byte(p.Slug), p.ID) {
		return fmt.Errorf("%w: the portal slug %q is taken", core.ErrConflict, p.Slug)
	}
	if x.takenBy(bPortalsProject, u64(p.ProjectID), p.ID) {
		return fmt.Errorf("%w: the project has a portal already", core.ErrConflict)
	}
	if p.Host != "" && x.takenBy(bPortalsHost, []byte(p.Host), p.ID) {
		return fmt.Errorf("%w: the host name %s belongs to another portal", core.ErrConflict, p.Host)
	}
	var oldSlug, oldHost []byte
	if prev, err := x.Portal(p.ID); p.ID != 0 && err == nil {
		oldSlug, oldHost = []byte(prev.Slug), []byte(prev.Host)
	}
	if err := nextID(x.b(bPortals), &p.ID); err != nil {
		return err
	}
	x.catalogWritten()
	if err := x.reindex(bPortalsSlug, oldSlug, []byte(p.Slug), p.ID); err != nil {
		return err
	}
	if err := x.reindex(bPortalsHost, oldHost, []byte(p.Host), p.ID); err != nil {
		return err
	}
	if err := x.reindex(bPortalsProject, nil, u64(p.ProjectID), p.ID); err != nil {
		return err
	}
	if err := x.b(bPortalsOrg).Put(cat(u64(p.OrgID), u64(p.ID)), nil); err != nil {
		return err
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
	return followIndex(x.b(bAccessUser), u64(userID), func(k, _ []byte) (core.Access, error) { return x.Access(idBytes(k), userID) })
}
