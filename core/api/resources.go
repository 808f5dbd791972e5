package api

import (
	"cmp"
	"encoding/base64"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"latchkey/core"
)

func (h *Handler) routes() {
	h.mux.HandleFunc("GET "+Prefix+"/openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=300")
		writeRaw(w, http.StatusOK, "application/json", openAPIDocument)
	})
	h.handle("GET "+Prefix+"/projects", core.ScopeProjectsRead, listProjects)
	h.handle("GET "+Prefix+"/portals/{slug}", core.ScopeProjectsRead, showPortal)
	h.handle("PATCH "+Prefix+"/portals/{slug}", core.ScopePortalsWrite, patchPortal)
	h.handle("GET "+Prefix+"/portals/{slug}/members", core.ScopeMembersRead, listMembers)
	h.handle("POST "+Prefix+"/portals/{slug}/members", core.ScopeMembersWrite, invite)
	h.handle("GET "+Prefix+"/portals/{slug}/members/{email}", core.ScopeMembersRead, showMember)
	h.handle("PATCH "+Prefix+"/portals/{slug}/members/{email}", core.ScopeMembersWrite, changeRole)
	h.handle("DELETE "+Prefix+"/portals/{slug}/members/{email}", core.ScopeMembersWrite, removeAccess)
	h.handle("GET "+Prefix+"/portals/{slug}/members/{email}/link", core.ScopeMembersRead, showLink)
	h.handle("POST "+Prefix+"/portals/{slug}/members/{email}/link", core.ScopeLinksWrite, generateLink)
	h.handle("DELETE "+Prefix+"/portals/{slug}/members/{email}/link", core.ScopeLinksWrite, deactivateLink)
	h.handle("GET "+Prefix+"/requests", core.ScopeRequestsRead, listRequests)
	h.handle("POST "+Prefix+"/requests/{id}/grant", core.ScopeRequestsWrite, grantRequest)
	h.handle("POST "+Prefix+"/requests/{id}/dismiss", core.ScopeRequestsWrite, dismissRequest)
	h.handle("GET "+Prefix+"/events", core.ScopeEventsRead, listEvents)
	h.webhookRoutes()
	h.mux.HandleFunc(Prefix+"/", func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, &problem{Type: typeNotFound, Status: http.StatusNotFound,
			Title: "No such API endpoint; " + Prefix + "/openapi.json describes them"})
	})
}

// ---- pagination

const (
	defaultLimit = 100
	maxLimit     = 500
)

// page reads limit and cursor: the cursor is opaque to clients, the key
// of the last item of the previous page.
func page(r *http.Request) (limit int, after string, err error) {
	limit = defaultLimit
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxLimit {
			return 0, "", badField(http.StatusBadRequest, "limit", "must be a whole number from 1 to %d", maxLimit)
		}
		limit = n
	}
	if c := r.URL.Query().Get("cursor"); c != "" {
		b, err := base64.RawURLEncoding.DecodeString(c)
		if err != nil || len(b) == 0 {
			return 0, "", badField(http.StatusBadRequest, "cursor", "is not a cursor this API gave (use next_cursor as it came)")
		}
		after = string(b)
	}
	return limit, after, nil
}

func cursor(key string) string { return base64.RawURLEncoding.EncodeToString([]byte(key)) }

// list is a page of items: next_cursor is there when more follow.
type list[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// paginate cuts items, ordered by key, to the page after the cursor.
func paginate[T any](items []T, key func(T) string, limit int, after string) list[T] {
	start := 0
	if after != "" {
		start, _ = slices.BinarySearchFunc(items, after, func(t T, k string) int { return cmp.Compare(key(t), k) })
		if start < len(items) && key(items[start]) == after {
			start++
		}
	}
	out := list[T]{Items: items[start:]}
	if len(out.Items) > limit {
		out.Items = out.Items[:limit]
		out.NextCursor = cursor(key(out.Items[limit-1]))
	}
	if out.Items == nil {
		out.Items = []T{}
	}
	return out
}

// ---- projects and portals

type portalBrief struct {
	Slug   string `json:"slug"`
	Title  string `json:"title"`
	Access string `json:"access"`
}

type projectJSON struct {
	ID               uint64       `json:"id"`
	Name             string       `json:"name"`
	Portal           *portalBrief `json:"portal,omitempty"`
	PeopleWithAccess *int         `json:"people_with_access,omitempty"`
	ActiveLinks      *int         `json:"active_links,omitempty"`
	PendingRequests  *int         `json:"pending_requests,omitempty"`
}

// idKey orders ids as strings of equal length.
func idKey(id uint64) string { return strconv.FormatUint(id+1e15, 10) }

func listProjects(c *call) (int, any, error) {
	limit, after, err := page(c.r)
	if err != nil {
		return 0, nil, err
	}
	items, err := c.h.svc.Projects(c.ctx, c.actor, c.tok.OrgID)
	if err != nil {
		return 0, nil, err
	}
	out := make([]projectJSON, len(items))
	for i, p := range items {
		out[i] = projectJSON{ID: p.Project.ID, Name: p.Project.Name}
		if p.Portal != nil {
			out[i].Portal = &portalBrief{Slug: p.Portal.Slug, Title: p.Portal.Title, Access: string(p.Portal.Access)}
			out[i].PeopleWithAccess, out[i].ActiveLinks, out[i].PendingRequests = &p.PeopleWithAccess, &p.ActiveLinks, &p.PendingRequests
		}
	}
	slices.SortFunc(out, func(a, b projectJSON) int { return cmp.Compare(a.ID, b.ID) })
	return http.StatusOK, paginate(out, func(p projectJSON) string { return idKey(p.ID) }, limit, after), nil
}

type rulesJSON struct {
	LinkLifetime   string `json:"link_lifetime"`
	LinkIdle       string `json:"link_idle"`
	LinkUses       string `json:"link_uses"`
	InviteLifetime string `json:"invite_lifetime"`
	AllowDomains   string `json:"allow_domains"`
	AutoGrant      string `json:"auto_grant"`
}

type portalJSON struct {
	Slug       string    `json:"slug"`
	URL        string    `json:"url"`
	Title      string    `json:"title"`
	Project    string    `json:"project"`
	ProjectID  uint64    `json:"project_id"`
	Access     string    `json:"access"`
	Disclosure string    `json:"disclosure"`
	Upstream   string    `json:"upstream"`
	Host       string    `json:"host"`
	Contact    string    `json:"contact"`
	Language   string    `json:"language"`
	Welcome    string    `json:"welcome"`
	Rules      rulesJSON `json:"rules"`
}

func (c *call) portal(slug string) (core.PortalRef, error) {
	return c.h.svc.PortalBySlug(c.ctx, c.actor, slug)
}

func (c *call) portalJSON(ref core.PortalRef) (portalJSON, error) {
	set, err := c.h.svc.PortalSettingsOf(c.ctx, c.actor, ref.Portal.ID)
	if err != nil {
		return portalJSON{}, err
	}
	d := string(set.Disclosure)
	if d == "" {
		d = "default"
	}
	lang := set.Language
	if lang == "" {
		lang = "default"
	}
	r := ref.Portal.Rules
	return portalJSON{Slug: ref.Portal.Slug, URL: c.h.svc.PublicURL() + "/p/" + ref.Portal.Slug, Title: set.Title,
		Project: ref.Project.Name, ProjectID: ref.Project.ID, Access: string(set.Access), Disclosure: d,
		Upstream: set.Upstream, Host: set.Host, Contact: set.Contact, Language: lang, Welcome: set.Welcome,
		Rules: rulesJSON{LinkLifetime: r.LifetimeWord(), LinkIdle: r.IdleWord(), LinkUses: r.UsesWord(),
			InviteLifetime: r.InviteWord(), AllowDomains: r.DomainsWord(), AutoGrant: r.AutoGrantWord()}}, nil
}

func showPortal(c *call) (int, any, error) {
	ref, err := c.portal(c.r.PathValue("slug"))
	if err != nil {
		return 0, nil, err
	}
	p, err := c.portalJSON(ref)
	return http.StatusOK, p, err
}

// portalPatchJSON is PATCH /portals/{slug}: the fields given change, in
// the words `portal set` takes ("none" clears an optional one).
type portalPatchJSON struct {
	Title          *string `json:"title"`
	Access         *string `json:"access"`
	Disclosure     *string `json:"disclosure"`
	Upstream       *string `json:"upstream"`
	Host           *string `json:"host"`
	Contact        *string `json:"contact"`
	Language       *string `json:"language"`
	Welcome        *string `json:"welcome"`
	LinkLifetime   *string `json:"link_lifetime"`
	LinkIdle       *string `json:"link_idle"`
	LinkUses       *string `json:"link_uses"`
	InviteLifetime *string `json:"invite_lifetime"`
	AllowDomains   *string `json:"allow_domains"`
	AutoGrant      *string `json:"auto_grant"`
}

func patchPortal(c *call) (int, any, error) {
	var in portalPatchJSON
	if err := decode(c.r, &in); err != nil {
		return 0, nil, err
	}
	p := core.PortalPatch{Title: in.Title, Contact: in.Contact, Welcome: in.Welcome,
		Rules: core.RulesPatch{LinkLifetime: in.LinkLifetime, LinkIdle: in.LinkIdle, LinkUses: in.LinkUses,
			InviteLifetime: in.InviteLifetime, AllowDomains: in.AllowDomains, AutoGrant: in.AutoGrant}}
	if in == (portalPatchJSON{}) {
		return 0, nil, malformed("Give at least one field to change")
	}
	if p.Contact != nil && *p.Contact == "none" {
		empty := ""
		p.Contact = &empty
	}
	if in.Access != nil {
		l, err := core.ParseAccessLevel(*in.Access)
		if err != nil {
			return 0, nil, err
		}
		p.Access = &l
	}
	if in.Disclosure != nil {
		d, err := core.ParseDisclosure(*in.Disclosure)
		if err != nil {
			return 0, nil, err
		}
		p.Disclosure = &d
	}
	if in.Upstream != nil {
		u, err := core.ParseUpstream(*in.Upstream)
		if err != nil {
			return 0, nil, err
		}
		p.Upstream = &u
	}
	if in.Host != nil {
		hn, err := core.ParseHostName(*in.Host)
		if err != nil {
			return 0, nil, err
		}
		p.Host = &hn
	}
	if in.Language != nil {
		l, err := core.ParseLanguage(*in.Language)
		if err != nil {
			return 0, nil, err
		}
		p.Language = &l
	}
	ref, err := c.portal(c.r.PathValue("slug"))
	if err != nil {
		return 0, nil, err
	}
	if ref.Portal, err = c.h.svc.PatchPortal(c.ctx, c.actor, ref.Portal.ID, p); err != nil {
		return 0, nil, err
	}
	out, err := c.portalJSON(ref)
	return http.StatusOK, out, err
}

// ---- members

type memberJSON struct {
	Email       string `json:"email"`
	Name        string `json:"name,omitempty"`
	Role        string `json:"role"`
	Access      string `json:"access"`                // yes, invited, ended, no
	Link        string `json:"link"`                  // none, active, expired, deactivated
	LinkEnd     string `json:"link_end,omitempty"`    // why the portal's rules stopped it
	GuestUntil  string `json:"guest_until,omitempty"` // YYYY-MM-DD
	LinkCreated string `json:"link_created,omitempty"`
	LastUsed    string `json:"last_used,omitempty"`
	Uses        uint64 `json:"uses"`
	ASCII       string `json:"ascii,omitempty"`
	LooksLike   string `json:"looks_like,omitempty"`
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func memberOf(m core.PortalMember) memberJSON {
	out := memberJSON{Email: m.Email, Name: m.Name, Role: string(m.Role), Access: m.AccessWord(), Link: m.LinkWord(),
		LinkEnd: m.LinkEnded, LinkCreated: stamp(m.LinkAt), LastUsed: stamp(m.LastUsedAt), Uses: m.UseCount,
		ASCII: m.Note.ASCII, LooksLike: m.Note.LooksLike}
	if !m.GuestUntil.IsZero() {
		out.GuestUntil = m.GuestUntil.Format(time.DateOnly)
	}
	return out
}

func listMembers(c *call) (int, any, error) {
	limit, after, err := page(c.r)
	if err != nil {
		return 0, nil, err
	}
	ref, err := c.portal(c.r.PathValue("slug"))
	if err != nil {
		return 0, nil, err
	}
	items, err := c.h.svc.PortalMembers(c.ctx, c.actor, ref.Portal.ID)
	if err != nil {
		return 0, nil, err
	}
	out := make([]memberJSON, len(items))
	for i, m := range items {
		out[i] = memberOf(m)
	}
	slices.SortFunc(out, func(a, b memberJSON) int { return cmp.Compare(a.Email, b.Email) })
	return http.StatusOK, paginate(out, func(m memberJSON) string { return m.Email }, limit, after), nil
}

// member finds the person of the path in the portal of the path.
func (c *call) member() (core.PortalRef, core.PortalMember, error) {
	ref, err := c.portal(c.r.PathValue("slug"))
	if err != nil {
		return ref, core.PortalMember{}, err
	}
	m, err := c.h.svc.PortalMember(c.ctx, c.actor, ref.Portal.ID, c.r.PathValue("email"))
	return ref, m, err
}

func showMember(c *call) (int, any, error) {
	_, m, err := c.member()
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, memberOf(m), nil
}

type inviteJSON struct {
	Email      string `json:"email"`
	Role       string `json:"role"`
	Name       string `json:"name"`
	GuestUntil string `json:"guest_until"`
	Replace    bool   `json:"replace"`
}

type linkJSON struct {
	ID     uint64 `json:"id,omitempty"` // with a generated or revealed link
	Email  string `json:"email"`
	Portal string `json:"portal"`
	State  string `json:"state"`
	Mailed bool   `json:"mailed,omitempty"`
	// URL is there only for a token with links:reveal.
	URL      string `json:"url,omitempty"`
	Created  string `json:"created,omitempty"`
	LastUsed string `json:"last_used,omitempty"`
	Uses     uint64 `json:"uses"`
	LinkEnd  string `json:"link_end,omitempty"`
}

type invitedJSON struct {
	Email        string    `json:"email"`
	Role         string    `json:"role"`
	KeptRole     bool      `json:"kept_role"`
	ReplacedLink bool      `json:"replaced_link"`
	Portal       string    `json:"portal"`
	InvitationID uint64    `json:"invitation_id"`
	Link         *linkJSON `json:"link,omitempty"`
}

// parseRole reads a role one may give through the API.
func parseRole(field, s string) (core.Role, error) {
	r := core.Role(strings.TrimSpace(s))
	switch r {
	case core.RoleClient, core.RoleGuest, core.RoleMember, core.RoleManager:
		return r, nil
	case core.RoleOwner:
		return "", badField(http.StatusUnprocessableEntity, field, "owner changes only by transferring ownership, in the console")
	case "":
		return "", badField(http.StatusUnprocessableEntity, field, "is required: client, guest, member or manager")
	}
	return "", badField(http.StatusUnprocessableEntity, field, "%q is not a role; the roles are client, guest, member and manager", s)
}

func (c *call) issued(il *core.IssuedLink, slug string, mailed bool) *linkJSON {
	if il == nil {
		return nil
	}
	l := &linkJSON{ID: il.Link.ID, Email: il.Link.Email, Portal: slug, State: core.LinkWordActive, Mailed: mailed,
		Created: stamp(il.Link.CreatedAt), Uses: il.Link.UseCount, LastUsed: stamp(il.Link.LastUsedAt)}
	if c.tok.Has(core.ScopeLinksReveal) {
		l.URL = il.URL
	}
	return l
}

func invite(c *call) (int, any, error) {
	var in inviteJSON
	if err := decode(c.r, &in); err != nil {
		return 0, nil, err
	}
	if strings.TrimSpace(in.Email) == "" {
		return 0, nil, badField(http.StatusUnprocessableEntity, "email", "is required")
	}
	role, err := parseRole("role", in.Role)
	if err != nil {
		return 0, nil, err
	}
	ci := core.InviteInput{OrgID: c.tok.OrgID, Email: in.Email, Name: in.Name, Role: role, Replace: in.Replace}
	if in.GuestUntil != "" {
		if ci.GuestUntil, err = core.ParseDate("guest_until", in.GuestUntil); err != nil {
			return 0, nil, err
		}
	}
	ref, err := c.portal(c.r.PathValue("slug"))
	if err != nil {
		return 0, nil, err
	}
	ci.PortalID = ref.Portal.ID
	res, err := c.h.svc.Invite(c.ctx, c.actor, ci)
	if err != nil {
		return 0, nil, err
	}
	out := invitedJSON{Email: res.Invitation.Email, Role: string(res.Role), KeptRole: res.KeptRole, ReplacedLink: res.Replaced,
		Portal: ref.Portal.Slug, InvitationID: res.Invitation.ID, Link: c.issued(res.Link, ref.Portal.Slug, true)}
	return http.StatusCreated, out, nil
}

type roleChangeJSON struct {
	Role       string `json:"role"`
	GuestUntil string `json:"guest_until"`
}

func changeRole(c *call) (int, any, error) {
	var in roleChangeJSON
	if err := decode(c.r, &in); err != nil {
		return 0, nil, err
	}
	role, err := parseRole("role", in.Role)
	if err != nil {
		return 0, nil, err
	}
	var until time.Time
	if in.GuestUntil != "" {
		if until, err = core.ParseDate("guest_until", in.GuestUntil); err != nil {
			return 0, nil, err
		}
	}
	ref, m, err := c.member()
	if err != nil {
		return 0, nil, err
	}
	if m.UserID == 0 {
		return 0, nil, apiError{&problem{Type: typeConflict, Status: http.StatusConflict,
			Title: m.Email + " has not opened their link yet, so has no role to change; invite them again with the role"}}
	}
	if err := c.h.svc.ChangeRole(c.ctx, c.actor, ref.Org.ID, m.UserID, role, until); err != nil {
		return 0, nil, err
	}
	_, m, err = c.member()
	return http.StatusOK, memberOf(m), err
}

func removeAccess(c *call) (int, any, error) {
	ref, m, err := c.member()
	if err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, c.h.svc.RemoveAccess(c.ctx, c.actor, ref.Portal.ID, m.Email)
}

func showLink(c *call) (int, any, error) {
	reveal := false
	switch v := c.r.URL.Query().Get("reveal"); v {
	case "", "false":
	case "true":
		if !c.tok.Has(core.ScopeLinksReveal) {
			return 0, nil, apiError{missingScope(core.ScopeLinksReveal)}
		}
		reveal = true
	default:
		return 0, nil, badField(http.StatusBadRequest, "reveal", "must be true or false")
	}
	ref, m, err := c.member()
	if err != nil {
		return 0, nil, err
	}
	if m.LinkState == "" {
		return 0, nil, &core.NotFoundError{What: "link of " + m.Email + " for portal", Key: ref.Portal.Slug}
	}
	l := linkJSON{Email: m.Email, Portal: ref.Portal.Slug, State: m.LinkWord(), Created: stamp(m.LinkAt),
		LastUsed: stamp(m.LastUsedAt), Uses: m.UseCount, LinkEnd: m.LinkEnded}
	if reveal && l.State == core.LinkWordActive {
		il, err := c.h.svc.RevealLink(c.ctx, c.actor, ref.Portal.ID, m.Email)
		if err != nil {
			return 0, nil, err
		}
		l.ID, l.URL = il.Link.ID, il.URL
	}
	return http.StatusOK, l, nil
}

func generateLink(c *call) (int, any, error) {
	if err := decode(c.r, &struct{}{}); err != nil {
		return 0, nil, err
	}
	ref, m, err := c.member()
	if err != nil {
		return 0, nil, err
	}
	il, err := c.h.svc.GenerateLink(c.ctx, c.actor, ref.Portal.ID, m.Email)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, c.issued(&il, ref.Portal.Slug, true), nil
}

func deactivateLink(c *call) (int, any, error) {
	ref, m, err := c.member()
	if err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, c.h.svc.DeactivateLink(c.ctx, c.actor, ref.Portal.ID, m.Email)
}

// ---- access requests

type requestJSON struct {
	ID         uint64 `json:"id"`
	Email      string `json:"email"`
	Portal     string `json:"portal"`
	State      string `json:"state"`
	Asked      int    `json:"asked"`
	FirstAsked string `json:"first_asked"`
	LastAsked  string `json:"last_asked"`
	ResolvedAt string `json:"resolved_at,omitempty"`
	ResolvedBy string `json:"resolved_by,omitempty"`
	ASCII      string `json:"ascii,omitempty"`
	LooksLike  string `json:"looks_like,omitempty"`
}

func requestOf(r core.RequestView) requestJSON {
	return requestJSON{ID: r.ID, Email: r.Email, Portal: r.Portal.Slug, State: string(r.State), Asked: r.Count,
		FirstAsked: stamp(r.CreatedAt), LastAsked: stamp(r.LastAt), ResolvedAt: stamp(r.ResolvedAt), ResolvedBy: r.ResolvedBy,
		ASCII: r.Note.ASCII, LooksLike: r.Note.LooksLike}
}

func listRequests(c *call) (int, any, error) {
	limit, after, err := page(c.r)
	if err != nil {
		return 0, nil, err
	}
	pending := true
	switch c.r.URL.Query().Get("state") {
	case "", "pending":
	case "all":
		pending = false
	default:
		return 0, nil, badField(http.StatusBadRequest, "state", "must be pending or all")
	}
	items, err := c.h.svc.Requests(c.ctx, c.actor, c.tok.OrgID, pending)
	if err != nil {
		return 0, nil, err
	}
	out := make([]requestJSON, len(items))
	for i, r := range items {
		out[i] = requestOf(r)
	}
	// Newest first: the key counts down.
	key := func(r requestJSON) string { return strconv.FormatUint(math.MaxUint64-r.ID, 10) }
	slices.SortFunc(out, func(a, b requestJSON) int { return cmp.Compare(key(a), key(b)) })
	return http.StatusOK, paginate(out, key, limit, after), nil
}

func requestID(c *call) (uint64, error) {
	id, err := strconv.ParseUint(c.r.PathValue("id"), 10, 64)
	if err != nil || id == 0 {
		return 0, &core.NotFoundError{What: "access request", Key: c.r.PathValue("id")}
	}
	return id, nil
}

func (c *call) request(id uint64) (core.RequestView, error) {
	return c.h.svc.Request(c.ctx, c.actor, c.tok.OrgID, id)
}

type grantJSON struct {
	Role    string `json:"role"`
	Confirm bool   `json:"confirm"`
}

type grantedJSON struct {
	Request requestJSON `json:"request"`
	Invited invitedJSON `json:"invited"`
}

func grantRequest(c *call) (int, any, error) {
	var in grantJSON
	if err := decode(c.r, &in); err != nil {
		return 0, nil, err
	}
	var role core.Role
	if in.Role != "" {
		var err error
		if role, err = parseRole("role", in.Role); err != nil {
			return 0, nil, err
		}
	}
	id, err := requestID(c)
	if err != nil {
		return 0, nil, err
	}
	if _, err := c.request(id); err != nil { // another organization's request is not found
		return 0, nil, err
	}
	res, err := c.h.svc.GrantRequest(c.ctx, c.actor, core.GrantInput{RequestID: id, Role: role, Confirmed: in.Confirm})
	if err != nil {
		return 0, nil, err
	}
	rv, err := c.request(id)
	if err != nil {
		return 0, nil, err
	}
	out := grantedJSON{Request: requestOf(rv), Invited: invitedJSON{Email: res.Invitation.Email, Role: string(res.Role),
		KeptRole: res.KeptRole, ReplacedLink: res.Replaced, Portal: rv.Portal.Slug, InvitationID: res.Invitation.ID,
		Link: c.issued(res.Link, rv.Portal.Slug, true)}}
	return http.StatusOK, out, nil
}

func dismissRequest(c *call) (int, any, error) {
	if err := decode(c.r, &struct{}{}); err != nil {
		return 0, nil, err
	}
	id, err := requestID(c)
	if err != nil {
		return 0, nil, err
	}
	if _, err := c.request(id); err != nil {
		return 0, nil, err
	}
	if err := c.h.svc.DismissRequest(c.ctx, c.actor, id); err != nil {
		return 0, nil, err
	}
	rv, err := c.request(id)
	return http.StatusOK, requestOf(rv), err
}

// ---- the audit log

type eventJSON struct {
	ID     uint64 `json:"id"`
	At     string `json:"at"`
	Actor  string `json:"actor"`
	Source string `json:"source"`
	Kind   string `json:"kind"`
	Target string `json:"target,omitempty"`
	Portal string `json:"portal,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// eventScan bounds the events one page reads while it filters: a page may
// hold fewer than limit items, and next_cursor goes on from where it
// stopped.
const eventScan = 5000

func listEvents(c *call) (int, any, error) {
	limit, after, err := page(c.r)
	if err != nil {
		return 0, nil, err
	}
	var before uint64
	if after != "" {
		if before, err = strconv.ParseUint(after, 10, 64); err != nil || before == 0 {
			return 0, nil, badField(http.StatusBadRequest, "cursor", "is not a cursor this API gave (use next_cursor as it came)")
		}
	}
	q := c.r.URL.Query()
	var kinds []string
	for k := range strings.SplitSeq(q.Get("kind"), ",") {
		if k = strings.TrimSpace(k); k != "" {
			kinds = append(kinds, k)
		}
	}
	since, err := timeParam(q.Get("since"), "since")
	if err != nil {
		return 0, nil, err
	}
	until, err := timeParam(q.Get("until"), "until")
	if err != nil {
		return 0, nil, err
	}
	match := func(e core.AuditEntry) bool {
		if !since.IsZero() && e.At.Before(since) || !until.IsZero() && !e.At.Before(until) {
			return false
		}
		if len(kinds) == 0 {
			return true
		}
		for _, k := range kinds {
			if p, ok := strings.CutSuffix(k, "*"); ok && strings.HasPrefix(e.Action, p) || e.Action == k {
				return true
			}
		}
		return false
	}
	out := list[eventJSON]{Items: []eventJSON{}}
	scanned := 0
	for scanned < eventScan {
		batch, err := c.h.svc.Audit(c.ctx, c.actor, core.AuditQuery{OrgID: c.tok.OrgID, BeforeID: before, Limit: min(500, eventScan-scanned)})
		if err != nil {
			return 0, nil, err
		}
		for _, e := range batch {
			before = e.ID
			scanned++
			if !since.IsZero() && e.At.Before(since) { // newest first: nothing older matches
				return http.StatusOK, out, nil
			}
			if !match(e) {
				continue
			}
			out.Items = append(out.Items, eventJSON{ID: e.ID, At: stamp(e.At), Actor: e.Actor, Source: e.Source, Kind: e.Action,
				Target: e.Target, Portal: e.Portal, Detail: e.Detail})
			if len(out.Items) == limit {
				out.NextCursor = cursor(strconv.FormatUint(e.ID, 10))
				return http.StatusOK, out, nil
			}
		}
		if len(batch) == 0 || before <= 1 {
			return http.StatusOK, out, nil
		}
	}
	out.NextCursor = cursor(strconv.FormatUint(before, 10))
	return http.StatusOK, out, nil
}

func timeParam(s, field string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, badField(http.StatusBadRequest, field, "must be a time like 2026-12-03T09:30:00Z (RFC 3339)")
	}
	return t, nil
}
