package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"latchkey/core"
)

// Sender delivers a rendered message; *Relay is the one latchkey uses,
// whether it points at a real relay or at the built-in catcher.
type Sender interface {
	Send(ctx context.Context, env Envelope) error
}

// Retry policy: transient failures are tried again after 1 minute, then 2,
// 4, … up to an hour between attempts, with ±20% jitter; a message still
// undelivered 24 hours after it was queued is given up.
const (
	firstRetry = time.Minute
	maxRetry   = time.Hour
	giveUp     = 24 * time.Hour
)

// DefaultLease is how long a worker holds the messages of a round.
const DefaultLease = 10 * time.Minute

// WorkerConfig wires a Worker.
type WorkerConfig struct {
	Service  *core.Service
	Composer *Composer
	Sender   Sender
	Logger   *slog.Logger
	Registry prometheus.Registerer // nil: no metrics
	// Parallel is how many are sent at once (default: the relay's pool, or 4);
	// Batch is how many due messages one round takes (default 4×Parallel,
	// at least 64).
	Batch, Parallel int
	// SendTimeout bounds one message (default 2 minutes, and short enough
	// that a round ends well within Lease).
	SendTimeout time.Duration
	// Lease is how long a round's messages are this worker's alone when
	// several nodes share the store (default 10 minutes): a node that dies
	// holding them leaves them to the others after it.
	Lease   time.Duration
	Now     func() time.Time             // default time.Now
	Jitter  func() float64               // in [0, 1); default math/rand
	OnRound func(n int, d time.Duration) // observed after each round (tests)
}

// Worker delivers the outbox: it takes the due messages, renders and sends
// them, and records every outcome in one transaction per round. It wakes
// when a message is queued and sleeps until the next retry falls due.
type Worker struct {
	cfg WorkerConfig
	log *slog.Logger
	m   *workerMetrics
}

// NewWorker builds a worker.
func NewWorker(cfg WorkerConfig) (*Worker, error) {
	if cfg.Service == nil || cfg.Composer == nil || cfg.Sender == nil {
		return nil, errors.New("mail: a worker needs a service, a composer and a sender")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Composer.Logos == nil {
		cfg.Composer.Logos = cfg.Service // the logos of the organizations' emails
	}
	if cfg.Parallel <= 0 {
		cfg.Parallel = 4
		if r, ok := cfg.Sender.(*Relay); ok {
			cfg.Parallel = r.Config().Pool
		}
	}
	if cfg.Batch <= 0 {
		cfg.Batch = max(64, 4*cfg.Parallel) // a round's tail, when few are left in flight, is a small part of it
	}
	if cfg.Lease <= 0 {
		cfg.Lease = DefaultLease
	}
	if cfg.SendTimeout <= 0 {
		// A round sends ceil(Batch/Parallel) messages one after another at
		// most, after at most two of the round before it (its last
		// 2×Parallel, composed or being sent, when it was claimed); with
		// one more as margin it ends before its lease does.
		cfg.SendTimeout = min(2*time.Minute, cfg.Lease/time.Duration((cfg.Batch+cfg.Parallel-1)/cfg.Parallel+3))
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Jitter == nil {
		cfg.Jitter = rand.Float64
	}
	w := &Worker{cfg: cfg, log: cfg.Logger.With("component", "mail")}
	var err error
	if w.m, err = newWorkerMetrics(cfg.Registry, cfg.Service); err != nil {
		return nil, err
	}
	return w, nil
}

// Run delivers until ctx ends. Rounds overlap: the next is claimed while
// the last messages of one are still being sent, and a round's outcomes
// are recorded while the next is sent, so that neither commit leaves the
// connections idle. A round under way when ctx ends is finished and
// recorded, so nothing is sent without being marked.
func (w *Worker) Run(ctx context.Context) error {
	events, unsubscribe := w.cfg.Service.Events().Subscribe()
	defer unsubscribe()
	p := w.newPipe()
	for {
		n, err := w.start(context.WithoutCancel(ctx), p)
		if err != nil {
			w.log.Error("mail round", "err", err)
		}
		if ctx.Err() != nil {
			p.wait()
			return nil
		}
		if n > 0 && err == nil {
			continue // there may be more due
		}
		// Nothing more is due: the rounds in flight end first, so that
		// their retries are in the next due time.
		if rerr := p.wait(); rerr != nil {
			err = rerr // logged where it happened
		}
		timer := time.NewTimer(w.untilNext(ctx, err))
	wait:
		for {
			select {
			case <-ctx.Done():
				timer.Stop()
				return nil
			case <-timer.C:
				break wait
			case ch := <-events:
				if ch.Kind == core.ChangeMailQueued { // other changes need no round
					timer.Stop()
					break wait
				}
			}
		}
	}
}

// pipe is what overlapping rounds share: the places of messages being
// sent and composed, and the rounds not recorded yet.
type pipe struct {
	ahead, sending chan struct{}
	rounds         chan struct{} // a place per round claimed and not yet recorded
	wg             sync.WaitGroup
	mu             sync.Mutex
	err            error               // the first failure to record since the last wait
	inFlight       map[uint64]struct{} // the messages of the rounds not yet recorded
}

// maxRounds is how many rounds are in flight at once: one being sent and
// one claimed behind it.
const maxRounds = 2

func (w *Worker) newPipe() *pipe {
	// Parallel messages are sent at once, and as many more are composed
	// meanwhile, so that a connection does not wait for its next message
	// to be rendered.
	return &pipe{ahead: make(chan struct{}, 2*w.cfg.Parallel), sending: make(chan struct{}, w.cfg.Parallel), rounds: make(chan struct{}, maxRounds), inFlight: map[uint64]struct{}{}}
}

// wait returns when every round started is recorded, with the first
// failure to record.
func (p *pipe) wait() error {
	p.wg.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	err := p.err
	p.err = nil
	return err
}

// claim claims up to limit due messages that no round in flight holds:
// the store leaves those out without reading them (a bbolt file, which
// one process opens, has no leases and would return them until they are
// recorded). The lock is held through the claim, so that the held set
// does not change while the store reads it, and a round recorded
// meanwhile, which a claim may still have read as due, is still left out.
func (p *pipe) claim(ctx context.Context, svc *core.Service, limit int, lease time.Duration) ([]core.Message, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	due, err := svc.ClaimMail(ctx, limit, lease, p.inFlight)
	if err != nil {
		return nil, err
	}
	for _, m := range due {
		p.inFlight[m.ID] = struct{}{}
	}
	return due, nil
}

// Round delivers the messages due now (at most one batch) and records the
// outcomes. It returns how many it handled.
func (w *Worker) Round(ctx context.Context) (int, error) {
	p := w.newPipe()
	n, err := w.start(ctx, p)
	if rerr := p.wait(); rerr != nil {
		return 0, rerr
	}
	return n, err
}

// start claims a round and sets its messages going; it returns once the
// last of them has its place, and the round is recorded in the background
// when all are sent (p.wait waits for that).
func (w *Worker) start(ctx context.Context, p *pipe) (int, error) {
	began := time.Now()
	p.rounds <- struct{}{}
	due, err := p.claim(ctx, w.cfg.Service, w.cfg.Batch, w.cfg.Lease)
	if err != nil || len(due) == 0 {
		<-p.rounds
		return 0, err
	}
	results := make([]core.Delivery, len(due))
	var sent sync.WaitGroup
	for i, m := range due {
		sent.Add(1)
		p.ahead <- struct{}{}
		go func() {
			defer func() { <-p.ahead; sent.Done() }()
			results[i] = w.deliver(ctx, m, p.sending)
		}()
	}
	p.wg.Add(1)
	go func() {
		defer func() { <-p.rounds; p.wg.Done() }()
		sent.Wait()
		err := w.cfg.Service.RecordDeliveries(ctx, results)
		if err != nil {
			err = fmt.Errorf("record deliveries: %w", err)
			w.log.Error("mail round", "err", err)
		}
		p.mu.Lock()
		for _, m := range due {
			delete(p.inFlight, m.ID) // recorded, or due again for the next claim
		}
		if p.err == nil {
			p.err = err
		}
		p.mu.Unlock()
		if err != nil {
			return
		}
		now := w.cfg.Now()
		for i, r := range results {
			w.m.observe(due[i], r, now)
		}
		if w.cfg.OnRound != nil {
			w.cfg.OnRound(len(due), time.Since(began))
		}
	}()
	return len(due), nil
}

// untilNext is how long to sleep: until the next message falls due.
func (w *Worker) untilNext(ctx context.Context, roundErr error) time.Duration {
	if roundErr != nil {
		return 5 * time.Second // storage trouble: try again soon, quietly
	}
	next, err := w.cfg.Service.NextMailDue(ctx)
	if err != nil || next.IsZero() {
		return time.Hour
	}
	d := next.Sub(w.cfg.Now())
	switch {
	case d < 0:
		return 0
	case d > time.Hour:
		return time.Hour
	}
	return d
}

// deliver renders and sends one message and says what came of it; it
// sends while it holds a place in sending, and its send's timeout starts
// there.
func (w *Worker) deliver(ctx context.Context, m core.Message, sending chan struct{}) core.Delivery {
	token, err := w.cfg.Service.OpenSealedMail(m)
	if err == nil {
		m, err = w.withCode(m)
	}
	if err != nil {
		return core.Delivery{ID: m.ID, Outcome: core.Failed, Detail: "cannot open the message's link: " + err.Error()}
	}
	env, err := w.cfg.Composer.ComposeContext(ctx, m, token)
	if err != nil {
		return core.Delivery{ID: m.ID, Outcome: core.Failed, Detail: "cannot render: " + err.Error()}
	}
	sending <- struct{}{}
	sctx, cancel := context.WithTimeout(ctx, w.cfg.SendTimeout)
	err = w.cfg.Sender.Send(sctx, env)
	cancel()
	<-sending
	now := w.cfg.Now()
	switch {
	case err == nil:
		return core.Delivery{ID: m.ID, Outcome: core.Delivered, Detail: "accepted, Message-ID <" + env.MessageID + ">"}
	case Permanent(err):
		w.log.Warn("mail refused", "message", m.ID, "kind", m.Kind, "err", err)
		return core.Delivery{ID: m.ID, Outcome: core.Failed, Detail: err.Error()}
	case now.Sub(m.CreatedAt) >= giveUp:
		w.log.Warn("mail given up", "message", m.ID, "kind", m.Kind, "err", err)
		return core.Delivery{ID: m.ID, Outcome: core.Failed, Detail: "gave up after 24 hours of retrying; last error: " + err.Error()}
	default:
		next := now.Add(w.backoff(m.Attempts + 1))
		w.log.Info("mail will be retried", "message", m.ID, "kind", m.Kind, "err", err, "next", next.Format(time.RFC3339))
		return core.Delivery{ID: m.ID, Outcome: core.Retry, Detail: err.Error(), Next: next}
	}
}

// backoff is the wait after the given (failed) attempt: 1 minute doubling
// to an hour, ±20%.
func (w *Worker) backoff(attempt int) time.Duration {
	d := firstRetry
	for i := 1; i < attempt && d < maxRetry; i++ {
		d *= 2
	}
	if d > maxRetry {
		d = maxRetry
	}
	return time.Duration(float64(d) * (0.8 + 0.4*w.cfg.Jitter()))
}

type workerMetrics struct {
	sent    *prometheus.CounterVec
	retried prometheus.Counter
	failed  prometheus.Counter
	latency prometheus.Histogram
}

func newWorkerMetrics(reg prometheus.Registerer, svc *core.Service) (*workerMetrics, error) {
	m := &workerMetrics{
		sent:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: "latchkey_mail_sent_total", Help: "Messages accepted by the relay or catcher, by kind."}, []string{"kind"}),
		retried: prometheus.NewCounter(prometheus.CounterOpts{Name: "latchkey_mail_retried_total", Help: "Delivery attempts that failed and will be retried."}),
		failed:  prometheus.NewCounter(prometheus.CounterOpts{Name: "latchkey_mail_failed_total", Help: "Messages given up: refused, or undelivered for 24 hours."}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "latchkey_mail_delivery_seconds", Help: "Time from queueing to delivery.",
			Buckets: []float64{.01, .05, .1, .5, 1, 5, 30, 60, 300, 900, 3600, 14400, 86400}}),
	}
	if reg == nil {
		return m, nil
	}
	count := func(scheduled bool) float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		n, later, err := svc.PendingMail(ctx)
		if err != nil {
			return -1
		}
		if scheduled {
			return float64(later)
		}
		return float64(n)
	}
	queued := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "latchkey_mail_queued", Help: "Messages waiting for delivery (queued or retrying)."},
		func() float64 { return count(false) })
	scheduled := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "latchkey_mail_scheduled", Help: "Messages due later, never tried yet (summaries of access requests)."},
		func() float64 { return count(true) })
	for _, c := range []prometheus.Collector{m.sent, m.retried, m.failed, m.latency, queued, scheduled} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *workerMetrics) observe(msg core.Message, d core.Delivery, now time.Time) {
	switch d.Outcome {
	case core.Delivered:
		m.sent.WithLabelValues(string(msg.Kind)).Inc()
		m.latency.Observe(now.Sub(msg.CreatedAt).Seconds())
	case core.Retry:
		m.retried.Inc()
	case core.Failed:
		m.failed.Inc()
	}
}

// withCode gives the composer an access link's code (sealed in the row).
func (w *Worker) withCode(m core.Message) (core.Message, error) {
	code, err := w.cfg.Service.OpenMailCode(m)
	if err != nil || code == "" {
		return m, err
	}
	m.Data = maps.Clone(m.Data)
	m.Data[mailCodeKey] = code
	return m, nil
}

// mailCodeKey is where the composer finds a message's code, opened.
const mailCodeKey = "code"
