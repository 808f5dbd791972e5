package core

import (
	"context"
	"time"
)

// Store is core's persistence boundary. The backend decides the transaction;
// every entity operation goes through the Tx it hands to fn.
//
// Update commits fn's writes if fn returns nil and discards them otherwise.
// An implementation may group several callers' functions into one commit and
// may then call fn more than once, so fn must not have effects outside its Tx
// beyond assigning results. A nil return from Update means the change is
// durable.
type Store interface {
	View(ctx context.Context, fn func(Tx) error) error
	Update(ctx context.Context, fn func(Tx) error) error
}

// Tx is one transaction over every entity. Lookups return an error matching
// ErrNotFound when nothing matches. Put methods assign an ID to a new record
// (ID zero) and keep every index of the record current. Returned values are
// copies: they stay valid after the transaction ends.
type Tx interface {
	UserStore
	OrgStore
	ProjectStore
	PortalStore
	LinkStore
	InvitationStore
	TokenStore
	SessionStore
	RequestStore
	AuditStore
	OutboxStore
	CatcherStore
	SSHKeyStore
	ContentStore
	LogoStore        // brand.go
	APITokenStore    // apitokens.go
	IdempotencyStore // idempotency.go
	WebhookStore     // webhooks.go
}

// ContentStore holds what a portal's built-in page shows besides its
// welcome text: resources (in their order) and updates.
type ContentStore interface {
	Resource(id uint64) (Resource, error)
	// Resources lists a portal's resources by position.
	Resources(portalID uint64) ([]Resource, error)
	PutResource(r *Resource) error
	DeleteResource(id uint64) error

	Update(id uint64) (Update, error)
	// Updates lists a portal's updates newest first, at most limit (0: all).
	Updates(portalID uint64, limit int) ([]Update, error)
	PutUpdate(u *Update) error
}

// UserStore holds accounts, indexed by email.
type UserStore interface {
	User(id uint64) (User, error)
	UserByEmail(email string) (User, error)
	// PutUser fails with ErrConflict when another user has the email. An
	// existing user's email must not change (see SessionStore).
	PutUser(u *User) error
	CountUsers() (int, error)
}

// OrgStore holds organizations and their memberships.
type OrgStore interface {
	Org(id uint64) (Org, error)
	OrgBySlug(slug string) (Org, error)
	// PutOrg fails with ErrConflict when another organization has the slug.
	PutOrg(o *Org) error
	Orgs() ([]Org, error)

	Member(orgID, userID uint64) (Member, error)
	// OrgOwner is the membership with the owner role.
	OrgOwner(orgID uint64) (Member, error)
	PutMember(m Member) error
	DeleteMember(orgID, userID uint64) error
	Members(orgID uint64) ([]Member, error)
	MembershipsOf(userID uint64) ([]Member, error)

	// KnownAddress is the address the organization knows (a member's, or
	// one with a link to its portals) whose UTS #39 skeleton is skeleton
	// (see AddressSkeleton).
	KnownAddress(orgID uint64, skeleton string) (string, error)
	PutKnownAddress(orgID uint64, skeleton, email string) error
}

// ProjectStore holds projects.
type ProjectStore interface {
	Project(id uint64) (Project, error)
	PutProject(p *Project) error
	Projects(orgID uint64) ([]Project, error)
}

// PortalStore holds portals (at most one per project) and portal access.
type PortalStore interface {
	Portal(id uint64) (Portal, error)
	PortalBySlug(slug string) (Portal, error)
	PortalOfProject(projectID uint64) (Portal, error)
	// PortalByHost finds the portal whose own host name is host.
	PortalByHost(host string) (Portal, error)
	// PutPortal fails with ErrConflict when another portal has the slug or
	// the host, or the project already has another portal.
	PutPortal(p *Portal) error
	Portals(orgID uint64) ([]Portal, error)

	Access(portalID, userID uint64) (Access, error)
	PutAccess(a Access) error
	DeleteAccess(portalID, userID uint64) error
	AccessList(portalID uint64) ([]Access, error)
	AccessOf(userID uint64) ([]Access, error)

	// Notices is the state of the owner's access-request notices for a
	// portal (ErrNotFound: none was ever sent).
	Notices(portalID uint64) (PortalNotices, error)
	PutNotices(n PortalNotices) error
}

// LinkStore holds magic links, indexed by lookup hash and by (portal, email)
// for the active one.
//
// A link's UseCount and LastUsedAt belong to the store: PutLink keeps the
// stored ones for a link that exists, and only PutLinkUse (through
// FoldLinkUses) moves them.
type LinkStore interface {
	Link(id uint64) (Link, error)
	LinkByLookup(lookup []byte) (Link, error)
	ActiveLink(portalID uint64, email string) (Link, error)
	// LatestLink is the newest link for (portal, email), in any state.
	LatestLink(portalID uint64, email string) (Link, error)
	// PutLink fails with ErrConflict when the link is active and another
	// active link exists for its (portal, email): at most one at any time.
	PutLink(l *Link) error
	// Links lists a portal's links, oldest first, replaced ones included.
	Links(portalID uint64) ([]Link, error)
}

// InvitationStore holds invitations, indexed by (organization, email).
type InvitationStore interface {
	Invitation(id uint64) (Invitation, error)
	// LatestInvitation is the newest invitation of email to the organization.
	LatestInvitation(orgID uint64, email string) (Invitation, error)
	PutInvitation(inv *Invitation) error
	// Invitations lists an organization's invitations, newest first.
	Invitations(orgID uint64) ([]Invitation, error)
	// InvitationsOf lists the invitations of email to the organization, oldest first.
	InvitationsOf(orgID uint64, email string) ([]Invitation, error)
}

// TokenStore holds single-use tokens by hash.
type TokenStore interface {
	Token(hash []byte) (Token, error)
	PutToken(t Token) error
	// DeleteTokensBefore removes tokens that expired before t; it returns how many.
	DeleteTokensBefore(t time.Time) (int, error)

	// PutLinkEvent appends an event to its link's history, assigning its id.
	PutLinkEvent(e *LinkEvent) error
	// LinkEvents is a link's history, oldest first: its uses (PutLinkUse)
	// among the other events, folded or not.
	LinkEvents(linkID uint64) ([]LinkEvent, error)
	// PutLinkUse appends a use of a link (a redemption) under an increasing
	// id, and changes nothing else: a returning visitor's redemption writes
	// only new records at the end of their trees, and takes no lock on the
	// link. The link's UseCount and LastUsedAt, as every read returns them,
	// count it at once: the stored counters plus the uses not yet folded.
	PutLinkUse(e *LinkEvent) error
	// FoldLinkUses folds at most limit of the oldest unfolded uses into
	// their links' stored counters (and history), and returns how many it
	// folded; reads return the same figures before and after. It is
	// idempotent and needs nothing but the transaction's commit to be safe
	// across a crash: a fold that did not commit left every use unfolded.
	FoldLinkUses(limit int) (int, error)
	// DeleteLinkEventsBefore removes the events older than t; it returns how many.
	DeleteLinkEventsBefore(t time.Time) (int, error)
}

// SessionStore holds sessions by hash, indexed by user. There is no index
// by link: a session a link opened belongs to the user whose email is the
// link's (Redeem opens it there, and a user's email never changes), so
// ending a link reads that user's sessions. A feature that changes or merges
// emails must end those sessions itself.
type SessionStore interface {
	// NextSessionID hands out the next of an increasing sequence: a new
	// session's key begins with it (SessionKey), so that sessions are
	// written at the end of their tree.
	NextSessionID() (uint64, error)
	Session(hash []byte) (Session, error)
	PutSession(s Session) error
	DeleteSession(hash []byte) error
	SessionsOfUser(userID uint64) ([]Session, error)
	// DeleteSessionsBefore removes sessions whose absolute expiry is at or
	// before abs or that were last seen at or before idle; it returns how many.
	DeleteSessionsBefore(abs, idle time.Time) (int, error)
}

// RequestStore holds access requests.
type RequestStore interface {
	Request(id uint64) (Request, error)
	// LatestRequest is the newest request for (portal, email).
	LatestRequest(portalID uint64, email string) (Request, error)
	PutRequest(r *Request) error
	// Requests lists an organization's requests, newest first.
	Requests(orgID uint64) ([]Request, error)
}

// AuditQuery selects audit events, newest first.
type AuditQuery struct {
	OrgID    uint64 // 0: every organization
	BeforeID uint64 // 0: from the newest
	Limit    int    // 0: no limit
}

// AuditStore holds the append-only audit log.
type AuditStore interface {
	AppendEvent(e *Event) error
	Events(q AuditQuery) ([]Event, error)
}

// OutboxStore holds the mail outbox, indexed by next attempt time.
type OutboxStore interface {
	Message(id uint64) (Message, error)
	PutMessage(m *Message) error
	// DueMessages lists pending messages whose next attempt is at or before
	// now, earliest first, at most limit.
	DueMessages(now time.Time, limit int) ([]Message, error)
	// ClaimDueMessages is DueMessages for a worker that delivers them,
	// leaving out the messages in held (the worker's own, still being
	// delivered) without reading them: on a store several processes share,
	// the messages it returns are leased until until, and no other claim
	// returns them before then (one that was not delivered by then is due
	// again, with its Message-ID). A store only one process opens at a
	// time, whose one worker knows what it holds, may simply list them.
	ClaimDueMessages(now, until time.Time, limit int, held map[uint64]struct{}) ([]Message, error)
	// NextDue is the earliest next attempt of any pending message (zero: none).
	NextDue() (time.Time, error)
	// Messages lists messages newest first, before beforeID (0: from the newest).
	Messages(beforeID uint64, limit int) ([]Message, error)
}

// CatcherStore holds the built-in catcher's messages.
type CatcherStore interface {
	PutCaught(m *CaughtMail) error
	Caught(id uint64) (CaughtMail, error)
	// CaughtMails lists messages newest first, before beforeID (0: from the newest).
	CaughtMails(beforeID uint64, limit int) ([]CaughtMail, error)
	// TrimCaught keeps the newest keep messages and deletes the rest.
	TrimCaught(keep int) error
}

// SSHKeyStore holds console keys by fingerprint.
type SSHKeyStore interface {
	SSHKey(fingerprint string) (SSHKey, error)
	PutSSHKey(k SSHKey) error
	DeleteSSHKey(fingerprint string) error
	SSHKeysOf(userID uint64) ([]SSHKey, error)
}
