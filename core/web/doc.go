// Package web is the portal listener: the pages clients see in a browser.
// It redeems magic links, shows portals (and, for closed ones, the Send
// access link form), and handles password login, restore and join.
//
// Pages are server-rendered html/template files embedded in the binary; no
// flow needs JavaScript and nothing loads from another origin. Every POST is
// guarded by http.CrossOriginProtection and SameSite=Lax cookies; GET and
// HEAD never change state; links are built from the configured public URL
// (core), never from the request's Host. Rate limits apply per client
// address, per email and per account to every form that sends mail or
// checks a secret.
//
// The package calls core services only; it never touches storage.
package web
