package storage

import (
	"fmt"

	"latchkey/core"
)

// The store of users.

func (x *tx) User(id uint64) (core.User, error) { return x.cachedUser(id) }

func (x *tx) UserByEmail(email string) (core.User, error) {
	id := x.b(bUsersEmail).Get([]byte(email))
	if len(id) != 8 {
		return core.User{}, core.ErrNotFound
	}
	return x.cachedUser(idBytes(id))
}

func (x *tx) PutUser(u *core.User) error {
	if x.takenBy(bUsersEmail, []byte(u.Email), u.ID) {
		return fmt.Errorf("%w: another account has the email %s", core.ErrConflict, u.Email)
	}
	var old []byte
	if prev, err := x.User(u.ID); u.ID != 0 && err == nil {
		old = []byte(prev.Email)
	}
	if err := nextID(x.b(bUsers), &u.ID); err != nil {
		return err
	}
	x.userWritten(u.ID)
	if err := x.reindex(bUsersEmail, old, []byte(u.Email), u.ID); err != nil {
		return err
	}
	return put(x.b(bUsers), u64(u.ID), u)
}

func (x *tx) CountUsers() (int, error) { return x.b(bUsers).Stats().KeyN, nil }
