package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"

	"latchkey/storage"
)

// serve runs h on addr until ctx ends.
func serve(ctx context.Context, addr string, h http.Handler) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { <-ctx.Done(); srv.Close() }()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// serveBare is the landing page's baseline: net/http writing a 1 KB page.
func serveBare(ctx context.Context, args []string) error {
	if len(args) != 1 {
		return errors.New("usage: serve-bare ADDR")
	}
	page := []byte("<!doctype html><title>bare</title><p>" + strings.Repeat("x", 1024-42) + "</p>\n")
	return serve(ctx, args[0], http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page)
	}))
}

// serveDurable is the write baseline: every request is one durable bbolt
// write, group-committed the way latchkey commits (storage.GroupCommitter).
func serveDurable(ctx context.Context, args []string) error {
	if len(args) != 2 {
		return errors.New("usage: serve-durable ADDR DBFILE")
	}
	db, err := openTuned(args[1])
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucketIfNotExists([]byte("b")); return err }); err != nil {
		return err
	}
	value := []byte(strings.Repeat("v", 256))
	return durableWrites(ctx, args[0], db, func(seq []byte) func(*bolt.Tx) error {
		return func(tx *bolt.Tx) error { return tx.Bucket([]byte("b")).Put(seq, value) }
	})
}

// openTuned opens a bbolt file as latchkey opens its database (map
// freelist, not synced at each commit).
func openTuned(path string) (*bolt.DB, error) {
	return bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, FreelistType: bolt.FreelistMapType, NoFreelistSync: true})
}

// durableWrites answers every request with one group-committed update: the
// function that write makes for the request's sequence number (8 bytes, big
// endian; a group commit may run the update twice, so it must be idempotent).
func durableWrites(ctx context.Context, addr string, db *bolt.DB, write func(seq []byte) func(*bolt.Tx) error) error {
	var n atomic.Uint64
	group := storage.NewGroupCommitter(db)
	return serve(ctx, addr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seq := make([]byte, 8)
		binary.BigEndian.PutUint64(seq, n.Add(1))
		if err := group.Update(write(seq)); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte("ok\n"))
	}))
}

// serveFloor is not a baseline of the table but the floor under the durable
// scenarios: each request does the least a redemption must write, durably
// and group-committed like serveDurable: one record of the 1,000,000 links
// written again in place (its use counted) and two appended records (a
// session, an event). It runs on a copy of the bench's big database.
//
// With "append" it is the floor of today's returning visitor: the link is
// read, not rewritten, and the writes are three appends (the session, the
// use, the audit event) and one entry of the sessions-by-user index at the
// place of a random user.
//
// With "first" it is the floor of a first use: the same, and what a new
// person's first redemption creates besides: the account (under the next
// id), its entry in the index by email (at a random place), a membership
// and a portal access (appended: the new id ends its organization's and
// portal's ranges), and their indexes by user (under the new id).
func serveFloor(ctx context.Context, args []string) error {
	if len(args) != 2 && (len(args) != 3 || args[2] != "append" && args[2] != "first") {
		return errors.New("usage: serve-floor ADDR DBFILE [append|first]")
	}
	appendOnly, first := len(args) == 3, len(args) == 3 && args[2] == "first"
	db, err := openTuned(args[1])
	if err != nil {
		return err
	}
	defer db.Close()
	links, appended := []byte("links"), [][]byte{[]byte("floor_sessions"), []byte("floor_events")}
	byUser := []byte("floor_sessions_by_user")
	if appendOnly {
		appended = append(appended, []byte("floor_audit"), byUser)
	}
	if first { // a first use's records (see the switch below)
		for _, b := range []string{"floor_users", "floor_users_by_email", "floor_members", "floor_members_by_user", "floor_access", "floor_access_by_user"} {
			appended = append(appended, []byte(b))
		}
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		if tx.Bucket(links) == nil {
			return errors.New("no links bucket: serve-floor needs a copy of a latchkey database")
		}
		for _, b := range appended {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return err
	}
	value := []byte(strings.Repeat("v", 200))
	return durableWrites(ctx, args[0], db, func(seq []byte) func(*bolt.Tx) error {
		at := make([]byte, 32) // a random place among the links (keyed by a MAC)
		rand.Read(at)
		return func(tx *bolt.Tx) error {
			c := tx.Bucket(links).Cursor()
			lk, lv := c.Seek(at)
			if lk == nil {
				lk, lv = c.First()
			}
			if !appendOnly {
				if err := tx.Bucket(links).Put(bytes.Clone(lk), bytes.Clone(lv)); err != nil {
					return err
				}
			} else if len(lv) == 0 {
				return errors.New("an empty link")
			}
			for _, b := range appended {
				key, v := seq, value
				switch string(b) {
				case "floor_sessions_by_user": // user|session: a user's entries sit together
					key, v = append(bytes.Clone(at[:8]), seq...), nil
				case "floor_members_by_user", "floor_access_by_user": // the new user's: at the end
					v = nil
				case "floor_users_by_email": // an email among the others, to the new id
					key, v = append(bytes.Clone(at[8:16]), seq...), seq
				}
				// floor_members and floor_access (org|user, portal|user) take the
				// sequence as their key: a new user's id is the highest, so its
				// entries end its organization's and portal's ranges, and the
				// least they cost is an append.
				if err := tx.Bucket(b).Put(key, v); err != nil {
					return err
				}
			}
			return nil
		}
	})
}

// serveFloorLanding is the floor under the landing page: each GET /m/{token}
// does the least the page needs, the token's MAC with the instance key and
// one bbolt read of the link it names, and writes the baseline's 1 KB page:
// no security headers, access log, metrics or session, and no template.
// With a third argument, "answer", it writes instead what latchkey's landing
// page answers besides its work: the same security headers and a page of
// the same size (1,550 bytes), so that the floor shows what the answer
// DESIGN.md asks for costs the client and the server by itself.
func serveFloorLanding(ctx context.Context, args []string) error {
	if len(args) != 2 && (len(args) != 3 || args[2] != "answer") {
		return errors.New("usage: serve-floor-landing ADDR DATADIR [answer]")
	}
	answer := len(args) == 3
	keys, _, err := storage.LoadOrCreateKeys(filepath.Join(args[1], "latchkey.key"))
	if err != nil {
		return err
	}
	db, err := bolt.Open(filepath.Join(args[1], "latchkey.db"), 0o600, &bolt.Options{Timeout: time.Second, ReadOnly: true})
	if err != nil {
		return err
	}
	defer db.Close()
	page := []byte("<!doctype html><title>bare</title><p>" + strings.Repeat("x", 1024-42) + "</p>\n")
	if answer {
		page = []byte("<!doctype html><title>bare</title><p>" + strings.Repeat("x", 1550-42) + "</p>\n")
	}
	// latchkey's page headers (core/web's pageHeaders), as the client receives them.
	headers := map[string][]string{
		"Content-Security-Policy":    {"default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"},
		"X-Content-Type-Options":     {"nosniff"},
		"X-Frame-Options":            {"DENY"},
		"Referrer-Policy":            {"no-referrer"},
		"Cross-Origin-Opener-Policy": {"same-origin"},
		"Cache-Control":              {"no-store"},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /m/{token}", func(w http.ResponseWriter, r *http.Request) {
		lookup := keys.Lookup(r.PathValue("token"))
		found := false
		if err := db.View(func(tx *bolt.Tx) error {
			found = tx.Bucket([]byte("links")).Get(lookup) != nil
			return nil
		}); err != nil || !found {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		if answer {
			for k, v := range headers {
				h[k] = v
			}
		}
		h.Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page)
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {})
	return serve(ctx, args[0], mux)
}

// openDB is the start-up baseline: a program that opens the same bbolt file
// and answers /healthz.
func openDB(ctx context.Context, args []string) error {
	if len(args) != 2 {
		return errors.New("usage: open-db DBFILE ADDR")
	}
	db, err := openTuned(args[0])
	if err != nil {
		return err
	}
	defer db.Close()
	return serve(ctx, args[1], http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := db.View(func(*bolt.Tx) error { return nil }); err != nil {
			http.Error(w, err.Error(), 503)
			return
		}
		fmt.Fprintln(w, `{"status":"ok"}`)
	}))
}
