package postgres

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Collector exports the connection pool's statistics for /metrics: how
// many connections are in use, idle and allowed, how often a request had
// to wait for one and for how long, and how many serialization failures
// and deadlocks were run again.
func (s *Store) Collector() prometheus.Collector { return poolCollector{s} }

type poolCollector struct{ s *Store }

var (
	poolConns = prometheus.NewDesc("latchkey_db_pool_connections",
		"PostgreSQL connections of the pool, by state (acquired, idle, constructing) and the maximum (max).", []string{"state"}, nil)
	poolAcquires = prometheus.NewDesc("latchkey_db_pool_acquires_total",
		"Connections taken from the pool.", nil, nil)
	poolWaits = prometheus.NewDesc("latchkey_db_pool_acquire_waits_total",
		"Connections taken from the pool that had to wait for one to be free or made.", nil, nil)
	poolWaitSeconds = prometheus.NewDesc("latchkey_db_pool_acquire_wait_seconds_total",
		"Time spent waiting for a connection of the pool.", nil, nil)
	txRetries = prometheus.NewDesc("latchkey_db_transaction_retries_total",
		"Transactions run again after a serialization failure or a deadlock.", nil, nil)
	listenBreaks = prometheus.NewDesc("latchkey_db_change_feed_breaks_total",
		"Times the connection that hears other nodes' commits broke (each followed by a full refresh).", nil, nil)
)

func (poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{poolConns, poolAcquires, poolWaits, poolWaitSeconds, txRetries, listenBreaks} {
		ch <- d
	}
}

func (c poolCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.s.pool.Stat()
	for state, n := range map[string]int32{"acquired": st.AcquiredConns(), "idle": st.IdleConns(),
		"constructing": st.ConstructingConns(), "max": st.MaxConns()} {
		ch <- prometheus.MustNewConstMetric(poolConns, prometheus.GaugeValue, float64(n), state)
	}
	ch <- prometheus.MustNewConstMetric(poolAcquires, prometheus.CounterValue, float64(st.AcquireCount()))
	ch <- prometheus.MustNewConstMetric(poolWaits, prometheus.CounterValue, float64(st.EmptyAcquireCount()))
	ch <- prometheus.MustNewConstMetric(poolWaitSeconds, prometheus.CounterValue, st.EmptyAcquireWaitTime().Seconds())
	ch <- prometheus.MustNewConstMetric(txRetries, prometheus.CounterValue, float64(c.s.retries.Load()))
	ch <- prometheus.MustNewConstMetric(listenBreaks, prometheus.CounterValue, float64(c.s.listenErrs.Load()))
}
