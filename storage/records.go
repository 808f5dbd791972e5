package storage

import (
	"time"

	"latchkey/core"
)

// Records: how each entity is written in the file. They are storage's own
// types, each with exactly the fields of its core type, so that one
// converts to the other (the same memory, seen through the other type)
// while the field tags here, not core's, are the file's format. A field
// renamed, added or retyped in core stops this file from compiling until
// its record follows; the golden database (golden_test.go) holds the
// format itself. Links have a binary form of their own (linkcodec.go).

type userRecord struct {
	ID                uint64    `json:"id"`
	Email             string    `json:"email"`
	Name              string    `json:"name,omitempty"`
	PasswordHash      string    `json:"password_hash,omitempty"`
	CreatedAt         time.Time `json:"created_at"`
	PasswordChangedAt time.Time `json:"password_changed_at,omitzero"`
}

type orgRecord struct {
	ID         uint64    `json:"id"`
	Slug       string    `json:"slug"`
	Name       string    `json:"name"`
	CreatedAt  time.Time `json:"created_at"`
	Logo       string    `json:"logo,omitempty"`
	Accent     string    `json:"accent,omitempty"`
	ReplyTo    string    `json:"reply_to,omitempty"`
	SenderName string    `json:"sender_name,omitempty"`
	Language   string    `json:"language,omitempty"`
}

type memberRecord struct {
	OrgID       uint64    `json:"org_id"`
	UserID      uint64    `json:"user_id"`
	Role        core.Role `json:"role"`
	GuestUntil  time.Time `json:"guest_until,omitzero"`
	CreatedAt   time.Time `json:"created_at"`
	RemindedFor time.Time `json:"reminded_for,omitzero"`
}

type projectRecord struct {
	ID        uint64    `json:"id"`
	OrgID     uint64    `json:"org_id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

type portalRecord struct {
	ID         uint64           `json:"id"`
	OrgID      uint64           `json:"org_id"`
	ProjectID  uint64           `json:"project_id"`
	Slug       string           `json:"slug"`
	Title      string           `json:"title"`
	Access     core.AccessLevel `json:"access"`
	Disclosure core.Disclosure  `json:"disclosure,omitempty"`
	Welcome    string           `json:"welcome,omitempty"`
	Upstream   string           `json:"upstream,omitempty"`
	Host       string           `json:"host,omitempty"`
	ContactID  uint64           `json:"contact_id,omitempty"`
	Language   string           `json:"language,omitempty"`
	Rules      core.AccessRules `json:"rules,omitzero"`
	CreatedAt  time.Time        `json:"created_at"`
	UpdatedAt  time.Time        `json:"updated_at"`
}

type accessRecord struct {
	PortalID  uint64    `json:"portal_id"`
	UserID    uint64    `json:"user_id"`
	GrantedAt time.Time `json:"granted_at"`
	Via       string    `json:"via"`
}

type invitationRecord struct {
	ID         uint64               `json:"id"`
	OrgID      uint64               `json:"org_id"`
	PortalID   uint64               `json:"portal_id,omitempty"`
	Email      string               `json:"email"`
	Name       string               `json:"name,omitempty"`
	Role       core.Role            `json:"role"`
	GuestUntil time.Time            `json:"guest_until,omitzero"`
	State      core.InvitationState `json:"state"`
	LinkID     uint64               `json:"link_id,omitempty"`
	TokenHash  []uint8              `json:"token_hash,omitempty"`
	InvitedBy  string               `json:"invited_by"`
	CreatedAt  time.Time            `json:"created_at"`
	ExpiresAt  time.Time            `json:"expires_at,omitzero"`
	AcceptedAt time.Time            `json:"accepted_at,omitzero"`
}

type tokenRecord struct {
	Hash         []uint8        `json:"hash"`
	Kind         core.TokenKind `json:"kind"`
	Email        string         `json:"email"`
	UserID       uint64         `json:"user_id,omitempty"`
	InvitationID uint64         `json:"invitation_id,omitempty"`
	SessionHash  []uint8        `json:"session_hash,omitempty"`
	PortalID     uint64         `json:"portal_id,omitempty"`
	Return       string         `json:"return,omitempty"`
	LinkID       uint64         `json:"link_id,omitempty"`
	CodeMAC      []uint8        `json:"code_mac,omitempty"`
	Tries        int            `json:"tries,omitempty"`
	RequestID    uint64         `json:"request_id,omitempty"`
	CreatedAt    time.Time      `json:"created_at"`
	ExpiresAt    time.Time      `json:"expires_at"`
	UsedAt       time.Time      `json:"used_at,omitzero"`
}

type sessionRecord struct {
	Hash       []uint8   `json:"hash"`
	UserID     uint64    `json:"user_id"`
	LinkID     uint64    `json:"link_id,omitempty"`
	Parent     []uint8   `json:"parent,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	Addr       string    `json:"addr,omitempty"`
	UserAgent  string    `json:"user_agent,omitempty"`
}

type requestRecord struct {
	ID         uint64            `json:"id"`
	OrgID      uint64            `json:"org_id"`
	PortalID   uint64            `json:"portal_id"`
	Email      string            `json:"email"`
	State      core.RequestState `json:"state"`
	Count      int               `json:"count"`
	CreatedAt  time.Time         `json:"created_at"`
	LastAt     time.Time         `json:"last_at"`
	NotifiedAt time.Time         `json:"notified_at,omitzero"`
	Addr       string            `json:"addr,omitempty"`
	ResolvedAt time.Time         `json:"resolved_at,omitzero"`
	ResolvedBy string            `json:"resolved_by,omitempty"`
}

type eventRecord struct {
	ID       uint64    `json:"id"`
	At       time.Time `json:"at"`
	OrgID    uint64    `json:"org_id,omitempty"`
	PortalID uint64    `json:"portal_id,omitempty"`
	Actor    string    `json:"actor"`
	Source   string    `json:"source"`
	Action   string    `json:"action"`
	Target   string    `json:"target,omitempty"`
	Detail   string    `json:"detail,omitempty"`
}

type messageRecord struct {
	ID            uint64            `json:"id"`
	OrgID         uint64            `json:"org_id,omitempty"`
	Kind          core.MailKind     `json:"kind"`
	To            string            `json:"to"`
	ToName        string            `json:"to_name,omitempty"`
	Data          map[string]string `json:"data,omitempty"`
	LinkPath      string            `json:"link_path,omitempty"`
	LinkID        uint64            `json:"link_id,omitempty"`
	Lang          string            `json:"lang,omitempty"`
	SealedToken   []uint8           `json:"sealed_token,omitempty"`
	State         core.MessageState `json:"state"`
	Attempts      int               `json:"attempts"`
	NextAttemptAt time.Time         `json:"next_attempt_at,omitzero"`
	LastError     string            `json:"last_error,omitempty"`
	CreatedAt     time.Time         `json:"created_at"`
	SentAt        time.Time         `json:"sent_at,omitzero"`
}

type caughtMailRecord struct {
	ID         uint64    `json:"id"`
	ReceivedAt time.Time `json:"received_at"`
	From       string    `json:"from"`
	To         []string  `json:"to"`
	Subject    string    `json:"subject"`
	Size       int       `json:"size"`
	Raw        []uint8   `json:"-"`
	Sealed     []uint8   `json:"sealed"`
}

type sSHKeyRecord struct {
	Fingerprint string    `json:"fingerprint"`
	UserID      uint64    `json:"user_id"`
	PublicKey   string    `json:"public_key"`
	Comment     string    `json:"comment,omitempty"`
	AddedAt     time.Time `json:"added_at"`
	AddedBy     string    `json:"added_by"`
}

type portalNoticesRecord struct {
	PortalID   uint64    `json:"portal_id"`
	LastSentAt time.Time `json:"last_sent_at"`
	DigestID   uint64    `json:"digest_id,omitempty"`
}

type resourceRecord struct {
	ID        uint64    `json:"id"`
	PortalID  uint64    `json:"portal_id"`
	Position  int       `json:"position"`
	Title     string    `json:"title"`
	URL       string    `json:"url"`
	Note      string    `json:"note,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by"`
}

type updateRecord struct {
	ID        uint64    `json:"id"`
	PortalID  uint64    `json:"portal_id"`
	Body      string    `json:"body"`
	AuthorID  uint64    `json:"author_id,omitempty"`
	Author    string    `json:"author"`
	CreatedAt time.Time `json:"created_at"`
	Emailed   int       `json:"emailed,omitempty"`
}

type logoRecord struct {
	Hash      string    `json:"hash"`
	Image     []uint8   `json:"image"`
	Icon      []uint8   `json:"icon"`
	Width     int       `json:"width"`
	Height    int       `json:"height"`
	CreatedAt time.Time `json:"created_at"`
}

// linkRecord is a link's earlier, JSON form, still read (linkcodec.go).
type linkRecord struct {
	ID         uint64         `json:"id"`
	OrgID      uint64         `json:"org_id"`
	PortalID   uint64         `json:"portal_id"`
	Email      string         `json:"email"`
	Role       core.Role      `json:"role"`
	GuestUntil time.Time      `json:"guest_until,omitzero"`
	State      core.LinkState `json:"state"`
	Lookup     []byte         `json:"lookup"`
	Sealed     []byte         `json:"sealed"`
	CreatedAt  time.Time      `json:"created_at"`
	CreatedBy  string         `json:"created_by"`
	EndedAt    time.Time      `json:"ended_at,omitzero"`
	EndedBy    string         `json:"ended_by,omitempty"`
	ReplacedBy uint64         `json:"replaced_by,omitempty"`
	UseCount   uint64         `json:"use_count"`
	LastUsedAt time.Time      `json:"last_used_at,omitzero"`
	Invited    bool           `json:"invited,omitempty"`
}

// recordOf is the record v (a core entity, or a pointer to one) is written
// and read as; any other value is itself.
func recordOf(v any) any {
	switch p := v.(type) {
	case *core.Link:
		return (*linkRecord)(p)
	case core.User:
		return userRecord(p)
	case *core.User:
		return (*userRecord)(p)
	case core.Org:
		return orgRecord(p)
	case *core.Org:
		return (*orgRecord)(p)
	case core.Member:
		return memberRecord(p)
	case *core.Member:
		return (*memberRecord)(p)
	case core.Project:
		return projectRecord(p)
	case *core.Project:
		return (*projectRecord)(p)
	case core.Portal:
		return portalRecord(p)
	case *core.Portal:
		return (*portalRecord)(p)
	case core.Access:
		return accessRecord(p)
	case *core.Access:
		return (*accessRecord)(p)
	case core.Invitation:
		return invitationRecord(p)
	case *core.Invitation:
		return (*invitationRecord)(p)
	case core.Token:
		return tokenRecord(p)
	case *core.Token:
		return (*tokenRecord)(p)
	case core.Session:
		return sessionRecord(p)
	case *core.Session:
		return (*sessionRecord)(p)
	case core.Request:
		return requestRecord(p)
	case *core.Request:
		return (*requestRecord)(p)
	case core.Event:
		return eventRecord(p)
	case *core.Event:
		return (*eventRecord)(p)
	case core.Message:
		return messageRecord(p)
	case *core.Message:
		return (*messageRecord)(p)
	case core.CaughtMail:
		return caughtMailRecord(p)
	case *core.CaughtMail:
		return (*caughtMailRecord)(p)
	case core.SSHKey:
		return sSHKeyRecord(p)
	case *core.SSHKey:
		return (*sSHKeyRecord)(p)
	case core.PortalNotices:
		return portalNoticesRecord(p)
	case *core.PortalNotices:
		return (*portalNoticesRecord)(p)
	case core.Resource:
		return resourceRecord(p)
	case *core.Resource:
		return (*resourceRecord)(p)
	case core.Update:
		return updateRecord(p)
	case *core.Update:
		return (*updateRecord)(p)
	case core.Logo:
		return logoRecord(p)
	case *core.Logo:
		return (*logoRecord)(p)
	case core.APIToken:
		return aPITokenRecord(p)
	case *core.APIToken:
		return (*aPITokenRecord)(p)
	case core.IdempotencyRecord:
		return idempotencyRecord(p)
	case *core.IdempotencyRecord:
		return (*idempotencyRecord)(p)
	case core.Webhook:
		return webhookRecord(p)
	case *core.Webhook:
		return (*webhookRecord)(p)
	case core.WebhookDelivery:
		return webhookDeliveryRecord(p)
	case *core.WebhookDelivery:
		return (*webhookDeliveryRecord)(p)
	}
	return v
}
