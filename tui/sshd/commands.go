package sshd

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"strconv"
	"strings"
	"time"

	"charm.land/ssh"

	"latchkey/core"
)

const usage = `latchkey over SSH: the console with a terminal (ssh -t), or these commands:

  projects [--org SLUG]                          the organization's projects
  members SLUG                                   people with access to a portal
  invite EMAIL --role ROLE [--portal SLUG] [--name NAME] [--until YYYY-MM-DD] [--org SLUG] [--replace]
                                                 --replace: replace an active link of EMAIL for the portal
  link generate|deactivate|show SLUG EMAIL       manage a person's magic link
  link history SLUG EMAIL                        every event of their links here; scanners' views marked
  requests [--org SLUG]                          pending access requests
  requests grant ID [--role ROLE] [--confirm]    grant one (as client by default); --confirm grants an
                                                 address that is not plain ASCII or looks like a known one
  requests dismiss ID                            dismiss one
  portal show SLUG                               a portal's settings
  portal set SLUG [--title T] [--access closed|email|open] [--disclosure explicit|generic|default]
                  [--upstream URL|none] [--host NAME|none] [--contact EMAIL|none] [--language en|de|fr|es|default]
                  [--welcome-file -]             change them (--welcome-file - reads Markdown from standard input)
                  [--link-lifetime D|none] [--link-idle D|none] [--link-uses N|none]
                  [--invite-lifetime D|none|default] [--allow-domains 'acme.com,*.acme.com'|none]
                  [--auto-grant 'acme.com=client,…'|none]
                                                 its access rules: D is like 30d, 2w or 36h; domains for
                                                 email portals, grant rules (client, guest or member) for
                                                 closed ones
  resources ls SLUG                              a portal's resources (titled links), in order
  resources add SLUG TITLE URL [--note TEXT]     add one at the end
  resources rm SLUG ID | resources move SLUG ID POSITION
  updates ls SLUG                                a portal's updates, newest first
  updates post SLUG [--email]                    post one (text on standard input); --email mails it to
                                                 everyone with access
  org show [--org SLUG]                          the organization's name and brand
  org set [--org SLUG] [--name N] [--logo -|none] [--accent '#RRGGBB'|none] [--reply-to ADDR|none]
          [--sender-name N] [--language CODE]    change them (owner only; --logo - reads a PNG, JPEG or
                                                 WebP image from standard input)
  tokens create NAME --scope SCOPES [--org SLUG] [--expires YYYY-MM-DD]
                                                 an API token (owner only); its secret (lk_…) is printed
                                                 this once. SCOPES: comma-separated, or all
  tokens ls [--org SLUG] | tokens revoke ID      the organization's API tokens; revoke stops one at once
  webhooks add URL --events LIST [--org SLUG]    post the organization's events to URL (owner only); its
                                                 signing secret (whsec_…) is printed this once. LIST:
                                                 comma-separated events, or all; a ping is sent at once
  webhooks ls [--org SLUG] | webhooks rm ID | webhooks enable ID
                                                 the webhooks; enable turns one stopped by failures back on
  webhooks deliveries ID                         its last 100 deliveries: status, latency, the answer
  backup > copy.db                               consistent copy of the database (instance admins)

Output is tab-separated, one record per line; --json gives JSON instead. Access is
yes, invited (a link not opened yet), ended (a guest past their end date) or no; a link
is none, active, expired (stopped by the portal's rules, which the text says: "used 5 of 5")
or deactivated; "-" is a value a row does not have.
Commands that name no portal take --org SLUG when you manage several organizations.
`

// usageError is bad input: exit status 2.
type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// commands runs a session without a terminal as a command.
func (s *Server) commands(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		if _, _, tty := sess.Pty(); tty {
			if s.shuttingDown() {
				io.WriteString(sess, "\r\nlatchkey is stopping; this console session has ended.\r\n")
			}
			next(sess)
			return
		}
		actor, err := s.actor(sess)
		if err == nil {
			err = s.run(sess.Context(), actor, sess.Command(), sess, sess, sess.Stderr())
		}
		var ue usageError
		switch {
		case err == nil:
			sess.Exit(0)
		case errors.As(err, &ue):
			fmt.Fprintln(sess.Stderr(), "latchkey: "+oneLine(ue.msg))
			sess.Exit(2)
		default:
			fmt.Fprintln(sess.Stderr(), "latchkey: "+errLine(err))
			sess.Exit(1)
		}
	}
}

// errLine turns an error into one line for a person: core's sentence,
// starting in lower case after the "latchkey: " every message begins with.
func errLine(err error) string {
	return oneLine(core.Clause(core.Describe(err)))
}

// confirmWith adds to core's question how to confirm over SSH.
func confirmWith(err error, flag string) error {
	if errors.Is(err, core.ErrNeedsConfirmation) {
		return fmt.Errorf("%s Nothing was changed; run it again with %s to go ahead.", core.Describe(err), flag)
	}
	return err
}

// oneLine keeps a message, and what the user typed inside it, on one line.
func oneLine(s string) string {
	return strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s)
}

// cmdFlags are the flags of the commands; each command takes only its own
// (commandFlags), and any other is an unknown flag.
type cmdFlags struct {
	fs                             *flag.FlagSet
	json, replace, confirm, email  bool
	org, portal, role, name, until string
	// portal set
	title, access, disclosure, upstream, host, contact, language, welcomeFile string
	rules                                                                     [len(ruleFlags)]string
	// resources add
	note string
	// tokens create
	scope, expires string
	// webhooks add
	events   string
	orgFlags                 // org set (org_commands.go)
	set      map[string]bool // the flags given
}

// commandFlags lists the flags each command takes.
var commandFlags = map[string][]string{
	"projects": {"json", "org"},
	"members":  {"json"},
	"invite":   {"json", "org", "portal", "role", "name", "until", "replace"},
	"link":     {"json"},
	"requests": {"json", "org", "role", "confirm"},
	"portal": {"json", "title", "access", "disclosure", "upstream", "host", "contact", "language", "welcome-file",
		"link-lifetime", "link-idle", "link-uses", "invite-lifetime", "allow-domains", "auto-grant"},
	"resources": {"json", "note"},
	"updates":   {"json", "email"},
	"org":       {"json", "org", "name", "logo", "accent", "reply-to", "sender-name", "language"},
	"tokens":    {"json", "org", "scope", "expires"},
	"webhooks":  {"json", "org", "events"},
}

// parse reads flags anywhere among the arguments and returns the positional ones.
func parse(name string, args []string, stderr io.Writer) (*cmdFlags, []string, error) {
	f := &cmdFlags{fs: flag.NewFlagSet(name, flag.ContinueOnError), set: map[string]bool{}}
	f.fs.SetOutput(io.Discard)
	bools := map[string]*bool{"json": &f.json, "replace": &f.replace, "confirm": &f.confirm, "email": &f.email}
	strs := map[string]*string{"org": &f.org, "portal": &f.portal, "role": &f.role, "name": &f.name, "until": &f.until,
		"title": &f.title, "access": &f.access, "disclosure": &f.disclosure, "upstream": &f.upstream, "host": &f.host,
		"contact": &f.contact, "language": &f.language, "welcome-file": &f.welcomeFile, "note": &f.note,
		"scope": &f.scope, "expires": &f.expires, "events": &f.events}
	maps.Copy(strs, f.orgStrings())
	for i, name := range ruleFlags {
		strs[name] = &f.rules[i]
	}
	for _, fl := range commandFlags[name] {
		if b, ok := bools[fl]; ok {
			f.fs.BoolVar(b, fl, false, "")
		} else {
			f.fs.StringVar(strs[fl], fl, "", "")
		}
	}
	defer func() { f.fs.Visit(func(fl *flag.Flag) { f.set[fl.Name] = true }) }()
	var pos []string
	for {
		if err := f.fs.Parse(args); errors.Is(err, flag.ErrHelp) {
			return nil, nil, helpRequest{}
		} else if err != nil {
			return nil, nil, usagef("%s: %s (see: help)", name, flagProblem(err, args))
		}
		args = f.fs.Args()
		if len(args) == 0 {
			return f, pos, nil
		}
		pos, args = append(pos, args[0]), args[1:]
	}
}

// helpRequest is -h or --help after a command: it shows the help.
type helpRequest struct{}

func (helpRequest) Error() string { return "help requested" }

// flagProblem says in plain words what the flag package found wrong, naming
// the flag as it was typed (the flag package always writes one dash).
func flagProblem(err error, args []string) string {
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		return "unknown flag " + asTyped(f, args)
	}
	if f, ok := strings.CutPrefix(msg, "flag needs an argument: -"); ok {
		return asTyped(f, args) + " needs a value"
	}
	if v, ok := strings.CutPrefix(msg, "invalid boolean value "); ok { // `"maybe" for -json: parse error`
		if i := strings.LastIndex(v, " for -"); i > 0 {
			f, _, _ := strings.Cut(v[i+len(" for -"):], ":")
			return fmt.Sprintf("%s takes no value (got %s)", asTyped(f, args), v[:i])
		}
	}
	return msg
}

// asTyped is the flag name as it stands among args: -name or --name.
func asTyped(name string, args []string) string {
	for _, a := range args {
		if a == "--" {
			break
		}
		a, _, _ = strings.Cut(a, "=")
		if a == "-"+name || a == "--"+name {
			return a
		}
	}
	return "--" + name
}

func (s *Server) run(ctx context.Context, a core.Actor, argv []string, in io.Reader, out, stderr io.Writer) error {
	if len(argv) == 0 {
		return usageError{"no command, and no terminal for the console: use ssh -t for the console, or give a command (ssh ... help)"}
	}
	cmd, rest := argv[0], argv[1:]
	f, args, err := parse(cmd, rest, stderr)
	if errors.As(err, new(helpRequest)) {
		_, err := io.WriteString(out, usage)
		return err
	}
	if err != nil {
		return err
	}
	svc := s.cfg.Service
	switch cmd {
	case "help", "--help", "-h":
		_, err := io.WriteString(out, usage)
		return err
	case "projects":
		if len(args) != 0 {
			return usagef("projects takes no arguments (got %q)", args[0])
		}
		org, err := s.org(ctx, a, f.org)
		if err != nil {
			return err
		}
		items, err := svc.Projects(ctx, a, org.ID)
		if err != nil {
			return err
		}
		rows := make([]projectRow, len(items))
		for i, p := range items {
			rows[i] = projectRow{Project: p.Project.Name}
			if p.Portal != nil { // a project without a portal has no people, links or requests: "-"
				rows[i].Portal, rows[i].Access = p.Portal.Slug, string(p.Portal.Access)
				rows[i].People, rows[i].ActiveLinks, rows[i].Requests = &p.PeopleWithAccess, &p.ActiveLinks, &p.PendingRequests
			}
		}
		return write(out, f.json, rows, func(r projectRow) []string {
			return []string{r.Project, dash(r.Portal), dash(r.Access), count(r.People), count(r.ActiveLinks), count(r.Requests)}
		})
	case "members":
		if len(args) != 1 {
			return usagef("usage: members SLUG")
		}
		ref, err := svc.PortalBySlug(ctx, a, args[0])
		if err != nil {
			return err
		}
		items, err := svc.PortalMembers(ctx, a, ref.Portal.ID)
		if err != nil {
			return err
		}
		rows := make([]memberRow, len(items))
		for i, m := range items {
			rows[i] = memberRow{Email: m.Email, Name: m.Name, Role: string(m.Role), Access: m.AccessWord(), Link: m.LinkWord(), LinkEnd: m.LinkEnded,
				Created: stamp(m.LinkAt), LastUsed: stamp(m.LastUsedAt), Uses: m.UseCount, AddressNote: m.Note,
				accessText: m.AccessText(), linkText: m.LinkText()}
			if !m.GuestUntil.IsZero() {
				rows[i].Until = m.GuestUntil.Format(time.DateOnly)
			}
		}
		return write(out, f.json, rows, func(r memberRow) []string {
			return []string{r.Email, dash(r.Name), r.Role, r.accessText, r.linkText, dash(r.Created), dash(r.LastUsed), strconv.FormatUint(r.Uses, 10), dash(r.Warning())}
		})
	case "invite":
		return s.invite(ctx, a, f, args, out)
	case "link":
		return s.link(ctx, a, f, args, out)
	case "requests":
		return s.requests(ctx, a, f, args, out)
	case "portal":
		return s.portalCmd(ctx, a, f, args, in, out)
	case "resources":
		return s.resourcesCmd(ctx, a, f, args, out)
	case "updates":
		return s.updatesCmd(ctx, a, f, args, in, out)
	case "org":
		return s.orgCmd(ctx, a, f, args, in, out)
	case "tokens":
		return s.tokensCmd(ctx, a, f, args, out)
	case "webhooks":
		return s.webhooksCmd(ctx, a, f, args, out)
	case "backup":
		if len(args) != 0 {
			return usagef("backup takes no arguments; redirect its output: ssh ... backup > copy.db")
		}
		if d := core.InstanceActionsOf(a).Backup; !d.OK() {
			return d.Err()
		}
		if s.cfg.Backup == nil {
			return errors.New("backup is not available on this server")
		}
		_, err := s.cfg.Backup.WriteTo(out)
		return err
	}
	return usagef("unknown command %q (try: ssh ... help)", cmd)
}

// org picks the organization a command acts in.
func (s *Server) org(ctx context.Context, a core.Actor, slug string) (core.Org, error) {
	if slug != "" {
		return s.cfg.Service.OrgBySlug(ctx, a, slug)
	}
	orgs, err := s.cfg.Service.Orgs(ctx, a)
	if err != nil {
		return core.Org{}, err
	}
	switch len(orgs) {
	case 0:
		return core.Org{}, errors.New("you manage no organization")
	case 1:
		return orgs[0], nil
	}
	var slugs []string
	for _, o := range orgs {
		slugs = append(slugs, o.Slug)
	}
	return core.Org{}, usagef("you manage several organizations (%s); name one with --org SLUG", strings.Join(slugs, ", "))
}
