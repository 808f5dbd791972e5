package storage

import (
	"latchkey/core"
)

// The store of projects.

func (x *tx) Project(id uint64) (core.Project, error) {
	return cached(x, projectsOf, bProjects, id)
}

func (x *tx) PutProject(p *core.Project) error {
	if err := nextID(x.b(bProjects), &p.ID); err != nil {
		return err
	}
	x.catalogWritten()
	if err := x.b(bProjectsOrg).Put(cat(u64(p.OrgID), u64(p.ID)), nil); err != nil {
		return err
	}
	return put(x.b(bProjects), u64(p.ID), p)
}

func (x *tx) Projects(orgID uint64) ([]core.Project, error) {
	return listByPrefix[core.Project](x, bProjectsOrg, bProjects, u64(orgID), false, 0)
}
