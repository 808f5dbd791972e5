package web

import (
	"errors"
	"html/template"
	"net/http"
	"strings"
	"time"

	"latchkey/core"
	"latchkey/core/i18n"
)

// lang is the language of a page: that of the form it answers (the form
// carries the language of the page it was on), else the best of those the
// browser accepts, else the portal's default (portalLang), else English.
func (s *Server) lang(r *http.Request, portalLang string) i18n.Lang {
	if r.PostForm != nil {
		if l := r.PostForm.Get("lang"); s.i18n.Has(l) {
			return s.i18n.Lang(l)
		}
	}
	return s.i18n.Lang(s.i18n.Match(r.Header.Get("Accept-Language"), portalLang))
}

// newPage is a page in the language lang picks.
func (s *Server) newPage(r *http.Request, portalLang string) page {
	tr := s.lang(r, portalLang)
	return page{tr: tr, Lang: tr.Code()}
}

// T is a message of the catalog, for the page's templates.
func (p page) T(key string, args ...any) template.HTML { return p.tr.HTML(key, args...) }

// RoleName is a role as the page's language calls it.
func (p page) RoleName(r core.Role) template.HTML {
	if key := "role." + string(r); p.tr.Has(key) {
		return p.tr.HTML(key)
	}
	return template.HTML(template.HTMLEscapeString(string(r)))
}

// Day is a date in the page's language.
func (p page) Day(t time.Time) string { return p.tr.Day(t) }

// errorKeys are the catalog's sentences for the core errors pages show.
var errorKeys = []struct {
	err error
	key string
}{
	{core.ErrLinkInactive, "err.link_inactive"},
	{core.ErrLinkUnknown, "err.link_unknown"},
	{core.ErrTokenInvalid, "err.token_invalid"},
	{core.ErrBadCredentials, "err.bad_credentials"},
	{core.ErrNoAccess, "err.no_access"},
	{core.ErrRateLimited, "err.rate_limited"},
	{core.ErrCodeWrong, "err.code_wrong"},
	{core.ErrCodeElsewhere, "err.code_elsewhere"},
	{core.ErrCodeExpired, "err.code_expired"},
	{core.ErrCodeSpent, "err.code_spent"},
	{core.ErrActionDead, "err.action_dead"},
}

// errorText is the sentence a page shows for err: the catalog's, in the
// page's language, for the errors pages know; core's own (English) for
// any other. The detail core adds to a known error ("…: your guest access
// ended on 2026-03-01") is English, so only an English page shows it.
func (p page) errorText(err error) string {
	for _, e := range errorKeys {
		if errors.Is(err, e.err) {
			s := p.tr.T(e.key)
			if detail, ok := strings.CutPrefix(err.Error(), e.err.Error()); ok && p.Lang == i18n.Default {
				s += detail
			}
			return s
		}
	}
	return core.Describe(err)
}
