package web

import (
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"

	"latchkey/core"
)

// ownPrefix is the path, on a portal's own host, of what latchkey serves
// there itself (the sign-in hand-over, sign-out, its stylesheet); every
// other path of that host is the upstream's.
const ownPrefix = "/_latchkey"

// route sends a request to a portal's own host to the gate in host mode,
// one under /p/{slug}/ of a portal with an upstream to the gate in path
// mode, and everything else to latchkey's pages.
func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	if host := requestHost(r); host != s.pubHost && host != "" {
		if ok, err := s.svc.IsPortalHost(r.Context(), host); err != nil {
			s.internalError(w, r, err)
			return
		} else if ok {
			s.hostGate(w, r, host)
			return
		}
	}
	if s.api != nil && (r.URL.Path == "/api" || strings.HasPrefix(r.URL.Path, "/api/")) {
		info(r).route = "api"
		s.api.ServeHTTP(w, r)
		return
	}
	if slug, rest, ok := portalSubpath(r.URL.Path); ok {
		if s.pathGate(w, r, slug, rest) {
			return
		}
	}
	s.pages.ServeHTTP(w, r)
}

// requestHost is the request's host name, lower case, without its port.
func requestHost(r *http.Request) string {
	h := r.Host
	if host, _, err := net.SplitHostPort(h); err == nil {
		h = host
	}
	return strings.ToLower(strings.TrimSuffix(h, "."))
}

// portalSubpath splits /p/{slug}/{rest...} (rest keeps its leading slash).
func portalSubpath(p string) (slug, rest string, ok bool) {
	after, ok := strings.CutPrefix(p, "/p/")
	if !ok {
		return "", "", false
	}
	slug, rest, ok = strings.Cut(after, "/")
	if !ok || slug == "" {
		return "", "", false
	}
	return slug, "/" + rest, true
}

// pathGate serves /p/{slug}/… of a portal with an upstream: proxied for
// whoever may pass, the closed page for anyone else; a POST of the access
// form from someone without access is the form's. It reports false (the
// pages handle the request) for a portal without an upstream, an unknown
// slug, or the form.
func (s *Server) pathGate(w http.ResponseWriter, r *http.Request, slug, rest string) bool {
	sid := s.sessionID(r)
	g, err := s.svc.GateBySlug(r.Context(), slug, sid)
	switch {
	case errors.Is(err, core.ErrNotFound):
		return false
	case err != nil:
		s.internalError(w, r, err)
		return true
	case g.Portal.Upstream == "":
		return false
	case rest == "/access" && r.Method == http.MethodPost && !g.HasAccess:
		return false
	case !g.Allowed:
		s.pages.ServeHTTP(w, portalPage(r, slug))
		return true
	}
	s.touch(r, g, sid)
	s.proxy(w, r, g, "/p/"+g.Portal.Slug, s.svc.PublicURL()+"/p/"+g.Portal.Slug)
	return true
}

// portalPage is r turned into a request for the portal's own page, which
// shows the closed page (and its form) to whoever may not pass.
func portalPage(r *http.Request, slug string) *http.Request {
	r2 := r.Clone(r.Context())
	r2.URL.Path, r2.URL.RawPath = "/p/"+slug, ""
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		r2.Method = http.MethodGet
	}
	return r2
}

// touch refreshes the session's idle timer (at most once a minute).
func (s *Server) touch(r *http.Request, g core.Gate, sid string) {
	if g.User != nil && sid != "" && s.svc.Now().Sub(g.Session.LastSeenAt) >= core.TouchEvery {
		s.svc.Session(r.Context(), sid)
	}
}

// hostGate serves a request to a portal's own host. latchkey's own paths
// are under /_latchkey/; every other one is the upstream's, for whoever
// may pass. A visitor without a session here is sent to the main address,
// which hands a signed-in session over with a one-minute code (or shows
// the closed page and its form).
func (s *Server) hostGate(w http.ResponseWriter, r *http.Request, host string) {
	if rest, own := strings.CutPrefix(r.URL.Path, ownPrefix+"/"); own {
		s.hostOwn(w, r, host, rest)
		return
	}
	sid := s.sessionID(r)
	g, err := s.svc.GateByHost(r.Context(), host, sid)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	if !g.Allowed || g.Portal.Upstream == "" {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			setPageHeaders(w.Header(), s.cookie.secure)
			p := s.newPage(r, g.Portal.LanguageIn(g.Org))
			p.Status, p.Title, p.Message = http.StatusForbidden, p.tr.T("page.sign_in_first.title"), p.tr.T("page.sign_in_first.body")
			p.brand(g.Org)
			p.Portal, p.Static, p.Action, p.ActionText = g.Portal.Title, ownPrefix+"/static", "/", p.tr.T("action.open_named", g.Portal.Title)
			s.render(w, r, http.StatusForbidden, "error", p)
			return
		}
		http.Redirect(w, r, s.authorizeURL(g.Portal.Slug, r.URL.RequestURI()), http.StatusFound)
		return
	}
	s.touch(r, g, sid)
	s.proxy(w, r, g, "", s.hostURL(host))
}

// hostURL is the address of a portal's own host: the public URL's scheme
// and port with the portal's host name.
func (s *Server) hostURL(host string) string {
	u := url.URL{Scheme: s.pub.Scheme, Host: host}
	if p := s.pub.Port(); p != "" {
		u.Host = net.JoinHostPort(host, p)
	}
	return u.String()
}

func (s *Server) authorizeURL(slug, ret string) string {
	return s.svc.PublicURL() + ownPrefix + "/authorize?portal=" + url.QueryEscape(slug) + "&return=" + url.QueryEscape(safeReturn(ret))
}

// safeReturn keeps a path to land on within the host it is for.
func safeReturn(ret string) string {
	if ret == "" || ret[0] != '/' || strings.HasPrefix(ret, "//") || strings.HasPrefix(ret, "/\\") || strings.ContainsAny(ret, "\r\n") {
		return "/"
	}
	return ret
}

// hostOwn serves latchkey's own paths on a portal's host.
func (s *Server) hostOwn(w http.ResponseWriter, r *http.Request, host, rest string) {
	setPageHeaders(w.Header(), s.cookie.secure)
	switch {
	case rest == "static/style.css" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		s.style(w, r)
	case strings.HasPrefix(rest, "static/logo/") && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		s.logoFile(w, r, strings.TrimPrefix(rest, "static/logo/"))
	case strings.HasPrefix(rest, "static/accent/") && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		s.accentFile(w, r, strings.TrimPrefix(rest, "static/accent/"))
	case rest == "callback" && r.Method == http.MethodGet:
		si, ret, err := s.svc.ExchangeHostCode(r.Context(), r.URL.Query().Get("code"), host, s.visitor(r))
		switch {
		case errors.Is(err, core.ErrTokenInvalid):
			p := s.newPage(r, "")
			p.Status, p.Title, p.Message = http.StatusBadRequest, p.tr.T("page.sign_in_expired.title"), p.tr.T("page.sign_in_expired.body")
			p.Static, p.Action, p.ActionText = ownPrefix+"/static", "/", p.tr.T("action.sign_in_again")
			s.render(w, r, http.StatusBadRequest, "error", p)
		case err != nil:
			s.internalError(w, r, err)
		default:
			s.setSession(w, si)
			http.Redirect(w, r, safeReturn(ret), http.StatusSeeOther)
		}
	case rest == "signin" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		g, err := s.svc.GateByHost(r.Context(), host, "")
		if err != nil {
			s.internalError(w, r, err)
			return
		}
		http.Redirect(w, r, s.authorizeURL(g.Portal.Slug, r.URL.Query().Get("return")), http.StatusFound)
	case rest == "signout" && r.Method == http.MethodPost:
		s.csrf.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			g, err := s.svc.GateByHost(r.Context(), host, "")
			if err != nil {
				s.internalError(w, r, err)
				return
			}
			if id := s.sessionID(r); id != "" {
				if err := s.svc.EndSession(r.Context(), id, s.visitor(r)); err != nil {
					s.internalError(w, r, err)
					return
				}
			}
			s.clearSession(w)
			http.Redirect(w, r, s.svc.PublicURL()+"/p/"+g.Portal.Slug+"?signed_out=1", http.StatusSeeOther)
		})).ServeHTTP(w, r)
	default:
		p := s.newPage(r, "")
		p.Status, p.Title, p.Message = http.StatusNotFound, p.tr.T("page.not_found.title"), p.tr.T("page.not_found.own")
		p.Static, p.Action, p.ActionText = ownPrefix+"/static", "/", p.tr.T("action.open_the_portal")
		s.render(w, r, http.StatusNotFound, "error", p)
	}
}

// authorize is the main address's half of host mode: a visitor signed in
// here with access is handed over to the portal's host with a code; anyone
// else sees the portal's page (closed, with its form).
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	slug, ret := r.URL.Query().Get("portal"), safeReturn(r.URL.Query().Get("return"))
	sid := s.sessionID(r)
	g, err := s.svc.GateBySlug(r.Context(), slug, sid)
	switch {
	case errors.Is(err, core.ErrNotFound):
		s.portalError(w, r, err)
		return
	case err != nil:
		s.internalError(w, r, err)
		return
	case g.Portal.Host == "":
		http.Redirect(w, r, "/p/"+g.Portal.Slug, http.StatusFound)
		return
	case g.User == nil || !g.Allowed:
		http.Redirect(w, r, "/p/"+g.Portal.Slug, http.StatusFound)
		return
	}
	code, err := s.svc.HandOver(r.Context(), sid, g.Portal.ID, ret)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	http.Redirect(w, r, s.hostURL(g.Portal.Host)+ownPrefix+"/callback?code="+url.QueryEscape(code), http.StatusFound)
}
