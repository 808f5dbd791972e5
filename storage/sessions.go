package storage

import (
	"errors"
	"time"

	"latchkey/core"
)

// The store of sessions.

func (x *tx) NextSessionID() (uint64, error) { return x.b(bSessions).NextSequence() }

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
	return followIndex(x.b(index), u64(id), func(k, _ []byte) (core.Session, error) { return x.Session(k[8:]) })
}

func (x *tx) SessionsOfUser(userID uint64) ([]core.Session, error) {
	return x.sessionsByIndex(bSessionsUser, userID)
}

func (x *tx) DeleteSessionsBefore(abs, idle time.Time) (int, error) {
	return deleteWhere(x.b(bSessions), func(s core.Session) bool {
		return !s.ExpiresAt.After(abs) || !s.LastSeenAt.After(idle)
	}, x.DeleteSession)
}
