package postgres

import (
	"latchkey/core"
)

// The store of users.

const userColumns = `id, email, name, password_hash, created_at, password_changed_at`

func scanUser(r row) (core.User, error) {
	var u core.User
	err := r.Scan(&u.ID, &u.Email, &u.Name, &u.PasswordHash, &u.CreatedAt, &u.PasswordChangedAt)
	return u, err
}

func (x *tx) User(id uint64) (core.User, error) {
	return queryOne(x, scanUser, `SELECT `+userColumns+` FROM users WHERE id = $1`, id)
}

func (x *tx) UserByEmail(email string) (core.User, error) {
	if email == "" { // bbolt indexes no empty key
		return core.User{}, core.ErrNotFound
	}
	return queryOne(x, scanUser, `SELECT `+userColumns+` FROM users WHERE email = $1`, email)
}

func (x *tx) PutUser(u *core.User) error {
	taken, err := x.exists(`SELECT 1 FROM users WHERE email = $1 AND id <> $2`, u.Email, u.ID)
	if err != nil {
		return err
	}
	if taken {
		return conflict("another account has the email %s", u.Email)
	}
	args := []any{u.Email, u.Name, u.PasswordHash, ts(u.CreatedAt), ts(u.PasswordChangedAt)}
	if u.ID == 0 {
		return x.insertID(&u.ID, `INSERT INTO users (email, name, password_hash, created_at, password_changed_at)
			VALUES ($1, $2, $3, $4, $5) RETURNING id`, args...)
	}
	_, err = x.exec(`INSERT INTO users (id, email, name, password_hash, created_at, password_changed_at)
		VALUES ($6, $1, $2, $3, $4, $5)
		ON CONFLICT (id) DO UPDATE SET email = EXCLUDED.email, name = EXCLUDED.name,
			password_hash = EXCLUDED.password_hash, created_at = EXCLUDED.created_at,
			password_changed_at = EXCLUDED.password_changed_at`, append(args, u.ID)...)
	return err
}

func (x *tx) CountUsers() (int, error) {
	var n int
	err := x.t.QueryRow(x.ctx, `SELECT count(*) FROM users`).Scan(&n)
	return n, err
}
