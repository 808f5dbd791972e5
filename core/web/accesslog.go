package web

import (
	"io"
	"strconv"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// accessLog writes each request's log line, the very line slog's text
// handler writes for the logger's "request" record (TestAccessLineIsSlogs
// holds them equal), formatted by appending to a pooled buffer: through
// slog, its attributes, their handler state and quoting were a tenth of the
// landing page's CPU. One Write per line.
type accessLog struct {
	w    io.Writer
	bufs sync.Pool
}

func newAccessLog(w io.Writer) *accessLog {
	return &accessLog{w: w, bufs: sync.Pool{New: func() any { b := make([]byte, 0, 256); return &b }}}
}

// line writes the request line of a request that ended at t.
func (a *accessLog) line(t time.Time, method, path, route string, status int, d time.Duration, client, id string) {
	bp := a.bufs.Get().(*[]byte)
	b := append((*bp)[:0], "time="...)
	b = appendMillis(b, t)
	b = append(b, " level=INFO msg=request component=web method="...)
	b = appendValue(b, method)
	b = append(b, " path="...)
	b = appendValue(b, path)
	b = append(b, " route="...)
	b = appendValue(b, route)
	b = append(b, " status="...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, " duration="...)
	b = appendValue(b, d.String())
	b = append(b, " client="...)
	b = appendValue(b, client)
	b = append(b, " request="...)
	b = appendValue(b, id)
	b = append(b, '\n')
	a.w.Write(b)
	*bp = b
	a.bufs.Put(bp)
}

// appendMillis is slog's time: RFC 3339 with exactly three decimals.
func appendMillis(b []byte, t time.Time) []byte {
	const prefix = len("2006-01-02T15:04:05.000")
	n := len(b)
	// RFC3339Nano drops trailing zeros: a tenth of a millisecond more
	// keeps four digits, and the fourth is cut (as slog does).
	b = t.Truncate(time.Millisecond).Add(time.Millisecond/10).AppendFormat(b, time.RFC3339Nano)
	return append(b[:n+prefix], b[n+prefix+1:]...)
}

// appendValue is a value as slog's text handler writes it: as it is, or
// quoted when it is empty or holds a space, '=', '"', a control character
// or anything not printable.
func appendValue(b []byte, s string) []byte {
	if needsQuoting(s) {
		return strconv.AppendQuote(b, s)
	}
	return append(b, s...)
}

func needsQuoting(s string) bool {
	if s == "" {
		return true
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == ' ' || c == '=' || c == '"' {
				return true
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError || unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return true
		}
		i += size
	}
	return false
}
