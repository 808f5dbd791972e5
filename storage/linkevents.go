package storage

import (
	"errors"
	"time"

	"latchkey/core"
)

// Link histories: link|event → LinkEvent, and a time index
// (unix ns|link|event, empty values) that pruning walks from its start.
var (
	bLinkEvents     = []byte("link_events")
	bLinkEventsTime = []byte("link_events_by_time")
)

// linkEventRecord is a link history entry as stored: storage's own type, so
// that a rename in core never changes the file's format.
type linkEventRecord struct {
	ID        uint64    `json:"id"`
	LinkID    uint64    `json:"link_id"`
	Kind      string    `json:"kind"`
	At        time.Time `json:"at"`
	Actor     string    `json:"actor,omitempty"`
	Addr      string    `json:"addr,omitempty"`
	UserAgent string    `json:"user_agent,omitempty"`
	Method    string    `json:"method,omitempty"`
	Cookies   bool      `json:"cookies,omitempty"`
	Detail    string    `json:"detail,omitempty"`
}

func linkEventToRecord(e core.LinkEvent) linkEventRecord {
	return linkEventRecord{ID: e.ID, LinkID: e.LinkID, Kind: string(e.Kind), At: e.At, Actor: e.Actor, Addr: e.Addr,
		UserAgent: e.UserAgent, Method: e.Method, Cookies: e.Cookies, Detail: e.Detail}
}

func (r linkEventRecord) core() core.LinkEvent {
	return core.LinkEvent{ID: r.ID, LinkID: r.LinkID, Kind: core.LinkEventKind(r.Kind), At: r.At, Actor: r.Actor, Addr: r.Addr,
		UserAgent: r.UserAgent, Method: r.Method, Cookies: r.Cookies, Detail: r.Detail}
}

func linkEventTimeKey(at time.Time, linkID, id uint64) []byte {
	return cat(u64(uint64(at.UnixNano())), u64(linkID), u64(id))
}

func (x *tx) PutLinkEvent(e *core.LinkEvent) error {
	if e.ID != 0 {
		return errors.New("link events are append-only")
	}
	if err := nextID(x.b(bLinkEvents), &e.ID); err != nil {
		return err
	}
	return x.putLinkEventAt(*e)
}

// putLinkEventAt writes an event that has its id.
func (x *tx) putLinkEventAt(e core.LinkEvent) error {
	if err := x.b(bLinkEventsTime).Put(linkEventTimeKey(e.At, e.LinkID, e.ID), nil); err != nil {
		return err
	}
	return put(x.b(bLinkEvents), cat(u64(e.LinkID), u64(e.ID)), linkEventToRecord(e))
}

func (x *tx) LinkEvents(linkID uint64) ([]core.LinkEvent, error) {
	recs, err := valuesByPrefix[linkEventRecord](x.b(bLinkEvents), u64(linkID))
	if err != nil {
		return nil, err
	}
	out := make([]core.LinkEvent, len(recs))
	for i, r := range recs {
		out[i] = r.core()
	}
	uses, err := x.linkUses(linkID)
	if err != nil {
		return nil, err
	}
	return historyWithUses(out, uses), nil
}

func (x *tx) DeleteLinkEventsBefore(t time.Time) (int, error) {
	end := u64(uint64(t.UnixNano()))
	var dead [][]byte
	c := x.b(bLinkEventsTime).Cursor()
	for k, _ := c.First(); k != nil && string(k[:8]) < string(end); k, _ = c.Next() {
		dead = append(dead, append([]byte(nil), k...))
	}
	for _, k := range dead {
		if err := x.b(bLinkEventsTime).Delete(k); err != nil {
			return 0, err
		}
		if err := x.b(bLinkEvents).Delete(k[8:]); err != nil {
			return 0, err
		}
	}
	return len(dead), nil
}
