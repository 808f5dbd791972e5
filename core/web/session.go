package web

import (
	"net/http"
	"strings"
	"time"

	"latchkey/core"
)

// cookieConfig: with an https public URL the session cookie is Secure and
// __Host- prefixed (bound to this host, path /).
type cookieConfig struct {
	name   string
	secure bool
}

func newCookieConfig(publicURL string) cookieConfig {
	if strings.HasPrefix(publicURL, "https://") {
		return cookieConfig{name: "__Host-latchkey_session", secure: true}
	}
	return cookieConfig{name: "latchkey_session"}
}

// sessionID is the session cookie's value when it has a session id's shape.
func (s *Server) sessionID(r *http.Request) string {
	if len(r.Header["Cookie"]) == 0 {
		return "" // most landing pages are a first visit: nothing to parse
	}
	c, err := r.Cookie(s.cookie.name)
	if err != nil || !core.WellFormedSession(c.Value) {
		return ""
	}
	return c.Value
}

func (s *Server) setSession(w http.ResponseWriter, si core.SignIn) {
	http.SetCookie(w, &http.Cookie{
		Name: s.cookie.name, Value: si.SessionID, Path: "/", Expires: si.ExpiresAt,
		HttpOnly: true, Secure: s.cookie.secure, SameSite: http.SameSiteLaxMode,
	})
}

func (s *Server) clearSession(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name: s.cookie.name, Value: "", Path: "/", Expires: time.Unix(1, 0), MaxAge: -1,
		HttpOnly: true, Secure: s.cookie.secure, SameSite: http.SameSiteLaxMode,
	})
}

// signIn replaces the browser's session: the old one (whoever it was)
// ends on the server and the new id goes into the cookie.
func (s *Server) signIn(w http.ResponseWriter, r *http.Request, si core.SignIn) {
	if old := s.sessionID(r); old != "" {
		if err := s.svc.EndSession(r.Context(), old, s.visitor(r)); err != nil {
			s.log.Warn("end previous session", "err", err, "request", requestID(r))
		}
	}
	s.setSession(w, si)
}

// signedIn is the user of a valid session, refreshing its idle timer; nil
// when there is none.
func (s *Server) signedIn(r *http.Request) *core.User {
	id := s.sessionID(r)
	if id == "" {
		return nil
	}
	si, err := s.svc.Session(r.Context(), id)
	if err != nil {
		return nil
	}
	return &si.User
}

func (s *Server) visitor(r *http.Request) core.Visitor {
	return core.Visitor{Addr: clientAddr(r), UserAgent: r.UserAgent(), Lang: s.visitorLang(r)}
}

// visitorLang is the language of the page a form was sent from (its lang
// field), else the browser's when latchkey speaks it, else "": core then
// writes in the portal's language.
func (s *Server) visitorLang(r *http.Request) string {
	if r.PostForm != nil {
		if l := r.PostForm.Get("lang"); s.i18n.Has(l) {
			return l
		}
	}
	l, _ := s.i18n.Accepted(r.Header.Get("Accept-Language"))
	return l
}

// safeNext keeps a redirect target on this site.
func safeNext(next string) string {
	if next == "" || next[0] != '/' || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") || strings.ContainsAny(next, "\r\n") {
		return "/portals"
	}
	return next
}
