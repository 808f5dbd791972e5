package web

import (
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"latchkey/core"
	"latchkey/core/mail/message"
)

// The mail viewer shows what the built-in catcher received: it holds live
// magic links, so it is mounted only while the catcher is on and the
// listener binds a loopback address (the caller decides; see Config.MailViewer).

var catcherViewer = core.AdminActor("mail viewer")

type segment struct{ Text, URL string }

var linkRE = regexp.MustCompile(`https?://[^\s<>"']+`)

// segments cuts text into plain runs and links, for the template to escape.
func segments(text string) []segment {
	var out []segment
	for {
		loc := linkRE.FindStringIndex(text)
		if loc == nil {
			if text != "" {
				out = append(out, segment{Text: text})
			}
			return out
		}
		url := strings.TrimRight(text[loc[0]:loc[1]], ".,;:)")
		if loc[0] > 0 {
			out = append(out, segment{Text: text[:loc[0]]})
		}
		out = append(out, segment{URL: url})
		text = text[loc[0]+len(url):]
	}
}

type mailPage struct {
	page
	Mails    []core.CaughtMail
	Count    int
	ID       uint64
	Mail     message.Parsed
	Segments []segment
	HasHTML  bool
}

func (s *Server) mailList(w http.ResponseWriter, r *http.Request) {
	mails, err := s.svc.CaughtMails(r.Context(), catcherViewer, 0, 200)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	s.renderAny(w, r, http.StatusOK, "mail_list", mailPage{page: page{Title: "Caught mail", Portal: "Caught mail"}, Mails: mails, Count: core.MaxCaught})
}

func (s *Server) caught(w http.ResponseWriter, r *http.Request) (message.Parsed, uint64, bool) {
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil {
		s.notFound(w, r)
		return message.Parsed{}, 0, false
	}
	m, err := s.svc.CaughtMail(r.Context(), catcherViewer, id)
	if errors.Is(err, core.ErrNotFound) {
		s.errorPage(w, r, http.StatusNotFound, "No such message", "The catcher keeps the newest 1,000 messages; this one is gone or never was.")
		return message.Parsed{}, 0, false
	}
	if err != nil {
		s.internalError(w, r, err)
		return message.Parsed{}, 0, false
	}
	p, err := message.Parse(m.Raw)
	if err != nil {
		p.Text = string(m.Raw) // not MIME we understand: show it as it came
	}
	return p, id, true
}

func (s *Server) mailView(w http.ResponseWriter, r *http.Request) {
	p, id, ok := s.caught(w, r)
	if !ok {
		return
	}
	s.renderAny(w, r, http.StatusOK, "mail_view", mailPage{page: page{Title: p.Subject, Portal: "Caught mail"}, ID: id, Mail: p,
		Segments: segments(p.Text), HasHTML: p.HTML != ""})
}

// mailHTML serves a message's HTML part as its own document, sandboxed:
// no script, no requests, no same-origin access.
func (s *Server) mailHTML(w http.ResponseWriter, r *http.Request) {
	p, _, ok := s.caught(w, r)
	if !ok {
		return
	}
	if p.HTML == "" {
		s.notFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Security-Policy", "sandbox allow-popups allow-popups-to-escape-sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:")
	h.Set("Content-Type", "text/html; charset=utf-8")
	w.Write([]byte(p.HTML))
}
