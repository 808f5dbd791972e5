package core

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// A portal's access rules: limits on its links, a lifetime for invitations
// never opened, the domains whose people come into an email portal by
// themselves, and the domains whose requests to a closed portal are granted
// at once. Every rule is computed from stored times and the clock when a
// link, a session or a request is decided, so a change applies at once to
// links that exist (and lifting a rule revives the links it stopped).

// DefaultInviteLifetime is how long an invitation's link works when it was
// never opened, unless the portal says otherwise.
const DefaultInviteLifetime = 14 * 24 * time.Hour

// NoInviteLimit, as AccessRules.InviteLifetime, is "none": invitations
// never lapse (0 is the default, DefaultInviteLifetime).
const NoInviteLimit time.Duration = -1

// Bounds of the rules' values.
const (
	minRuleDuration = time.Minute
	maxRuleDuration = 10 * 365 * 24 * time.Hour
	maxLinkUses     = 1_000_000
	maxRuleDomains  = 50
)

// AccessRules are a portal's access rules. The zero value is the product
// guide's: links live until someone deactivates them, invitations lapse
// after DefaultInviteLifetime, nobody is admitted or granted by domain.
type AccessRules struct {
	LinkLifetime   time.Duration `json:"link_lifetime,omitempty"`   // a link stops this long after it was made; 0: never
	LinkIdle       time.Duration `json:"link_idle,omitempty"`       // … this long after its last use (or making); 0: never
	LinkUses       uint64        `json:"link_uses,omitempty"`       // … after this many redemptions; 0: no cap
	InviteLifetime time.Duration `json:"invite_lifetime,omitempty"` // an invitation's link never opened; 0: default, NoInviteLimit: never
	// AllowDomains (email portals): only addresses at these domains get a
	// link by themselves; nil: any address. "acme.com" is that domain only,
	// "*.acme.com" its subdomains only. Domains are stored as addresses
	// store theirs (IDNA-normalised, in Unicode).
	AllowDomains []string `json:"allow_domains,omitempty"`
	// AutoGrant (closed portals): a request from an address at one of these
	// domains is granted at once with its role.
	AutoGrant []DomainGrant `json:"auto_grant,omitempty"`
}

// DomainGrant is one rule of AutoGrant.
type DomainGrant struct {
	Domain string `json:"domain"` // as in AllowDomains
	Role   Role   `json:"role"`
}

// Equal reports whether two rule sets are the same.
func (r AccessRules) Equal(o AccessRules) bool {
	return r.LinkLifetime == o.LinkLifetime && r.LinkIdle == o.LinkIdle && r.LinkUses == o.LinkUses &&
		r.InviteLifetime == o.InviteLifetime && slices.Equal(r.AllowDomains, o.AllowDomains) && slices.Equal(r.AutoGrant, o.AutoGrant)
}

// inviteLifetime is the effective lifetime of an invitation never opened (0: none).
func (r AccessRules) inviteLifetime() time.Duration {
	switch {
	case r.InviteLifetime == 0:
		return DefaultInviteLifetime
	case r.InviteLifetime < 0:
		return 0
	}
	return r.InviteLifetime
}

// LinkRule names the rule that stopped a link.
type LinkRule string

// The rules that stop links.
const (
	RuleLifetime   LinkRule = "lifetime"
	RuleIdle       LinkRule = "idle"
	RuleUses       LinkRule = "uses"
	RuleInvitation LinkRule = "invitation"
)

// LinkEnd is why and when a portal's rules stopped an active link.
type LinkEnd struct {
	Rule LinkRule
	At   time.Time
	Uses uint64 // RuleUses: the cap the link reached
}

// String is the end as the console and the SSH commands say it:
// "expired 3 Dec 2026", "used 5 of 5".
func (e LinkEnd) String() string {
	day := e.At.Format("2 Jan 2006")
	switch e.Rule {
	case RuleLifetime:
		return "expired " + day
	case RuleIdle:
		return "idle, stopped " + day
	case RuleUses:
		return fmt.Sprintf("used %d of %d", e.Uses, e.Uses)
	case RuleInvitation:
		return "invitation lapsed " + day
	}
	return ""
}

// endsSessions: the sessions the link opened end with it. A use cap stops
// the link's next redemption only: the sessions of the uses it allowed stay
// (the last of them would otherwise end as it opened).
func (e LinkEnd) endsSessions() bool { return e.Rule != RuleUses }

// LinkEnd is whether (and why) the rules have stopped an active link at
// now: the one decision that the landing page, the redemption, the code
// typed in a browser, sessions and the proxy all take. A deactivated or
// replaced link is not the rules' to stop.
func (r AccessRules) LinkEnd(l Link, now time.Time) (LinkEnd, bool) {
	if l.State != LinkActive {
		return LinkEnd{}, false
	}
	var end LinkEnd
	consider := func(rule LinkRule, at time.Time) {
		if !now.Before(at) && (end.Rule == "" || at.Before(end.At)) {
			end = LinkEnd{Rule: rule, At: at}
		}
	}
	if r.LinkUses > 0 && l.UseCount >= r.LinkUses {
		consider(RuleUses, l.LastUsedAt)
		end.Uses = r.LinkUses
	}
	if r.LinkLifetime > 0 {
		consider(RuleLifetime, l.CreatedAt.Add(r.LinkLifetime))
	}
	if r.LinkIdle > 0 {
		last := l.CreatedAt
		if l.LastUsedAt.After(last) {
			last = l.LastUsedAt
		}
		consider(RuleIdle, last.Add(r.LinkIdle))
	}
	if life := r.inviteLifetime(); life > 0 && l.Invited && l.UseCount == 0 {
		consider(RuleInvitation, l.CreatedAt.Add(life))
	}
	if end.Rule != RuleUses {
		end.Uses = 0
	}
	return end, end.Rule != ""
}

// linkEndsAt is the next time the rules stop the link, if they do (for
// deciding how long a decision about it stays true); a use cap is reached
// by uses, not by the clock.
func (r AccessRules) linkEndsAt(l Link) (time.Time, bool) {
	var at time.Time
	take := func(t time.Time) {
		if at.IsZero() || t.Before(at) {
			at = t
		}
	}
	if r.LinkLifetime > 0 {
		take(l.CreatedAt.Add(r.LinkLifetime))
	}
	if r.LinkIdle > 0 {
		last := l.CreatedAt
		if l.LastUsedAt.After(last) {
			last = l.LastUsedAt
		}
		take(last.Add(r.LinkIdle))
	}
	if life := r.inviteLifetime(); life > 0 && l.Invited && l.UseCount == 0 {
		take(l.CreatedAt.Add(life))
	}
	return at, !at.IsZero()
}

// DomainAllowed reports whether an email portal admits the address by
// itself (its domain is allowed, or the portal allows every domain).
func (r AccessRules) DomainAllowed(email string) bool {
	return len(r.AllowDomains) == 0 || slices.ContainsFunc(r.AllowDomains, func(d string) bool { return domainMatches(d, email) })
}

// autoGrant is the role a closed portal grants the address's request by
// rule, if one of its rules matches (the first that does).
func (r AccessRules) autoGrant(email string) (DomainGrant, bool) {
	for _, g := range r.AutoGrant {
		if domainMatches(g.Domain, email) {
			return g, true
		}
	}
	return DomainGrant{}, false
}

// domainMatches: the (normalised) address is at the rule's domain:
// "acme.com" is that domain only, "*.acme.com" any of its subdomains.
func domainMatches(rule, email string) bool {
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return false
	}
	domain := email[at+1:]
	if sub, ok := strings.CutPrefix(rule, "*."); ok {
		return strings.HasSuffix(domain, "."+sub)
	}
	return domain == rule
}

// The words the rules' values are written in, on the command line, in the
// console's form and in `portal show`.

// ParseRuleDuration reads a rule's duration: "none" (or empty) for no
// limit, else a whole number of days or weeks ("30d", "2w") or a Go
// duration ("36h", "90m"), from a minute to ten years.
func ParseRuleDuration(field, s string) (time.Duration, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" || s == "none" {
		return 0, nil
	}
	var d time.Duration
	if n, unit := strings.TrimRight(s, "dw"), strings.TrimLeft(s, "0123456789"); (unit == "d" || unit == "w") && n != "" && len(n)+1 == len(s) {
		v, err := strconv.Atoi(n)
		if err != nil || v > 5000 {
			return 0, invalid(field, "%q is longer than ten years", clip(s))
		}
		d = time.Duration(v) * 24 * time.Hour
		if unit == "w" {
			d *= 7
		}
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, invalid(field, "%q is not a duration (like 30d, 2w, 36h or none)", clip(s))
		}
	}
	switch {
	case d < 0:
		return 0, invalid(field, "%q is negative; a duration is 1 minute or more, or none", clip(s))
	case d < minRuleDuration:
		return 0, invalid(field, "%q is shorter than a minute; give 1m or more, or none", clip(s))
	case d > maxRuleDuration:
		return 0, invalid(field, "%q is longer than ten years; give less, or none", clip(s))
	}
	return d, nil
}

// ParseInviteLifetime reads the invitation lifetime: a duration as
// ParseRuleDuration takes it, "default" (or empty) for
// DefaultInviteLifetime, or "none" (NoInviteLimit).
func ParseInviteLifetime(s string) (time.Duration, error) {
	switch t := strings.ToLower(strings.TrimSpace(s)); t {
	case "", "default":
		return 0, nil
	case "none":
		return NoInviteLimit, nil
	}
	return ParseRuleDuration("invite-lifetime", s)
}

// ParseLinkUses reads a use cap: "none" (or empty), or 1 to a million.
func ParseLinkUses(s string) (uint64, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" || s == "none" {
		return 0, nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	switch {
	case err != nil && strings.Trim(s, "0123456789") == "":
		return 0, invalid("link-uses", "%q is more than %d uses; give fewer, or none", clip(s), maxLinkUses)
	case err != nil:
		return 0, invalid("link-uses", "%q is not a number of uses (like 5, or none)", clip(s))
	case n == 0:
		return 0, invalid("link-uses", "0 uses would stop every link at once; give 1 or more, or none")
	case n > maxLinkUses:
		return 0, invalid("link-uses", "%q is more than %d uses; give fewer, or none", clip(s), maxLinkUses)
	}
	return n, nil
}

// ParseDomains reads a list of domains ("acme.com, *.acme.co.uk"; "none"
// or empty for none), IDNA-normalised as addresses' domains are.
func ParseDomains(field, s string) ([]string, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.EqualFold(s, "none") {
		return nil, nil
	}
	var out []string
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == ';' }) {
		d, err := parseRuleDomain(field, part)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	if len(out) > maxRuleDomains {
		return nil, invalid(field, "%d domains are more than %d; a rule takes at most %d", len(out), maxRuleDomains, maxRuleDomains)
	}
	return out, nil
}

// parseRuleDomain reads one domain of a rule: a domain name, or "*." and
// one (its subdomains).
func parseRuleDomain(field, s string) (string, error) {
	raw := strings.TrimSpace(s)
	name, wild := strings.CutPrefix(raw, "*.")
	switch {
	case name == "":
		return "", invalid(field, "%q is not a domain (like acme.com or *.acme.com)", clip(raw))
	case strings.Contains(name, "*"):
		return "", invalid(field, "%q: a wildcard is only the first label, as in *.acme.com", clip(raw))
	case strings.Contains(name, "@"):
		return "", invalid(field, "%q is an address; give its domain only, like acme.com", clip(raw))
	}
	ascii, err := domains.ToASCII(name)
	if err != nil {
		return "", invalid(field, "%q is not a valid domain name (like acme.com)", clip(raw))
	}
	if reason := undeliverableDomain(ascii); reason != "" {
		return "", invalid(field, "%q %s", clip(raw), strings.Replace(reason, "in its domain; an address needs one, like ann@example.com", "; a domain needs one, like acme.com", 1))
	}
	uni, err := domains.ToUnicode(ascii)
	if err != nil {
		return "", invalid(field, "%q is not a valid domain name (like acme.com)", clip(raw))
	}
	if wild {
		return "*." + uni, nil
	}
	return uni, nil
}

// ParseAutoGrant reads grant rules: "acme.com=client, *.partner.io=member"
// ("none" or empty for none). A rule grants client, guest or member, never
// owner or manager: who runs the organization is the owner's to choose.
func ParseAutoGrant(s string) ([]DomainGrant, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.EqualFold(s, "none") {
		return nil, nil
	}
	var out []DomainGrant
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		dom, role, ok := strings.Cut(part, "=")
		if !ok {
			return nil, invalid("auto-grant", "%q is not a rule DOMAIN=ROLE (like acme.com=client)", clip(part))
		}
		d, err := parseRuleDomain("auto-grant", dom)
		if err != nil {
			return nil, err
		}
		r, err := ParseRole(role)
		if err != nil {
			return nil, invalid("auto-grant", "%q: %q is not a role (one of client, guest, member)", clip(part), clip(strings.TrimSpace(role)))
		}
		if r.UsesConsole() {
			return nil, invalid("auto-grant", "%q would grant %s; a rule grants client, guest or member, never owner or manager", clip(part), r)
		}
		if slices.ContainsFunc(out, func(g DomainGrant) bool { return g.Domain == d }) {
			return nil, invalid("auto-grant", "%s has two rules; give each domain one role", d)
		}
		out = append(out, DomainGrant{Domain: d, Role: r})
	}
	if len(out) > maxRuleDomains {
		return nil, invalid("auto-grant", "%d rules are more than %d", len(out), maxRuleDomains)
	}
	return out, nil
}

// FormatRuleDuration writes a rule's duration as ParseRuleDuration reads
// it: "none", "30d", "2w", "36h0m0s" as Go writes the rest.
func FormatRuleDuration(d time.Duration) string {
	const day = 24 * time.Hour
	switch {
	case d <= 0:
		return "none"
	case d%(7*day) == 0:
		return strconv.FormatInt(int64(d/(7*day)), 10) + "w"
	case d%day == 0:
		return strconv.FormatInt(int64(d/day), 10) + "d"
	}
	return strings.TrimSuffix(strings.TrimSuffix(d.String(), "0s"), "0m")
}

// The rules' values in the words ParseRuleDuration and its siblings read.

// LifetimeWord is the link lifetime's value.
func (r AccessRules) LifetimeWord() string { return FormatRuleDuration(r.LinkLifetime) }

// IdleWord is the idle limit's value.
func (r AccessRules) IdleWord() string { return FormatRuleDuration(r.LinkIdle) }

// UsesWord is the use cap's value.
func (r AccessRules) UsesWord() string {
	if r.LinkUses == 0 {
		return "none"
	}
	return strconv.FormatUint(r.LinkUses, 10)
}

// InviteWord is the invitation lifetime's value ("14d (default)").
func (r AccessRules) InviteWord() string {
	switch {
	case r.InviteLifetime == 0:
		return FormatRuleDuration(DefaultInviteLifetime) + " (default)"
	case r.InviteLifetime < 0:
		return "none"
	}
	return FormatRuleDuration(r.InviteLifetime)
}

// DomainsWord is the allowed domains' value.
func (r AccessRules) DomainsWord() string {
	if len(r.AllowDomains) == 0 {
		return "none"
	}
	return strings.Join(r.AllowDomains, ", ")
}

// AutoGrantWord is the grant rules' value.
func (r AccessRules) AutoGrantWord() string {
	if len(r.AutoGrant) == 0 {
		return "none"
	}
	parts := make([]string, len(r.AutoGrant))
	for i, g := range r.AutoGrant {
		parts[i] = g.Domain + "=" + string(g.Role)
	}
	return strings.Join(parts, ", ")
}

// RulesPatch changes some of a portal's rules, each as its words (nil:
// unchanged), parsed by core so that every adapter refuses the same input
// with the same reason, under the field's name.
type RulesPatch struct {
	LinkLifetime, LinkIdle, LinkUses, InviteLifetime, AllowDomains, AutoGrant *string
}

// Empty: the patch changes nothing.
func (rp RulesPatch) Empty() bool {
	return rp.LinkLifetime == nil && rp.LinkIdle == nil && rp.LinkUses == nil && rp.InviteLifetime == nil &&
		rp.AllowDomains == nil && rp.AutoGrant == nil
}

// Check reads every value the patch gives, as saving it would; the
// error is a *ValidationError naming the field (its flag's name).
func (rp RulesPatch) Check() error {
	_, err := rp.apply(AccessRules{})
	return err
}

// apply parses the patch onto r; nothing changes when a value is refused.
func (rp RulesPatch) apply(r AccessRules) (AccessRules, error) {
	var err error
	if rp.LinkLifetime != nil {
		if r.LinkLifetime, err = ParseRuleDuration("link-lifetime", *rp.LinkLifetime); err != nil {
			return r, err
		}
	}
	if rp.LinkIdle != nil {
		if r.LinkIdle, err = ParseRuleDuration("link-idle", *rp.LinkIdle); err != nil {
			return r, err
		}
	}
	if rp.LinkUses != nil {
		if r.LinkUses, err = ParseLinkUses(*rp.LinkUses); err != nil {
			return r, err
		}
	}
	if rp.InviteLifetime != nil {
		if r.InviteLifetime, err = ParseInviteLifetime(*rp.InviteLifetime); err != nil {
			return r, err
		}
	}
	if rp.AllowDomains != nil {
		if r.AllowDomains, err = ParseDomains("allow-domains", *rp.AllowDomains); err != nil {
			return r, err
		}
	}
	if rp.AutoGrant != nil {
		if r.AutoGrant, err = ParseAutoGrant(*rp.AutoGrant); err != nil {
			return r, err
		}
	}
	return r, nil
}

// checkFor refuses rules set in this change that the portal's access level
// does not use: domains allowed on a portal that is not an email portal,
// grant rules on one that is not closed. Rules set earlier stay as they
// are when the access changes (and apply again if it changes back).
func (rp RulesPatch) checkFor(r AccessRules, access AccessLevel) error {
	if rp.AllowDomains != nil && len(r.AllowDomains) > 0 && access != AccessEmail {
		return invalid("allow-domains", "allowed domains are for email portals, and this portal is %s; set its access to email too, or give none", access)
	}
	if rp.AutoGrant != nil && len(r.AutoGrant) > 0 && access != AccessClosed {
		return invalid("auto-grant", "grant rules are for closed portals, and this portal is %s; set its access to closed too, or give none", access)
	}
	return nil
}

// rulesChanges says what a change of the rules did, for the audit log.
func rulesChanges(before, after AccessRules) []string {
	var out []string
	add := func(changed bool, what, word string) {
		if changed {
			out = append(out, what+" "+word)
		}
	}
	add(before.LinkLifetime != after.LinkLifetime, "link lifetime", after.LifetimeWord())
	add(before.LinkIdle != after.LinkIdle, "link idle", after.IdleWord())
	add(before.LinkUses != after.LinkUses, "link uses", after.UsesWord())
	add(before.InviteLifetime != after.InviteLifetime, "invitation lifetime", after.InviteWord())
	add(!slices.Equal(before.AllowDomains, after.AllowDomains), "allowed domains", after.DomainsWord())
	add(!slices.Equal(before.AutoGrant, after.AutoGrant), "grant rules", after.AutoGrantWord())
	return out
}
