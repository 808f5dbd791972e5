package postgres

import (
	"latchkey/core"
)

// The store of a portal's built-in content: resources and updates.

const resourceColumns = `id, portal_id, position, title, url, note, created_at, created_by`

func scanResource(r row) (core.Resource, error) {
	var res core.Resource
	err := r.Scan(&res.ID, &res.PortalID, &res.Position, &res.Title, &res.URL, &res.Note, &res.CreatedAt, &res.CreatedBy)
	return res, err
}

func (x *tx) Resource(id uint64) (core.Resource, error) {
	return queryOne(x, scanResource, `SELECT `+resourceColumns+` FROM resources WHERE id = $1`, id)
}

// Resources lists a portal's resources by position, equal positions by
// id (bbolt sorts its id-ordered list stably by position).
func (x *tx) Resources(portalID uint64) ([]core.Resource, error) {
	return queryAll(x, scanResource, `SELECT `+resourceColumns+` FROM resources WHERE portal_id = $1
		ORDER BY position, id`, portalID)
}

func (x *tx) PutResource(r *core.Resource) error {
	args := []any{r.PortalID, r.Position, r.Title, r.URL, r.Note, ts(r.CreatedAt), r.CreatedBy}
	if r.ID == 0 {
		return x.insertID(&r.ID, `INSERT INTO resources (portal_id, position, title, url, note, created_at, created_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`, args...)
	}
	_, err := x.exec(`INSERT INTO resources (id, portal_id, position, title, url, note, created_at, created_by)
		VALUES ($8, $1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (id) DO UPDATE SET portal_id = EXCLUDED.portal_id, position = EXCLUDED.position,
			title = EXCLUDED.title, url = EXCLUDED.url, note = EXCLUDED.note,
			created_at = EXCLUDED.created_at, created_by = EXCLUDED.created_by`, append(args, r.ID)...)
	return err
}

// DeleteResource removes the resource; ErrNotFound when there is none.
func (x *tx) DeleteResource(id uint64) error {
	n, err := x.exec(`DELETE FROM resources WHERE id = $1`, id)
	if err == nil && n == 0 {
		err = core.ErrNotFound
	}
	return err
}

const updateColumns = `id, portal_id, body, author_id, author, created_at, emailed`

func scanUpdate(r row) (core.Update, error) {
	var u core.Update
	err := r.Scan(&u.ID, &u.PortalID, &u.Body, &u.AuthorID, &u.Author, &u.CreatedAt, &u.Emailed)
	return u, err
}

func (x *tx) Update(id uint64) (core.Update, error) {
	return queryOne(x, scanUpdate, `SELECT `+updateColumns+` FROM updates WHERE id = $1`, id)
}

// Updates lists a portal's updates newest first (by id), at most limit
// (0: all).
func (x *tx) Updates(portalID uint64, limit int) ([]core.Update, error) {
	return queryAll(x, scanUpdate, `SELECT `+updateColumns+` FROM updates WHERE portal_id = $1
		ORDER BY id DESC LIMIT $2`, portalID, limitOrAll(limit))
}

func (x *tx) PutUpdate(u *core.Update) error {
	args := []any{u.PortalID, u.Body, u.AuthorID, u.Author, ts(u.CreatedAt), u.Emailed}
	if u.ID == 0 {
		return x.insertID(&u.ID, `INSERT INTO updates (portal_id, body, author_id, author, created_at, emailed)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, args...)
	}
	_, err := x.exec(`INSERT INTO updates (id, portal_id, body, author_id, author, created_at, emailed)
		VALUES ($7, $1, $2, $3, $4, $5, $6)
		ON CONFLICT (id) DO UPDATE SET portal_id = EXCLUDED.portal_id, body = EXCLUDED.body,
			author_id = EXCLUDED.author_id, author = EXCLUDED.author, created_at = EXCLUDED.created_at,
			emailed = EXCLUDED.emailed`, append(args, u.ID)...)
	return err
}
