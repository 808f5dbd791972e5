package web_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// allowed is the set of statuses a route may answer; a 500 or a panic is
// always a failure.
func checkAnswer(t *testing.T, rec *httptest.ResponseRecorder, allowed ...int) {
	t.Helper()
	ok := false
	for _, s := range allowed {
		ok = ok || rec.Code == s
	}
	if !ok {
		t.Fatalf("status %d (allowed %v):\n%s", rec.Code, allowed, rec.Body.String())
	}
	if b := rec.Body.String(); strings.Contains(b, "goroutine ") || strings.Contains(b, "panic") {
		t.Fatalf("the page leaks internals:\n%s", b)
	}
}

// FuzzTokenRoute sends any string as a magic-link token, by GET, HEAD and
// POST: the answer is always a page with a proper status, and GET and HEAD
// never change the database.
func FuzzTokenRoute(f *testing.F) {
	s := newSite(f, noLimits)
	for _, seed := range []string{s.links["website-redesign"], "", "a", strings.Repeat("A", 43), strings.Repeat("A", 44),
		"../../etc/passwd", "%00", "\x00\r\n", "é" + strings.Repeat("b", 42), strings.Repeat("x", 4096), "m/" + s.links["brand-guidelines"]} {
		f.Add(seed)
	}
	h := s.srv.Handler()
	f.Fuzz(func(t *testing.T, token string) {
		target := "/m/" + url.PathEscape(token)
		before := s.Dump()
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
			checkAnswer(t, rec, 200, 301, 307, 404, 410) // 301, 307: the mux cleans paths like /m/.
		}
		if s.Dump() != before {
			t.Fatal("GET or HEAD changed the database")
		}
		req := httptest.NewRequest(http.MethodPost, target, nil)
		req.Header.Set("Origin", "http://example.com")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		checkAnswer(t, rec, 303, 307, 308, 404, 405, 410)
	})
}

// FuzzAccessForm sends any body to the Send access link form: the answer is
// a page with a proper status, and a refused form changes nothing.
func FuzzAccessForm(f *testing.F) {
	s := newSite(f, noLimits)
	for _, seed := range []string{"email=client%40acme.test", "email=stranger%40x.test", "email=", "email=%zz", "email=a%40b%0d%0aBcc%3a+c%40d",
		"email=Ann+%3Cann%40x.test%3E", "x=1&email=a%40b.test&email=c%40d.test", strings.Repeat("a", 70000), "email=" + strings.Repeat("%41", 300) + "%40x.test"} {
		f.Add(seed)
	}
	h := s.srv.Handler()
	f.Fuzz(func(t *testing.T, body string) {
		before := s.Dump()
		req := httptest.NewRequest(http.MethodPost, "/p/website-redesign/access", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		checkAnswer(t, rec, 200, 400, 403, 413)
		if rec.Code == 400 || rec.Code == 413 {
			if s.Dump() != before {
				t.Fatal("a refused form changed the database")
			}
		}
	})
}

// FuzzSignInForms sends any body to the forms that check a password or send
// mail: the answer is a page with a proper status.
func FuzzSignInForms(f *testing.F) {
	s := newSite(f, noLimits)
	for _, seed := range []string{"email=owner%40northwind.test&password=northwind-demo", "email=&password=", "email=%ff%fe&password=x&next=%2F%2Fevil",
		"password=" + strings.Repeat("p", 2000), "next=javascript:alert(1)&email=a%40b.test&password=12345678"} {
		f.Add(seed)
	}
	h := s.srv.Handler()
	f.Fuzz(func(t *testing.T, body string) {
		for _, path := range []string{"/login", "/restore", "/restore/" + strings.Repeat("A", 43), "/join/x"} {
			req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			checkAnswer(t, rec, 200, 303, 400, 401, 410, 413)
			if loc := rec.Header().Get("Location"); loc != "" && !strings.HasPrefix(loc, "/") || strings.HasPrefix(loc, "//") {
				t.Fatalf("%s redirects off the site to %q", path, loc)
			}
		}
	})
}
