package mail

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"latchkey/core/mail/message"
	"log/slog"
	"net"
	"net/mail"
	"strings"
	"time"

	"github.com/emersion/go-smtp"

	"latchkey/core"
)

// MaxCaughtBytes bounds one message the catcher accepts.
const MaxCaughtBytes = message.MaxBytes

// Catcher is the built-in SMTP server that keeps the last core.MaxCaught
// messages in the database instead of delivering them, so that latchkey
// works with no mail setup at all. Any SMTP client may send to it.
type Catcher struct {
	svc *core.Service
	log *slog.Logger
	srv *smtp.Server
}

// NewCatcher builds the catcher; Serve runs it.
func NewCatcher(svc *core.Service, log *slog.Logger) *Catcher {
	c := &Catcher{svc: svc, log: log.With("component", "catcher")}
	s := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &catchSession{c: c}, nil }))
	s.Domain = "latchkey-catcher"
	s.EnableSMTPUTF8 = true // it keeps what it gets, addresses in any script
	s.MaxMessageBytes = MaxCaughtBytes
	s.MaxRecipients = 100
	s.ReadTimeout, s.WriteTimeout = time.Minute, time.Minute
	s.ErrorLog = slogLogger{c.log}
	c.srv = s
	return c
}

// Serve accepts connections on ln until ctx ends. It then closes every
// connection at once: a message cut off mid-transfer was not accepted, so
// its sender (the mail worker, or any SMTP client) sends it again later.
// (go-smtp's graceful Shutdown races with a connection being accepted.)
func (c *Catcher) Serve(ctx context.Context, ln net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- c.srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	c.srv.Close()
	ln.Close() // Serve may not have registered ln with the server yet
	if err := <-errc; err != nil && !errors.Is(err, smtp.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
		return err
	}
	return nil
}

type catchSession struct {
	c    *Catcher
	from string
	to   []string
}

func (s *catchSession) Reset()        { s.from, s.to = "", nil }
func (s *catchSession) Logout() error { return nil }

func (s *catchSession) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}

func (s *catchSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

func (s *catchSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(io.LimitReader(r, MaxCaughtBytes+1))
	if err != nil {
		return err
	}
	if len(raw) > MaxCaughtBytes {
		return &smtp.SMTPError{Code: 552, EnhancedCode: smtp.EnhancedCode{5, 3, 4}, Message: "message too big for the catcher"}
	}
	subject := ""
	if m, err := mail.ReadMessage(bytes.NewReader(raw)); err == nil {
		subject = message.DecodeHeader(m.Header.Get("Subject"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	caught, err := s.c.svc.StoreCaught(ctx, core.CaughtMail{From: s.from, To: s.to, Subject: clean(subject), Raw: raw})
	if err != nil {
		s.c.log.Error("store caught message", "err", err)
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "the catcher could not store the message; try again"}
	}
	s.c.log.Info("caught message", "id", caught.ID, "to", strings.Join(s.to, ","), "bytes", len(raw))
	return nil
}

// slogLogger adapts go-smtp's logger to slog.
type slogLogger struct{ l *slog.Logger }

func (s slogLogger) Printf(format string, v ...any) { s.l.Warn(fmt.Sprintf(format, v...)) }
func (s slogLogger) Println(v ...any)               { s.l.Warn(strings.TrimSpace(fmt.Sprintln(v...))) }
