package message

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
)

// Parsed is a received message, decoded for reading.
type Parsed struct {
	From, To, Subject, Date, MessageID string
	Text                               string // the text/plain part (or the HTML's text when there is none)
	HTML                               string // the text/html part, if any
	// Inline are the images the HTML refers to as cid:ID (an
	// organization's logo), by ID, as data: URLs.
	Inline map[string]string
}

// InlineHTML is the HTML part with its cid: images as data: URLs, for a
// view that loads nothing from elsewhere.
func (p Parsed) InlineHTML() string {
	html := p.HTML
	for id, data := range p.Inline {
		html = strings.ReplaceAll(html, `src="cid:`+id+`"`, `src="`+data+`"`)
	}
	return html
}

var wordDecoder = mime.WordDecoder{CharsetReader: func(charset string, input io.Reader) (io.Reader, error) {
	if strings.EqualFold(charset, "us-ascii") || strings.EqualFold(charset, "iso-8859-1") {
		return input, nil
	}
	return nil, errors.New("unsupported charset " + charset)
}}

// DecodeHeader decodes a header's RFC 2047 words ("=?utf-8?q?…?="); a
// value it cannot decode is returned as it is.
func DecodeHeader(s string) string { return decodeHeader(s) }

func decodeHeader(s string) string {
	if d, err := wordDecoder.DecodeHeader(s); err == nil {
		return d
	}
	return s
}

// Parse reads a message as the catcher stored it: headers decoded, and the
// text and HTML parts of a (possibly multipart) body, transfer-decoded.
func Parse(raw []byte) (Parsed, error) {
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Parsed{}, err
	}
	h := m.Header
	p := Parsed{From: decodeHeader(h.Get("From")), To: decodeHeader(h.Get("To")), Subject: decodeHeader(h.Get("Subject")),
		Date: h.Get("Date"), MessageID: h.Get("Message-ID")}
	if err := p.walk(textproto.MIMEHeader(h), m.Body, 0); err != nil {
		return p, err
	}
	if p.Text == "" && p.HTML != "" {
		p.Text = "(this message has only an HTML part)"
	}
	return p, nil
}

func (p *Parsed) walk(header textproto.MIMEHeader, body io.Reader, depth int) error {
	ctype, cte := header.Get("Content-Type"), header.Get("Content-Transfer-Encoding")
	if ctype == "" {
		ctype = "text/plain"
	}
	mt, params, err := mime.ParseMediaType(ctype)
	if err != nil {
		mt = "text/plain"
	}
	if strings.HasPrefix(mt, "multipart/") && depth < 5 {
		r := multipart.NewReader(body, params["boundary"])
		for {
			part, err := r.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			if err := p.walk(part.Header, part, depth+1); err != nil {
				return err
			}
		}
	}
	var r io.Reader = body
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "quoted-printable":
		r = quotedprintable.NewReader(body)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, body)
	}
	b, err := io.ReadAll(io.LimitReader(r, MaxBytes))
	if err != nil {
		return err
	}
	text := strings.ReplaceAll(string(b), "\r\n", "\n")
	if id := strings.Trim(header.Get("Content-Id"), "<> "); strings.HasPrefix(mt, "image/") && id != "" && (mt == "image/png" || mt == "image/jpeg") {
		if p.Inline == nil {
			p.Inline = map[string]string{}
		}
		p.Inline[id] = "data:" + mt + ";base64," + base64.StdEncoding.EncodeToString(b)
		return nil
	}
	switch {
	case mt == "text/plain" && p.Text == "":
		p.Text = text
	case mt == "text/html" && p.HTML == "":
		p.HTML = text
	}
	return nil
}
