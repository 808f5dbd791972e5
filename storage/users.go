package storage

import (
	"encoding/binary"
	"fmt"

	"latchkey/core"
)

// The store of users.

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
