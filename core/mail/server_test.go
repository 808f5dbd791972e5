package mail_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// fault is what the test server does with one DATA command.
type fault int

const (
	accept    fault = iota
	temporary       // 451
	shutdown        // 421, then closes the connection
	refuse          // 550
	dropData        // reads part of the message, then drops the connection
)

// received is one message the test server accepted.
type received struct {
	from string
	to   []string
	data []byte
}

// relayServer is a real go-smtp server on 127.0.0.1 whose answers a test scripts.
type relayServer struct {
	t        testing.TB
	addr     string
	srv      *smtp.Server
	mu       sync.Mutex
	script   []fault // consumed one per DATA; empty means accept
	got      []received
	sessions int
	tls      bool // sessions seen over TLS
	user     string
	password string
	discard  bool // count messages without keeping them
	count    int
}

type serverOption func(*relayServer, *smtp.Server)

func withAuth(user, password string) serverOption {
	return func(r *relayServer, s *smtp.Server) { r.user, r.password = user, password }
}

func withTLS(cert tls.Certificate) serverOption {
	return func(_ *relayServer, s *smtp.Server) {
		s.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	}
}

func discarding(r *relayServer, _ *smtp.Server) { r.discard = true }

func newRelayServer(t testing.TB, opts ...serverOption) *relayServer {
	t.Helper()
	r := &relayServer{t: t}
	s := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		r.mu.Lock()
		r.sessions++
		if _, ok := c.TLSConnectionState(); ok {
			r.tls = true
		}
		r.mu.Unlock()
		return &faultSession{r: r, conn: c}, nil
	}))
	s.Domain = "relay.test"
	s.AllowInsecureAuth = true
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	for _, o := range opts {
		o(r, s)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.addr, r.srv = ln.Addr().String(), s
	go s.Serve(ln)
	t.Cleanup(func() { s.Close() })
	return r
}

func (r *relayServer) port() string { _, p, _ := net.SplitHostPort(r.addr); return p }

func (r *relayServer) then(f ...fault) {
	r.mu.Lock()
	r.script = append(r.script, f...)
	r.mu.Unlock()
}

func (r *relayServer) messages() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

func (r *relayServer) stats() (sessions, count int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sessions, r.count
}

type faultSession struct {
	r    *relayServer
	conn *smtp.Conn
	from string
	to   []string
}

func (s *faultSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *faultSession) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != s.r.user || password != s.r.password {
			return errors.New("invalid credentials")
		}
		return nil
	}), nil
}

func (s *faultSession) Reset()        { s.from, s.to = "", nil }
func (s *faultSession) Logout() error { return nil }
func (s *faultSession) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}
func (s *faultSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

func (s *faultSession) Data(rd io.Reader) error {
	s.r.mu.Lock()
	f := accept
	if len(s.r.script) > 0 {
		f, s.r.script = s.r.script[0], s.r.script[1:]
	}
	s.r.mu.Unlock()
	switch f {
	case temporary:
		io.Copy(io.Discard, rd)
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	case shutdown:
		io.Copy(io.Discard, rd)
		go func() { // after the server has written the 421
			time.Sleep(100 * time.Millisecond)
			s.conn.Close()
		}()
		return &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 3, 2}, Message: "shutting down"}
	case refuse:
		io.Copy(io.Discard, rd)
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such mailbox here"}
	case dropData:
		buf := make([]byte, 64)
		io.ReadFull(rd, buf)
		s.conn.Conn().Close()
		return errors.New("connection dropped")
	}
	data, err := io.ReadAll(rd)
	if err != nil {
		return err
	}
	s.r.mu.Lock()
	s.r.count++
	if !s.r.discard {
		s.r.got = append(s.r.got, received{from: s.from, to: s.to, data: data})
	}
	s.r.mu.Unlock()
	return nil
}

// selfSigned makes a certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned(t testing.TB) (tls.Certificate, *x509.CertPool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "relay.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

func messageID(data []byte) string {
	for _, line := range strings.Split(string(data), "\r\n") {
		if strings.HasPrefix(line, "Message-ID: ") {
			return strings.TrimPrefix(line, "Message-ID: ")
		}
	}
	return ""
}

func contains(b []byte, s string) bool { return bytes.Contains(b, []byte(s)) }
