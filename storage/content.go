package storage

import (
	"sort"

	"latchkey/core"
)

// The store of a portal's built-in content.

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
