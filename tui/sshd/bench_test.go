package sshd_test

import (
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// BenchmarkConcurrentConsoles opens 50 console sessions at once over
// loopback and reports the time from dialing to the first frame (median and
// p99) and the memory each open session costs. Targets: p99 under 150 ms,
// under 10 MB a session.
//
// The first wave of a fresh process is reported apart (cold-*): it also pays
// for the process's one-time start (its heap growing from a few MB, code and
// tables touched for the first time). Every later iteration is one wave of
// sessions on a running server, the steady state.
//
//	go test ./tui/sshd -run '^$' -bench ConcurrentConsoles -benchtime 10x
func BenchmarkConcurrentConsoles(b *testing.B) {
	n := benchSessions()
	in := startInstance(b)
	cold := wave(b, in, n)
	var times []time.Duration
	for b.Loop() {
		times = append(times, wave(b, in, n).times...)
	}
	slices.Sort(times)
	if len(times) > 0 {
		b.ReportMetric(ms(times[len(times)/2]), "ms-first-frame-median")
		b.ReportMetric(ms(times[len(times)*99/100]), "ms-first-frame-p99")
	}
	// Memory from the first wave only: it starts from an idle server, while
	// a later wave may start before the server has torn the last one down.
	b.ReportMetric(cold.perSession, "MB-per-session")
	b.ReportMetric(ms(cold.times[n/2]), "ms-cold-median")
	b.ReportMetric(ms(cold.times[n*99/100]), "ms-cold-p99")
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

type waveResult struct {
	times      []time.Duration // sorted
	perSession float64         // MB of live heap each open session holds
}

// wave opens n sessions at once, waits for each one's first frame, then
// closes them all.
func wave(b *testing.B, in *instance, n int) waveResult {
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	var wg sync.WaitGroup
	times := make([]time.Duration, n)
	clients := make([]*gossh.Client, n)
	ready := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-ready
			start := time.Now()
			c, err := in.dial(in.mia)
			if err != nil {
				b.Error(err)
				return
			}
			clients[i] = c
			s, err := c.NewSession()
			if err != nil {
				b.Error(err)
				return
			}
			s.RequestPty("xterm-256color", 30, 100, gossh.TerminalModes{})
			out, _ := s.StdoutPipe()
			s.Shell()
			buf := make([]byte, 64<<10)
			var seen strings.Builder
			for !strings.Contains(seen.String(), "/p/website-redesign") {
				k, err := out.Read(buf)
				if err != nil {
					b.Error(err)
					return
				}
				seen.Write(buf[:k])
			}
			times[i] = time.Since(start)
			go io.Copy(io.Discard, out)
		}(i)
	}
	close(ready)
	wg.Wait()
	runtime.GC()
	var during runtime.MemStats
	runtime.ReadMemStats(&during)
	for _, c := range clients {
		if c != nil {
			c.Close()
		}
	}
	slices.Sort(times)
	return waveResult{times: times, perSession: (float64(during.HeapAlloc) - float64(before.HeapAlloc)) / float64(n) / (1 << 20)}
}

// benchSessions is 50, or LATCHKEY_BENCH_SESSIONS.
func benchSessions() int {
	if v, err := strconv.Atoi(os.Getenv("LATCHKEY_BENCH_SESSIONS")); err == nil && v > 0 {
		return v
	}
	return 50
}
