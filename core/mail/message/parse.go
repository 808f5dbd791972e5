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
	"strings"
)

// Parsed is a received message, decoded for reading.
type Parsed struct {
	From, To, Subject, Date, MessageID string
	Text                               string // the text/plain part (or the HTML's text when there is none)
	HTML                               string // the text/html part, if any
}

var wordDecoder = mime.WordDecoder{CharsetReader: func(charset string, input io.Reader) (io.Reader, error) {
	if strings.EqualFold(charset, "us-ascii") || strings.EqualFold(charset, "iso-8859-1") {
		return input, nil
	}
	return nil, errors.New("unsupported charset " + charset)
}}

// MaxBytes bounds one message: the catcher accepts no larger, and a part
// is read up to it.
const MaxBytes = 10 << 20

// DecodeHeader decodes a header's encoded words (RFC 2047); a header it
// cannot decode is returned as it is.
func DecodeHeader(s string) string {
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
	p := Parsed{From: DecodeHeader(h.Get("From")), To: DecodeHeader(h.Get("To")), Subject: DecodeHeader(h.Get("Subject")),
		Date: h.Get("Date"), MessageID: h.Get("Message-ID")}
	if err := p.walk(h.Get("Content-Type"), h.Get("Content-Transfer-Encoding"), m.Body, 0); err != nil {
		return p, err
	}
	if p.Text == "" && p.HTML != "" {
		p.Text = "(this message has only an HTML part)"
	}
	return p, nil
}

func (p *Parsed) walk(ctype, cte string, body io.Reader, depth int) error {
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
			if err := p.walk(part.Header.Get("Content-Type"), part.Header.Get("Content-Transfer-Encoding"), part, depth+1); err != nil {
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
	switch {
	case mt == "text/plain" && p.Text == "":
		p.Text = text
	case mt == "text/html" && p.HTML == "":
		p.HTML = text
	}
	return nil
}
