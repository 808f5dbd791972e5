package core

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Unaccent drops the marks that decomposing letters adds: "Café" is "Cafe".
// (A transform chain keeps state while it runs: one per call.)
func Unaccent(s string) string {
	if plain, _, err := transform.String(transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC), s); err == nil {
		return plain
	}
	return s
}

// Limits on what people type.
const (
	MaxEmailLen    = 254
	MaxNameLen     = 200
	MaxWelcomeLen  = 8000 // Markdown: a few pages
	MinPasswordLen = 8
	MaxPasswordLen = 256
	MinSlugLen     = 2
	MaxSlugLen     = 64
)

// cleanName validates a single-line human text (a person's, project's or
// organization's name, a portal title): valid UTF-8, no control or hidden
// format characters, at most MaxNameLen characters, its spaces collapsed to
// one between words; required when required is set.
func cleanName(field, s string, required bool) (string, error) {
	if !utf8.ValidString(s) {
		return "", invalid(field, "is not valid text")
	}
	// An "é" typed as e and a combining accent is the "é" typed as one
	// character (and counted as one below).
	s = strings.TrimSpace(norm.NFC.String(s))
	switch {
	case s == "" && required:
		return "", invalid(field, "must not be empty")
	case strings.ContainsFunc(s, unicode.IsControl):
		return "", invalid(field, "must be one line without control characters")
	case strings.ContainsFunc(s, hiddenFormat):
		return "", invalid(field, "must not contain invisible or text-direction characters")
	case utf8.RuneCountInString(s) > MaxNameLen:
		return "", invalid(field, "is longer than %d characters", MaxNameLen)
	}
	return strings.Join(strings.Fields(s), " "), nil // "Website  Redesign" is "Website Redesign"
}

// hiddenFormat reports characters that change how a name is shown without
// being seen: text-direction embeddings, overrides, isolates and marks (which
// can make "moc.elpmaxe@nimda" read as "admin@example.com" on a page or in an
// email), and invisible spaces, fillers and format characters that make a
// name look blank or two different names look alike. Zero-width
// (non-)joiners, which some scripts and emoji need, stay.
func hiddenFormat(r rune) bool {
	switch r {
	case '\u200C', '\u200D': // zero-width non-joiner and joiner
		return false
	case '\u034F', '\u115F', '\u1160', '\u3164', '\uFFA0': // grapheme joiner, Hangul fillers
		return true
	}
	return unicode.Is(unicode.Cf, r) // format characters: bidi controls, zero-width space, BOM, tags, …
}

// CheckName says whether s would be accepted as a person's name (or why
// not), as the forms that take one do.
func CheckName(s string) error {
	_, err := cleanName("name", s, false)
	return err
}

// cleanText validates a multi-line text (a portal's welcome text): valid
// UTF-8, no control characters but line breaks and tabs, at most max characters.
func cleanText(field, s string, max int) (string, error) {
	s = strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
	switch {
	case !utf8.ValidString(s):
		return "", invalid(field, "is not valid text")
	case strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }):
		return "", invalid(field, "contains a control character")
	case utf8.RuneCountInString(s) > max:
		return "", invalid(field, "is longer than %d characters", max)
	}
	return s, nil
}

// ValidateSlug checks a portal or organization slug: 2–64 characters of
// a–z, 0–9 and inner hyphens.
func ValidateSlug(s string) (string, error) {
	s = strings.TrimSpace(s)
	if n := len(s); n < MinSlugLen || n > MaxSlugLen {
		return "", invalid("slug", "%q must be %d to %d characters long", clip(s), MinSlugLen, MaxSlugLen)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' && i > 0 && i < len(s)-1
		if !ok {
			return "", invalid("slug", "%q may hold only lower-case letters, digits and inner hyphens (like website-redesign)", clip(s))
		}
	}
	return s, nil
}

// Slugify turns a name into a slug candidate ("Website Redesign" → "website-redesign").
func Slugify(name string) string {
	var b strings.Builder
	dash := false
	// Letters lose their accents first: "Café" is cafe, not caf.
	for _, r := range strings.ToLower(Unaccent(name)) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case b.Len() > 0 && !dash:
			b.WriteByte('-')
			dash = true
		}
		if b.Len() >= MaxSlugLen {
			break
		}
	}
	return strings.Trim(b.String(), "-")
}

// ValidatePassword checks a new password's length (8–256 characters).
func ValidatePassword(pw string) error {
	switch n := utf8.RuneCountInString(pw); {
	case !utf8.ValidString(pw):
		return invalid("password", "is not valid text")
	case strings.ContainsRune(pw, 0):
		return invalid("password", "must not contain a NUL character")
	case n < MinPasswordLen:
		return invalid("password", "must be at least %d characters long", MinPasswordLen)
	case n > MaxPasswordLen:
		return invalid("password", "must be at most %d characters long", MaxPasswordLen)
	}
	return nil
}

// validGuestUntil checks a guest's access end date: only for guests, and in the future.
func validGuestUntil(role Role, until, now time.Time) error {
	if until.IsZero() {
		return nil
	}
	if role != RoleGuest {
		return invalid("guest_until", "only the guest role has one")
	}
	if !until.After(now) {
		return invalid("guest_until", "%s is not in the future", until.Format(time.DateOnly))
	}
	return nil
}

// clip shortens what a person typed before it is quoted in an error message.
func clip(s string) string { return clipTo(s, 64) }

// clipTo cuts s to n runes, marking the cut with "…".
func clipTo(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}

// ParseDate reads a date as YYYY-MM-DD (UTC); field names it in the error.
func ParseDate(field, s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, invalid(field, "%q is not a date like 2026-12-31", s)
	}
	return d, nil
}

// ParseGuestUntil reads a guest's access end date as a form or prompt has
// it: empty for none, else a date after now (the check Invite and
// ChangeRole run, so that a prompt can stay open on a bad one).
func ParseGuestUntil(s string, now time.Time) (time.Time, error) {
	if strings.TrimSpace(s) == "" {
		return time.Time{}, nil
	}
	d, err := ParseDate("guest_until", s)
	if err != nil {
		return time.Time{}, err
	}
	return d, validGuestUntil(RoleGuest, d, now)
}
