package core

import (
	"sync"
	"testing"
	"time"
)

func TestKeyed(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	b := NewKeyed(Limit{Every: 3 * time.Second, Burst: 2}, clock)
	if ok, _ := b.Allow("a"); !ok {
		t.Fatal("a full bucket refused")
	}
	b.Allow("a")
	if ok, wait := b.Allow("a"); ok || wait != 3*time.Second {
		t.Fatalf("an empty bucket: %v, wait %v", ok, wait)
	}
	// Charges run into a debt of at most one burst, and refill first.
	for range 10 {
		b.Charge("a")
	}
	if wait := b.Until("a"); wait != 9*time.Second {
		t.Fatalf("debt: wait %v, want 9s (two tokens owed, then one)", wait)
	}
	b.Refund("a", 100)
	if k := b.m["a"]; k.tokens != 2 {
		t.Fatalf("a refund fills up to the burst only: %v", k.tokens)
	}
	if ok, _ := b.Allow("b"); !ok {
		t.Fatal("one key's bucket held up another's")
	}
	// Quiet buckets are forgotten once full again.
	now = now.Add(time.Minute)
	b.sweep(now)
	if len(b.m) != 0 {
		t.Fatalf("%d buckets kept after refilling", len(b.m))
	}
	// A zero limit is no limit.
	off := NewKeyed(Limit{}, clock)
	for range 1000 {
		if ok, _ := off.Allow("a"); !ok || off.Charge("a") != 0 {
			t.Fatal("a zero limit limited")
		}
	}
}

func TestKeyedIsSafeForConcurrentUse(t *testing.T) {
	b := NewKeyed(Limit{Every: time.Millisecond, Burst: 50}, time.Now)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 500 {
				b.Allow(string(rune('a' + i%3)))
				b.Charge("x")
				b.Refund("x", 1)
				b.Until("y")
			}
		}()
	}
	wg.Wait()
}

func TestHumanWait(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "1 second", 300 * time.Millisecond: "1 second", time.Second: "1 second", 2001 * time.Millisecond: "3 seconds",
		90 * time.Second: "90 seconds", 150 * time.Second: "3 minutes", time.Minute: "a minute", time.Hour: "an hour", 3 * time.Hour: "about 3 hours",
	} {
		if got := HumanWait(d); got != want {
			t.Errorf("HumanWait(%v) = %q, want %q", d, got, want)
		}
	}
}
