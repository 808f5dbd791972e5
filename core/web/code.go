package web

import (
	"crypto/rand"
	"errors"
	"net/http"

	"latchkey/core"
)

// A code for the other device (core/code.go): the access form gives the
// browser a secret in a short-lived cookie scoped to /code; the email's
// six-digit code, typed on the "check your email" page, opens the portal
// in that browser only.

// codeCookie holds the browser's secret; only POST /code reads it.
const (
	codeCookie = "latchkey_code"
	codePath   = "/code"
)

// codeSecret gives the browser a new secret for the code of the link it
// asks for, and returns it ("" if no randomness: the email then has no code).
func (s *Server) codeSecret(w http.ResponseWriter) string {
	secret, err := core.NewToken(rand.Reader)
	if err != nil {
		s.log.Warn("code secret", "err", err)
		return ""
	}
	http.SetCookie(w, &http.Cookie{Name: codeCookie, Value: secret, Path: codePath, MaxAge: int(core.CodeTTL.Seconds()),
		HttpOnly: true, Secure: s.cookie.secure, SameSite: http.SameSiteStrictMode})
	return secret
}

// browserSecret is the code cookie's value when it has a secret's shape.
func browserSecret(r *http.Request) string {
	c, err := r.Cookie(codeCookie)
	if err != nil || !core.WellFormedToken(c.Value) {
		return ""
	}
	return c.Value
}

// useCode is POST /code: the code typed on the "check your email" page.
func (s *Server) useCode(w http.ResponseWriter, r *http.Request) {
	if !s.limit(w, r, s.limits.addr, "addr", clientAddr(r)) || !s.parseForm(w, r) {
		return
	}
	v := s.visitor(r)
	v.Browser = browserSecret(r)
	red, err := s.svc.UseCode(r.Context(), r.PostFormValue("code"), v)
	var rl *core.RateLimitError
	switch {
	case err == nil:
		s.metrics.redemptions.WithLabelValues("code").Inc()
		http.SetCookie(w, &http.Cookie{Name: codeCookie, Value: "", Path: codePath, MaxAge: -1,
			HttpOnly: true, Secure: s.cookie.secure, SameSite: http.SameSiteStrictMode})
		s.signIn(w, r, red.SignIn)
		http.Redirect(w, r, "/p/"+red.Portal.Slug, http.StatusSeeOther)
		return
	case errors.As(err, &rl):
		s.tooMany(w, r, "code", rl.Retry)
		return
	case errors.Is(err, core.ErrLinkInactive):
		s.metrics.redemptions.WithLabelValues("dead").Inc()
	case errors.Is(err, core.ErrNoAccess):
		s.metrics.redemptions.WithLabelValues("no_access").Inc()
	case !errors.Is(err, core.ErrInvalid) && !errors.Is(err, core.ErrCodeWrong) && !errors.Is(err, core.ErrCodeElsewhere) &&
		!errors.Is(err, core.ErrCodeExpired) && !errors.Is(err, core.ErrCodeSpent):
		s.internalError(w, r, err)
		return
	}
	s.codeError(w, r, err)
}

// codeError shows the code form again with why the code did not open the
// portal, and the way back to the portal's form.
func (s *Server) codeError(w http.ResponseWriter, r *http.Request, err error) {
	slug := r.PostFormValue("portal")
	p := s.newPage(r, "")
	if pv, perr := s.svc.OpenPortal(r.Context(), slug, ""); perr == nil {
		p = s.refPage(r, pv.PortalRef)
	}
	p.Title = p.tr.T("code.title")
	p.CodeForm, p.User = !errors.Is(err, core.ErrCodeSpent) && !errors.Is(err, core.ErrCodeExpired) && !errors.Is(err, core.ErrLinkInactive), s.signedIn(r)
	if errors.Is(err, core.ErrInvalid) {
		p.FieldError = p.tr.T("code.malformed")
	} else {
		p.FieldError = p.errorText(err)
	}
	status := http.StatusForbidden
	if errors.Is(err, core.ErrInvalid) {
		status = http.StatusBadRequest
	}
	s.render(w, r, status, "code", p)
}
