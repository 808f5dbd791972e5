package postgres

import (
	"latchkey/core"
)

// The store of projects.

const projectColumns = `id, org_id, name, created_at`

func scanProject(r row) (core.Project, error) {
	var p core.Project
	err := r.Scan(&p.ID, &p.OrgID, &p.Name, &p.CreatedAt)
	return p, err
}

func (x *tx) Project(id uint64) (core.Project, error) {
	return queryOne(x, scanProject, `SELECT `+projectColumns+` FROM projects WHERE id = $1`, id)
}

func (x *tx) PutProject(p *core.Project) error {
	if p.ID == 0 {
		return x.insertID(&p.ID, `INSERT INTO projects (org_id, name, created_at) VALUES ($1, $2, $3) RETURNING id`,
			p.OrgID, p.Name, ts(p.CreatedAt))
	}
	_, err := x.exec(`INSERT INTO projects (`+projectColumns+`) VALUES ($1, $2, $3, $4)
		ON CONFLICT (id) DO UPDATE SET org_id = EXCLUDED.org_id, name = EXCLUDED.name, created_at = EXCLUDED.created_at`,
		p.ID, p.OrgID, p.Name, ts(p.CreatedAt))
	return err
}

// Projects lists an organization's projects oldest first (by id).
func (x *tx) Projects(orgID uint64) ([]core.Project, error) {
	return queryAll(x, scanProject, `SELECT `+projectColumns+` FROM projects WHERE org_id = $1 ORDER BY id`, orgID)
}
