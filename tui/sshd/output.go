package sshd

import (
	"encoding/json"
	"io"
	"latchkey/core"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// What the commands print: their rows, as tab-separated lines or JSON.

// Rows of the commands' output (JSON field names are the interface).
type (
	// A project without a portal has no people, links or requests: the
	// counts are absent (null), not 0.
	projectRow struct {
		Project     string `json:"project"`
		Portal      string `json:"portal,omitempty"`
		Access      string `json:"access,omitempty"`
		People      *int   `json:"people_with_access"`
		ActiveLinks *int   `json:"active_links"`
		Requests    *int   `json:"pending_requests"`
	}
	// Access and link in the words of core.PortalMember's AccessWord and
	// LinkWord; created, last used and uses describe the current link.
	memberRow struct {
		Email    string `json:"email"`
		Name     string `json:"name,omitempty"`
		Role     string `json:"role"`
		Access   string `json:"access"`
		Link     string `json:"link"`
		LinkEnd  string `json:"link_end,omitempty"`    // why the portal's rules stopped it ("used 5 of 5")
		Until    string `json:"guest_until,omitempty"` // a guest's end date
		Created  string `json:"link_created,omitempty"`
		LastUsed string `json:"last_used,omitempty"`
		Uses     uint64 `json:"uses"`
		core.AddressNote
		accessText, linkText string // the text columns: "ended 1 Dec 2026", "used 5 of 5"
	}
	inviteRow struct {
		Email      string `json:"email"`
		Role       string `json:"role"`                // the role they have once they open the link
		KeptRole   bool   `json:"kept_role,omitempty"` // a member, who keeps Role rather than the one invited with
		Replaced   bool   `json:"replaced_link,omitempty"`
		Portal     string `json:"portal,omitempty"`
		Invitation uint64 `json:"invitation"`
	}
	linkRow struct {
		Email  string `json:"email"`
		Portal string `json:"portal"`
		State  string `json:"state"`
		URL    string `json:"url,omitempty"`
	}
	requestRow struct {
		ID     uint64 `json:"id"`
		Email  string `json:"email,omitempty"`
		Portal string `json:"portal,omitempty"`
		Asked  int    `json:"asked,omitempty"`
		Last   string `json:"last_asked,omitempty"`
		State  string `json:"state,omitempty"`
		core.AddressNote
	}
)

// write prints rows as JSON or tab-separated lines.
func write[T any](out io.Writer, asJSON bool, rows []T, cells func(T) []string) error {
	if asJSON {
		if rows == nil {
			rows = []T{}
		}
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	for _, r := range rows { // plain tabs: for scripts, not aligned
		if _, err := io.WriteString(out, strings.Join(cleanCells(cells(r)), "\t")+"\n"); err != nil {
			return err
		}
	}
	return nil
}

// cleanCells keeps a cell from breaking the line or the columns.
func cleanCells(cs []string) []string {
	for i, c := range cs {
		cs[i] = strings.Map(func(r rune) rune { // no line breaks, no column breaks, no escape sequences
			if unicode.IsControl(r) {
				return ' '
			}
			return r
		}, c)
	}
	return cs
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// count is a number, or "-" for none to count.
func count(n *int) string {
	if n == nil {
		return "-"
	}
	return strconv.Itoa(*n)
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
