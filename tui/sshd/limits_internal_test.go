package sshd

import (
	"net"
	"sync"
	"testing"
	"time"

	"latchkey/core/coretest"
)

func TestBuckets(t *testing.T) {
	clock := coretest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	b := newBuckets(Limit{Every: 3 * time.Second, Burst: 2}, clock.Now)
	if ok, _ := b.take("a"); !ok {
		t.Fatal("a full bucket refused")
	}
	b.take("a")
	if ok, wait := b.take("a"); ok || wait != 3*time.Second {
		t.Fatalf("an empty bucket: %v, wait %v", ok, wait)
	}
	// Charges run into a debt of at most one burst, and refill first.
	for range 10 {
		b.charge("a")
	}
	if wait := b.until("a"); wait != 9*time.Second {
		t.Fatalf("debt: wait %v, want 9s (two tokens owed, then one)", wait)
	}
	b.refund("a", 100)
	if k := b.m["a"]; k.tokens != 2 {
		t.Fatalf("a refund fills up to the burst only: %v", k.tokens)
	}
	if ok, _ := b.take("b"); !ok {
		t.Fatal("one key's bucket held up another's")
	}
	// Quiet buckets are forgotten once full again.
	clock.Advance(time.Minute)
	b.sweep(clock.Now())
	if len(b.m) != 0 {
		t.Fatalf("%d buckets kept after refilling", len(b.m))
	}
	// A zero limit is no limit.
	off := newBuckets(Limit{}, clock.Now)
	for range 1000 {
		if ok, _ := off.take("a"); !ok || off.charge("a") != 0 {
			t.Fatal("a zero limit limited")
		}
	}
}

func TestBucketsAreSafeForConcurrentUse(t *testing.T) {
	b := newBuckets(Limit{Every: time.Millisecond, Burst: 50}, time.Now)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 500 {
				b.take(string(rune('a' + i%3)))
				b.charge("x")
				b.refund("x", 1)
				b.until("y")
			}
		}()
	}
	wg.Wait()
}

func TestRetryIn(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "1 second", 300 * time.Millisecond: "1 second", time.Second: "1 second", 2001 * time.Millisecond: "3 seconds",
		90 * time.Second: "90 seconds", 150 * time.Second: "3 minutes",
	} {
		if got := retryIn(d); got != want {
			t.Errorf("retryIn(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestAddrKey(t *testing.T) {
	for _, tc := range []struct {
		ip, want string
	}{
		{"127.0.0.1", "127.0.0.1"},
		{"::ffff:10.0.0.1", "10.0.0.1"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
	} {
		if got := addrKey(&net.TCPAddr{IP: net.ParseIP(tc.ip), Port: 22}); got != tc.want {
			t.Errorf("addrKey(%s) = %q, want %q", tc.ip, got, tc.want)
		}
	}
}
