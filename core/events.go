package core

import "sync"

// ChangeKind names what changed.
type ChangeKind string

// Kinds of committed changes announced on the broker.
const (
	ChangeLinkRedeemed    ChangeKind = "link.redeemed"
	ChangeLinkChanged     ChangeKind = "link.changed"
	ChangeAccessChanged   ChangeKind = "access.changed"
	ChangeAccessRequest   ChangeKind = "request.changed"
	ChangeMemberChanged   ChangeKind = "member.changed"
	ChangeProjectChanged  ChangeKind = "project.changed"
	ChangeMailQueued      ChangeKind = "mail.queued"
	ChangeMailChanged     ChangeKind = "mail.changed"
	ChangeKeyChanged      ChangeKind = "sshkey.changed"
	ChangeTokensChanged   ChangeKind = "token.changed"
	ChangeWebhooksChanged ChangeKind = "webhook.changed" // a webhook, or its delivery log
	ChangeWebhookQueued   ChangeKind = "webhook.queued"  // a delivery to make: the worker wakes
)

// Change is a committed change, announced so that open consoles refresh and
// the mail worker wakes up.
type Change struct {
	Kind     ChangeKind
	OrgID    uint64
	PortalID uint64
}

// Announcer is a Tx that tells the other processes sharing its store what
// the transaction changed, once it commits (PostgreSQL's NOTIFY). Every
// write transaction announces, with its changes or none: any commit may
// change a decision a node keeps (see gateCache), and the others apply it
// with Service.ApplyRemote.
type Announcer interface {
	Announce(changes []Change) error
}

// ApplyRemote takes in what another node committed: the decisions kept
// here are read again, and the changes are announced on this node's broker
// as if made here (open consoles refresh, the workers wake). nil means the
// node may have missed changes (its feed broke): everything is looked at
// again.
func (s *engine) ApplyRemote(changes []Change) {
	s.gates.invalidate()
	if changes == nil {
		changes = []Change{{Kind: ChangeProjectChanged}, {Kind: ChangeMailQueued}, {Kind: ChangeWebhookQueued}}
	}
	for _, c := range changes {
		s.events.Publish(c)
	}
}

// Broker fans changes out to subscribers without ever blocking the
// publisher: a subscriber that falls behind misses changes, and since every
// change only says "look again", one pending change is as good as many.
type Broker struct {
	mu   sync.Mutex
	next int
	subs map[int]chan Change
}

// NewBroker returns an empty broker.
func NewBroker() *Broker { return &Broker{subs: map[int]chan Change{}} }

// Subscribe returns a channel of changes and a function that ends the
// subscription and closes the channel.
func (b *Broker) Subscribe() (<-chan Change, func()) {
	ch := make(chan Change, 16)
	b.mu.Lock()
	id := b.next
	b.next++
	b.subs[id] = ch
	b.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			b.mu.Lock()
			delete(b.subs, id)
			b.mu.Unlock()
			close(ch)
		})
	}
}

// Publish announces c to every subscriber that has room for it.
func (b *Broker) Publish(c Change) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, ch := range b.subs {
		select {
		case ch <- c:
		default:
		}
	}
}
