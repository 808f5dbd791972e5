package core

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// Where webhooks may be sent. A webhook is a request latchkey makes on an
// organization's behalf to an address the organization chooses: on an
// instance several agencies share, the address must not reach latchkey's
// own network (its loopback, the private networks around it, the cloud's
// metadata service). The rule is here, once: registration checks every
// address the host resolves to, and the delivery worker checks the one it
// connects to (a name may resolve differently by then: DNS rebinding).

// ErrWebhookAddress: the address is one webhooks may not reach.
var ErrWebhookAddress = errors.New("address not allowed for webhooks")

// refused are the ranges no webhook reaches, with what they are.
var refused = []struct {
	prefix netip.Prefix
	what   string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "this network"},
	{netip.MustParsePrefix("10.0.0.0/8"), "a private network"},
	{netip.MustParsePrefix("100.64.0.0/10"), "a carrier-grade NAT network (and cloud metadata services)"},
	{netip.MustParsePrefix("127.0.0.0/8"), "loopback"},
	{netip.MustParsePrefix("169.254.0.0/16"), "link-local (and cloud metadata services)"},
	{netip.MustParsePrefix("172.16.0.0/12"), "a private network"},
	{netip.MustParsePrefix("192.0.0.0/24"), "IETF protocol assignments"},
	{netip.MustParsePrefix("192.168.0.0/16"), "a private network"},
	{netip.MustParsePrefix("198.18.0.0/15"), "a benchmarking network"},
	{netip.MustParsePrefix("224.0.0.0/4"), "multicast"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved"},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "a local NAT64 network"},
	{netip.MustParsePrefix("100::/64"), "a discard network"},
	{netip.MustParsePrefix("2001::/32"), "a Teredo tunnel"},
	{netip.MustParsePrefix("fec0::/10"), "a site-local network"},
	{netip.MustParsePrefix("::1/128"), "loopback"},
	{netip.MustParsePrefix("::/128"), "unspecified"},
	{netip.MustParsePrefix("::/96"), "an IPv4-compatible address"},
	{netip.MustParsePrefix("fc00::/7"), "a private network (and cloud metadata services)"},
	{netip.MustParsePrefix("fe80::/10"), "link-local"},
	{netip.MustParsePrefix("ff00::/8"), "multicast"},
}

// nat64 embeds an IPv4 address in its last 32 bits.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// sixToFour embeds an IPv4 address in bits 16 to 48.
var sixToFour = netip.MustParsePrefix("2002::/16")

// CheckWebhookIP reports whether a webhook may connect to ip: nil, or an
// error wrapping ErrWebhookAddress that says what the address is.
func CheckWebhookIP(ip netip.Addr) error {
	if what := refusedRange(ip); what != "" {
		return fmt.Errorf("%w: %s is %s", ErrWebhookAddress, ip, what)
	}
	return nil
}

// refusedRange is what ip is when webhooks may not reach it, else "".
func refusedRange(ip netip.Addr) string {
	if ip.Zone() != "" { // a zone scopes it to one interface of this machine; and Contains never matches it
		return "an address with an interface zone"
	}
	ip = ip.Unmap()
	if nat64.Contains(ip) {
		b := ip.As16()
		ip = netip.AddrFrom4([4]byte(b[12:]))
	}
	if sixToFour.Contains(ip) {
		b := ip.As16()
		ip = netip.AddrFrom4([4]byte(b[2:6]))
	}
	for _, r := range refused {
		if r.prefix.Contains(ip) {
			return r.what
		}
	}
	return ""
}

// WebhookPolicy is what an instance lets webhooks reach. The safe default
// (zero) is https to public addresses only; tests and single-agency
// instances on one private network may allow more.
type WebhookPolicy struct {
	AllowHTTP    bool // http:// as well as https://
	AllowPrivate bool // loopback, private and link-local addresses too: unsafe on a shared instance
	// Resolver looks a host up at registration (default net.DefaultResolver).
	Resolver interface {
		LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
	}
}

// maxWebhookURL bounds a webhook's address.
const maxWebhookURL = 2000

// parseWebhookURL checks the form of a webhook's address and returns it
// normalized; it looks nothing up.
func (p WebhookPolicy) parseWebhookURL(raw string) (*url.URL, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, invalid("url", "give the address the events are posted to, like https://crm.example.com/hooks/latchkey")
	}
	if len(raw) > maxWebhookURL {
		return nil, invalid("url", "the address is %d characters long; at most %d", len(raw), maxWebhookURL)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return nil, invalid("url", "%q is not an absolute address like https://crm.example.com/hooks/latchkey", raw)
	}
	switch u.Scheme = strings.ToLower(u.Scheme); u.Scheme {
	case "https":
	case "http":
		if !p.AllowHTTP {
			return nil, invalid("url", "webhooks are sent over https only; this instance refuses http:// addresses")
		}
	default:
		return nil, invalid("url", "%q: a webhook's address begins with https://", raw)
	}
	if u.User != nil {
		return nil, invalid("url", "the address carries a user name or password; put a secret in the path instead, the signature proves the sender")
	}
	if u.Fragment != "" {
		return nil, invalid("url", "the address has a #fragment, which is never sent; remove it")
	}
	if strings.Contains(u.Hostname(), "%") {
		return nil, invalid("url", "the address names a network interface (%%zone); give a public host")
	}
	if strings.ContainsAny(raw, " \t\r\n") {
		return nil, invalid("url", "the address contains spaces")
	}
	if port := u.Port(); port != "" {
		var n int
		if _, err := fmt.Sscan(port, &n); err != nil || n < 1 || n > 65535 {
			return nil, invalid("url", "%q is not a port", port)
		}
	}
	u.Host = strings.ToLower(u.Host)
	return u, nil
}

// checkWebhookHost resolves the address's host and refuses it when any of
// its addresses is one webhooks may not reach (unless AllowPrivate).
func (p WebhookPolicy) checkWebhookHost(ctx context.Context, u *url.URL) error {
	host := u.Hostname()
	if ip, err := netip.ParseAddr(host); err == nil {
		return p.checkIPs(host, []netip.Addr{ip})
	}
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return p.checkIPs(host, []netip.Addr{netip.MustParseAddr("127.0.0.1")})
	}
	r := p.Resolver
	if r == nil {
		r = net.DefaultResolver
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	ips, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil || len(ips) == 0 {
		return invalid("url", "the host %s does not resolve; check its name", host)
	}
	return p.checkIPs(host, ips)
}

func (p WebhookPolicy) checkIPs(host string, ips []netip.Addr) error {
	if p.AllowPrivate {
		return nil
	}
	for _, ip := range ips {
		what := refusedRange(ip)
		if what == "" {
			continue
		}
		const why = "webhooks are not sent to loopback, private, link-local or metadata addresses (an instance started with --allow-private-webhooks allows them)"
		if ip.String() == host {
			return invalid("url", "%s is %s: %s", host, what, why)
		}
		return invalid("url", "%s resolves to a loopback, private or reserved address: %s", host, why)
	}
	return nil
}
