package web

import (
	"errors"
	"net/http"

	"latchkey/core"
)

// portalHeader fills a page's header from a ?portal= slug, so that sign-in
// pages reached from a portal still show whose they are.
func (s *Server) portalHeader(r *http.Request, p *page) {
	slug := r.FormValue("portal")
	if slug == "" {
		return
	}
	if pv, err := s.svc.OpenPortal(r.Context(), slug, ""); err == nil {
		p.brand(pv.Org)
		p.Portal, p.PortalSlug = pv.Portal.Title, pv.Portal.Slug
	}
}

func (s *Server) loginForm(w http.ResponseWriter, r *http.Request) {
	p := page{Title: "Sign in", Next: r.FormValue("next"), User: s.signedIn(r)}
	s.portalHeader(r, &p)
	if p.Next == "" && p.PortalSlug != "" {
		p.Next = "/p/" + p.PortalSlug
	}
	if r.FormValue("signed_out") != "" {
		p.Notice = "You are signed out."
	}
	s.render(w, r, http.StatusOK, "login", p)
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if !s.limit(w, r, s.limits.addr, "addr", clientAddr(r)) || !s.parseForm(w, r) {
		return
	}
	raw, next := r.PostFormValue("email"), r.PostFormValue("next")
	p := page{Title: "Sign in", Email: clipForm(raw), Next: next}
	email, err := core.NormalizeEmail(raw)
	if err != nil {
		p.FieldError = fieldError(err)
		s.render(w, r, http.StatusBadRequest, "login", p)
		return
	}
	if !s.limit(w, r, s.limits.account, "account", email) {
		return
	}
	si, err := s.svc.Login(r.Context(), email, r.PostFormValue("password"), s.visitor(r))
	switch {
	case err == nil:
		s.signIn(w, r, si)
		http.Redirect(w, r, safeNext(next), http.StatusSeeOther)
	case errors.Is(err, core.ErrBadCredentials):
		p.PageError = "The email or password is not correct. Accounts created by a magic link have no password until you set one with Restore password."
		s.render(w, r, http.StatusUnauthorized, "login", p)
	case errors.Is(err, core.ErrInvalid):
		p.PageError = fieldError(err)
		s.render(w, r, http.StatusBadRequest, "login", p)
	default:
		s.internalError(w, r, err)
	}
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	if id := s.sessionID(r); id != "" {
		if err := s.svc.EndSession(r.Context(), id, s.visitor(r)); err != nil {
			s.internalError(w, r, err)
			return
		}
	}
	s.clearSession(w)
	// Back to the portal the person was on (its page offers a link by
	// email, and a password sign-in for those who have one); from a page
	// of no portal, to the password sign-in.
	target := "/login?signed_out=1"
	if slug := r.PostFormValue("portal"); slug != "" && core.Slugify(slug) == slug {
		target = "/p/" + slug + "?signed_out=1"
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

func (s *Server) restoreForm(w http.ResponseWriter, r *http.Request) {
	p := page{Title: "Restore password", User: s.signedIn(r)}
	s.portalHeader(r, &p)
	s.render(w, r, http.StatusOK, "restore", p)
}

func (s *Server) restore(w http.ResponseWriter, r *http.Request) {
	if !s.limit(w, r, s.limits.addr, "addr", clientAddr(r)) || !s.parseForm(w, r) {
		return
	}
	raw := r.PostFormValue("email")
	p := page{Title: "Restore password", Email: clipForm(raw)}
	s.portalHeader(r, &p)
	email, err := core.NormalizeEmail(raw)
	if err != nil {
		p.FieldError = fieldError(err)
		s.render(w, r, http.StatusBadRequest, "restore", p)
		return
	}
	if !s.limit(w, r, s.limits.email, "email", email) {
		return
	}
	if err := s.svc.RequestRestore(r.Context(), email, s.visitor(r)); err != nil {
		s.internalError(w, r, err)
		return
	}
	p.Email, p.Outcome = email, "sent"
	s.render(w, r, http.StatusOK, "restore", p)
}

func (s *Server) expiredLink(w http.ResponseWriter, r *http.Request, again, againText string) {
	p := page{Status: http.StatusGone, Title: "This link has expired or was already used",
		Message: "Links to set a password work once and only for a limited time.", Action: again, ActionText: againText}
	s.render(w, r, http.StatusGone, "error", p)
}

func (s *Server) restoreTokenForm(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	email, err := s.svc.RestoreLink(r.Context(), token)
	switch {
	case errors.Is(err, core.ErrTokenInvalid):
		s.expiredLink(w, r, "/restore", "Ask for a new link")
	case err != nil:
		s.internalError(w, r, err)
	default:
		s.render(w, r, http.StatusOK, "set_password", page{Title: "Set a new password", Email: email, Action: "/restore/" + token})
	}
}

func (s *Server) restoreToken(w http.ResponseWriter, r *http.Request) {
	if !s.limit(w, r, s.limits.addr, "addr", clientAddr(r)) || !s.parseForm(w, r) {
		return
	}
	token := r.PathValue("token")
	email, err := s.svc.RestoreLink(r.Context(), token)
	if errors.Is(err, core.ErrTokenInvalid) {
		s.expiredLink(w, r, "/restore", "Ask for a new link")
		return
	}
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	p := page{Title: "Set a new password", Email: email, Action: "/restore/" + token}
	pw := r.PostFormValue("password")
	if pw != r.PostFormValue("confirm") {
		p.ConfirmError = "The two passwords are not the same."
		s.render(w, r, http.StatusBadRequest, "set_password", p)
		return
	}
	si, err := s.svc.CompleteRestore(r.Context(), token, pw, s.visitor(r))
	switch {
	case err == nil:
		s.signIn(w, r, si)
		http.Redirect(w, r, "/portals", http.StatusSeeOther)
	case errors.Is(err, core.ErrInvalid):
		p.FieldError = fieldError(err)
		s.render(w, r, http.StatusBadRequest, "set_password", p)
	case errors.Is(err, core.ErrTokenInvalid):
		s.expiredLink(w, r, "/restore", "Ask for a new link")
	default:
		s.internalError(w, r, err)
	}
}

func (s *Server) joinPage(token string, ji core.JoinInfo) page {
	p := page{Title: "Join " + ji.Org.Name, Join: true, Action: "/join/" + token, Email: ji.Email,
		Name: ji.Name, Role: ji.Role, HasAccount: ji.HasAccount, HasPassword: ji.HasPassword}
	p.brand(ji.Org)
	return p
}

func (s *Server) joinForm(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	ji, err := s.svc.JoinLink(r.Context(), token)
	switch {
	case errors.Is(err, core.ErrTokenInvalid):
		s.expiredLink(w, r, "/login", "Sign in")
	case err != nil:
		s.internalError(w, r, err)
	default:
		s.render(w, r, http.StatusOK, "set_password", s.joinPage(token, ji))
	}
}

func (s *Server) join(w http.ResponseWriter, r *http.Request) {
	if !s.limit(w, r, s.limits.addr, "addr", clientAddr(r)) || !s.parseForm(w, r) {
		return
	}
	token := r.PathValue("token")
	ji, err := s.svc.JoinLink(r.Context(), token)
	if errors.Is(err, core.ErrTokenInvalid) {
		s.expiredLink(w, r, "/login", "Sign in")
		return
	}
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	p := s.joinPage(token, ji)
	name, pw := r.PostFormValue("name"), r.PostFormValue("password")
	p.Name = clipForm(name)
	if ji.HasPassword {
		if !s.limit(w, r, s.limits.account, "account", ji.Email) {
			return
		}
	} else if pw != r.PostFormValue("confirm") {
		p.ConfirmError = "The two passwords are not the same."
		s.render(w, r, http.StatusBadRequest, "set_password", p)
		return
	}
	si, err := s.svc.Join(r.Context(), token, name, pw, s.visitor(r))
	switch {
	case err == nil:
		s.signIn(w, r, si)
		http.Redirect(w, r, "/portals", http.StatusSeeOther)
	case errors.Is(err, core.ErrBadCredentials):
		p.FieldError = "That is not the password of this account."
		s.render(w, r, http.StatusUnauthorized, "set_password", p)
	case errors.Is(err, core.ErrInvalid):
		var ve *core.ValidationError
		if errors.As(err, &ve) && ve.Field == "name" {
			p.PageError = "Your name " + ve.Reason + "."
		} else {
			p.FieldError = fieldError(err)
		}
		s.render(w, r, http.StatusBadRequest, "set_password", p)
	case errors.Is(err, core.ErrTokenInvalid):
		s.expiredLink(w, r, "/login", "Sign in")
	default:
		s.internalError(w, r, err)
	}
}
