package storage

import (
	"sync"

	"latchkey/core"
)

// catalog caches decoded organizations, projects, portals and API tokens for
// read transactions: few, small, read by every page (or API call), and
// rarely changed (a token's last use is written at most once a minute). A commit
// that wrote any of them empties it. A read may fill it only if no such
// commit happened since the read began (its generation), so an old snapshot
// never puts an old value into the cache. Write transactions never use it:
// bbolt runs commit handlers after it releases the writer lock, so the next
// writer could otherwise see a value that was just replaced.
type catalog struct {
	mu       sync.RWMutex
	gen      uint64
	orgs     map[uint64]core.Org
	projects map[uint64]core.Project
	portals  map[uint64]core.Portal
	tokens   map[uint64]core.APIToken
}

func newCatalog() *catalog {
	c := &catalog{}
	c.reset()
	return c
}

func (c *catalog) reset() {
	c.orgs, c.projects, c.portals = map[uint64]core.Org{}, map[uint64]core.Project{}, map[uint64]core.Portal{}
	c.tokens = map[uint64]core.APIToken{}
}

// generation is read before a transaction begins.
func (c *catalog) generation() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.gen
}

// invalidate runs after a commit that wrote catalog records.
func (c *catalog) invalidate() {
	c.mu.Lock()
	c.gen++
	c.reset()
	c.mu.Unlock()
}

func cacheGet[T any](c *catalog, m func(*catalog) map[uint64]T, id uint64) (T, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	v, ok := m(c)[id]
	return v, ok
}

func cachePut[T any](c *catalog, m func(*catalog) map[uint64]T, id uint64, v T, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen == gen {
		m(c)[id] = v
	}
}

func orgsOf(c *catalog) map[uint64]core.Org         { return c.orgs }
func projectsOf(c *catalog) map[uint64]core.Project { return c.projects }
func portalsOf(c *catalog) map[uint64]core.Portal   { return c.portals }
func tokensOf(c *catalog) map[uint64]core.APIToken  { return c.tokens }

// cached reads a catalog record, through the cache in read transactions.
func cached[T any](x *tx, m func(*catalog) map[uint64]T, bucket []byte, id uint64) (T, error) {
	if x.t.Writable() {
		return get[T](x.b(bucket), u64(id))
	}
	if v, ok := cacheGet(x.cat, m, id); ok {
		return v, nil
	}
	v, err := get[T](x.b(bucket), u64(id))
	if err == nil {
		cachePut(x.cat, m, id, v, x.gen)
	}
	return v, err
}

// catalogWritten empties the cache once this transaction commits.
func (x *tx) catalogWritten() {
	if !x.wroteCatalog {
		x.wroteCatalog = true
		x.t.OnCommit(x.cat.invalidate)
	}
}
