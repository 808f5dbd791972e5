package core

import (
	"context"
	"errors"
	"net/mail"
	"net/url"
	"strings"
	"testing"
	"unicode"
)

func FuzzNormalizeEmail(f *testing.F) {
	for _, s := range []string{"ann@example.com", " Ann@Example.COM ", "a@b", "Ann <ann@x.test>", "ann@x.test\r\n", `"a b"@x.test`, "\xff@x", "@", "a@", strings.Repeat("a", 300),
		"dörte@münchen.test", "ｃｌｉｅｎｔ@acme.test", "cli\u200bent@acme.test", "client@acme.tеst", "a@[1.2.3.4]", "a@1.2.3.4", "İ@x.test"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := NormalizeEmail(in)
		if err != nil {
			if !errors.Is(err, ErrInvalid) || strings.ContainsAny(err.Error(), "\r\n") {
				t.Fatalf("error %q", err)
			}
			return
		}
		if out != strings.ToLower(out) || strings.ContainsFunc(out, unicode.IsControl) || !strings.Contains(out, "@") || len(out) > MaxEmailLen {
			t.Fatalf("%q normalizes to %q", in, out)
		}
		if a, err := mail.ParseAddress(out); err != nil || a.Address != out {
			t.Fatalf("%q normalizes to %q, which is not a bare address", in, out)
		}
		if again, err := NormalizeEmail(out); err != nil || again != out {
			t.Fatalf("not idempotent: %q → %q → %q, %v", in, out, again, err)
		}
	})
}

func FuzzParseAuthorizedKey(f *testing.F) {
	for _, s := range []string{"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOBIXr28IKmVOC4aN1aoLtRWZCLgwZY8FQl/Q2j1v0/p olivia@laptop", "ssh-rsa AAAA", "", "from=\"x\" ssh-ed25519 AAAA", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOBIXr28IKmVOC4aN1aoLtRWZCLgwZY8FQl/Q2j1v0/p\nssh-rsa x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		pk, comment, err := ParseAuthorizedKey(line)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v", err)
			}
			return
		}
		if !strings.HasPrefix(Fingerprint(pk), "SHA256:") || strings.ContainsFunc(comment, unicode.IsControl) {
			t.Fatalf("key %q comment %q", Fingerprint(pk), comment)
		}
	})
}

// FuzzPasswordHash: a stored hash, whatever it holds, is parsed without
// panicking and never with costs beyond the bounds.
func FuzzPasswordHash(f *testing.F) {
	good, _ := HashPassword(context.Background(), "pw", Argon2Params{Time: 1, Memory: 64, Threads: 1}, strings.NewReader(strings.Repeat("s", 16)))
	for _, s := range []string{good, "", "$argon2id$v=19$m=4294967295,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5", "$argon2i$v=19$m=64,t=1,p=1$$", "$$$$$$"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, salt, key, ok := parsePHC(s)
		if ok && (p.Memory > 1<<20 || p.Time > 16 || p.Threads > 16 || len(key) > 64 || len(salt) > 64 || len(key) < 16) {
			t.Fatalf("%q accepted with %+v", s, p)
		}
	})
}

func FuzzParseUpstream(f *testing.F) {
	for _, s := range []string{"http://127.0.0.1:3000", "https://app.example.com/base/", "none", "", "ftp://x", "http://u:p@x", "http://[::1]:8080",
		"http://x:99999", "http://münchen.test", "http://a b", "HTTP://X.TEST/", "http://x/?q", "http://x#f", "http://:80", "javascript:alert(1)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := ParseUpstream(in)
		if err != nil {
			if !errors.Is(err, ErrInvalid) || strings.ContainsAny(err.Error(), "\r\n") {
				t.Fatalf("error %q", err)
			}
			return
		}
		if out == "" {
			return
		}
		u, err := url.Parse(out)
		if err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			t.Fatalf("%q parses to %q, which is not a bare http(s) URL", in, out)
		}
		if again, err := ParseUpstream(out); err != nil || again != out {
			t.Fatalf("not idempotent: %q → %q → %q, %v", in, out, again, err)
		}
	})
}

func FuzzParseHostName(f *testing.F) {
	for _, s := range []string{"clients.acme.test", "portal.localhost", "none", "", "a", "1.2.3.4", "x:80", "https://x.test", "Ünï.test", "a..b", "-a.test", "x_y.test"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := ParseHostName(in)
		if err != nil {
			if !errors.Is(err, ErrInvalid) || strings.ContainsAny(err.Error(), "\r\n") {
				t.Fatalf("error %q", err)
			}
			return
		}
		if out == "" {
			return
		}
		if out != strings.ToLower(out) || !strings.Contains(out, ".") || strings.ContainsAny(out, ":/?#@ ") || !IsASCII(out) {
			t.Fatalf("%q parses to %q", in, out)
		}
		if again, err := ParseHostName(out); err != nil || again != out {
			t.Fatalf("not idempotent: %q → %q → %q, %v", in, out, again, err)
		}
	})
}
