package web

import (
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	requests    *prometheus.CounterVec
	latency     *prometheus.HistogramVec
	redemptions *prometheus.CounterVec
	access      *prometheus.CounterVec
	rateLimited *prometheus.CounterVec

	proxied         *prometheus.CounterVec
	upstreamLatency *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "latchkey_http_requests_total", Help: "Portal listener requests by route and status.",
		}, []string{"route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "latchkey_http_request_duration_seconds", Help: "Portal listener latency by route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route"}),
		redemptions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "latchkey_link_redemptions_total", Help: "Open portal presses by result.",
		}, []string{"result"}),
		access: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "latchkey_access_form_total", Help: "Send access link submissions by outcome.",
		}, []string{"outcome"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "latchkey_rate_limited_total", Help: "Requests refused by a rate limit, by limit.",
		}, []string{"limit"}),
		proxied: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "latchkey_proxy_requests_total", Help: "Requests proxied to portals' upstreams, by portal and status.",
		}, []string{"portal", "status"}),
		upstreamLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "latchkey_proxy_upstream_seconds", Help: "Time until a portal's upstream began its answer (or failed), by portal.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"portal"}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.latency, m.redemptions, m.access, m.rateLimited, m.proxied, m.upstreamLatency} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// observers resolves a route's and status's request counter and latency
// histogram once, not on every request (a metric vector's lookup hashes
// its label values each time).
type observers struct {
	m    *metrics
	mu   sync.RWMutex
	seen map[routeStatus]routeObservers
}

type routeStatus struct {
	route  string
	status int
}

type routeObservers struct {
	requests prometheus.Counter
	latency  prometheus.Observer
}

func (o *observers) of(route string, status int) routeObservers {
	k := routeStatus{route, status}
	o.mu.RLock()
	ro, ok := o.seen[k]
	o.mu.RUnlock()
	if ok {
		return ro
	}
	ro = routeObservers{o.m.requests.WithLabelValues(route, strconv.Itoa(status)), o.m.latency.WithLabelValues(route)}
	o.mu.Lock()
	if o.seen == nil {
		o.seen = map[routeStatus]routeObservers{}
	}
	if len(o.seen) < 1000 { // routes are the mux's patterns; statuses few
		o.seen[k] = ro
	}
	o.mu.Unlock()
	return ro
}
