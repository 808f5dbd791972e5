package sshd

import (
	"context"
	"fmt"
	"io"

	"latchkey/core"
)

// linkEventRow is one line of `link history`: an event of one of the
// person's links, newest link first, its events oldest first.
type linkEventRow struct {
	Link      uint64 `json:"link"`
	LinkState string `json:"link_state"`
	At        string `json:"at"`
	Event     string `json:"event"`
	By        string `json:"by,omitempty"`
	Addr      string `json:"addr,omitempty"`
	Browser   string `json:"browser,omitempty"`
	Method    string `json:"method,omitempty"`
	Scanner   bool   `json:"probably_scanner"`
	Note      string `json:"note,omitempty"`
}

// linkHistory is `link history SLUG EMAIL`: what became of each of the
// person's links on the portal, so that an owner can answer "the link did
// not work" at a glance.
func (s *Server) linkHistory(ctx context.Context, a core.Actor, f *cmdFlags, slug, email string, out io.Writer) error {
	ref, err := s.cfg.Service.PortalBySlug(ctx, a, slug)
	if err != nil {
		return err
	}
	hist, err := s.cfg.Service.LinkHistoryOf(ctx, a, ref.Portal.ID, email)
	if err != nil {
		return err
	}
	var rows []linkEventRow
	for _, h := range hist {
		state := core.LinkStateWord(h.Link.State)
		for _, e := range h.Events {
			rows = append(rows, linkEventRow{Link: h.Link.ID, LinkState: state, At: stamp(e.At), Event: string(e.Kind),
				By: e.Actor, Addr: e.Addr, Browser: e.UserAgent, Method: e.Method, Scanner: e.Scanner, Note: e.Note()})
		}
	}
	return write(out, f.json, rows, func(r linkEventRow) []string {
		return []string{fmt.Sprintf("link %d (%s)", r.Link, r.LinkState), r.At, r.Event, dash(r.By), dash(r.Addr), dash(r.Browser), dash(r.Note)}
	})
}
