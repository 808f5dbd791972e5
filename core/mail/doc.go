// Package mail delivers latchkey's email: it renders outbox rows into
// multipart messages, delivers them over SMTP to a relay (or to the
// built-in catcher) with retries, and runs that catcher.
//
// It is the only package that imports github.com/emersion/go-smtp. Mail is
// sent only by the Worker, never inside an HTTP request or a console key
// handler: flows queue outbox rows in their own transaction (package core)
// and the worker wakes when one is queued. Delivery is at least once: a row
// is marked sent after the server accepted it, so a crash in between sends
// it again, with the same Message-ID.
package mail
