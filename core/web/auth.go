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
		p.tr = s.lang(r, pv.Portal.LanguageIn(pv.Org))
		p.Lang = p.tr.Code()
	}
}

func (s *Server) loginForm(w http.ResponseWriter, r *http.Request) {
	p := s.newPage(r, "")
	p.Next, p.User = r.FormValue("next"), s.signedIn(r)
	s.portalHeader(r, &p)
	p.Title = p.tr.T("login.heading")
	if p.Next == "" && p.PortalSlug != "" {
		p.Next = "/p/" + p.PortalSlug
	}
	if r.FormValue("signed_out") != "" {
		p.Notice = p.tr.T("notice.signed_out")
	}
	s.render(w, r, http.StatusOK, "login", p)
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if !s.limit(w, r, s.limits.addr, "addr", clientAddr(r)) || !s.parseForm(w, r) {
		return
	}
	raw, next := r.PostFormValue("email"), r.PostFormValue("next")
	p := s.newPage(r, "")
	p.Title, p.Email, p.Next = p.tr.T("login.heading"), clipForm(raw), next
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
		p.PageError = p.tr.T("login.bad_credentials")
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
	p := s.newPage(r, "")
	p.User = s.signedIn(r)
	s.portalHeader(r, &p)
	p.Title = p.tr.T("action.restore_password")
	s.render(w, r, http.StatusOK, "restore", p)
}

func (s *Server) restore(w http.ResponseWriter, r *http.Request) {
	if !s.limit(w, r, s.limits.addr, "addr", clientAddr(r)) || !s.parseForm(w, r) {
		return
	}
	raw := r.PostFormValue("email")
	p := s.newPage(r, "")
	p.Email = clipForm(raw)
	s.portalHeader(r, &p)
	p.Title = p.tr.T("action.restore_password")
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

// expiredLink answers a join or password link that is spent; againKey
// names the way on.
func (s *Server) expiredLink(w http.ResponseWriter, r *http.Request, again, againKey string) {
	p := s.newPage(r, "")
	p.Status, p.Title, p.Message = http.StatusGone, p.errorText(core.ErrTokenInvalid), p.tr.T("expired.body")
	p.Action, p.ActionText = again, p.tr.T(againKey)
	s.render(w, r, http.StatusGone, "error", p)
}

func (s *Server) restoreTokenForm(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	email, err := s.svc.RestoreLink(r.Context(), token)
	switch {
	case errors.Is(err, core.ErrTokenInvalid):
		s.expiredLink(w, r, "/restore", "action.new_link")
	case err != nil:
		s.internalError(w, r, err)
	default:
		p := s.newPage(r, "")
		p.Title, p.Email, p.Action = p.tr.T("reset.heading"), email, "/restore/"+token
		s.render(w, r, http.StatusOK, "set_password", p)
	}
}

func (s *Server) restoreToken(w http.ResponseWriter, r *http.Request) {
	if !s.limit(w, r, s.limits.addr, "addr", clientAddr(r)) || !s.parseForm(w, r) {
		return
	}
	token := r.PathValue("token")
	email, err := s.svc.RestoreLink(r.Context(), token)
	if errors.Is(err, core.ErrTokenInvalid) {
		s.expiredLink(w, r, "/restore", "action.new_link")
		return
	}
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	p := s.newPage(r, "")
	p.Title, p.Email, p.Action = p.tr.T("reset.heading"), email, "/restore/"+token
	pw := r.PostFormValue("password")
	if pw != r.PostFormValue("confirm") {
		p.ConfirmError = p.tr.T("reset.mismatch")
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
		s.expiredLink(w, r, "/restore", "action.new_link")
	default:
		s.internalError(w, r, err)
	}
}

func (s *Server) joinPage(r *http.Request, token string, ji core.JoinInfo) page {
	p := s.newPage(r, "")
	p.brand(ji.Org)
	p.Title, p.Join, p.Action, p.Email = p.tr.T("join.heading", ji.Org.Name), true, "/join/"+token, ji.Email
	p.Name, p.Role, p.HasAccount, p.HasPassword = ji.Name, ji.Role, ji.HasAccount, ji.HasPassword
	return p
}

func (s *Server) joinForm(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	ji, err := s.svc.JoinLink(r.Context(), token)
	switch {
	case errors.Is(err, core.ErrTokenInvalid):
		s.expiredLink(w, r, "/login", "action.sign_in")
	case err != nil:
		s.internalError(w, r, err)
	default:
		s.render(w, r, http.StatusOK, "set_password", s.joinPage(r, token, ji))
	}
}

func (s *Server) join(w http.ResponseWriter, r *http.Request) {
	if !s.limit(w, r, s.limits.addr, "addr", clientAddr(r)) || !s.parseForm(w, r) {
		return
	}
	token := r.PathValue("token")
	ji, err := s.svc.JoinLink(r.Context(), token)
	if errors.Is(err, core.ErrTokenInvalid) {
		s.expiredLink(w, r, "/login", "action.sign_in")
		return
	}
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	p := s.joinPage(r, token, ji)
	name, pw := r.PostFormValue("name"), r.PostFormValue("password")
	p.Name = clipForm(name)
	if ji.HasPassword {
		if !s.limit(w, r, s.limits.account, "account", ji.Email) {
			return
		}
	} else if pw != r.PostFormValue("confirm") {
		p.ConfirmError = p.tr.T("reset.mismatch")
		s.render(w, r, http.StatusBadRequest, "set_password", p)
		return
	}
	si, err := s.svc.Join(r.Context(), token, name, pw, s.visitor(r))
	switch {
	case err == nil:
		s.signIn(w, r, si)
		http.Redirect(w, r, "/portals", http.StatusSeeOther)
	case errors.Is(err, core.ErrBadCredentials):
		p.FieldError = p.tr.T("join.wrong_password")
		s.render(w, r, http.StatusUnauthorized, "set_password", p)
	case errors.Is(err, core.ErrInvalid):
		var ve *core.ValidationError
		if errors.As(err, &ve) && ve.Field == "name" {
			p.PageError = p.tr.T("join.name_invalid", ve.Reason)
		} else {
			p.FieldError = fieldError(err)
		}
		s.render(w, r, http.StatusBadRequest, "set_password", p)
	case errors.Is(err, core.ErrTokenInvalid):
		s.expiredLink(w, r, "/login", "action.sign_in")
	default:
		s.internalError(w, r, err)
	}
}
