package web

import (
	"errors"
	"net/http"
	"net/url"

	"latchkey/core"
)

// parseForm reads a POST form, answering 413 for an oversized body and 400
// for a malformed one. It reports whether the handler may go on.
func (s *Server) parseForm(w http.ResponseWriter, r *http.Request) bool {
	err := r.ParseForm()
	if err == nil {
		return true
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		s.errorPage(w, r, http.StatusRequestEntityTooLarge, "page.too_big")
		return false
	}
	s.errorPage(w, r, http.StatusBadRequest, "page.bad_form")
	return false
}

// limit applies the named limiter to key and answers 429 when it is spent.
func (s *Server) limit(w http.ResponseWriter, r *http.Request, k *core.Keyed, name, key string) bool {
	ok, wait := k.Allow(key)
	if !ok {
		s.tooMany(w, r, name, wait)
	}
	return ok
}

func fieldError(err error) string {
	var ve *core.ValidationError
	if errors.As(err, &ve) {
		return core.FirstUpper(ve.Reason)
	}
	return err.Error()
}

// refPage is a page about a portal, in the language for its visitor.
func (s *Server) refPage(r *http.Request, ref core.PortalRef) page {
	p := s.newPage(r, ref.Portal.LanguageIn(ref.Org))
	p.brand(ref.Org)
	p.Portal, p.PortalSlug, p.Project, p.Access = ref.Portal.Title, ref.Portal.Slug, ref.Project.Name, ref.Portal.Access
	return p
}

// ---- magic links

func (s *Server) landing(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	l, err := s.svc.Landing(r.Context(), token, s.sessionID(r))
	if err == nil || errors.Is(err, core.ErrLinkInactive) { // the link's history: who looked, and how
		s.svc.NoteView(l.LinkID, s.visitor(r), r.Method, len(r.Header.Values("Cookie")) > 0)
	}
	switch {
	case err == nil:
		if l.Portal.Host != "" && l.Portal.Upstream != "" {
			// Open portal leads, through redirects, to the portal's own host.
			w.Header().Set("Content-Security-Policy", pageCSP(s.hostURL(l.Portal.Host)))
		}
		p := s.refPage(r, l.PortalRef)
		p.Title, p.Email, p.Token, p.User = p.tr.T("action.open_portal"), l.Email, token, l.SignedIn
		p.Requested, p.Used = l.Requested, l.Used
		if l.SignedIn != nil {
			p.SignedInAs = l.SignedIn.Email
		}
		if !s.fast.serveLanding(w, r, p) {
			s.render(w, r, http.StatusOK, "landing", p)
		}
	case errors.Is(err, core.ErrLinkInactive):
		p := s.refPage(r, l.PortalRef)
		p.Title, p.Email, p.User = p.tr.T("dead.title"), l.Email, l.SignedIn
		s.render(w, r, http.StatusGone, "link_dead", p)
	case errors.Is(err, core.ErrLinkUnknown):
		p := s.newPage(r, "")
		p.Title, p.User = p.tr.T("unknown.heading"), s.signedIn(r)
		s.render(w, r, http.StatusNotFound, "link_dead", p)
	default:
		s.internalError(w, r, err)
	}
}

func (s *Server) redeem(w http.ResponseWriter, r *http.Request) {
	if !s.limit(w, r, s.limits.addr, "addr", clientAddr(r)) || !s.parseForm(w, r) {
		return
	}
	token := r.PathValue("token")
	red, err := s.svc.Redeem(r.Context(), token, s.visitor(r))
	switch {
	case err == nil:
		s.metrics.redemptions.WithLabelValues("ok").Inc()
		s.signIn(w, r, red.SignIn)
		http.Redirect(w, r, "/p/"+red.Portal.Slug, http.StatusSeeOther)
		return
	case errors.Is(err, core.ErrLinkInactive), errors.Is(err, core.ErrLinkUnknown):
		s.metrics.redemptions.WithLabelValues("dead").Inc()
		s.landing(w, r) // the same page the link's address shows now
	case errors.Is(err, core.ErrNoAccess):
		s.metrics.redemptions.WithLabelValues("no_access").Inc()
		p := s.newPage(r, "")
		s.errorPage(w, r, http.StatusForbidden, "page.no_access", p.errorText(err))
	default:
		s.metrics.redemptions.WithLabelValues("error").Inc()
		s.internalError(w, r, err)
	}
}

// ---- portals

// portalError answers a failed lookup of a portal: 404 for no such portal.
func (s *Server) portalError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, core.ErrNotFound) {
		s.errorPage(w, r, http.StatusNotFound, "page.no_portal")
		return
	}
	s.internalError(w, r, err)
}

func (s *Server) portal(w http.ResponseWriter, r *http.Request) {
	pv, err := s.svc.OpenPortal(r.Context(), r.PathValue("slug"), s.sessionID(r))
	if err != nil {
		s.portalError(w, r, err)
		return
	}
	if pv.User != nil {
		pv.User = s.signedIn(r) // refreshes the session's idle timer
	}
	p := s.refPage(r, pv.PortalRef)
	p.Title, p.User, p.Role, p.HasAccess = pv.Portal.Title, pv.User, pv.Role, pv.HasAccess
	if pv.User != nil {
		p.Email = pv.User.Email
	} else if r.FormValue("signed_out") != "" {
		p.Notice = p.tr.T("notice.signed_out_link")
	}
	upstream, host := pv.Portal.Upstream != "", pv.Portal.Host != ""
	switch {
	case upstream && host && pv.User != nil && pv.MayView: // signed in, and let through: hand over to the host
		http.Redirect(w, r, ownPrefix+"/authorize?portal="+url.QueryEscape(pv.Portal.Slug)+"&return=%2F", http.StatusFound)
	case upstream && pv.HasAccess:
		http.Redirect(w, r, "/p/"+pv.Portal.Slug+"/", http.StatusFound)
	case pv.MayView:
		if !pv.HasAccess {
			p.Email = ""
		}
		if upstream { // open to anyone, who may also sign in
			p.Open = "/p/" + pv.Portal.Slug + "/"
			if host {
				p.Open = s.hostURL(pv.Portal.Host) + "/"
			}
		} else {
			p.Welcome, p.Content = s.md.Render(pv.Portal.Welcome), pv.Content
		}
		p.Home = true
		s.render(w, r, http.StatusOK, "portal", p)
	case pv.Portal.Access == core.AccessEmail:
		s.render(w, r, http.StatusOK, "closed", p)
	default:
		s.render(w, r, http.StatusForbidden, "closed", p)
	}
}

// access is the Send access link form.
func (s *Server) access(w http.ResponseWriter, r *http.Request) {
	if !s.limit(w, r, s.limits.addr, "addr", clientAddr(r)) || !s.parseForm(w, r) {
		return
	}
	slug, raw := r.PathValue("slug"), r.PostFormValue("email")
	email, err := core.NormalizeEmail(raw)
	if err != nil {
		s.accessFormError(w, r, slug, raw, err)
		return
	}
	if !s.limit(w, r, s.limits.email, "email", email) {
		return
	}
	v := s.visitor(r)
	v.Browser = s.codeSecret(w) // the email's code opens the portal in this browser
	res, err := s.svc.RequestAccess(r.Context(), slug, email, v)
	var rl *core.RateLimitError
	if errors.As(err, &rl) {
		s.tooMany(w, r, "portal", rl.Retry)
		return
	}
	if err != nil {
		s.portalError(w, r, err)
		return
	}
	p := s.refPage(r, res.PortalRef)
	p.Title, p.Email, p.User, p.FirstUse = p.tr.T("page.send_access_link.title"), email, s.signedIn(r), res.FirstUse
	status := http.StatusOK
	switch {
	case res.Generic:
		p.Outcome = "generic"
	case res.Outcome == core.OutcomeLinkSent:
		p.Outcome = "sent"
	default:
		p.Outcome, status = "requested", http.StatusForbidden
	}
	p.CodeForm = p.Outcome != "requested" && v.Browser != ""
	s.metrics.access.WithLabelValues(p.Outcome).Inc()
	if !serveResult(s.results, w, r, status, p) {
		s.render(w, r, status, "access_result", p)
	}
}

// accessFormError shows the portal's form again with the field's error.
func (s *Server) accessFormError(w http.ResponseWriter, r *http.Request, slug, raw string, err error) {
	pv, perr := s.svc.OpenPortal(r.Context(), slug, s.sessionID(r))
	if perr != nil {
		s.portalError(w, r, perr)
		return
	}
	p := s.refPage(r, pv.PortalRef)
	p.Title, p.User, p.Role, p.HasAccess = pv.Portal.Title, pv.User, pv.Role, pv.HasAccess
	p.Email, p.FieldError = clipForm(raw), fieldError(err)
	name := "closed"
	if pv.Portal.Access == core.AccessOpen {
		name = "portal"
	}
	s.render(w, r, http.StatusBadRequest, name, p)
}

// myLinksForm is "Send me my links": one email with a link to every portal
// an address opens.
func (s *Server) myLinksForm(w http.ResponseWriter, r *http.Request) {
	p := s.newPage(r, "")
	p.Title, p.User = p.tr.T("action.send_my_links"), s.signedIn(r)
	s.render(w, r, http.StatusOK, "my_links", p)
}

func (s *Server) myLinks(w http.ResponseWriter, r *http.Request) {
	if !s.limit(w, r, s.limits.addr, "addr", clientAddr(r)) || !s.parseForm(w, r) {
		return
	}
	raw := r.PostFormValue("email")
	p := s.newPage(r, "")
	p.Title, p.Email, p.User = p.tr.T("action.send_my_links"), clipForm(raw), s.signedIn(r)
	email, err := core.NormalizeEmail(raw)
	if err != nil {
		p.FieldError = fieldError(err)
		s.render(w, r, http.StatusBadRequest, "my_links", p)
		return
	}
	if !s.limit(w, r, s.limits.email, "email", email) {
		return
	}
	if err := s.svc.SendMyLinks(r.Context(), email, s.visitor(r)); err != nil {
		s.internalError(w, r, err)
		return
	}
	p.Email, p.Outcome = email, "sent"
	s.render(w, r, http.StatusOK, "my_links", p)
}

func (s *Server) portals(w http.ResponseWriter, r *http.Request) {
	u := s.signedIn(r)
	if u == nil {
		http.Redirect(w, r, "/login?next=/portals", http.StatusSeeOther)
		return
	}
	mine, err := s.svc.UserPortals(r.Context(), u.ID)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	p := s.newPage(r, "")
	p.Title, p.User, p.Portals = p.tr.T("nav.your_portals"), u, mine
	s.render(w, r, http.StatusOK, "portals", p)
}

// clipForm keeps an echoed form value short.
func clipForm(s string) string {
	if len(s) > 320 {
		return s[:320]
	}
	return s
}
