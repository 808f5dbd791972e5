package core

import (
	"strings"
	"time"
)

// Role is a member's role in an organization.
type Role string

// The roles of DESIGN.md. Only owners and managers use the console.
const (
	RoleOwner   Role = "owner"
	RoleManager Role = "manager"
	RoleMember  Role = "member"
	RoleGuest   Role = "guest"
	RoleClient  Role = "client"
)

// Roles lists every role, most powerful first.
var Roles = []Role{RoleOwner, RoleManager, RoleMember, RoleGuest, RoleClient}

// ParseRole reads a role name.
func ParseRole(s string) (Role, error) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	for _, known := range Roles {
		if r == known {
			return r, nil
		}
	}
	return "", invalid("role", "%q is not a role (one of owner, manager, member, guest, client)", clip(s))
}

// UsesConsole reports whether the role may use the business console.
func (r Role) UsesConsole() bool { return r == RoleOwner || r == RoleManager }

// MayBeContact reports whether someone of this role may be a portal's
// contact: someone of the organization, not a client or a guest.
func (r Role) MayBeContact() bool { return r == RoleOwner || r == RoleManager || r == RoleMember }

// AccessLevel says who may see a portal.
type AccessLevel string

// Portal access levels.
const (
	AccessClosed AccessLevel = "closed" // invitation only
	AccessEmail  AccessLevel = "email"  // anyone who proves an email becomes a client
	AccessOpen   AccessLevel = "open"   // anyone can view
)

// ParseAccessLevel reads an access level name.
func ParseAccessLevel(s string) (AccessLevel, error) {
	switch a := AccessLevel(strings.ToLower(strings.TrimSpace(s))); a {
	case AccessClosed, AccessEmail, AccessOpen:
		return a, nil
	}
	return "", invalid("access", "%q is not an access level (one of closed, email, open)", clip(s))
}

// Disclosure says whether the Send-access-link form reveals if an email has access.
type Disclosure string

// Disclosure settings. DisclosureDefault follows the instance's default.
const (
	DisclosureDefault  Disclosure = ""
	DisclosureExplicit Disclosure = "explicit"
	DisclosureGeneric  Disclosure = "generic"
)

// ParseDisclosure reads a disclosure setting ("default" or "" for the instance default).
func ParseDisclosure(s string) (Disclosure, error) {
	switch d := strings.ToLower(strings.TrimSpace(s)); d {
	case "", "default":
		return DisclosureDefault, nil
	case string(DisclosureExplicit), string(DisclosureGeneric):
		return Disclosure(d), nil
	}
	return "", invalid("disclosure", "%q is not a disclosure setting (one of default, explicit, generic)", clip(s))
}

// LanguageIn is the portal's language: its own, else its organization's
// ("" for English).
func (p Portal) LanguageIn(o Org) string {
	if p.Language != "" {
		return p.Language
	}
	return o.Language
}

// Languages are the codes of the languages latchkey's pages and emails
// come in (ISO 639-1), English first: the default.
var Languages = []string{"en", "de", "fr", "es"}

// ParseLanguage reads a language setting: one of Languages, or "" (and
// "default") for English.
func ParseLanguage(s string) (string, error) {
	l := strings.ToLower(strings.TrimSpace(s))
	switch l {
	case "", "default":
		return "", nil
	}
	for _, code := range Languages {
		if l == code {
			return l, nil
		}
	}
	return "", invalid("language", "%q is not a language latchkey speaks (one of %s)", clip(s), strings.Join(Languages, ", "))
}

// Org is an organization: a business with one owner, members and projects.
type Org struct {
	ID        uint64    `json:"id"`
	Slug      string    `json:"slug"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
	// The brand its portals and emails carry (see brand.go): the logo by
	// its hash (""; none), the accent colour (#rrggbb; "": latchkey's),
	// the address replies go to ("": none) and the sender's name ("": the
	// organization's).
	Logo       string `json:"logo,omitempty"`
	Accent     string `json:"accent,omitempty"`
	ReplyTo    string `json:"reply_to,omitempty"`
	SenderName string `json:"sender_name,omitempty"`
	// Language is the default of its portals that name none (one of
	// Languages; "" for English).
	Language string `json:"language,omitempty"`
}

// User is a person's account, shared by every organization they belong to.
type User struct {
	ID                uint64    `json:"id"`
	Email             string    `json:"email"`
	Name              string    `json:"name,omitempty"`
	PasswordHash      string    `json:"password_hash,omitempty"` // argon2id, PHC string; empty: no password yet
	CreatedAt         time.Time `json:"created_at"`
	PasswordChangedAt time.Time `json:"password_changed_at,omitzero"`
}

// DisplayName is the name, or the email when there is none.
func (u User) DisplayName() string {
	if u.Name != "" {
		return u.Name
	}
	return u.Email
}

// Member is a user's membership in an organization.
type Member struct {
	OrgID      uint64    `json:"org_id"`
	UserID     uint64    `json:"user_id"`
	Role       Role      `json:"role"`
	GuestUntil time.Time `json:"guest_until,omitzero"` // guests only: access ends at this time
	CreatedAt  time.Time `json:"created_at"`
	// RemindedFor is the end date the owner was last reminded of (a day
	// before it): a guest is named in one reminder per end date.
	RemindedFor time.Time `json:"reminded_for,omitzero"`
}

// Expired reports whether a guest's access end date has passed.
func (m Member) Expired(now time.Time) bool {
	return m.Role == RoleGuest && !m.GuestUntil.IsZero() && !now.Before(m.GuestUntil)
}

// Project is a piece of work in an organization; it may have one portal.
type Project struct {
	ID        uint64    `json:"id"`
	OrgID     uint64    `json:"org_id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// Portal is the clients' web view of a project, at /p/{slug}.
type Portal struct {
	ID         uint64      `json:"id"`
	OrgID      uint64      `json:"org_id"`
	ProjectID  uint64      `json:"project_id"`
	Slug       string      `json:"slug"`
	Title      string      `json:"title"`
	Access     AccessLevel `json:"access"`
	Disclosure Disclosure  `json:"disclosure,omitempty"`
	Welcome    string      `json:"welcome,omitempty"` // Markdown
	// Upstream is the agency's own web app that latchkey fronts for this
	// portal (an http:// or https:// URL), or "" for the built-in page.
	Upstream string `json:"upstream,omitempty"`
	// Host is the portal's own host name (clients.acme-agency.com), whose
	// every path is the portal; "" for none.
	Host string `json:"host,omitempty"`
	// ContactID is the member of the organization whom clients write to.
	ContactID uint64 `json:"contact_id,omitempty"`
	// Language is the code of the language (one of Languages) the portal's
	// pages speak to a visitor whose browser names none of them, and its
	// invitations and notices are written in; "" for English.
	Language string `json:"language,omitempty"`
	// Rules are the portal's access rules (accessrules.go).
	Rules     AccessRules `json:"rules,omitzero"`
	CreatedAt time.Time   `json:"created_at"`
	UpdatedAt time.Time   `json:"updated_at"`
}

// Resource is one titled link of a portal's built-in page (a Drive
// folder, the staging site), in the order the portal lists them.
type Resource struct {
	ID        uint64    `json:"id"`
	PortalID  uint64    `json:"portal_id"`
	Position  int       `json:"position"` // 1, 2, … in the portal's order
	Title     string    `json:"title"`
	URL       string    `json:"url"`
	Note      string    `json:"note,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by"`
}

// Update is a short dated post on a portal's built-in page.
type Update struct {
	ID        uint64    `json:"id"`
	PortalID  uint64    `json:"portal_id"`
	Body      string    `json:"body"` // Markdown
	AuthorID  uint64    `json:"author_id,omitempty"`
	Author    string    `json:"author"` // the author's name (or email) when posted
	CreatedAt time.Time `json:"created_at"`
	Emailed   int       `json:"emailed,omitempty"` // how many people it was emailed to
}

// PortalNotices is when the owner was last told of access requests to a
// portal, and the summary that collects the requests made since (an
// outbox message, due at the end of the quiet period).
type PortalNotices struct {
	PortalID   uint64    `json:"portal_id"`
	LastSentAt time.Time `json:"last_sent_at"` // the latest notice, sent or due
	DigestID   uint64    `json:"digest_id,omitempty"`
}

// Access records that a user may open a portal.
type Access struct {
	PortalID  uint64    `json:"portal_id"`
	UserID    uint64    `json:"user_id"`
	GrantedAt time.Time `json:"granted_at"`
	Via       string    `json:"via"` // "link", "console"
}

// LinkState is the life of a magic link.
type LinkState string

// Link states. Only an active link redeems.
const (
	LinkActive      LinkState = "active"
	LinkDeactivated LinkState = "deactivated"
	LinkReplaced    LinkState = "replaced"
)

// Link is a magic link: quick access to one portal for one email with one
// role. Its token is never stored in clear: Lookup is HMAC-SHA256(lookup key,
// token) and Sealed is the token under AES-GCM with the data key.
type Link struct {
	ID         uint64    `json:"id"`
	OrgID      uint64    `json:"org_id"`
	PortalID   uint64    `json:"portal_id"`
	Email      string    `json:"email"`
	Role       Role      `json:"role"`                 // role of a membership created by this link
	GuestUntil time.Time `json:"guest_until,omitzero"` // for a guest membership created by this link
	State      LinkState `json:"state"`
	Lookup     []byte    `json:"lookup"`
	Sealed     []byte    `json:"sealed"`
	CreatedAt  time.Time `json:"created_at"`
	CreatedBy  string    `json:"created_by"`
	EndedAt    time.Time `json:"ended_at,omitzero"`
	EndedBy    string    `json:"ended_by,omitempty"`
	ReplacedBy uint64    `json:"replaced_by,omitempty"`
	UseCount   uint64    `json:"use_count"`
	LastUsedAt time.Time `json:"last_used_at,omitzero"`
	// Invited: the link was made by an invitation (or a granted request);
	// never opened, it lapses after the portal's invitation lifetime.
	Invited bool `json:"invited,omitempty"`
}

// InvitationState is the life of an invitation.
type InvitationState string

// Invitation states.
const (
	InvitationPending    InvitationState = "pending"
	InvitationAccepted   InvitationState = "accepted"
	InvitationSuperseded InvitationState = "superseded" // a newer invitation for the same email
)

// Invitation records that someone was invited to an organization, with or
// without a portal. With a portal it points at the magic link it created;
// without, at the single-use join token (by hash).
type Invitation struct {
	ID         uint64          `json:"id"`
	OrgID      uint64          `json:"org_id"`
	PortalID   uint64          `json:"portal_id,omitempty"`
	Email      string          `json:"email"`
	Name       string          `json:"name,omitempty"`
	Role       Role            `json:"role"`
	GuestUntil time.Time       `json:"guest_until,omitzero"`
	State      InvitationState `json:"state"`
	LinkID     uint64          `json:"link_id,omitempty"`
	TokenHash  []byte          `json:"token_hash,omitempty"`
	InvitedBy  string          `json:"invited_by"`
	CreatedAt  time.Time       `json:"created_at"`
	ExpiresAt  time.Time       `json:"expires_at,omitzero"` // join invitations only
	AcceptedAt time.Time       `json:"accepted_at,omitzero"`
}

// TokenKind says what a single-use token is for.
type TokenKind string

// Single-use token kinds.
const (
	TokenReset    TokenKind = "reset"     // password restore, 1 hour
	TokenJoin     TokenKind = "join"      // invitation without a portal, 7 days
	TokenHostCode TokenKind = "host_code" // a session handed to a portal's own host, 60 seconds
	// TokenCode: the six-digit code of an access-link email, stored under
	// the hash of the secret of the browser that asked for it, 10 minutes.
	TokenCode TokenKind = "code"
	// TokenRequestAction: the Grant access and Dismiss buttons of an access
	// request's notice, for the one owner or manager it was sent to, 7 days.
	TokenRequestAction TokenKind = "request_action"
)

// Token is a single-use secret, stored by its SHA-256 hash.
type Token struct {
	Hash         []byte    `json:"hash"`
	Kind         TokenKind `json:"kind"`
	Email        string    `json:"email"`
	UserID       uint64    `json:"user_id,omitempty"`
	InvitationID uint64    `json:"invitation_id,omitempty"`
	// A host code: the session it hands over (by hash), to which portal,
	// and the path to land on there.
	SessionHash []byte `json:"session_hash,omitempty"`
	PortalID    uint64 `json:"portal_id,omitempty"`
	Return      string `json:"return,omitempty"`
	// A code: the link it opens (0 for a decoy that nothing opens), the
	// code's MAC, and how many wrong codes were typed.
	LinkID    uint64    `json:"link_id,omitempty"`
	CodeMAC   []byte    `json:"code_mac,omitempty"`
	Tries     int       `json:"tries,omitempty"`
	RequestID uint64    `json:"request_id,omitempty"` // a request action: the request it answers`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
	UsedAt    time.Time `json:"used_at,omitzero"`
}

// Session is a browser session, stored by the SHA-256 hash of its id.
type Session struct {
	Hash   []byte `json:"hash"`
	UserID uint64 `json:"user_id"`
	LinkID uint64 `json:"link_id,omitempty"` // the magic link that opened it, if any
	// Parent is the session (by hash) that this one was handed over from,
	// on a portal's own host: signing out of either ends both.
	Parent     []byte    `json:"parent,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	ExpiresAt  time.Time `json:"expires_at"` // absolute lifetime
	Addr       string    `json:"addr,omitempty"`
	UserAgent  string    `json:"user_agent,omitempty"`
}

// RequestState is the life of an access request.
type RequestState string

// Access request states.
const (
	RequestPending   RequestState = "pending"
	RequestGranted   RequestState = "granted"
	RequestDismissed RequestState = "dismissed"
)

// Request records that an email without access asked for access to a closed
// portal. Repeated asks while pending update the same request.
type Request struct {
	ID         uint64       `json:"id"`
	OrgID      uint64       `json:"org_id"`
	PortalID   uint64       `json:"portal_id"`
	Email      string       `json:"email"`
	State      RequestState `json:"state"`
	Count      int          `json:"count"`
	CreatedAt  time.Time    `json:"created_at"`
	LastAt     time.Time    `json:"last_at"`
	NotifiedAt time.Time    `json:"notified_at,omitzero"` // last owner notification for this (portal, email)
	Addr       string       `json:"addr,omitempty"`
	ResolvedAt time.Time    `json:"resolved_at,omitzero"`
	ResolvedBy string       `json:"resolved_by,omitempty"`
}
