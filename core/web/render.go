package web

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"latchkey/core"
	"latchkey/core/i18n"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static/style.css
var styleCSS []byte

// page is everything a template may show. Fields a page does not use stay zero.
type page struct {
	Title      string
	Org        string
	Portal     string
	PortalSlug string
	Project    string
	User       *core.User // signed in, shown in the header
	RequestID  string

	Email        string // the form's email, or the link's
	FieldError   string // the form field's error
	ConfirmError string // the repeated password's error
	PageError    string
	Notice       string
	Next         string

	Token      string // landing page: the link the Open portal button posts to
	SignedInAs string
	Access     core.AccessLevel
	Welcome    template.HTML // the portal's welcome text, rendered from Markdown
	Content    core.PortalContent
	Open       string // an open portal's own address (its upstream's), for visitors not signed in
	Role       core.Role
	HasAccess  bool
	Outcome    string // access form: sent, requested, generic; restore: sent
	Portals    []core.MyPortal

	Join        bool // set-password page: joining rather than restoring
	Action      string
	Name        string
	HasAccount  bool
	HasPassword bool

	Status     int
	Message    string
	ActionText string
	Hint       string

	Static string // where latchkey's stylesheet is served on this host ("" for /static)
	Logo   string // the organization's logo, by hash ("": none); see brand.go
	Accent string // its accent colour, rrggbb ("": latchkey's)
	Home   bool   // the portal's own page: its title is the page's heading, not repeated in the header

	Requested bool // landing: the link was asked for, not an invitation
	FirstUse  bool // access form: the link sent gives access on its first use
	Used      bool // landing: the link was opened before

	CodeForm bool // the form for the email's code (access form, code page)

	Req   *core.EmailAction // the request behind a notice's buttons (nil once answered)
	Roles []core.Role       // the roles its reader may grant
	Do    string            // the button that led to the page: grant or dismiss

	Lang string    // the page's language ("de"), for <html lang> and the forms' lang field
	tr   i18n.Lang // its messages (see T)
}

// templates holds one parsed template set per page.
type templates struct {
	pages map[string]*template.Template
	pool  sync.Pool
}

func parseTemplates() (*templates, error) {
	md := newMarkdown()
	funcs := template.FuncMap{
		"join":     func(xs []string) string { return strings.Join(xs, ", ") },
		"markdown": md.Render,
		"iso":      func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	}
	base, err := template.New("base").Funcs(funcs).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, err
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	t := &templates{pages: map[string]*template.Template{}}
	t.pool.New = func() any { return new(bytes.Buffer) }
	for _, name := range names {
		if name == "templates/layout.html" {
			continue
		}
		clone, err := base.Clone()
		if err != nil {
			return nil, err
		}
		if _, err := clone.ParseFS(templateFS, name); err != nil {
			return nil, err
		}
		t.pages[name[len("templates/"):len(name)-len(".html")]] = clone
	}
	return t, nil
}

// render writes a whole page with its status. Rendering happens into a
// buffer first, so a template error becomes a clean 500.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	p.RequestID = requestID(r)
	if p.Lang == "" {
		tr := s.lang(r, "")
		p.tr, p.Lang = tr, tr.Code()
	}
	s.renderAny(w, r, status, name, p.tr, p)
}

// renderAny renders a template whose data embeds a page in the language tr.
func (s *Server) renderAny(w http.ResponseWriter, r *http.Request, status int, name string, tr i18n.Lang, data any) {
	tmpl, ok := s.tmpl.pages[name]
	if !ok {
		panic("web: no template " + name)
	}
	buf := s.tmpl.pool.Get().(*bytes.Buffer)
	buf.Reset()
	defer s.tmpl.pool.Put(buf)
	if err := tmpl.ExecuteTemplate(buf, "layout", data); err != nil {
		s.log.Error("render page", "page", name, "err", err, "request", requestID(r))
		status = http.StatusInternalServerError
		buf.Reset()
		fmt.Fprintf(buf, "<!doctype html><html lang=\"%s\"><title>%s</title><p>%s</p>", tr.Code(), tr.HTML("page.error.short"), tr.HTML("page.error.render", requestID(r)))
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(buf.Bytes())
	}
}

// errorPage renders one of the friendly error pages: its title and message
// are the catalog's key+".title" and key+".body" (with args).
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, status int, key string, args ...any) {
	p := s.newPage(r, "")
	p.Status, p.Title, p.Message = status, p.tr.T(key+".title"), p.tr.T(key+".body", args...)
	switch status {
	case http.StatusNotFound, http.StatusMethodNotAllowed:
		p.Action, p.ActionText = "/portals", p.tr.T("action.go_portals")
	}
	s.render(w, r, status, "error", p)
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	s.errorPage(w, r, http.StatusNotFound, "page.not_found")
}

// internalError logs err with the request's reference and shows a page
// that reveals nothing of it.
func (s *Server) internalError(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Error("request failed", "err", err, "request", requestID(r), "route", r.Pattern)
	s.errorPage(w, r, http.StatusInternalServerError, "page.error")
}

// tooMany answers 429 with Retry-After and a page that says when to try
// again, keeps the portal the request was for (its header and a way back)
// and reminds that a link sent earlier still works.
func (s *Server) tooMany(w http.ResponseWriter, r *http.Request, limit string, retry time.Duration) {
	s.metrics.rateLimited.WithLabelValues(limit).Inc()
	secs := max(int((retry+time.Second-1)/time.Second), 1)
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	p := page{Status: http.StatusTooManyRequests}
	s.requestPortal(r, &p)
	tr := p.tr
	p.Title, p.Message = tr.T("page.too_many.title"), tr.T("page.too_many.body", tr.Wait(time.Duration(secs)*time.Second))
	p.Hint = tr.T("page.too_many.hint")
	if p.PortalSlug != "" {
		p.Action, p.ActionText = "/p/"+p.PortalSlug, tr.T("action.back_to", p.Portal)
	} else {
		p.Action, p.ActionText = "/portals", tr.T("action.go_portals")
	}
	s.render(w, r, http.StatusTooManyRequests, "error", p)
}

// requestPortal fills a page's header with the portal a request is about:
// the slug in its path, or the portal of the link in it.
func (s *Server) requestPortal(r *http.Request, p *page) {
	var ref core.PortalRef
	if slug := r.PathValue("slug"); slug != "" {
		if pv, err := s.svc.OpenPortal(r.Context(), slug, ""); err == nil {
			ref = pv.PortalRef
		}
	} else if token := r.PathValue("token"); token != "" && strings.HasPrefix(r.URL.Path, "/m/") {
		if l, err := s.svc.Landing(r.Context(), token, ""); err == nil || errors.Is(err, core.ErrLinkInactive) {
			ref = l.PortalRef
		}
	}
	if ref.Portal.Slug != "" {
		p.brand(ref.Org)
		p.Portal, p.PortalSlug = ref.Portal.Title, ref.Portal.Slug
	}
	p.tr = s.lang(r, ref.Portal.LanguageIn(ref.Org))
	p.Lang = p.tr.Code()
}
