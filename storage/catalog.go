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
// never puts an old value into the cache.
//
// Write transactions use it too (a redemption reads its portal,
// organization and project in the one writer), but only while no
// transaction that wrote catalog records is unsettled: from its first such
// write until its commit emptied the cache, or it rolled back. bbolt runs
// commit handlers after it releases the writer lock, so without that the
// next writer could see a value that was just replaced.
type catalog struct {
	mu       sync.RWMutex
	gen      uint64
	orgs     map[uint64]core.Org
	projects map[uint64]core.Project
	portals  map[uint64]core.Portal
	tokens   map[uint64]core.APIToken
	// unsettled counts the write transactions that wrote catalog records
	// and have not yet committed (and emptied the cache) or rolled back.
	unsettled int
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

func cacheGet[T any](c *catalog, m func(*catalog) map[uint64]T, id uint64, writer bool) (T, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if writer && c.unsettled > 0 {
		var zero T
		return zero, false
	}
	v, ok := m(c)[id]
	return v, ok
}

// unsettle notes a write transaction's first catalog write.
func (c *catalog) unsettle() {
	c.mu.Lock()
	c.unsettled++
	c.mu.Unlock()
}

// settle ends it: committed (the cache is emptied) or rolled back.
func (c *catalog) settle(committed bool) {
	c.mu.Lock()
	c.unsettled--
	if committed {
		c.gen++
		c.reset()
	}
	c.mu.Unlock()
}

func cachePut[T any](c *catalog, m func(*catalog) map[uint64]T, id uint64, v T, gen uint64, writer bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen == gen && (!writer || c.unsettled == 0) {
		m(c)[id] = v
	}
}

func orgsOf(c *catalog) map[uint64]core.Org         { return c.orgs }
func projectsOf(c *catalog) map[uint64]core.Project { return c.projects }
func portalsOf(c *catalog) map[uint64]core.Portal   { return c.portals }
func tokensOf(c *catalog) map[uint64]core.APIToken  { return c.tokens }

// cached reads a catalog record, through the cache in read transactions.
func cached[T any](x *tx, m func(*catalog) map[uint64]T, bucket []byte, id uint64) (T, error) {
	writer := x.t.Writable()
	if writer && x.wroteCatalog {
		return get[T](x.b(bucket), u64(id))
	}
	if v, ok := cacheGet(x.cat, m, id, writer); ok {
		return v, nil
	}
	v, err := get[T](x.b(bucket), u64(id))
	if err == nil {
		cachePut(x.cat, m, id, v, x.gen, writer)
	}
	return v, err
}

// catalogWritten empties the cache once this transaction commits.
func (x *tx) catalogWritten() {
	if !x.wroteCatalog {
		x.wroteCatalog = true
		x.cat.unsettle()
		x.t.OnCommit(func() {
			x.settled = true
			x.cat.settle(true)
		})
	}
}

// settleRolledBack settles the catalog writes of transactions that did not
// commit (Store.Update calls it once its update is over).
func settleRolledBack(txs []*tx) {
	for _, x := range txs {
		if x.wroteCatalog && !x.settled {
			x.settled = true
			x.cat.settle(false)
		}
		if len(x.wroteUsers) > 0 && !x.usersSettled {
			x.usersSettled = true
			x.users.settle(x.wroteUsers, false)
		}
	}
}
