package core

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"testing"
	"time"
)

// Password hashing waits for a free slot: no more argon2 computations run
// (each holding its memory cost) than there are processors.
func TestArgon2RunsOnlyInFreeSlots(t *testing.T) {
	cheap := Argon2Params{Time: 1, Memory: 64, Threads: 1}
	hash, err := HashPassword(context.Background(), "correct horse", cheap, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	held := 0
	t.Cleanup(func() { // whatever happens, the slots taken here are given back
		for ; held > 0; held-- {
			<-argonSlots
		}
	})
	for range cap(argonSlots) { // every slot busy
		argonSlots <- struct{}{}
		held++
	}
	// Waiting, a check whose client has gone gives up, computing nothing.
	ctx, cancel := context.WithCancel(context.Background())
	gaveUp := make(chan error, 1)
	go func() { _, err := VerifyPassword(ctx, hash, "correct horse"); gaveUp <- err }()
	cancel()
	select {
	case err := <-gaveUp:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("a cancelled check while every slot was busy: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a cancelled check kept waiting")
	}
	done := make(chan bool, 1)
	go func() { ok, _ := VerifyPassword(context.Background(), hash, "correct horse"); done <- ok }()
	select {
	case <-done:
		t.Fatal("a password was checked while every slot was busy")
	case <-time.After(200 * time.Millisecond):
	}
	<-argonSlots // one slot frees
	held--
	select {
	case ok := <-done:
		if !ok {
			t.Fatal("the right password did not match")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the check did not run once a slot was free")
	}
}

// A session cookie carries its increasing id and its secret; its key is the
// id, then the secret's hash, so that keys sort as the ids do. Cookies of
// the older form (a token) still find their session, under its hash.
func TestSessionCookiesAndKeys(t *testing.T) {
	var prev []byte
	for id := uint64(1); id <= 300; id += 37 {
		cookie, key, err := newSessionCookie(id, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if len(cookie) != SessionCookieLen || len(key) != 40 {
			t.Fatalf("cookie %q (%d), key of %d bytes", cookie, len(cookie), len(key))
		}
		got, ok := SessionKey(cookie)
		if !ok || !bytes.Equal(got, key) {
			t.Fatalf("SessionKey(%q) = %x, %v; want %x", cookie, got, ok, key)
		}
		if bytes.Contains(key, []byte(cookie)) || bytes.Equal(key[8:], mustDecode(t, cookie)[8:]) {
			t.Fatal("the key holds the secret")
		}
		if prev != nil && bytes.Compare(prev, key) >= 0 {
			t.Fatalf("key of id %d does not sort after the one before", id)
		}
		prev = key
	}
	old, _ := NewToken(rand.Reader)
	if key, ok := SessionKey(old); !ok || !bytes.Equal(key, HashSecret(old)) {
		t.Fatalf("an older cookie: %x, %v", key, ok)
	}
	cookie, _, _ := newSessionCookie(7, rand.Reader)
	for _, bad := range []string{"", "x", cookie[:SessionCookieLen-1], cookie[:SessionCookieLen-1] + "*", cookie + "A", old[:TokenLen-1] + "!"} {
		if _, ok := SessionKey(bad); ok || WellFormedSession(bad) {
			t.Errorf("%q has a session cookie's shape", bad)
		}
	}
}

func mustDecode(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
