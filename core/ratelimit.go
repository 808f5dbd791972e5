package core

import (
	"sync"
	"time"
)

// Limit is a token bucket: Burst at once, then one more every Every. The
// zero Limit allows everything.
type Limit struct {
	Every time.Duration
	Burst int
}

// Off reports whether the limit allows everything.
func (l Limit) Off() bool { return l.Every <= 0 || l.Burst <= 0 }

// Keyed is a set of token buckets, one per key (a client address, an
// email, a portal, a key's fingerprint), that forgets keys quiet long
// enough to be full again. It lives in memory: counts start afresh when
// latchkey restarts. It is safe for concurrent use.
type Keyed struct {
	limit Limit
	now   func() time.Time
	mu    sync.Mutex
	m     map[string]*bucket
	calls int
}

type bucket struct {
	tokens float64 // may fall below zero: a debt that refills first
	at     time.Time
}

// maxBuckets bounds the memory a flood of keys (addresses, say) can take;
// past it, arbitrary quiet buckets are forgotten.
const maxBuckets = 100_000

// NewKeyed builds a set of buckets of limit l on the clock now.
func NewKeyed(l Limit, now func() time.Time) *Keyed {
	return &Keyed{limit: l, now: now, m: map[string]*bucket{}}
}

// get returns key's bucket refilled up to now; k.mu is held.
func (k *Keyed) get(key string, now time.Time) *bucket {
	if k.calls++; k.calls%1024 == 0 || len(k.m) >= maxBuckets {
		k.sweep(now)
	}
	b := k.m[key]
	if b == nil {
		b = &bucket{tokens: float64(k.limit.Burst), at: now}
		k.m[key] = b
		return b
	}
	if now.After(b.at) {
		b.tokens = min(float64(k.limit.Burst), b.tokens+float64(now.Sub(b.at))/float64(k.limit.Every))
		b.at = now
	}
	return b
}

// sweep forgets full buckets and, if there are still too many, some others.
func (k *Keyed) sweep(now time.Time) {
	full := k.limit.Every * time.Duration(k.limit.Burst)
	for key, b := range k.m {
		if now.Sub(b.at) >= full {
			delete(k.m, key)
		}
	}
	for key := range k.m {
		if len(k.m) < maxBuckets*9/10 {
			break
		}
		delete(k.m, key)
	}
}

// wait is how long until b has a token (0: it has one now).
func (k *Keyed) wait(b *bucket) time.Duration {
	if b.tokens >= 1 {
		return 0
	}
	return time.Duration((1 - b.tokens) * float64(k.limit.Every))
}

// Allow takes a token for key; when none is left it takes nothing and says
// how long until there is one.
func (k *Keyed) Allow(key string) (bool, time.Duration) {
	if k.limit.Off() {
		return true, 0
	}
	now := k.now()
	k.mu.Lock()
	defer k.mu.Unlock()
	b := k.get(key, now)
	if w := k.wait(b); w > 0 {
		return false, w
	}
	b.tokens--
	return true, 0
}

// Charge takes a token for key even when none is left (into a debt of at
// most one burst) and says how long until key has a token again.
func (k *Keyed) Charge(key string) time.Duration {
	if k.limit.Off() {
		return 0
	}
	now := k.now()
	k.mu.Lock()
	defer k.mu.Unlock()
	b := k.get(key, now)
	b.tokens = max(b.tokens-1, -float64(k.limit.Burst))
	return k.wait(b)
}

// Refund gives n tokens back to key, up to a full bucket.
func (k *Keyed) Refund(key string, n int) {
	if k.limit.Off() || n <= 0 {
		return
	}
	now := k.now()
	k.mu.Lock()
	defer k.mu.Unlock()
	b := k.get(key, now)
	b.tokens = min(float64(k.limit.Burst), b.tokens+float64(n))
}

// Until says how long until key has a token, taking nothing.
func (k *Keyed) Until(key string) time.Duration {
	if k.limit.Off() {
		return 0
	}
	now := k.now()
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.wait(k.get(key, now))
}
