package storage

import (
	"latchkey/core"
)

// The store of access requests.

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
