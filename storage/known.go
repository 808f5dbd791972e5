package storage

import (
	bolt "go.etcd.io/bbolt"

	"latchkey/core"
)

// The store of known addresses and access-request notices.

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
	x := &tx{t: t, cat: newCatalog(), uses: newUseIndex(), users: newUserCache()}
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
