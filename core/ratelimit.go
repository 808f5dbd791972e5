package core

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limit is a token bucket: Burst at once, then one per Every. The zero
// Limit allows everything.
type Limit struct {
	Every time.Duration
	Burst int
}

// Off reports whether the limit allows everything.
func (l Limit) Off() bool { return l.Every <= 0 || l.Burst <= 0 }

// Keyed is a set of token buckets, one per key (an address, an email, a
// portal), forgetting keys that have been quiet long enough to be full
// again. It lives in memory: counts start afresh when latchkey restarts.
type Keyed struct {
	limit Limit
	now   func() time.Time
	mu    sync.Mutex
	m     map[string]*bucket
	calls int
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// NewKeyed builds a set of buckets of limit l on the clock now.
func NewKeyed(l Limit, now func() time.Time) *Keyed {
	return &Keyed{limit: l, now: now, m: map[string]*bucket{}}
}

// Allow takes one token for key; when none is left it reports how long
// until one is.
func (k *Keyed) Allow(key string) (bool, time.Duration) {
	if k.limit.Off() {
		return true, 0
	}
	now := k.now()
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.calls++; k.calls%1024 == 0 {
		k.sweep(now)
	}
	b := k.m[key]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(rate.Every(k.limit.Every), k.limit.Burst)}
		k.m[key] = b
	}
	b.seen = now
	if b.lim.AllowN(now, 1) {
		return true, 0
	}
	r := b.lim.ReserveN(now, 1)
	wait := r.DelayFrom(now)
	r.CancelAt(now)
	return false, wait
}

// sweep drops buckets that have refilled completely.
func (k *Keyed) sweep(now time.Time) {
	full := k.limit.Every * time.Duration(k.limit.Burst)
	for key, b := range k.m {
		if now.Sub(b.seen) > full {
			delete(k.m, key)
		}
	}
}
