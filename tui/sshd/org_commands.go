package sshd

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"strings"

	"latchkey/core"
)

// orgFlags are the flags of `org set` (with --org, --name and --json,
// which other commands share).
type orgFlags struct {
	logo, accent, replyTo, senderName string
}

// orgStrings names orgFlags' string flags for parse.
func (f *cmdFlags) orgStrings() map[string]*string {
	return map[string]*string{"logo": &f.orgFlags.logo, "accent": &f.orgFlags.accent, "reply-to": &f.orgFlags.replyTo,
		"sender-name": &f.orgFlags.senderName}
}

// maxLogoStdin bounds the image `org set --logo -` reads: far more than a
// logo may be (core refuses more than core.MaxLogoBytes, saying how large
// it was), far less than would weigh on the server.
const maxLogoStdin = 16 << 20

// accentForm is the form of an accent colour, #RRGGBB.
var accentForm = regexp.MustCompile(`^\s*#[0-9A-Fa-f]{6}\s*$`)

func clipArg(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}

const orgUsage = "usage: org show [--org SLUG] | org set [--org SLUG] [--name N] [--logo -|none] [--accent '#RRGGBB'|none] [--reply-to ADDR|none] [--sender-name N] [--language CODE|default]"

// orgRow is `org show`: the organization's name and brand.
type orgRow struct {
	Slug       string `json:"slug"`
	Name       string `json:"name"`
	Logo       string `json:"logo,omitempty"` // its address on the portal listener
	Icon       string `json:"icon,omitempty"`
	Accent     string `json:"accent,omitempty"`
	ReplyTo    string `json:"reply_to,omitempty"`
	SenderName string `json:"sender_name"` // as emails show it: the organization's name unless set
	Language   string `json:"language"`    // of its portals that name none
}

func (s *Server) orgCmd(ctx context.Context, a core.Actor, f *cmdFlags, args []string, in io.Reader, out io.Writer) error {
	if len(args) != 1 || args[0] != "show" && args[0] != "set" {
		return usagef(orgUsage)
	}
	svc := s.cfg.Service
	if args[0] == "show" {
		for fl := range f.set {
			if fl != "json" && fl != "org" {
				return usagef("org show takes no --%s (that is for org set)", fl)
			}
		}
	}
	org, err := s.org(ctx, a, f.org)
	if err != nil {
		return err
	}
	if args[0] == "set" {
		ch, err := orgChange(f, in)
		if err != nil {
			return err
		}
		if org, err = svc.ChangeOrg(ctx, a, org.ID, ch); err != nil {
			return err
		}
	}
	row := orgRow{Slug: org.Slug, Name: org.Name, Accent: org.Accent, ReplyTo: org.ReplyTo, SenderName: org.Sender(), Language: org.Language}
	if row.Language == "" {
		row.Language = "en"
	}
	if org.Logo != "" {
		row.Logo, row.Icon = svc.PublicURL()+org.LogoPath(), svc.PublicURL()+org.IconPath()
	}
	if f.json {
		return write(out, true, []orgRow{row}, nil)
	}
	lines := [][]string{{"slug", row.Slug}, {"name", row.Name}, {"logo", dash(row.Logo)}, {"icon", dash(row.Icon)},
		{"accent", dash(row.Accent)}, {"reply-to", dash(row.ReplyTo)}, {"sender name", row.SenderName}, {"language", row.Language}}
	return write(out, false, lines, func(l []string) []string { return l })
}

// orgChange reads org set's flags. "none" clears a setting; a value
// core refuses (a colour, an address, an image) is a refusal (exit 1)
// with core's reason, and nothing changes.
func orgChange(f *cmdFlags, in io.Reader) (core.OrgChange, error) {
	var ch core.OrgChange
	given := 0
	for _, fl := range []string{"name", "logo", "accent", "reply-to", "sender-name", "language"} {
		if f.set[fl] {
			given++
		}
	}
	if given == 0 {
		return ch, usagef("org set needs at least one of --name, --logo, --accent, --reply-to, --sender-name, --language")
	}
	clearable := func(name, v string) *string {
		if !f.set[name] {
			return nil
		}
		if strings.EqualFold(strings.TrimSpace(v), "none") {
			v = ""
		}
		return &v
	}
	if f.set["name"] {
		ch.Name = &f.name
	}
	if f.set["sender-name"] {
		ch.SenderName = &f.orgFlags.senderName
	}
	if f.set["language"] {
		lang := strings.TrimSpace(f.language)
		if strings.EqualFold(lang, "default") || strings.EqualFold(lang, "none") {
			lang = "" // English
		}
		ch.Language = &lang
	}
	ch.Accent, ch.ReplyTo = clearable("accent", f.orgFlags.accent), clearable("reply-to", f.orgFlags.replyTo)
	if f.set["accent"] && *ch.Accent != "" && !accentForm.MatchString(*ch.Accent) {
		// Not a colour at all (an unquoted # starts a shell comment): a
		// malformed command line. A colour too light is core's refusal.
		return ch, usagef("--accent %q is not a colour: # and six hex digits, quoted for the shell: --accent '#0b6e4f'", clipArg(*ch.Accent))
	}
	if f.set["logo"] {
		switch strings.TrimSpace(f.orgFlags.logo) {
		case "none":
			ch.RemoveLogo = true
		case "-":
			b, err := io.ReadAll(io.LimitReader(in, maxLogoStdin+1))
			if err != nil {
				return ch, fmt.Errorf("read the logo from standard input: %w", err)
			}
			if len(b) > maxLogoStdin {
				return ch, fmt.Errorf("the logo on standard input is larger than %d MB; a logo may be at most %d KB", maxLogoStdin>>20, core.MaxLogoBytes>>10)
			}
			ch.Logo = b
		default:
			return ch, usagef("--logo takes - (the image on standard input: ssh … org set --logo - < logo.png) or none")
		}
	}
	return ch, nil
}
