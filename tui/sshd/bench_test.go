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
//	go test ./tui/sshd -run '^$' -bench ConcurrentConsoles -benchtime 1x
func BenchmarkConcurrentConsoles(b *testing.B) {
	n := benchSessions()
	in := startInstance(b)
	for b.Loop() {
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
		b.ReportMetric(float64(times[n/2].Milliseconds()), "ms-first-frame-median")
		b.ReportMetric(float64(times[n*99/100].Milliseconds()), "ms-first-frame-p99")
		b.ReportMetric(float64(during.HeapInuse-before.HeapInuse)/float64(n)/(1<<20), "MB-per-session")
	}
}

// benchSessions is 50, or LATCHKEY_BENCH_SESSIONS.
func benchSessions() int {
	if v, err := strconv.Atoi(os.Getenv("LATCHKEY_BENCH_SESSIONS")); err == nil && v > 0 {
		return v
	}
	return 50
}
