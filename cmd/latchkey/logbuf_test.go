package main

import (
	"strings"
	"testing"
	"time"

	"latchkey/storage/storetest"
)

func TestLogBufferWritesWarningsAtOnceAndTheRestOnTime(t *testing.T) {
	var out storetest.SyncBuffer
	buf := newLogBuffer(&out, time.Hour) // the timer never fires in this test
	log := newLogger(buf, "info")
	log.Info("request", "path", "/m/…")
	if got := out.String(); got != "" {
		t.Fatalf("an info line was written at once: %q", got)
	}
	log.With("part", "mail").Warn("relay refused")
	got := out.String()
	if !strings.Contains(got, "request") || !strings.Contains(got, "relay refused") || !strings.Contains(got, "part=mail") {
		t.Fatalf("a warning did not write out the buffer: %q", got)
	}
	log.Info("last words")
	if err := buf.Close(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "last words") {
		t.Fatalf("Close lost a line: %q", out.String())
	}

	var timed storetest.SyncBuffer
	buf = newLogBuffer(&timed, 5*time.Millisecond)
	defer buf.Close()
	newLogger(buf, "info").Info("on time")
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(timed.String(), "on time") {
		if time.Now().After(deadline) {
			t.Fatal("the interval never wrote the line out")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
