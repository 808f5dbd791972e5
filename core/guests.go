package core

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// GuestReminderAhead is how long before a guest's access ends the owner
// is reminded of it.
const GuestReminderAhead = 24 * time.Hour

// RemindGuestsEnding emails each organization's owner the guests whose
// access ends within GuestReminderAhead, in one email per organization,
// naming each guest once per end date (a changed date is named again). A
// guest's end needs no reminder to take effect: the gate refuses them
// from that moment. It reports how many reminders it queued.
func (s *Service) RemindGuestsEnding(ctx context.Context) (int, error) {
	return writeResult(s.engine, ctx, func(op *operation) (int, error) {
		orgs, err := op.Orgs()
		if err != nil {
			return 0, err
		}
		sent := 0
		for _, o := range orgs {
			ok, err := op.remindGuests(o)
			if err != nil {
				return 0, err
			}
			if ok {
				sent++
			}
		}
		return sent, nil
	})
}

func (op *operation) remindGuests(o Org) (bool, error) {
	ms, err := op.Members(o.ID)
	if err != nil {
		return false, err
	}
	type ending struct {
		m     Member
		email string
	}
	var due []ending
	for _, m := range ms {
		if m.Role != RoleGuest || m.GuestUntil.IsZero() || !op.now.Before(m.GuestUntil) ||
			m.GuestUntil.Sub(op.now) > GuestReminderAhead || m.RemindedFor.Equal(m.GuestUntil) {
			continue
		}
		u, err := op.User(m.UserID)
		if err != nil {
			return false, err
		}
		due = append(due, ending{m, u.Email})
	}
	if len(due) == 0 {
		return false, nil
	}
	sort.Slice(due, func(i, j int) bool {
		if !due[i].m.GuestUntil.Equal(due[j].m.GuestUntil) {
			return due[i].m.GuestUntil.Before(due[j].m.GuestUntil)
		}
		return due[i].email < due[j].email
	})
	owner, err := op.owner(o.ID)
	if err != nil {
		return false, err
	}
	ou, err := op.User(owner.UserID)
	if err != nil {
		return false, err
	}
	emails, ends := make([]string, len(due)), make([]string, len(due))
	for i, d := range due {
		emails[i], ends[i] = d.email, d.m.GuestUntil.Format(time.RFC3339)
		d.m.RemindedFor = d.m.GuestUntil
		if err := op.PutMember(d.m); err != nil {
			return false, err
		}
	}
	data := map[string]string{"org": o.Name, "count": strconv.Itoa(len(due)), "emails": strings.Join(emails, "\n"), "ends": strings.Join(ends, "\n")}
	if err := op.queue(Message{OrgID: o.ID, Kind: MailGuestsEnding, To: ou.Email, ToName: ou.Name, Data: data, Lang: o.Language}, ""); err != nil {
		return false, err
	}
	return true, op.audit(Actor{Source: "system"}, o.ID, "guests.reminded", ou.Email,
		fmt.Sprintf("%d guest(s) whose access ends within a day: %s", len(due), strings.Join(emails, ", ")))
}
