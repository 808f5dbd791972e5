package core

import (
	"context"
	"sort"
	"strings"
	"sync"
	"time"
)

// Each link's history: created (by whom), emailed (with the delivery's
// outcome), viewed, redeemed, its code used, deactivated, replaced; with
// the time, the client's address and browser. Views are written in batches
// off the page's path (NoteView); everything else in the transaction of
// what happened. Events older than Options.LinkHistory are pruned.

// linkEvent appends an event to a link's history, at the operation's time.
func (op *operation) linkEvent(e LinkEvent) error {
	e.At = op.now
	e.UserAgent = clipTo(e.UserAgent, 200)
	return op.PutLinkEvent(&e)
}

// deliveryWord is a delivery's outcome in a link's history.
func deliveryWord(m Message) string {
	switch m.State {
	case MessageSent:
		return "delivered"
	case MessageFailed:
		return "failed"
	}
	return "retrying"
}

// viewLog holds link views until they are written, so that showing a
// link's page never waits on a write.
type viewLog struct {
	mu        sync.Mutex
	pending   []LinkEvent
	scheduled bool
}

// viewFlushAfter is how long a view waits to be written with others.
const viewFlushAfter = time.Second

// maxPendingViews bounds the views held in memory: under a flood, the
// oldest unwritten ones are dropped (they are a diagnosis, not a record).
const maxPendingViews = 10_000

// NoteView records that a link's page was shown (method GET or HEAD, and
// whether the request carried cookies: mail scanners carry none). It is
// written within about a second, with the other views of that second.
func (s *engine) NoteView(linkID uint64, v Visitor, method string, cookies bool) {
	if linkID == 0 {
		return
	}
	e := LinkEvent{LinkID: linkID, Kind: LinkEventViewed, At: s.now(), Addr: v.Addr, UserAgent: clipTo(v.UserAgent, 200),
		Method: method, Cookies: cookies}
	s.views.mu.Lock()
	if len(s.views.pending) >= maxPendingViews {
		s.views.pending = s.views.pending[1:]
	}
	s.views.pending = append(s.views.pending, e)
	schedule := !s.views.scheduled
	s.views.scheduled = true
	s.views.mu.Unlock()
	if schedule {
		time.AfterFunc(viewFlushAfter, func() {
			if err := s.FlushViews(context.Background()); err != nil {
				s.log.Warn("write link views", "err", err)
			}
		})
	}
}

// FlushViews writes the views noted so far, in one transaction.
func (s *engine) FlushViews(ctx context.Context) error {
	s.views.mu.Lock()
	batch := s.views.pending
	s.views.pending, s.views.scheduled = nil, false
	s.views.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	return s.store.Update(ctx, func(tx Tx) error {
		for i := range batch {
			e := batch[i] // a fresh copy each run: a shared commit may run this twice
			if err := tx.PutLinkEvent(&e); err != nil {
				return err
			}
		}
		return nil
	})
}

// foldLog schedules the folding of link uses (PutLinkUse) into their links'
// counters: a second after the first use that is not folded yet, all of
// them in batches. Until then every read counts them anyway, so a fold
// changes no figure anyone sees; it keeps the unfolded uses, which reads
// add up, few.
type foldLog struct {
	mu        sync.Mutex
	scheduled bool
	pending   bool // a use was written since the last fold began
}

// foldAfter is how long a use waits to be folded with others, by default.
const foldAfter = time.Second

// foldBatch is how many uses one fold transaction takes: each rewrites the
// links it folds into, pages all over their tree, and a commit must not
// stall the redemptions that share it for long.
const foldBatch = 256

func (f *foldLog) note(s *engine) {
	f.mu.Lock()
	schedule := !f.scheduled
	f.scheduled, f.pending = true, true
	f.mu.Unlock()
	if schedule {
		time.AfterFunc(s.opts.FoldAfter, func() {
			f.mu.Lock()
			f.scheduled = false
			pending := f.pending
			f.mu.Unlock()
			if !pending { // folded already (at shutdown, say)
				return
			}
			if _, err := s.FoldLinkUses(context.Background()); err != nil {
				s.log.Warn("fold link uses", "err", err)
			}
		})
	}
}

// UseFolder is a store that runs a fold in a transaction of its own
// choosing (PostgreSQL: one that makes no redemption beside it fail to
// serialize), rather than in Update's.
type UseFolder interface {
	FoldLinkUsesOnce(ctx context.Context, limit int) (int, error)
}

// FoldLinkUses folds every link use not folded yet into its link's
// counters, and returns how many it folded. It runs by itself a second
// after a redemption, at start (for uses a crash left unfolded) and at
// shutdown.
func (s *engine) FoldLinkUses(ctx context.Context) (int, error) {
	s.folds.mu.Lock()
	s.folds.pending = false
	s.folds.mu.Unlock()
	total := 0
	for {
		var n int
		var err error
		if f, ok := s.store.(UseFolder); ok {
			n, err = f.FoldLinkUsesOnce(ctx, foldBatch)
		} else {
			err = s.store.Update(ctx, func(tx Tx) error {
				n, err = tx.FoldLinkUses(foldBatch)
				return err
			})
		}
		if err != nil {
			return total, err
		}
		total += n
		if n < foldBatch {
			return total, nil
		}
	}
}

// LinkHistory is the history of one of a person's links on a portal.
type LinkHistory struct {
	Link   Link
	Events []LinkEventView
}

// LinkEventView is an event as the console shows it.
type LinkEventView struct {
	LinkEvent
	// Scanner: a view that looks like a mail scanner's (a HEAD request; no
	// cookies and a scanner's or headless browser's user agent; or a GET
	// within seconds of the delivery never followed by a redemption from
	// the same client), not the person's.
	Scanner bool
}

// ScannerNote is how every adapter labels a scanner's view.
const ScannerNote = "probably a mail scanner"

// Note is what the console and SSH print beside the event: the scanner
// label, or the event's detail.
func (e LinkEventView) Note() string {
	if e.Scanner {
		return ScannerNote
	}
	return e.Detail
}

// scannerAfterDelivery: a view this soon after the email was delivered,
// not followed by Open portal from the same client, is a scanner's.
const scannerAfterDelivery = 20 * time.Second

// scannerAgents are fragments of the user agents of mail scanners, link
// previews and headless browsers.
var scannerAgents = []string{"headless", "bot", "crawler", "spider", "preview", "scanner", "safelinks", "proofpoint",
	"mimecast", "barracuda", "python-", "curl/", "wget/", "go-http-client", "java/", "okhttp", "phantomjs", "slurp"}

func scannerAgent(ua string) bool {
	ua = strings.ToLower(ua)
	if ua == "" {
		return true
	}
	for _, f := range scannerAgents {
		if strings.Contains(ua, f) {
			return true
		}
	}
	return false
}

// classify labels the views of one link's events (oldest first).
func classify(events []LinkEvent) []LinkEventView {
	out := make([]LinkEventView, len(events))
	var delivered time.Time
	for i, e := range events {
		out[i].LinkEvent = e
		if e.Kind == LinkEventEmailed && strings.HasPrefix(e.Detail, "delivered") {
			delivered = e.At
		}
		if e.Kind != LinkEventViewed {
			continue
		}
		switch {
		case e.Method == "HEAD":
			out[i].Scanner = true
		case !e.Cookies && scannerAgent(e.UserAgent):
			out[i].Scanner = true
		case !delivered.IsZero() && e.At.Sub(delivered) < scannerAfterDelivery && !redeemedLater(events[i+1:], e):
			out[i].Scanner = true
		}
	}
	return out
}

func redeemedLater(rest []LinkEvent, view LinkEvent) bool {
	for _, e := range rest {
		if (e.Kind == LinkEventRedeemed || e.Kind == LinkEventCodeUsed) && e.Addr == view.Addr && e.UserAgent == view.UserAgent {
			return true
		}
	}
	return false
}

// hasLinks is the check of a person's link history: they had a link here.
func hasLinks(pp portalPerson) error {
	if !pp.anyLink {
		return notFound("link for", pp.email)
	}
	return nil
}

// LinkHistoryOf is the history of every link a person had on a portal,
// newest link first, with views told apart from a mail scanner's.
func (s *Links) LinkHistoryOf(ctx context.Context, a Actor, portalID uint64, rawEmail string) ([]LinkHistory, error) {
	email, err := NormalizeEmail(rawEmail)
	if err != nil {
		return nil, err
	}
	return readResult(s.engine, ctx, func(op *operation) ([]LinkHistory, error) {
		p, _, pp, _, err := op.linkTarget(a, portalID, email)
		if err != nil {
			return nil, err
		}
		if err := hasLinks(pp); err != nil {
			return nil, err
		}
		links, err := op.Links(p.ID)
		if err != nil {
			return nil, err
		}
		var out []LinkHistory
		for _, l := range links {
			if l.Email != email {
				continue
			}
			events, err := op.LinkEvents(l.ID)
			if err != nil {
				return nil, err
			}
			l.Lookup, l.Sealed = nil, nil // a history never carries the link itself
			out = append(out, LinkHistory{Link: l, Events: classify(events)})
		}
		sort.Slice(out, func(i, j int) bool { return out[i].Link.ID > out[j].Link.ID })
		return out, nil
	})
}

// pruneLinkHistory drops the events older than the history is kept.
func (op *operation) pruneLinkHistory() (int, error) {
	return op.DeleteLinkEventsBefore(op.now.Add(-op.s.opts.LinkHistory))
}
