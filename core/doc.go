// Package core holds latchkey's domain: organizations, people and their roles,
// projects and portals, magic links, invitations, access requests, sessions,
// single-use tokens, the audit log and the mail outbox, and the services that
// carry out every flow of the product.
//
// Service is split by concern (Links, People, Portals, AccessRequests, Mail,
// AuditLog, Accounts), all sharing one engine: the store, its transaction
// runner (write and read), the clock and the caches. An adapter may be given
// the whole Service or only the services it needs.
//
// Core decides every rule and every permission. The read models adapters show
// (PortalMember, RequestView, OrgMember, ProjectSummary) carry Decisions:
// each action allowed, or refused with the reason in a sentence, computed by
// the same checks the write operations run (decisions.go). Describe turns any
// error into the sentence a person reads. Adapters render these; they never
// decide what is allowed. It performs no I/O of its own:
// it persists through the Store interface (implemented by package storage),
// reads time through Clock and randomness through an io.Reader. It imports no
// bbolt, net/http, go-smtp or Charm package; adapters (web, mail, the console,
// the SSH server) depend on core, never the reverse.
//
// One service call is one storage transaction. The mail a flow sends is queued
// as an outbox row in that same transaction, so a state change and its email
// are committed together or not at all. A transaction function may run more
// than once (group commit), so it only reads and writes through its Tx and
// assigns its results to variables; side effects such as publishing events
// happen after the commit.
//
// Decisions recorded here because the design leaves them open:
//   - A link is for one (portal, email). Before its first redemption the email
//     may have no account; the person shows in the portal's member list as an
//     invitee with an active link.
//   - "Has access" for the Send-access-link form means: an account with portal
//     access (and, for a guest, an end date not yet passed), or an active link
//     for that email.
//   - Deactivating a link ends the link and the sessions opened through it, not
//     the person's portal access; "Remove portal access" ends both. A person
//     who keeps access can prove their email again with Send access link.
//   - Portal disclosure "" follows the instance default (explicit, or generic
//     with --uniform-responses); with --uniform-responses every portal answers
//     generically, whatever its own setting.
//   - Only the owner (or an instance admin) grants, changes or removes the
//     manager role or transfers ownership; managers manage every other role.
package core
