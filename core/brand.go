package core

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
)

// An organization's brand: its name, logo, accent colour and sender name on
// every page of its portals and in every email it sends, and the address
// its clients' replies go to. Only its owner (or an instance admin)
// changes it: it is how the agency presents itself to its clients.

// LogoStore holds organizations' logos by hash. A logo never changes once
// stored (its hash is its content's), and one that no organization shows
// any more stays: an email queued before the change still embeds it.
type LogoStore interface {
	Logo(hash string) (Logo, error)
	PutLogo(l Logo) error
}

// Sender is the name the organization's emails come from: its sender name,
// or its name.
func (o Org) Sender() string {
	if o.SenderName != "" {
		return o.SenderName
	}
	return o.Name
}

// LogoPath is where the listener serves an organization's logo ("" for
// none); IconPath its square icon.
func (o Org) LogoPath() string {
	if o.Logo == "" {
		return ""
	}
	return "/static/logo/" + o.Logo + ".png"
}

// IconPath is where the listener serves the logo's square icon (the favicon).
func (o Org) IconPath() string {
	if o.Logo == "" {
		return ""
	}
	return "/static/logo/" + o.Logo + "-icon.png"
}

// OrgChange is a change to an organization's name and brand. A nil field
// stays as it is; an empty string clears the setting (the accent, the
// reply-to address, the sender name: back to the organization's name).
type OrgChange struct {
	Name       *string
	Logo       []byte // an uploaded image (nil: keep the logo)
	RemoveLogo bool
	Accent     *string // #RRGGBB
	ReplyTo    *string
	SenderName *string
	Language   *string // the default of its portals that name none; "" for English
}

// brand is a checked OrgChange: every value in its stored form.
type brand struct {
	OrgChange
	logo *Logo
}

func (s *engine) checkOrgChange(ch OrgChange) (brand, error) {
	b := brand{OrgChange: ch}
	if ch.Logo != nil && ch.RemoveLogo {
		return b, invalid("logo", "cannot be replaced and removed at once")
	}
	if ch.Name != nil {
		v, err := cleanName("name", *ch.Name, true)
		if err != nil {
			return b, err
		}
		b.Name = &v
	}
	if ch.Accent != nil && *ch.Accent != "" {
		v, err := ParseAccent(*ch.Accent)
		if err != nil {
			return b, err
		}
		b.Accent = &v
	}
	if ch.ReplyTo != nil && strings.TrimSpace(*ch.ReplyTo) != "" {
		v, err := NormalizeEmail(*ch.ReplyTo)
		if err != nil {
			return b, asField(err, "reply_to")
		}
		b.ReplyTo = &v
	} else if ch.ReplyTo != nil {
		b.ReplyTo = new(string)
	}
	if ch.SenderName != nil {
		v, err := cleanName("sender_name", *ch.SenderName, false)
		if err != nil {
			return b, err
		}
		if strings.ContainsAny(v, "@<>") {
			return b, invalid("sender_name", "must not contain @, < or >: mail programs would show it as an address")
		}
		b.SenderName = &v
	}
	if ch.Language != nil {
		v, err := ParseLanguage(*ch.Language)
		if err != nil {
			return b, err
		}
		b.Language = &v
	}
	if ch.Logo != nil {
		l, err := ProcessLogo(ch.Logo, s.now())
		if err != nil {
			return b, err
		}
		b.logo = &l
	}
	return b, nil
}

// asField gives a validation error of a shared check (an email address)
// the name of the field it was about.
func asField(err error, field string) error {
	var ve *ValidationError
	if errors.As(err, &ve) {
		return &ValidationError{Field: field, Reason: ve.Reason}
	}
	return err
}

// ChangeOrg changes an organization's name and brand. Only its owner or
// an instance admin may; every value is checked (and a logo processed)
// before anything is stored, and a refused change stores nothing. The
// change is audited as org.changed with what changed; a change that
// changes nothing stores and audits nothing.
func (s *Portals) ChangeOrg(ctx context.Context, a Actor, orgID uint64, ch OrgChange) (Org, error) {
	b, err := s.checkOrgChange(ch)
	if err != nil {
		return Org{}, err
	}
	return writeResult(s.engine, ctx, func(op *operation) (Org, error) {
		o, by, err := op.orgFor(a, orgID)
		if err != nil {
			return Org{}, err
		}
		if err := mayChangeOrg(by); err != nil {
			return Org{}, err
		}
		var what []string
		set := func(label string, field *string, v *string, show func(string) string) {
			if v == nil || *field == *v {
				return
			}
			what = append(what, fmt.Sprintf("%s %s → %s", label, show(*field), show(*v)))
			*field = *v
		}
		orNone := func(s string) string {
			if s == "" {
				return "none"
			}
			return s
		}
		quoted := func(s string) string {
			if s == "" {
				return "(the name)"
			}
			return fmt.Sprintf("%q", s)
		}
		set("name", &o.Name, b.Name, func(s string) string { return fmt.Sprintf("%q", s) })
		set("accent", &o.Accent, b.Accent, orNone)
		set("reply-to", &o.ReplyTo, b.ReplyTo, orNone)
		set("sender name", &o.SenderName, b.SenderName, quoted)
		set("language", &o.Language, b.Language, func(s string) string {
			if s == "" {
				return "en"
			}
			return s
		})
		switch {
		case b.logo != nil && b.logo.Hash != o.Logo:
			if _, err := op.Logo(b.logo.Hash); errors.Is(err, ErrNotFound) {
				if err := op.PutLogo(*b.logo); err != nil {
					return Org{}, err
				}
			} else if err != nil {
				return Org{}, err
			}
			if o.Logo == "" {
				what = append(what, "logo added")
			} else {
				what = append(what, "logo replaced")
			}
			o.Logo = b.logo.Hash
		case b.RemoveLogo && o.Logo != "":
			what = append(what, "logo removed")
			o.Logo = ""
		}
		if len(what) == 0 {
			return o, nil
		}
		if err := op.PutOrg(&o); err != nil {
			return Org{}, err
		}
		op.changed(Change{Kind: ChangeProjectChanged, OrgID: o.ID})
		return o, op.audit(a, o.ID, "org.changed", o.Name, strings.Join(what, "; "))
	})
}

// LogoImage is a stored logo's shown image (PNG), or its square icon.
// Logos are public: they are shown on pages anyone may open.
func (s *Portals) LogoImage(ctx context.Context, hash string, icon bool) ([]byte, error) {
	if !IsLogoHash(hash) {
		return nil, notFound("logo", clip(hash))
	}
	return readResult(s.engine, ctx, func(op *operation) ([]byte, error) {
		l, err := op.Logo(hash)
		if err != nil {
			return nil, notFoundAs(err, "logo", hash)
		}
		if icon {
			return l.Icon, nil
		}
		return l.Image, nil
	})
}

// The data keys of a message that carry its organization's brand, set
// when the message is queued: its sender name, reply-to address, accent
// colour and logo (by hash; the mail worker reads it with LogoImage).
const (
	MailDataSender  = "brand_sender"
	MailDataReplyTo = "brand_reply_to"
	MailDataAccent  = "brand_accent"
	MailDataLogo    = "brand_logo"
)

// brandMail writes the brand of the message's organization into its data:
// a message is rendered as the organization looked when it was queued.
func (op *operation) brandMail(m *Message) error {
	if m.OrgID == 0 {
		return nil
	}
	o, err := op.Org(m.OrgID)
	if errors.Is(err, ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	d := make(map[string]string, len(m.Data)+4)
	maps.Copy(d, m.Data)
	d[MailDataSender] = o.Sender()
	for k, v := range map[string]string{MailDataReplyTo: o.ReplyTo, MailDataAccent: o.Accent, MailDataLogo: o.Logo} {
		if v != "" {
			d[k] = v
		}
	}
	m.Data = d
	return nil
}
