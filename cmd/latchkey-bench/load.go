package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// result of a load run, or of several added together.
type result struct {
	rate float64       // successful requests per second
	p99  time.Duration // of successful requests
	errs int

	lat     []time.Duration // of every successful request
	elapsed time.Duration
}

// add counts another run of the same load into r.
func (r *result) add(o result) {
	r.lat = append(r.lat, o.lat...)
	r.elapsed += o.elapsed
	r.errs += o.errs
	slices.Sort(r.lat)
	r.rate = float64(len(r.lat)) / r.elapsed.Seconds()
	if len(r.lat) > 0 {
		r.p99 = r.lat[len(r.lat)*99/100]
	}
}

// request builds the i-th request of a connection.
type request func(base string, i int) (*http.Request, error)

// load drives base over conns keep-alive connections for d and counts the
// answers whose status ok accepts.
func load(ctx context.Context, base string, conns int, d time.Duration, ok func(status int) bool, next request) result {
	tr := &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var mu sync.Mutex
	var lat []time.Duration
	errs := 0
	var wg sync.WaitGroup
	start := time.Now()
	for c := 0; c < conns; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			var mine []time.Duration
			bad := 0
			for i := c; ctx.Err() == nil; i += conns {
				req, err := next(base, i)
				if err != nil {
					bad++
					continue
				}
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					if ctx.Err() == nil {
						bad++
					}
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if ok(resp.StatusCode) {
					mine = append(mine, time.Since(t0))
				} else {
					bad++
				}
			}
			mu.Lock()
			lat = append(lat, mine...)
			errs += bad
			mu.Unlock()
		}(c)
	}
	wg.Wait()
	var r result
	r.add(result{lat: lat, elapsed: time.Since(start), errs: errs})
	return r
}

// process is a server this program started.
type process struct {
	name  string
	pprof string // latchkey's profiler address, when asked for
	cmd   *exec.Cmd
	base  string
	log   *os.File
	done  chan struct{}

	stopped sync.Once
}

func freeAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// start runs a command that serves HTTP on addr and waits for /healthz (or
// / for the baselines) to answer 200; it returns the time that took.
func start(dir, name, addr, probe string, argv ...string) (*process, time.Duration, error) {
	logf, err := os.Create(filepath.Join(dir, name+".log"))
	if err != nil {
		return nil, 0, err
	}
	p := &process{name: name, cmd: exec.Command(argv[0], argv[1:]...), base: "http://" + addr, log: logf, done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	t0 := time.Now()
	if err := p.cmd.Start(); err != nil {
		return nil, 0, err
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	client := &http.Client{Timeout: time.Second}
	for {
		resp, err := client.Get(p.base + probe)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p, time.Since(t0), nil
			}
		}
		select {
		case <-p.done:
			b, _ := os.ReadFile(logf.Name())
			return nil, 0, fmt.Errorf("%s exited at start: %s", name, strings.TrimSpace(string(b)))
		default:
		}
		if time.Since(t0) > 60*time.Second {
			p.stop()
			return nil, 0, fmt.Errorf("%s did not start in a minute", name)
		}
		time.Sleep(time.Millisecond)
	}
}

// cpuProfile records d of p's CPU profile into file; a failure is reported
// and does not stop the benchmark.
func (p *process) cpuProfile(d time.Duration, file string) {
	client := &http.Client{Timeout: d + 10*time.Second}
	resp, err := client.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", p.pprof, max(1, int(d.Seconds()))))
	if err == nil {
		defer resp.Body.Close()
		var f *os.File
		if f, err = os.Create(file); err == nil {
			_, err = io.Copy(f, resp.Body)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
	}
	if err != nil {
		say("profile of %s: %v", p.name, err)
		return
	}
	say("profile of %s: %s", p.name, file)
}

// stop ends the process (once; later calls do nothing).
func (p *process) stop() {
	p.stopped.Do(func() {
		p.cmd.Process.Signal(os.Interrupt)
		select {
		case <-p.done:
		case <-time.After(15 * time.Second):
			p.cmd.Process.Kill()
			<-p.done
		}
		p.log.Close()
	})
}

// cpuSeconds is the CPU time (user and system) process pid has used, from
// /proc; ok is false where there is no /proc.
func cpuSeconds(pid int) (secs float64, ok bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	i := bytes.LastIndexByte(b, ')')
	if err != nil || i < 0 {
		return 0, false
	}
	f := strings.Fields(string(b[i+1:])) // state is f[0]; utime and stime are fields 14 and 15 of stat
	if len(f) < 13 {
		return 0, false
	}
	u, err1 := strconv.ParseFloat(f[11], 64)
	s, err2 := strconv.ParseFloat(f[12], 64)
	return (u + s) / 100, err1 == nil && err2 == nil // in clock ticks of 1/100 s (USER_HZ)
}
