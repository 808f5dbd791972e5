package sshd_test

import (
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"latchkey/tui/sshd"
)

// BenchmarkConcurrentConsoles opens 50 console sessions at once over
// loopback and reports the time from dialing to the first frame (median and
// p99) and the memory each open session costs. Targets: p99 under 150 ms,
// under 10 MB a session.
//
// The first wave of a fresh process is reported apart (cold-*): it also pays
// for the process's one-time start (code and tables touched for the first
// time, its heap growing from a few MB). Waves follow until one no longer
// grows the heap (the runtime takes a wave or two to settle on its size for
// this load; each MB it adds is memory the kernel must hand over page by
// page); they are counted in warm-up-waves. Every iteration after that is one
// wave of sessions on a running server, the steady state.
//
//	go test ./tui/sshd -run '^$' -bench ConcurrentConsoles -benchtime 10x
func BenchmarkConcurrentConsoles(b *testing.B) {
	n := benchSessions()
	in := startInstance(b, func(c *sshd.Config) { c.Limits = &sshd.Limits{} }) // wave after wave from one key
	cold := wave(b, in, n, true)
	warm := 0
	for grew := true; grew && warm < 5; warm++ {
		before := heapSys()
		wave(b, in, n, false)
		grew = heapSys() > before+before/20
	}
	var times []time.Duration
	cpu := cpuTime()
	for b.Loop() {
		times = append(times, wave(b, in, n, false).times...)
	}
	cpu = cpuTime() - cpu
	slices.Sort(times)
	if len(times) > 0 {
		b.ReportMetric(ms(times[len(times)/2]), "ms-first-frame-median")
		b.ReportMetric(ms(times[len(times)*99/100]), "ms-first-frame-p99")
	}
	// Memory from the first wave only: measuring it collects garbage by
	// force, which would change how much collecting the later waves do.
	b.ReportMetric(float64(warm), "warm-up-waves")
	if len(times) > 0 {
		// Both ends' CPU: the clients' key exchange and reading run in this
		// process too.
		b.ReportMetric(ms(cpu/time.Duration(len(times))), "ms-cpu-per-session")
	}
	b.ReportMetric(cold.perSession, "MB-per-session")
	b.ReportMetric(ms(cold.times[n/2]), "ms-cold-median")
	b.ReportMetric(ms(cold.times[n*99/100]), "ms-cold-p99")
}

// cpuTime is the CPU time this process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// heapSys is the memory the runtime holds for the heap.
func heapSys() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapSys
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

type waveResult struct {
	times      []time.Duration // sorted
	perSession float64         // MB of live heap each open session holds
}

// wave opens n sessions at once, waits for each one's first frame, then
// closes them all and waits until the server has finished them, so that
// every wave meets an idle server. With heap, it also measures the heap
// the open sessions hold (collecting garbage before and after, which a
// server left to itself would not: the other waves leave that to the
// runtime).
func wave(b testing.TB, in *instance, n int, heap bool) waveResult {
	var before, during runtime.MemStats
	if heap {
		runtime.GC()
		runtime.ReadMemStats(&before)
	}
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
			buf := make([]byte, 16<<10)
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
	if heap {
		runtime.GC()
		runtime.ReadMemStats(&during)
	}
	for _, c := range clients {
		if c != nil {
			c.Close()
		}
	}
	in.waitIdle()
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
