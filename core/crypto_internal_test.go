package core

import (
	"context"
	"crypto/rand"
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
