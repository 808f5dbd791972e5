package core

import "time"

// The records of what happened: audit events, outbox messages and caught
// mail, and each link's history.

// Event is one audit log entry: who did what, when, from where.
type Event struct {
	ID       uint64    `json:"id"`
	At       time.Time `json:"at"`
	OrgID    uint64    `json:"org_id,omitempty"`
	PortalID uint64    `json:"portal_id,omitempty"` // events about one portal
	Actor    string    `json:"actor"`               // an email, "admin" or "system"
	Source   string    `json:"source"`              // "console", "ssh:SHA256:…", "web:203.0.113.7", "cli", "system"
	Action   string    `json:"action"`              // "link.rotated", "access.requested", ...
	Target   string    `json:"target,omitempty"`
	Detail   string    `json:"detail,omitempty"`
}

// MailKind names an email template.
type MailKind string

// The emails core queues.
const (
	MailInvitePortal    MailKind = "invite_portal"    // invitation with a portal: Open portal button
	MailInviteJoin      MailKind = "invite_join"      // invitation without a portal: join link
	MailAccessLink      MailKind = "access_link"      // requested with Send access link
	MailNewLink         MailKind = "new_link"         // generated, rotated or re-sent from the console
	MailAccessRequest   MailKind = "access_request"   // to the owner: someone asked for access
	MailPasswordReset   MailKind = "password_reset"   // Restore password
	MailPasswordChanged MailKind = "password_changed" // notice after a password change
	MailAccessDigest    MailKind = "access_digest"    // to the owner: the requests made since the last notice
	MailAccessGranted   MailKind = "access_granted"   // to the owner: a request granted by a portal's grant rule
	MailGuestsEnding    MailKind = "guests_ending"    // to the owner: guests whose access ends within a day
	MailPortalUpdate    MailKind = "portal_update"    // an update posted on a portal, to everyone with access
	MailMyLinks         MailKind = "my_links"         // requested on a page: the active links of every portal of an address
	MailWebhookDisabled MailKind = "webhook_disabled" // to the owner: a webhook failed for 3 days and was stopped
)

// MessageState is the delivery state of an outbox row.
type MessageState string

// Outbox states.
const (
	MessageQueued   MessageState = "queued"
	MessageRetrying MessageState = "retrying"
	MessageSent     MessageState = "sent"
	MessageFailed   MessageState = "failed"
)

// Message is an outbox row: a recipient, a kind and the data its template
// needs. A secret the mail carries (a link's token) is sealed with the data
// key; the mail worker opens it to render the URL under the public URL.
type Message struct {
	ID            uint64            `json:"id"`
	OrgID         uint64            `json:"org_id,omitempty"`
	Kind          MailKind          `json:"kind"`
	To            string            `json:"to"`
	ToName        string            `json:"to_name,omitempty"`
	Data          map[string]string `json:"data,omitempty"`
	LinkPath      string            `json:"link_path,omitempty"` // "/m/", "/join/", "/restore/": the sealed token follows it
	LinkID        uint64            `json:"link_id,omitempty"`   // the magic link it carries, whose history records its delivery
	Lang          string            `json:"lang,omitempty"`      // the language it is written in (one of Languages); "" for English
	SealedToken   []byte            `json:"sealed_token,omitempty"`
	State         MessageState      `json:"state"`
	Attempts      int               `json:"attempts"`
	NextAttemptAt time.Time         `json:"next_attempt_at,omitzero"`
	LastError     string            `json:"last_error,omitempty"`
	CreatedAt     time.Time         `json:"created_at"`
	SentAt        time.Time         `json:"sent_at,omitzero"`
}

// LinkEventKind is what happened to a magic link, in its history.
type LinkEventKind string

// What a link's history records.
const (
	LinkEventCreated     LinkEventKind = "created"     // by whom
	LinkEventEmailed     LinkEventKind = "emailed"     // Detail: the delivery's outcome
	LinkEventViewed      LinkEventKind = "viewed"      // a GET or HEAD of its page
	LinkEventRedeemed    LinkEventKind = "redeemed"    // Open portal (POST)
	LinkEventCodeUsed    LinkEventKind = "code_used"   // its email's code typed in the browser that asked
	LinkEventDeactivated LinkEventKind = "deactivated" // by whom
	LinkEventReplaced    LinkEventKind = "replaced"    // by whom
)

// LinkEvent is one entry of a link's history.
type LinkEvent struct {
	ID        uint64        `json:"id"`
	LinkID    uint64        `json:"link_id"`
	Kind      LinkEventKind `json:"kind"`
	At        time.Time     `json:"at"`
	Actor     string        `json:"actor,omitempty"` // who created, ended or replaced it
	Addr      string        `json:"addr,omitempty"`  // the client's address
	UserAgent string        `json:"user_agent,omitempty"`
	Method    string        `json:"method,omitempty"`  // a view: GET or HEAD
	Cookies   bool          `json:"cookies,omitempty"` // a view: the request carried cookies
	Detail    string        `json:"detail,omitempty"`
}

// Pending reports whether the message still waits for delivery.
func (m Message) Pending() bool { return m.State == MessageQueued || m.State == MessageRetrying }

// CaughtMail is a message the built-in SMTP catcher received. Raw is the
// whole message; the store keeps it sealed with the data key, because
// catcher mail carries live magic links.
type CaughtMail struct {
	ID         uint64    `json:"id"`
	ReceivedAt time.Time `json:"received_at"`
	From       string    `json:"from"`
	To         []string  `json:"to"`
	Subject    string    `json:"subject"`
	Size       int       `json:"size"`
	Raw        []byte    `json:"-"`
	Sealed     []byte    `json:"sealed"`
}

// SSHKey is a public key that lets an owner or manager into the SSH console.
type SSHKey struct {
	Fingerprint string    `json:"fingerprint"` // SHA256:…
	UserID      uint64    `json:"user_id"`
	PublicKey   string    `json:"public_key"` // authorized_keys form, without options
	Comment     string    `json:"comment,omitempty"`
	AddedAt     time.Time `json:"added_at"`
	AddedBy     string    `json:"added_by"`
}
