package web

import (
	"errors"
	"net/http"

	"latchkey/core"
)

// Owners act from the email (core/emailaction.go): the Grant access and
// Dismiss buttons of an access request's notice open GET /requests/{token},
// which shows the request and changes nothing (a mail scanner that follows
// the buttons does no harm); only the page's form, POSTed from this origin,
// answers it.

// requestPage is the page about the request behind a notice's buttons.
func (s *Server) requestPage(r *http.Request, ea core.EmailAction) page {
	p := s.newPage(r, ea.Request.Portal.LanguageIn(ea.Org))
	p.brand(ea.Org)
	p.Portal, p.PortalSlug, p.Email = ea.Request.Portal.Title, ea.Request.Portal.Slug, ea.Request.Email
	p.Title, p.Req = p.tr.T("request.title"), &ea
	for _, c := range ea.Request.Actions.Roles {
		if c.Decision.OK() {
			p.Roles = append(p.Roles, c.Role)
		}
	}
	return p
}

// requestAction is GET /requests/{token}: the request, whom it is from and
// the roles its reader may grant; ?do= names the button that led here.
func (s *Server) requestAction(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	ea, err := s.svc.RequestByEmailAction(r.Context(), token)
	if err != nil {
		s.requestActionError(w, r, err)
		return
	}
	p := s.requestPage(r, ea)
	p.Action = "/requests/" + token
	if do := r.URL.Query().Get("do"); do == "grant" || do == "dismiss" {
		p.Do = do
	}
	s.render(w, r, http.StatusOK, "request", p)
}

// answerRequest is POST /requests/{token}: grant (with the role chosen) or
// dismiss, once.
func (s *Server) answerRequest(w http.ResponseWriter, r *http.Request) {
	if !s.limit(w, r, s.limits.addr, "addr", clientAddr(r)) || !s.parseForm(w, r) {
		return
	}
	token := r.PathValue("token")
	ea, err := s.svc.RequestByEmailAction(r.Context(), token)
	if err != nil {
		s.requestActionError(w, r, err)
		return
	}
	do := r.PostFormValue("do")
	if do != "grant" && do != "dismiss" {
		p := s.requestPage(r, ea)
		p.Action, p.FieldError = "/requests/"+token, p.tr.T("request.choose")
		s.render(w, r, http.StatusBadRequest, "request", p)
		return
	}
	res, err := s.svc.AnswerFromEmail(r.Context(), token, core.EmailAnswer{Grant: do == "grant", Role: core.Role(r.PostFormValue("role"))})
	if err != nil {
		s.requestActionError(w, r, err)
		return
	}
	p := s.requestPage(r, ea)
	p.Title = p.tr.T("request.done.title")
	if do == "grant" {
		p.Notice = p.tr.T("request.granted", res.Invitation.Email, ea.Request.Portal.Title, string(p.RoleName(res.Role)))
	} else {
		p.Notice = p.tr.T("request.dismissed", ea.Request.Email)
	}
	p.Req = nil // answered: no form
	s.render(w, r, http.StatusOK, "request", p)
}

// requestActionError answers a button that no longer works (used, expired,
// or the request answered elsewhere), and a refusal of the answer.
func (s *Server) requestActionError(w http.ResponseWriter, r *http.Request, err error) {
	p := s.newPage(r, "")
	var closed *core.RequestClosedError
	status := http.StatusGone
	switch {
	case errors.As(err, &closed):
		q := closed.Request
		p.Title = p.tr.T("request.closed.title")
		p.Message = p.tr.T("request.closed", q.Email, p.tr.T("request.state."+string(q.State)), q.ResolvedBy, p.Day(q.ResolvedAt))
	case errors.Is(err, core.ErrActionDead):
		p.Title, p.Message = p.tr.T("request.closed.title"), p.errorText(err)
	case errors.Is(err, core.ErrForbidden), errors.Is(err, core.ErrInvalid), errors.Is(err, core.ErrNotFound):
		status = http.StatusForbidden
		if errors.Is(err, core.ErrInvalid) {
			status = http.StatusBadRequest
		}
		p.Title, p.Message = p.tr.T("request.refused.title"), p.errorText(err)
	default:
		s.internalError(w, r, err)
		return
	}
	p.Status = status
	s.render(w, r, status, "error", p)
}
