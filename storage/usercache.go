package storage

import (
	"slices"
	"sync"

	"latchkey/core"
)

// userCache keeps decoded users by id for every transaction: a redemption
// reads its person's account in the one writer, and every page with a
// session reads the signed-in user. A commit that wrote a user drops that
// user's entry, and a read may fill an entry only if no such commit
// happened since it began (its generation), so an old snapshot never puts
// an old value in. Writers skip the entry of a user that a transaction not
// yet settled (committed and dropped, or rolled back) wrote: bbolt runs
// commit handlers after it releases the writer lock.
type userCache struct {
	mu      sync.Mutex
	gen     uint64
	byID    map[uint64]core.User
	pending map[uint64]int // users written by unsettled transactions
}

// maxCachedUsers bounds the cache; past it, it starts again empty.
const maxCachedUsers = 200_000

func newUserCache() *userCache {
	return &userCache{byID: map[uint64]core.User{}, pending: map[uint64]int{}}
}

func (c *userCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

func (c *userCache) get(id uint64, writer bool) (core.User, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if writer && c.pending[id] > 0 {
		return core.User{}, false
	}
	u, ok := c.byID[id]
	return u, ok
}

func (c *userCache) put(u core.User, gen uint64, writer bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen || writer && c.pending[u.ID] > 0 {
		return
	}
	if len(c.byID) >= maxCachedUsers {
		c.byID = map[uint64]core.User{}
	}
	c.byID[u.ID] = u
}

func (c *userCache) written(id uint64) {
	c.mu.Lock()
	c.pending[id]++
	c.mu.Unlock()
}

// settle ends a transaction's writes of users: committed (their entries
// dropped) or rolled back.
func (c *userCache) settle(ids []uint64, committed bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, id := range ids {
		if c.pending[id]--; c.pending[id] <= 0 {
			delete(c.pending, id)
		}
		if committed {
			delete(c.byID, id)
		}
	}
	if committed {
		c.gen++
	}
}

// cachedUser reads a user through the cache.
func (x *tx) cachedUser(id uint64) (core.User, error) {
	writer := x.t.Writable()
	if writer && slices.Contains(x.wroteUsers, id) {
		return get[core.User](x.b(bUsers), u64(id))
	}
	if u, ok := x.users.get(id, writer); ok {
		return u, nil
	}
	u, err := get[core.User](x.b(bUsers), u64(id))
	if err == nil {
		x.users.put(u, x.ugen, writer)
	}
	return u, err
}

// userWritten notes a write of a user, settled when the transaction is.
func (x *tx) userWritten(id uint64) {
	if slices.Contains(x.wroteUsers, id) {
		return
	}
	if len(x.wroteUsers) == 0 {
		x.t.OnCommit(func() {
			x.usersSettled = true
			x.users.settle(x.wroteUsers, true)
		})
	}
	x.wroteUsers = append(x.wroteUsers, id)
	x.users.written(id)
}
