package core

import (
	"crypto/rand"
	"testing"
	"time"
)

// Password hashing waits for a free slot: no more argon2 computations run
// (each holding its memory cost) than there are processors.
func TestArgon2RunsOnlyInFreeSlots(t *testing.T) {
	cheap := Argon2Params{Time: 1, Memory: 64, Threads: 1}
	hash, err := HashPassword("correct horse", cheap, rand.Reader)
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
	done := make(chan bool, 1)
	go func() { done <- VerifyPassword(hash, "correct horse") }()
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
