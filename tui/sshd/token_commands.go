package sshd

import (
	"context"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"

	"latchkey/core"
)

// tokenRow is an API token as `tokens ls` prints it; the secret only ever
// appears in `tokens create`'s output.
type tokenRow struct {
	ID       uint64   `json:"id"`
	Name     string   `json:"name"`
	Scopes   []string `json:"scopes"`
	State    string   `json:"state"` // active, "revoked 3 Dec 2026", "expired 3 Dec 2026"
	Creator  string   `json:"created_by"`
	Created  string   `json:"created"`
	Expires  string   `json:"expires,omitempty"`
	LastUsed string   `json:"last_used,omitempty"`
	Secret   string   `json:"secret,omitempty"`
}

func newTokenRow(t core.APIToken, now time.Time) tokenRow {
	r := tokenRow{ID: t.ID, Name: t.Name, State: t.State(now), Creator: t.CreatorTag, Created: stamp(t.CreatedAt),
		Expires: stamp(t.ExpiresAt), LastUsed: stamp(t.LastUsedAt)}
	for _, s := range t.Scopes {
		r.Scopes = append(r.Scopes, string(s))
	}
	return r
}

// tokensCmd: tokens create NAME --scope SCOPES [--org SLUG] [--expires
// YYYY-MM-DD] | tokens ls [--org SLUG] | tokens revoke ID.
func (s *Server) tokensCmd(ctx context.Context, a core.Actor, f *cmdFlags, args []string, out io.Writer) error {
	const use = "usage: tokens create NAME --scope SCOPES [--org SLUG] [--expires YYYY-MM-DD] | tokens ls [--org SLUG] | tokens revoke ID"
	if len(args) == 0 {
		return usagef(use)
	}
	svc := s.cfg.Service
	now := svc.Now()
	cells := func(r tokenRow) []string {
		return []string{strconv.FormatUint(r.ID, 10), r.Name, strings.Join(r.Scopes, ","), r.State, r.Creator, r.Created, dash(r.Expires), dash(r.LastUsed)}
	}
	switch args[0] {
	case "create":
		if len(args) != 2 {
			return usagef("usage: tokens create NAME --scope SCOPES [--org SLUG] [--expires YYYY-MM-DD]")
		}
		if f.scope == "" {
			return usagef("tokens create needs --scope (a comma-separated list of %s, or all)", scopeWords())
		}
		scopes, err := core.ParseScopes(f.scope)
		var bad *core.ValidationError
		if errors.As(err, &bad) {
			return usagef("--scope: %s", bad.Reason)
		}
		n := core.NewAPIToken{Name: args[1], Scopes: scopes}
		if f.expires != "" {
			d, err := core.ParseDate("expires", f.expires)
			if errors.As(err, &bad) {
				return usagef("--expires: %s", bad.Reason)
			}
			n.Expires = d
		}
		org, err := s.org(ctx, a, f.org)
		if err != nil {
			return err
		}
		n.OrgID = org.ID
		tok, secret, err := svc.CreateAPIToken(ctx, a, n)
		if err != nil {
			return err
		}
		r := newTokenRow(tok, now)
		r.Secret = secret
		return write(out, f.json, []tokenRow{r}, func(r tokenRow) []string { return append(cells(r), r.Secret) })
	case "ls":
		if len(args) != 1 {
			return usagef("usage: tokens ls [--org SLUG]")
		}
		org, err := s.org(ctx, a, f.org)
		if err != nil {
			return err
		}
		list, err := svc.APITokenList(ctx, a, org.ID)
		if err != nil {
			return err
		}
		rows := make([]tokenRow, len(list))
		for i, t := range list {
			rows[i] = newTokenRow(t, now)
		}
		return write(out, f.json, rows, cells)
	case "revoke":
		if len(args) != 2 {
			return usagef("usage: tokens revoke ID")
		}
		id, err := strconv.ParseUint(args[1], 10, 64)
		if err != nil || id == 0 {
			return usagef("tokens revoke: %q is not a token id (tokens ls lists them)", args[1])
		}
		tok, err := svc.RevokeAPIToken(ctx, a, id)
		if err != nil {
			return err
		}
		return write(out, f.json, []tokenRow{newTokenRow(tok, svc.Now())}, cells)
	}
	return usagef("tokens: unknown subcommand %q (%s)", args[0], strings.TrimPrefix(use, "usage: "))
}

func scopeWords() string {
	w := make([]string, len(core.Scopes))
	for i, s := range core.Scopes {
		w[i] = string(s)
	}
	return strings.Join(w, ", ")
}
