package web

import (
	"bytes"
	"context"
	"log/slog"
	"testing"
	"time"
)

// The hand-formatted request line is byte for byte the line slog's text
// handler writes for the same record, whatever the values hold.
func TestAccessLineIsSlogs(t *testing.T) {
	at := time.Date(2026, 12, 3, 14, 20, 43, 120_000_000, time.UTC)
	for _, tc := range []struct {
		method, path, route, client, id string
		status                          int
		d                               time.Duration
		at                              time.Time
	}{
		{"GET", "/m/[token]", "GET /m/{token}", "127.0.0.1", "a1b2c3d4e5f6", 200, 123456 * time.Nanosecond, at},
		{"POST", "/p/website redesign", "other", "2001:db8::1", "x", 303, 0, at.Add(999 * time.Microsecond)},
		{"GET", `/p/"quoted"=x`, "GET /p/{slug}/", "203.0.113.9", "", 404, 2 * time.Second, at.In(time.FixedZone("CET", 3600))},
		{"GET", "/p/caf\u00e9/\u200b\x01\x7f", "GET /p/{slug}/", "198.51.100.1", "id", 500, time.Millisecond, at.Add(5 * time.Millisecond)},
		{"GET", "/p/\xff\xfe", "other", "", "id", 200, 1, at},
	} {
		var want bytes.Buffer
		h := slog.NewTextHandler(&want, nil).WithAttrs([]slog.Attr{slog.String("component", "web")})
		r := slog.NewRecord(tc.at, slog.LevelInfo, "request", 0)
		r.AddAttrs(slog.String("method", tc.method), slog.String("path", tc.path), slog.String("route", tc.route), slog.Int("status", tc.status),
			slog.Duration("duration", tc.d), slog.String("client", tc.client), slog.String("request", tc.id))
		if err := h.Handle(context.Background(), r); err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		newAccessLog(&got).line(tc.at, tc.method, tc.path, tc.route, tc.status, tc.d, tc.client, tc.id)
		if got.String() != want.String() {
			t.Errorf("\ngot  %s\nwant %s", got.String(), want.String())
		}
	}
}
