package core

import (
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxURLLen bounds an upstream's or a resource's address.
const MaxURLLen = 2000

// ParseUpstream checks the address of an agency's web app that a portal
// fronts and returns it in canonical form: http:// or https://, a host name
// or IP address (loopback and private addresses are the common case: the
// app runs beside latchkey), an optional port and base path, no
// credentials, query or fragment. "" and "none" mean no upstream.
func ParseUpstream(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.EqualFold(s, "none") {
		return "", nil
	}
	u, err := parseWebURL("upstream", s, false)
	if err != nil {
		return "", err
	}
	if u.RawQuery != "" || u.ForceQuery {
		return "", invalid("upstream", "%q has a query (?…); give the app's base address only", clip(s))
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u.String(), nil
}

// parseWebURL checks an absolute http(s) URL for field: a valid host (a
// DNS name, IDNA-normalised, or an IP address), a port in range, no
// credentials, no control characters or spaces, and a fragment only when
// fragmentOK.
func parseWebURL(field, s string, fragmentOK bool) (*url.URL, error) {
	switch {
	case !utf8.ValidString(s):
		return nil, invalid(field, "is not valid text")
	case len(s) > MaxURLLen:
		return nil, invalid(field, "is longer than %d characters", MaxURLLen)
	case strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) || unicode.IsSpace(r) || invisibleInAddress(r) }):
		return nil, invalid(field, "%q contains a space, a control or an invisible character", clip(s))
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, invalid(field, "%q is not a URL (like https://app.example.com)", clip(s))
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		u.Scheme = strings.ToLower(u.Scheme)
	case "":
		return nil, invalid(field, "%q has no scheme; start it with https:// or http://", clip(s))
	default:
		return nil, invalid(field, "%q is a %s: address; only http:// and https:// are allowed", clip(s), u.Scheme)
	}
	if u.Opaque != "" || u.Host == "" {
		return nil, invalid(field, "%q names no host (like https://app.example.com)", clip(s))
	}
	if u.User != nil {
		return nil, invalid(field, "%q carries a user name or password; latchkey never sends credentials in a URL", clip(u.Redacted()))
	}
	if !fragmentOK && (u.Fragment != "" || strings.Contains(s, "#")) {
		return nil, invalid(field, "%q has a fragment (#…); give the address without it", clip(s))
	}
	host, port := u.Hostname(), u.Port()
	if strings.HasSuffix(u.Host, ":") || strings.Contains(u.Host, "%") {
		if strings.Contains(u.Host, "%") {
			return nil, invalid(field, "%q has an escaped host; write the host name as it is", clip(s))
		}
		return nil, invalid(field, "%q has an empty port", clip(s))
	}
	if port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return nil, invalid(field, "%q: %q is not a port (1 to 65535)", clip(s), clip(port))
		}
	}
	canon, err := canonicalHost(field, host)
	if err != nil {
		return nil, err
	}
	if port != "" {
		u.Host = net.JoinHostPort(canon, port)
	} else if strings.Contains(canon, ":") {
		u.Host = "[" + canon + "]"
	} else {
		u.Host = canon
	}
	return u, nil
}

// canonicalHost is an IP address as netip prints it, or a DNS name in
// ASCII (punycode) and lower case.
func canonicalHost(field, host string) (string, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		if a.Zone() != "" {
			return "", invalid(field, "%q has an IPv6 zone; give an address without one", clip(host))
		}
		return a.Unmap().String(), nil
	}
	ascii, err := domains.ToASCII(host)
	if err == nil && ascii != "" && utf8.ValidString(host) && !strings.Contains(host, "%") {
		if again, err2 := domains.ToASCII(ascii); err2 == nil && again == ascii { // punycode that reads back
			return ascii, nil
		}
	}
	return "", invalid(field, "%q is not a valid host name (letters, digits and hyphens, like app.example.com)", clip(strings.ToValidUTF8(host, "?")))
}

// ParseHostName checks a portal's own host name (clients.acme-agency.com):
// a DNS name with at least two labels (or a name under localhost), in
// ASCII (punycode) and lower case; no scheme, port, path or IP address. ""
// and "none" mean none.
func ParseHostName(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.EqualFold(s, "none") {
		return "", nil
	}
	switch {
	case !utf8.ValidString(s):
		return "", invalid("host", "is not valid text")
	case strings.Contains(s, "://"):
		return "", invalid("host", "%q is a URL; give the host name alone, like clients.example.com", clip(s))
	case strings.ContainsAny(s, "/?#@"):
		return "", invalid("host", "%q is not a host name alone (no path, query or user), like clients.example.com", clip(s))
	case strings.Contains(s, ":"):
		return "", invalid("host", "%q has a port; the portal's host is served on latchkey's own port", clip(s))
	case strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) || unicode.IsSpace(r) || invisibleInAddress(r) }):
		return "", invalid("host", "%q contains a space, a control or an invisible character", clip(s))
	}
	if _, err := netip.ParseAddr(s); err == nil {
		return "", invalid("host", "%q is an IP address; a portal's host needs a name, like clients.example.com", clip(s))
	}
	ascii, err := canonicalHost("host", strings.TrimSuffix(s, "."))
	if err != nil {
		return "", err
	}
	if slices.Contains(strings.Split(ascii, "."), "") {
		return "", invalid("host", "%q has an empty label (two dots in a row, or a dot at an end)", clip(s))
	}
	if !strings.Contains(ascii, ".") {
		return "", invalid("host", "%q has no dot; give the whole name, like clients.example.com", clip(s))
	}
	if strings.Trim(ascii, "0123456789.") == "" {
		return "", invalid("host", "%q is an IP address; a portal's host needs a name, like clients.example.com", clip(s))
	}
	return ascii, nil
}

// ParseResourceURL checks a resource's address: an absolute http(s) URL
// without credentials.
func ParseResourceURL(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", invalid("url", "an address is required (like https://drive.example.com/folder)")
	}
	u, err := parseWebURL("url", s, true)
	if err != nil {
		return "", err
	}
	return u.String(), nil
}
