package web

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limit is a token bucket: Burst requests at once, then one per Every.
type Limit struct {
	Every time.Duration
	Burst int
}

// Limits are the listener's rate limits. A zero Limit disables that limit.
type Limits struct {
	// PerAddr applies to every form that sends mail or checks a secret
	// (Open portal, Send access link, sign in, restore, join), per client address.
	PerAddr Limit
	// PerEmail applies to forms that send mail to an address (Send access
	// link, restore), per email.
	PerEmail Limit
	// PerAccount applies to password checks, per account email.
	PerAccount Limit
}

// DefaultLimits are generous to people and stingy to scripts.
func DefaultLimits() Limits {
	return Limits{
		PerAddr:    Limit{Every: 2 * time.Second, Burst: 20},
		PerEmail:   Limit{Every: 5 * time.Minute, Burst: 3},
		PerAccount: Limit{Every: time.Minute, Burst: 10},
	}
}

// keyed is a set of token buckets, one per key, forgetting keys that have
// been quiet long enough to be full again.
type keyed struct {
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

func newKeyed(l Limit, now func() time.Time) *keyed {
	return &keyed{limit: l, now: now, m: map[string]*bucket{}}
}

// allow takes one token for key; when none is left it reports how long to wait.
func (k *keyed) allow(key string) (bool, time.Duration) {
	if k.limit.Every <= 0 || k.limit.Burst <= 0 {
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
func (k *keyed) sweep(now time.Time) {
	full := k.limit.Every * time.Duration(k.limit.Burst)
	for key, b := range k.m {
		if now.Sub(b.seen) > full {
			delete(k.m, key)
		}
	}
}

type limiters struct {
	addr, email, account *keyed
}

func newLimiters(l Limits, now func() time.Time) *limiters {
	return &limiters{addr: newKeyed(l.PerAddr, now), email: newKeyed(l.PerEmail, now), account: newKeyed(l.PerAccount, now)}
}
