package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"latchkey/core"
)

// changesChannel is the NOTIFY channel every node announces its commits on.
const changesChannel = "latchkey_changes"

// maxPayload keeps a notification under PostgreSQL's limit (8000 bytes).
const maxPayload = 7000

// notice is a notification's payload: which node committed, and what.
type notice struct {
	Node    string       `json:"n"`
	Changes []changeJSON `json:"c,omitempty"`
	All     bool         `json:"all,omitempty"` // too many to list: look at everything again
}

type changeJSON struct {
	Kind     core.ChangeKind `json:"k"`
	OrgID    uint64          `json:"o,omitempty"`
	PortalID uint64          `json:"p,omitempty"`
}

func newNodeID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Announce queues a notification of the transaction's changes: PostgreSQL
// delivers it to every listening node when the transaction commits, and
// never if it rolls back.
func (x *tx) Announce(changes []core.Change) error {
	n := notice{Node: x.node}
	for _, c := range changes {
		cj := changeJSON{c.Kind, c.OrgID, c.PortalID}
		if !slices.Contains(n.Changes, cj) {
			n.Changes = append(n.Changes, cj)
		}
	}
	payload, err := json.Marshal(n)
	if err != nil {
		return err
	}
	if len(payload) > maxPayload {
		payload, _ = json.Marshal(notice{Node: x.node, All: true})
	}
	x.notice = string(payload) // sent with the COMMIT (see Store.once)
	return nil
}

// Listen hands fn what other nodes commit, until ctx ends: the changes of
// each of their transactions (none for a commit that announced nothing,
// which may still have changed a decision), or nil when this node may have
// missed some (its connection broke, or a notice listed too many). It
// keeps one connection of its own, reconnecting with back-off.
func (s *Store) Listen(ctx context.Context, fn func([]core.Change)) {
	wait := 100 * time.Millisecond
	for first := true; ctx.Err() == nil; first = false {
		err := s.listen(ctx, fn, !first)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			s.listenErrs.Add(1)
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return
		}
		wait = min(2*wait, 5*time.Second)
	}
}

// listen holds one LISTEN connection until it fails. After a reconnect
// (missed), fn hears nil once the connection listens again.
func (s *Store) listen(ctx context.Context, fn func([]core.Change), missed bool) error {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, `LISTEN `+changesChannel); err != nil {
		return err
	}
	if missed {
		fn(nil)
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		var got notice
		if err := json.Unmarshal([]byte(n.Payload), &got); err != nil {
			return errors.New("a change notice that is not latchkey's: " + err.Error())
		}
		if got.Node == s.node {
			continue // this node's own commit: applied already
		}
		if got.All {
			fn(nil)
			continue
		}
		changes := make([]core.Change, len(got.Changes))
		for i, c := range got.Changes {
			changes[i] = core.Change{Kind: c.Kind, OrgID: c.OrgID, PortalID: c.PortalID}
		}
		fn(changes)
	}
}
