package storage

import (
	"bytes"
	"errors"
	"fmt"

	"latchkey/core"
)

// The store of links.

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
	l, err := DecodeLink(raw)
	if err != nil {
		return l, err
	}
	return x.withUses(l)
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
	stored := *l
	if !isNew { // the counters are the store's: they move only by folding uses
		raw := x.b(bLinks).Get(l.Lookup)
		if raw == nil {
			return fmt.Errorf("%w: link %d", core.ErrNotFound, l.ID)
		}
		old, err := DecodeLink(raw)
		if err != nil {
			return err
		}
		stored.UseCount, stored.LastUsedAt = old.UseCount, old.LastUsedAt
	}
	return x.b(bLinks).Put(l.Lookup, EncodeLink(&stored))
}

func (x *tx) Links(portalID uint64) ([]core.Link, error) {
	return followIndex(x.b(bLinksPortal), u64(portalID), func(_, lookup []byte) (core.Link, error) { return x.linkAt(lookup) })
}
