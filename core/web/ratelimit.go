package web

import (
	"time"

	"latchkey/core"
)

// Limit is a token bucket: Burst requests at once, then one per Every.
type Limit = core.Limit

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

type limiters struct {
	addr, email, account *core.Keyed
}

func newLimiters(l Limits, now func() time.Time) *limiters {
	return &limiters{addr: core.NewKeyed(l.PerAddr, now), email: core.NewKeyed(l.PerEmail, now), account: core.NewKeyed(l.PerAccount, now)}
}
