package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	netmail "net/mail"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"latchkey/core"
	"latchkey/core/mail"
	"latchkey/core/web"
	"latchkey/storage/postgres"
)

// config is everything the flags and LATCHKEY_* variables set.
type config struct {
	Data             string
	HTTP             string
	PublicURL        string
	SSH              string
	SMTPRelay        string
	SMTPCatcher      string
	MailFrom         string
	AdminKeys        string
	Demo             bool
	UniformResponses bool
	SessionIdle      time.Duration
	SessionLifetime  time.Duration
	LinkHistory      time.Duration
	LogLevel         string
	TrustedProxies   string
	RateLimits       string
	Pprof            string
	BackupDir        string
	Store            string
	OutboxLease      time.Duration
	MigrateTo        string
	BackupEvery      time.Duration
	BackupKeep       int
	// Where webhooks may post: https to public addresses only, unless these.
	AllowPrivateWebhooks bool
	AllowHTTPWebhooks    bool

	adminKeys      []adminKey        // parsed AdminKeys
	relay          *mail.RelayConfig // parsed SMTPRelay
	trustedProxies []netip.Prefix    // parsed TrustedProxies
}

type adminKey struct {
	Fingerprint string
	Comment     string
}

const envPrefix = "LATCHKEY_"

// envName is the variable that sets a flag: --public-url → LATCHKEY_PUBLIC_URL.
func envName(flagName string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// newFlagSet declares every flag of DESIGN.md on c.
func newFlagSet(name string, c *config, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&c.Data, "data", "./data", "data `dir`ectory: database, key file, SSH host key, logs")
	fs.StringVar(&c.Store, "store", "", "where the data lives: empty for bbolt's file in --data, or a PostgreSQL `URL` (postgres://user:pass@host:5432/db) shared by every node; the key file stays in --data")
	fs.StringVar(&c.HTTP, "http", "127.0.0.1:8080", "portal listener `addr`ess")
	fs.StringVar(&c.PublicURL, "public-url", "", "`URL` that links are built from (default http:// + the --http address)")
	fs.StringVar(&c.SSH, "ssh", "127.0.0.1:2222", "SSH console `addr`ess, or off")
	fs.StringVar(&c.SMTPRelay, "smtp-relay", "", "SMTP relay `URL`: smtp://user:pass@host:587 (STARTTLS) or smtps://user:pass@host:465; empty: deliver to the built-in catcher")
	fs.StringVar(&c.SMTPCatcher, "smtp-catcher", "127.0.0.1:2525", "built-in SMTP catcher `addr`ess, or off")
	fs.StringVar(&c.MailFrom, "mail-from", "latchkey <no-reply@localhost>", "sender `address` of every email")
	fs.StringVar(&c.AdminKeys, "admin-keys", "", "instance admins' SSH public `keys`: authorized_keys lines separated by newlines or commas, or the path of such a file")
	fs.BoolVar(&c.Demo, "demo", false, "on an empty database, load the demo organization")
	fs.BoolVar(&c.UniformResponses, "uniform-responses", false, "the closed-portal form never reveals whether an email has access")
	fs.DurationVar(&c.SessionIdle, "session-idle", 7*24*time.Hour, "a browser session ends after this long unused")
	fs.DurationVar(&c.SessionLifetime, "session-lifetime", 30*24*time.Hour, "a browser session ends this long after sign-in")
	fs.DurationVar(&c.LinkHistory, "link-history", 180*24*time.Hour, "how long each link's history (views, redemptions, emails) is kept")
	fs.StringVar(&c.LogLevel, "log-level", "info", "log `level`: debug, info, warn or error")
	fs.StringVar(&c.Pprof, "pprof", "", "serve Go's profiler on this loopback `addr`ess, for diagnosis (empty: off)")
	fs.StringVar(&c.RateLimits, "rate-limits", "on", "`on`, or off to turn off the rate limits of the portal listener, the SSH console and the API, for a load test on loopback (never in production)")
	fs.StringVar(&c.MigrateTo, "to", "", "with migrate: the new, empty PostgreSQL database (`URL`) to copy the instance into")
	fs.DurationVar(&c.OutboxLease, "outbox-lease", mail.DefaultLease, "with --store on PostgreSQL, how long a node keeps the mail and webhook deliveries it took: if it dies, another node delivers them after this")
	fs.StringVar(&c.BackupDir, "backup-dir", "", "write a consistent copy of the database to this `dir`ectory every --backup-every")
	fs.DurationVar(&c.BackupEvery, "backup-every", 24*time.Hour, "how often to write a backup into --backup-dir")
	fs.IntVar(&c.BackupKeep, "backup-keep", 7, "how many backups to keep in --backup-dir (the oldest are deleted)")
	fs.BoolVar(&c.AllowPrivateWebhooks, "allow-private-webhooks", false, "let webhooks post to loopback, private and link-local addresses (unsafe when several organizations share the instance: they could reach its network)")
	fs.BoolVar(&c.AllowHTTPWebhooks, "allow-http-webhooks", false, "let webhooks post to http:// addresses, unencrypted (default: https only)")
	fs.StringVar(&c.TrustedProxies, "trusted-proxies", "", "reverse proxies whose X-Forwarded-For names the client: comma-separated `addresses or CIDR prefixes`")
	return fs
}

// applyEnv sets every flag that has a LATCHKEY_* variable and was not given
// on the command line. It returns the first bad value, naming the variable.
func applyEnv(fs *flag.FlagSet, given map[string]bool, lookup func(string) (string, bool)) error {
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if err != nil || given[f.Name] {
			return
		}
		if v, ok := lookup(envName(f.Name)); ok {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("%s=%q: %v", envName(f.Name), v, e)
			}
		}
	})
	return err
}

// validate checks every value and fills in what derives from others.
func (c *config) validate() error {
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("--%s: "+format, append([]any{name}, args...)...))
	}
	if strings.TrimSpace(c.Data) == "" {
		bad("data", "a data directory is required")
	}
	if err := checkAddr(c.HTTP); err != nil {
		bad("http", "%v", err)
	}
	if c.PublicURL == "" && checkAddr(c.HTTP) == nil {
		c.PublicURL = "http://" + c.HTTP
	}
	if u, err := checkPublicURL(c.PublicURL); err != nil {
		bad("public-url", "%v", err)
	} else {
		c.PublicURL = u
	}
	if c.SSH != "off" {
		if err := checkAddr(c.SSH); err != nil {
			bad("ssh", "%v (or off)", err)
		}
	}
	if c.SMTPCatcher != "off" {
		if err := checkAddr(c.SMTPCatcher); err != nil {
			bad("smtp-catcher", "%v (or off)", err)
		}
	}
	if c.SMTPRelay != "" {
		if r, err := mail.ParseRelayURL(c.SMTPRelay); err != nil {
			bad("smtp-relay", "%v", err)
		} else {
			c.relay = &r
		}
	}
	if c.SMTPRelay == "" && c.SMTPCatcher == "off" {
		bad("smtp-catcher", "with no --smtp-relay the catcher is the only mail route; it cannot be off")
	}
	if a, err := netmail.ParseAddress(c.MailFrom); err != nil || strings.ContainsAny(c.MailFrom, "\r\n") {
		bad("mail-from", "%q is not an email address (like: latchkey <no-reply@example.com>)", c.MailFrom)
	} else if _, err := core.NormalizeSender(a.Address); err != nil {
		bad("mail-from", "%v", err)
	}
	if keys, err := parseAdminKeys(c.AdminKeys); err != nil {
		bad("admin-keys", "%v", err)
	} else {
		c.adminKeys = keys
	}
	if c.SessionIdle < time.Minute {
		bad("session-idle", "must be at least 1m")
	}
	if c.LinkHistory != 0 && c.LinkHistory < 24*time.Hour { // 0: the default
		bad("link-history", "must be at least 24h")
	}
	if c.SessionLifetime < c.SessionIdle {
		bad("session-lifetime", "must be at least --session-idle (%s)", c.SessionIdle)
	}
	if p, err := web.ParseTrustedProxies(c.TrustedProxies); err != nil {
		bad("trusted-proxies", "%v", err)
	} else {
		c.trustedProxies = p
	}
	if c.Pprof != "" {
		if err := checkAddr(c.Pprof); err != nil {
			bad("pprof", "%v", err)
		} else if h, _, _ := net.SplitHostPort(c.Pprof); h != "127.0.0.1" && h != "localhost" && h != "::1" {
			bad("pprof", "%q: the profiler may only listen on a loopback address", c.Pprof)
		}
	}
	if c.RateLimits != "on" && c.RateLimits != "off" {
		bad("rate-limits", "%q: on or off", c.RateLimits)
	}
	if c.Store != "" && !postgres.IsURL(c.Store) {
		bad("store", "%q is not a PostgreSQL address (postgres://user:pass@host:5432/db); leave it empty for bbolt's file in --data", postgres.Redact(c.Store))
	}
	if c.OutboxLease != 0 && c.OutboxLease < time.Second {
		bad("outbox-lease", "must be at least 1s")
	}
	if c.Store != "" && c.BackupDir != "" {
		bad("backup-dir", "backs up bbolt's file; with --store on PostgreSQL back up with pg_dump or the database's own backups")
	}
	if c.BackupDir != "" {
		if c.BackupEvery < time.Minute {
			bad("backup-every", "must be at least 1m")
		}
		if c.BackupKeep < 1 {
			bad("backup-keep", "must be at least 1")
		}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("log-level", "%q is not one of debug, info, warn, error", c.LogLevel)
	}
	return errors.Join(errs...)
}

// checkAddr accepts host:port with a numeric port (host may be empty: all interfaces).
func checkAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("%q has no valid port (0–65535)", addr)
	}
	if strings.ContainsAny(host, " /") {
		return fmt.Errorf("%q has no valid host", addr)
	}
	return nil
}

func checkPublicURL(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%q is not an http:// or https:// URL", s)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" || strings.Trim(u.Path, "/") != "" {
		return "", fmt.Errorf("%q must be scheme and host only (like https://portal.example.com)", s)
	}
	return u.Scheme + "://" + u.Host, nil
}

// parseAdminKeys reads authorized_keys lines separated by newlines or
// commas, or the path of a file of them.
func parseAdminKeys(s string) ([]adminKey, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	if isPrivateKey([]byte(s)) {
		return nil, privateKeyError("")
	}
	if !strings.HasPrefix(s, "ssh-") && !strings.HasPrefix(s, "ecdsa-") && !strings.HasPrefix(s, "sk-") {
		b, err := os.ReadFile(s)
		if err != nil {
			return nil, fmt.Errorf("neither a public key nor a readable file: %v", err)
		}
		if isPrivateKey(b) {
			return nil, privateKeyError(s)
		}
		s = string(b)
	}
	var out []adminKey
	for i, line := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == ',' }) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		pk, comment, err := core.ParseAuthorizedKey(line)
		if err != nil {
			return nil, fmt.Errorf("key %d: %v", i+1, err)
		}
		out = append(out, adminKey{Fingerprint: core.Fingerprint(pk), Comment: comment})
	}
	if len(out) == 0 {
		return nil, errors.New("no key found")
	}
	return out, nil
}

// isPrivateKey reports whether data holds a private key (OpenSSH, PEM or
// PuTTY), which people give by mistake for its public half.
func isPrivateKey(data []byte) bool {
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if (strings.HasPrefix(line, "-----BEGIN ") && strings.Contains(line, "PRIVATE KEY")) || strings.HasPrefix(line, "PuTTY-User-Key-File-") {
			return true
		}
	}
	return false
}

// privateKeyError says which file to give instead of the private key at
// path ("-" or "": standard input, or the value itself).
func privateKeyError(path string) error {
	if path == "-" || path == "" {
		what := "standard input holds"
		if path == "" {
			what = "this is"
		}
		return fmt.Errorf("%s a private key; give the public key instead: the .pub file beside it (ssh-keygen -y -f KEYFILE prints it)", what)
	}
	if _, err := os.Stat(path + ".pub"); err != nil {
		return fmt.Errorf("%s is a private key; give the public key, %s.pub (make it with: ssh-keygen -y -f %s > %s.pub)", path, path, path, path)
	}
	return fmt.Errorf("%s is a private key; give the public key, %s.pub", path, path)
}

// webhookPolicy is where the instance's webhooks may post.
func (c *config) webhookPolicy() core.WebhookPolicy {
	return core.WebhookPolicy{AllowHTTP: c.AllowHTTPWebhooks, AllowPrivate: c.AllowPrivateWebhooks}
}
