package sshd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"latchkey/core"
)

// maxStdin bounds what a command reads from standard input (a welcome
// text, an update): more than any of them may hold.
const maxStdin = 256 << 10

// readText reads a command's text from standard input, refusing more than
// limit characters' worth.
func readText(in io.Reader, what string) (string, error) {
	b, err := io.ReadAll(io.LimitReader(in, maxStdin+1))
	if err != nil {
		return "", fmt.Errorf("read %s from standard input: %w", what, err)
	}
	if len(b) > maxStdin {
		return "", usagef("%s on standard input is longer than %d KB", what, maxStdin>>10)
	}
	return string(b), nil
}

// portalRow is `portal show`: the portal's settings.
type portalRow struct {
	Slug       string `json:"slug"`
	Title      string `json:"title"`
	Project    string `json:"project"`
	Org        string `json:"org"`
	Access     string `json:"access"`
	Disclosure string `json:"disclosure"`
	Upstream   string `json:"upstream,omitempty"`
	Host       string `json:"host,omitempty"`
	Contact    string `json:"contact,omitempty"`
	Language   string `json:"language"` // "default" when the portal has none (English)
	Welcome    string `json:"welcome"`
	Resources  int    `json:"resources"`
	Updates    int    `json:"updates"`
	// The access rules, in the words portal set takes.
	LinkLifetime   string `json:"link_lifetime"`
	LinkIdle       string `json:"link_idle"`
	LinkUses       string `json:"link_uses"`
	InviteLifetime string `json:"invite_lifetime"`
	AllowDomains   string `json:"allow_domains"`
	AutoGrant      string `json:"auto_grant"`
}

// ruleFlags are portal set's flags of the access rules, in RulesPatch's order.
var ruleFlags = [...]string{"link-lifetime", "link-idle", "link-uses", "invite-lifetime", "allow-domains", "auto-grant"}

func (s *Server) portalCmd(ctx context.Context, a core.Actor, f *cmdFlags, args []string, in io.Reader, out io.Writer) error {
	if len(args) != 2 || args[0] != "show" && args[0] != "set" {
		return usagef("usage: portal show SLUG | portal set SLUG [--title T] [--access L] [--disclosure D] [--upstream URL|none] [--host NAME|none] [--contact EMAIL|none] [--language CODE] [--welcome-file -] [--link-lifetime D|none] [--link-idle D|none] [--link-uses N|none] [--invite-lifetime D|none|default] [--allow-domains LIST|none] [--auto-grant 'DOMAIN=ROLE,…'|none]")
	}
	svc := s.cfg.Service
	if args[0] == "show" {
		for fl := range f.set {
			if fl != "json" {
				return usagef("portal show takes no --%s (that is for portal set)", fl)
			}
		}
	}
	ref, err := svc.PortalBySlug(ctx, a, args[1])
	if err != nil {
		return err
	}
	if args[0] == "set" {
		patch, err := portalPatch(f, in)
		if err != nil {
			return err
		}
		p, err := svc.PatchPortal(ctx, a, ref.Portal.ID, patch)
		if err != nil {
			return err
		}
		ref.Portal = p
	}
	set, err := svc.PortalSettingsOf(ctx, a, ref.Portal.ID)
	if err != nil {
		return err
	}
	res, err := svc.Resources(ctx, a, ref.Portal.ID)
	if err != nil {
		return err
	}
	ups, err := svc.Updates(ctx, a, ref.Portal.ID)
	if err != nil {
		return err
	}
	row := portalRow{Slug: ref.Portal.Slug, Title: ref.Portal.Title, Project: ref.Project.Name, Org: ref.Org.Slug, Access: string(ref.Portal.Access),
		Disclosure: disclosure(ref.Portal.Disclosure), Upstream: set.Upstream, Host: set.Host, Contact: set.Contact, Language: language(set.Language), Welcome: set.Welcome,
		Resources: len(res), Updates: len(ups)}
	rules := ref.Portal.Rules
	row.LinkLifetime, row.LinkIdle, row.LinkUses, row.InviteLifetime = rules.LifetimeWord(), rules.IdleWord(), rules.UsesWord(), rules.InviteWord()
	row.AllowDomains, row.AutoGrant = rules.DomainsWord(), rules.AutoGrantWord()
	if f.json {
		return write(out, true, []portalRow{row}, nil)
	}
	unused := func(word string, used bool, level core.AccessLevel) string {
		if word != "none" && !used {
			word += " (not applied: for " + string(level) + " portals)"
		}
		return word
	}
	welcome := fmt.Sprintf("%d characters", len([]rune(row.Welcome)))
	if row.Welcome == "" {
		welcome = "-"
	}
	lines := [][]string{{"slug", row.Slug}, {"title", row.Title}, {"project", row.Project}, {"organization", row.Org},
		{"access", row.Access}, {"disclosure", row.Disclosure}, {"upstream", dash(row.Upstream)}, {"host", dash(row.Host)},
		{"contact", dash(row.Contact)}, {"language", row.Language}, {"welcome", welcome}, {"resources", strconv.Itoa(row.Resources)}, {"updates", strconv.Itoa(row.Updates)},
		{"link lifetime", row.LinkLifetime}, {"link idle", row.LinkIdle}, {"link uses", row.LinkUses}, {"invite lifetime", row.InviteLifetime},
		{"allow domains", unused(row.AllowDomains, ref.Portal.Access == core.AccessEmail, core.AccessEmail)},
		{"auto grant", unused(row.AutoGrant, ref.Portal.Access == core.AccessClosed, core.AccessClosed)}}
	return write(out, false, lines, func(l []string) []string { return l })
}

// language is a portal's language as portal show says it.
func language(code string) string {
	if code == "" {
		return "default"
	}
	return code
}

func disclosure(d core.Disclosure) string {
	if d == core.DisclosureDefault {
		return "default"
	}
	return string(d)
}

// portalPatch reads portal set's flags. A value that does not parse is a
// malformed command line (exit 2), checked before anything changes.
func portalPatch(f *cmdFlags, in io.Reader) (core.PortalPatch, error) {
	var p core.PortalPatch
	if len(f.set) == 0 || len(f.set) == 1 && f.set["json"] {
		return p, usagef("portal set needs at least one of --title, --access, --disclosure, --upstream, --host, --contact, --language, --welcome-file, --%s", strings.Join(ruleFlags[:], ", --"))
	}
	// The rules go to core as they were typed: core reads them, in the
	// same transaction as the rest, and refuses what does not parse.
	rules := []**string{&p.Rules.LinkLifetime, &p.Rules.LinkIdle, &p.Rules.LinkUses, &p.Rules.InviteLifetime, &p.Rules.AllowDomains, &p.Rules.AutoGrant}
	for i, name := range ruleFlags {
		if f.set[name] {
			v := f.rules[i]
			*rules[i] = &v
		}
	}
	if err := p.Rules.Check(); err != nil {
		var ve *core.ValidationError
		if errors.As(err, &ve) {
			return p, flagValue(ve.Field, err)
		}
		return p, err
	}
	str := func(name, v string) *string {
		if !f.set[name] {
			return nil
		}
		return &v
	}
	p.Title, p.Contact = str("title", f.title), str("contact", f.contact)
	if f.set["access"] {
		l, err := core.ParseAccessLevel(f.access)
		if err != nil {
			return p, flagValue("access", err)
		}
		p.Access = &l
	}
	if f.set["disclosure"] {
		d, err := core.ParseDisclosure(f.disclosure)
		if err != nil {
			return p, flagValue("disclosure", err)
		}
		p.Disclosure = &d
	}
	if f.set["upstream"] {
		u, err := core.ParseUpstream(f.upstream)
		if err != nil {
			return p, flagValue("upstream", err)
		}
		p.Upstream = &u
	}
	if f.set["host"] {
		h, err := core.ParseHostName(f.host)
		if err != nil {
			return p, flagValue("host", err)
		}
		p.Host = &h
	}
	if f.set["language"] {
		l, err := core.ParseLanguage(f.language)
		if err != nil {
			return p, flagValue("language", err)
		}
		p.Language = &l
	}
	if f.set["welcome-file"] {
		if f.welcomeFile != "-" {
			return p, usagef("--welcome-file takes - (standard input): ssh … portal set SLUG --welcome-file - < welcome.md")
		}
		text, err := readText(in, "the welcome text")
		if err != nil {
			return p, err
		}
		p.Welcome = &text
	}
	return p, nil
}

// resourceRow is one line of `resources ls`.
type resourceRow struct {
	ID       uint64 `json:"id"`
	Position int    `json:"position"`
	Title    string `json:"title"`
	URL      string `json:"url"`
	Note     string `json:"note,omitempty"`
}

func (s *Server) resourcesCmd(ctx context.Context, a core.Actor, f *cmdFlags, args []string, out io.Writer) error {
	const usageText = "usage: resources ls SLUG | resources add SLUG TITLE URL [--note TEXT] | resources rm SLUG ID | resources move SLUG ID POSITION"
	if len(args) < 2 {
		return usagef(usageText)
	}
	verb, slug := args[0], args[1]
	want := map[string]int{"ls": 2, "add": 4, "rm": 3, "move": 4}[verb]
	switch {
	case want == 0:
		return usagef("resources %q: the verbs are ls, add, rm and move", verb)
	case len(args) != want:
		return usagef(usageText)
	case f.set["note"] && verb != "add":
		return usagef("--note is for resources add")
	}
	svc := s.cfg.Service
	var id uint64
	if verb == "rm" || verb == "move" {
		var err error
		if id, err = strconv.ParseUint(args[2], 10, 64); err != nil {
			return usagef("%q is not a resource id (a number, as `resources ls` lists)", args[2])
		}
	}
	position := 0
	if verb == "move" {
		var err error
		if position, err = strconv.Atoi(args[3]); err != nil || position < 1 {
			return usagef("%q is not a position (1 is the first)", args[3])
		}
	}
	ref, err := svc.PortalBySlug(ctx, a, slug)
	if err != nil {
		return err
	}
	switch verb {
	case "add":
		r, err := svc.AddResource(ctx, a, ref.Portal.ID, core.ResourceInput{Title: args[2], URL: args[3], Note: f.note})
		if err != nil {
			return err
		}
		return write(out, f.json, []resourceRow{{r.ID, r.Position, r.Title, r.URL, r.Note}}, func(r resourceRow) []string {
			return []string{"added", strconv.FormatUint(r.ID, 10), strconv.Itoa(r.Position), r.Title, r.URL}
		})
	case "rm":
		if err := svc.RemoveResource(ctx, a, ref.Portal.ID, id); err != nil {
			return err
		}
	case "move":
		if err := svc.MoveResource(ctx, a, ref.Portal.ID, id, position); err != nil {
			return err
		}
	}
	list, err := svc.Resources(ctx, a, ref.Portal.ID)
	if err != nil {
		return err
	}
	rows := make([]resourceRow, len(list))
	for i, r := range list {
		rows[i] = resourceRow{r.ID, r.Position, r.Title, r.URL, r.Note}
	}
	return write(out, f.json, rows, func(r resourceRow) []string {
		return []string{strconv.FormatUint(r.ID, 10), strconv.Itoa(r.Position), r.Title, r.URL, dash(r.Note)}
	})
}

// updateRow is one line of `updates ls`.
type updateRow struct {
	ID      uint64 `json:"id"`
	At      string `json:"at"`
	Author  string `json:"author"`
	Emailed int    `json:"emailed"`
	Body    string `json:"body"`
}

func (s *Server) updatesCmd(ctx context.Context, a core.Actor, f *cmdFlags, args []string, in io.Reader, out io.Writer) error {
	if len(args) != 2 || args[0] != "ls" && args[0] != "post" {
		return usagef("usage: updates ls SLUG | updates post SLUG [--email] (the text on standard input)")
	}
	if f.set["email"] && args[0] != "post" {
		return usagef("--email is for updates post")
	}
	svc := s.cfg.Service
	ref, err := svc.PortalBySlug(ctx, a, args[1])
	if err != nil {
		return err
	}
	row := func(u core.Update) updateRow {
		return updateRow{ID: u.ID, At: stamp(u.CreatedAt), Author: u.Author, Emailed: u.Emailed, Body: u.Body}
	}
	if args[0] == "post" {
		text, err := readText(in, "the update")
		if err != nil {
			return err
		}
		u, err := svc.PostUpdate(ctx, a, ref.Portal.ID, text, f.email)
		if err != nil {
			return err
		}
		return write(out, f.json, []updateRow{row(u)}, func(r updateRow) []string {
			return []string{"posted", strconv.FormatUint(r.ID, 10), r.At, "emailed to " + strconv.Itoa(r.Emailed)}
		})
	}
	list, err := svc.Updates(ctx, a, ref.Portal.ID)
	if err != nil {
		return err
	}
	rows := make([]updateRow, len(list))
	for i, u := range list {
		rows[i] = row(u)
	}
	return write(out, f.json, rows, func(r updateRow) []string {
		return []string{strconv.FormatUint(r.ID, 10), r.At, r.Author, strconv.Itoa(r.Emailed), strings.Join(strings.Fields(r.Body), " ")}
	})
}

// flagValue is a flag's value that does not parse: a malformed command line.
func flagValue(flag string, err error) error {
	var ve *core.ValidationError
	if errors.As(err, &ve) {
		return usagef("--%s: %s", flag, ve.Reason)
	}
	return usagef("--%s: %s", flag, errLine(err))
}
