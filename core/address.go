package core

import (
	"errors"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mtibben/confusables"
	"golang.org/x/net/idna"
	"golang.org/x/text/unicode/norm"
)

// domains maps and checks the domain of an address as UTS #46 says for
// looking names up: case and width fold (a full-width "ａｃｍｅ" is "acme"),
// labels of letters, digits and hyphens (IDNA 2008), bidi rules, DNS lengths.
var domains = idna.New(idna.MapForLookup(), idna.Transitional(false), idna.BidiRule(),
	idna.StrictDomainName(true), idna.VerifyDNSLength(true), idna.CheckHyphens(true), idna.CheckJoiners(true))

// NormalizeEmail checks an address and returns its canonical form: the
// local part in NFKC (a full-width "ｃｌｉｅｎｔ" is "client") and lower case,
// the domain mapped by UTS #46 and shown in Unicode ("xn--mnchen-3ya.test"
// is "münchen.test"). It refuses what no relay can deliver or what would
// let one address pass for another: display names, quoted local parts,
// control, invisible, format and text-direction characters (zero-width
// spaces, joiners, soft hyphens, byte-order marks, bidi marks and
// overrides), IP literals, dotless or numeric top-level domains, and
// addresses longer than 254 bytes.
func NormalizeEmail(s string) (string, error) { return normalizeAddress(s, true) }

// NormalizeSender checks latchkey's own sender address (--mail-from) as
// NormalizeEmail does, but takes any domain name, a dotless one such as
// localhost included: where the mail goes, the relay decides.
func NormalizeSender(s string) (string, error) { return normalizeAddress(s, false) }

func normalizeAddress(s string, deliverable bool) (string, error) {
	s = strings.Trim(s, " \t")
	switch {
	case s == "":
		return "", invalid("email", "an email address is required")
	case !utf8.ValidString(s):
		return "", invalid("email", "the email address is not valid text")
	case strings.ContainsFunc(s, unicode.IsControl):
		return "", invalid("email", "the email address contains a control character (line break, tab or NUL)")
	case strings.ContainsFunc(s, invisibleInAddress):
		return "", invalid("email", "the email address contains an invisible, format or text-direction character; type it again without copying it")
	case len(s) > MaxEmailLen:
		return "", invalid("email", "the email address is longer than %d characters", MaxEmailLen)
	case strings.ContainsAny(s, "<>"):
		return "", invalid("email", "%q has a display name or angle brackets; give the bare address, like ann@example.com", clip(s))
	case strings.ContainsRune(s, '"'):
		return "", invalid("email", "%q has quotation marks; give the address without them, like ann@example.com", clip(s))
	case !strings.Contains(s, "@"):
		return "", invalid("email", "%q is not an email address (like ann@example.com)", clip(s))
	case strings.ContainsFunc(s, unicode.IsSpace):
		return "", invalid("email", "%q contains a space; an email address has none", clip(s))
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return "", invalid("email", "%q is not an email address (like ann@example.com)", clip(s))
	}
	local := norm.NFKC.String(strings.ToLower(norm.NFKC.String(s[:at])))
	rawDomain := s[at+1:]
	if strings.HasPrefix(rawDomain, "[") {
		return "", invalid("email", "%q names an IP address, not a domain; no mail relay delivers to it", clip(s))
	}
	ascii, err := domains.ToASCII(rawDomain)
	if err != nil {
		return "", invalid("email", "%q is not a valid domain name (like example.com)", clip(rawDomain))
	}
	if reason := undeliverableDomain(ascii); reason != "" && deliverable {
		return "", invalid("email", "%q %s", clip(s), reason)
	}
	domain, err := domains.ToUnicode(ascii)
	if err != nil {
		return "", invalid("email", "%q is not a valid domain name (like example.com)", clip(rawDomain))
	}
	addr := local + "@" + domain
	if len(addr) > MaxEmailLen || len(local)+1+len(ascii) > MaxEmailLen {
		return "", invalid("email", "the email address is longer than %d characters", MaxEmailLen)
	}
	if strings.ContainsFunc(local, invisibleInAddress) || strings.ContainsRune(local, '@') {
		return "", invalid("email", "%q is not an email address (like ann@example.com)", clip(s))
	}
	// The local part as net/mail reads it (a dot-atom: no leading, trailing
	// or doubled dots, no specials); checked on its ASCII-domain form.
	if a, err := mail.ParseAddress(local + "@" + ascii); err != nil || a.Name != "" || a.Address != local+"@"+ascii {
		return "", invalid("email", "%q is not an email address (like ann@example.com)", clip(s))
	}
	return addr, nil
}

// undeliverableDomain says why no relay can deliver to an (ASCII) domain,
// or "": it needs a dot and a top-level domain of letters (or an IDN).
func undeliverableDomain(ascii string) string {
	dot := strings.LastIndexByte(ascii, '.')
	if dot < 0 {
		return "has no dot in its domain; an address needs one, like ann@example.com"
	}
	tld := ascii[dot+1:]
	switch {
	case strings.HasPrefix(tld, "xn--"):
		return ""
	case strings.Trim(ascii, "0123456789.") == "":
		return "names an IP address, not a domain; no mail relay delivers to it"
	case len(tld) < 2:
		return "ends in a one-letter top-level domain, which does not exist"
	}
	for i := 0; i < len(tld); i++ {
		if c := tld[i]; c < 'a' || c > 'z' {
			return "ends in a top-level domain that is not letters, which does not exist"
		}
	}
	return ""
}

// invisibleInAddress: characters an address never needs and that hide or
// disguise what it is. Unlike names, addresses take no joiners either.
func invisibleInAddress(r rune) bool {
	switch {
	case unicode.Is(unicode.Cf, r): // zero-width space and (non-)joiners, soft hyphen, BOM, bidi marks and overrides, tags
		return true
	case r == '\u034F', r == '\u115F', r == '\u1160', r == '\u3164', r == '\uFFA0', r == '\u2800': // grapheme joiner, fillers, braille blank
		return true
	case unicode.Is(unicode.Variation_Selector, r):
		return true
	}
	return false
}

// AddressASCII is the address with its domain in ASCII (punycode,
// "xn--…"), as it crosses SMTP; the local part stays as it is.
func AddressASCII(email string) string {
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return email
	}
	ascii, err := domains.ToASCII(email[at+1:])
	if err != nil {
		return email
	}
	return email[:at+1] + ascii
}

// IsASCII reports whether s is plain ASCII.
func IsASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// AddressNote is what an owner or manager should know about an address
// before trusting what it reads as.
type AddressNote struct {
	// ASCII is the address with its domain in punycode, set only when the
	// address is not plain ASCII.
	ASCII string `json:"ascii,omitempty"`
	// LooksLike is a different address known in the organization that this
	// one is confusable with (UTS #39 skeletons).
	LooksLike string `json:"looks_like,omitempty"`
	// LocalNeedsUTF8: the part before @ is not ASCII; only relays that
	// offer SMTPUTF8 deliver to it.
	LocalNeedsUTF8 bool `json:"local_needs_utf8,omitempty"`
}

// Suspicious reports whether the note warns of anything.
func (n AddressNote) Suspicious() bool { return n.ASCII != "" || n.LooksLike != "" }

// Warning is the note as a sentence ("" when there is nothing to say).
func (n AddressNote) Warning() string {
	var parts []string
	if n.ASCII != "" {
		parts = append(parts, "not plain ASCII: it is "+n.ASCII)
	}
	if n.LooksLike != "" {
		parts = append(parts, "looks like "+n.LooksLike)
	}
	return strings.Join(parts, "; ")
}

// AddressSkeleton is the UTS #39 skeleton of an address: two addresses
// that read alike have the same one.
func AddressSkeleton(email string) string { return confusables.Skeleton(email) }

// PreferKnown reports whether email, rather than prev (with the same
// skeleton), is the one an organization is taken to know: the plain ASCII
// one, which is the one people know.
func PreferKnown(email, prev string) bool { return IsASCII(email) && !IsASCII(prev) }

// know records that the organization knows email (a member's, or one with
// a link to its portals), so that look-alikes of it can be told apart.
func (op *operation) know(orgID uint64, email string) error {
	sk := AddressSkeleton(email)
	prev, err := op.KnownAddress(orgID, sk)
	switch {
	case err == nil && (prev == email || !PreferKnown(email, prev)):
		return nil
	case err != nil && !errors.Is(err, ErrNotFound):
		return err
	}
	return op.PutKnownAddress(orgID, sk, email)
}

// noteAddress is what an owner should know of email in the organization.
func (op *operation) noteAddress(orgID uint64, email string) (AddressNote, error) {
	var n AddressNote
	if !IsASCII(email) {
		n.ASCII = AddressASCII(email)
		at := strings.LastIndexByte(email, '@')
		n.LocalNeedsUTF8 = at >= 0 && !IsASCII(email[:at])
	}
	other, err := op.KnownAddress(orgID, AddressSkeleton(email))
	switch {
	case err == nil && other != email:
		n.LooksLike = other
	case err != nil && !errors.Is(err, ErrNotFound):
		return n, err
	}
	return n, nil
}
