// Package webhook delivers the webhook outbox: it posts each due event to
// its webhook, signed as the Standard Webhooks specification says, and
// records what came of it. Where a webhook may post is core's rule
// (core.WebhookPolicy, core.CheckWebhookIP); this package applies it again
// to the address it actually connects to.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"latchkey/core"
)

// Retry policy: a failed attempt is tried again after 5 seconds, then 10,
// 20, … up to 2 hours between attempts, with ±20% jitter, until the
// delivery is 24 hours old (core.WebhookGiveUp).
const (
	firstRetry = 5 * time.Second
	maxRetry   = 2 * time.Hour
)

// Config wires a Worker.
type Config struct {
	Service *core.Service
	Logger  *slog.Logger
	// Registry receives the worker's metrics (nil: none).
	Registry prometheus.Registerer
	// Policy is where webhooks may post (the instance's --allow-* flags).
	Policy core.WebhookPolicy
	// Parallel is how many are posted at once (default 8); Batch how many
	// due deliveries one round takes (default 64).
	Parallel, Batch int
	// Timeout bounds one attempt, connection to answer (default 10 s, and
	// short enough that a round ends well within Lease).
	Timeout time.Duration
	// Lease is how long a round's deliveries are this worker's alone when
	// several nodes share the store (default 10 minutes).
	Lease   time.Duration
	Now     func() time.Time             // default time.Now
	Jitter  func() float64               // in [0, 1); default math/rand
	OnRound func(n int, d time.Duration) // observed after each round (tests)
}

// Worker posts due deliveries and records their outcomes, one transaction
// per round. It wakes when a delivery is queued and sleeps until the next
// retry falls due.
type Worker struct {
	cfg    Config
	log    *slog.Logger
	client *http.Client
	m      *metrics
}

// New builds a worker.
func New(cfg Config) (*Worker, error) {
	if cfg.Service == nil {
		return nil, errors.New("webhook: a worker needs a service")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Parallel <= 0 {
		cfg.Parallel = 8
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 64
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 10 * time.Minute
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = min(10*time.Second, cfg.Lease/time.Duration((cfg.Batch+cfg.Parallel-1)/cfg.Parallel+1))
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Jitter == nil {
		cfg.Jitter = rand.Float64
	}
	w := &Worker{cfg: cfg, log: cfg.Logger.With("component", "webhooks"), client: NewClient(cfg.Policy, cfg.Timeout)}
	var err error
	if w.m, err = newMetrics(cfg.Registry); err != nil {
		return nil, err
	}
	return w, nil
}

// NewClient is the HTTP client webhooks are posted with: no proxy from the
// environment, no redirects followed (a receiver's 3xx is a failure, never
// a way to reach another address), and unless policy allows private
// addresses a dialer that refuses to connect to any address
// core.CheckWebhookIP refuses, whatever the name resolved to.
func NewClient(policy core.WebhookPolicy, timeout time.Duration) *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	if !policy.AllowPrivate {
		dialer.Control = func(network, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			ip, err := netip.ParseAddr(host)
			if err != nil {
				return fmt.Errorf("%w: %s is not an IP address", core.ErrWebhookAddress, host)
			}
			return core.CheckWebhookIP(ip)
		}
	}
	transport := &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          64,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: timeout,
	}
	return &http.Client{
		Transport:     transport,
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Sign is the webhook-signature header of a message, as Standard Webhooks
// defines it: "v1," and the base64 HMAC-SHA256, keyed with the secret's
// bytes (what follows "whsec_", base64), of "id.timestamp.body".
func Sign(secret, msgID string, timestamp time.Time, body []byte) (string, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, core.WebhookSecretPrefix))
	if err != nil {
		return "", fmt.Errorf("webhook secret is not base64: %w", err)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(msgID + "." + strconv.FormatInt(timestamp.Unix(), 10) + "."))
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}

// Run delivers until ctx ends. A round under way when ctx ends is finished
// and recorded.
func (w *Worker) Run(ctx context.Context) error {
	events, unsubscribe := w.cfg.Service.Events().Subscribe()
	defer unsubscribe()
	for {
		n, err := w.Round(context.WithoutCancel(ctx))
		if err != nil {
			w.log.Error("webhook round", "err", err)
		}
		if ctx.Err() != nil {
			return nil
		}
		if n > 0 && err == nil {
			continue // there may be more due
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
				if ch.Kind == core.ChangeWebhookQueued {
					timer.Stop()
					break wait
				}
			}
		}
	}
}

// untilNext is how long to sleep: until the next delivery falls due.
func (w *Worker) untilNext(ctx context.Context, roundErr error) time.Duration {
	if roundErr != nil {
		return 5 * time.Second
	}
	next, err := w.cfg.Service.NextWebhookDue(ctx)
	if err != nil || next.IsZero() {
		return time.Hour
	}
	return min(max(next.Sub(w.cfg.Now()), 0), time.Hour)
}

// Round posts the deliveries due now (at most one batch) and records the
// outcomes. It returns how many it handled.
func (w *Worker) Round(ctx context.Context) (int, error) {
	start := time.Now()
	due, err := w.cfg.Service.ClaimWebhooks(ctx, w.cfg.Batch, w.cfg.Lease)
	if err != nil || len(due) == 0 {
		return 0, err
	}
	results := make([]core.WebhookAttempt, len(due))
	sem := make(chan struct{}, w.cfg.Parallel)
	var wg sync.WaitGroup
	for i, d := range due {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			results[i] = w.attempt(ctx, d)
		}()
	}
	wg.Wait()
	if err := w.cfg.Service.RecordWebhookAttempts(ctx, results); err != nil {
		return 0, fmt.Errorf("record webhook attempts: %w", err)
	}
	for _, r := range results {
		w.m.observe(r)
	}
	if w.cfg.OnRound != nil {
		w.cfg.OnRound(len(due), time.Since(start))
	}
	return len(due), nil
}

// maxRead bounds how much of an answer is read.
const maxRead = 4 << 10

// attempt posts one delivery and says what came of it.
func (w *Worker) attempt(ctx context.Context, d core.DueWebhook) core.WebhookAttempt {
	at := w.cfg.Now()
	res := core.WebhookAttempt{DeliveryID: d.ID, At: at}
	if strings.HasPrefix(d.URL, "http://") && !w.cfg.Policy.AllowHTTP {
		res.Response = "not sent: the instance no longer allows http:// webhooks (--allow-http-webhooks)"
		return res
	}
	if d.Secret == "" {
		res.Response = "not sent: the webhook's secret does not open with this instance's key file"
		return res // no Next: given up
	}
	sig, err := Sign(d.Secret, d.MsgID, at, d.Payload)
	if err != nil {
		res.Response = "not sent: " + err.Error()
		return res
	}
	ctx, cancel := context.WithTimeout(ctx, w.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(d.Payload))
	if err != nil {
		res.Response = "not sent: " + err.Error()
		return res
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "latchkey-webhooks/1")
	req.Header.Set("webhook-id", d.MsgID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(at.Unix(), 10))
	req.Header.Set("webhook-signature", sig)
	start := time.Now()
	resp, err := w.client.Do(req)
	if err == nil {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, maxRead))
		resp.Body.Close()
		res.Status = resp.StatusCode
		res.Response = strings.TrimSpace(string(body))
	} else {
		res.Response = describe(err)
	}
	res.Latency = time.Since(start)
	if res.Delivered() {
		return res
	}
	if res.Status == http.StatusGone {
		w.log.Warn("webhook gone", "webhook", d.WebhookID, "delivery", d.ID)
		return res
	}
	res.Next = w.cfg.Now().Add(w.backoff(d.Attempts + 1))
	w.log.Info("webhook will be retried", "webhook", d.WebhookID, "delivery", d.ID, "status", res.Status,
		"err", res.Response, "next", res.Next.Format(time.RFC3339))
	return res
}

// describe is a failed request's error without Go's wrapping ("Post
// \"https://…\": dial tcp …: connection refused" → "dial tcp …: connection
// refused").
func describe(err error) string {
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) && ue.Unwrap() != nil {
		err = ue.Unwrap()
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "no answer within the timeout"
	}
	return err.Error()
}

// backoff is the wait after the given (failed) attempt.
func (w *Worker) backoff(attempt int) time.Duration {
	d := firstRetry
	for i := 1; i < attempt && d < maxRetry; i++ {
		d *= 2
	}
	d = min(d, maxRetry)
	return time.Duration(float64(d) * (0.8 + 0.4*w.cfg.Jitter()))
}

type metrics struct {
	attempts *prometheus.CounterVec
	latency  prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "latchkey_webhook_attempts_total",
			Help: "Webhook delivery attempts, by outcome (delivered, retry, failed)."}, []string{"outcome"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "latchkey_webhook_attempt_seconds",
			Help: "How long one webhook attempt took, connection to answer.", Buckets: prometheus.DefBuckets}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.attempts, m.latency} {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}

func (m *metrics) observe(a core.WebhookAttempt) {
	switch {
	case a.Delivered():
		m.attempts.WithLabelValues("delivered").Inc()
	case a.Next.IsZero():
		m.attempts.WithLabelValues("failed").Inc()
	default:
		m.attempts.WithLabelValues("retry").Inc()
	}
	m.latency.Observe(a.Latency.Seconds())
}
