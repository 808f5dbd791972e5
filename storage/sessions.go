package storage

import (
	"errors"
	"time"

	"latchkey/core"
)

// The store of sessions.

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
