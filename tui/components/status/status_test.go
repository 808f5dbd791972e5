package status_test

import (
	"errors"
	"testing"
	"time"

	"latchkey/tui/components/status"
)

func TestInformationClearsAfterItsLifetime(t *testing.T) {
	m := status.Model{Lifetime: time.Millisecond}
	expire := m.Set(status.Msg{Kind: status.KindInfo, Text: "Created Acme."})
	if m.Text() != "Created Acme." || m.IsError() || expire == nil {
		t.Fatalf("shown %q (error %v), expiry %v", m.Text(), m.IsError(), expire != nil)
	}
	if _, ours := m.Update(expire()); !ours || m.Text() != "" {
		t.Fatalf("after its lifetime: %q", m.Text())
	}
}

func TestALaterMessageOutlivesTheEarliersExpiry(t *testing.T) {
	m := status.Model{Lifetime: time.Millisecond}
	first := m.Set(status.Msg{Text: "one"})
	m.Set(status.Msg{Text: "two"})
	m.Update(first())
	if m.Text() != "two" {
		t.Fatalf("the first message's expiry cleared the second: %q", m.Text())
	}
}

func TestErrorsAndQuestionsStay(t *testing.T) {
	for _, msg := range []status.Msg{
		status.Error(errors.New("boom"))().(status.Msg),
		{Kind: status.KindQuestion, Text: "Discard it? (y/n)"},
	} {
		var m status.Model
		if cmd := m.Set(msg); cmd != nil || !m.IsError() || m.Text() == "" {
			t.Errorf("%+v: expiry %v, error %v, text %q", msg, cmd != nil, m.IsError(), m.Text())
		}
	}
}

func TestInfoCommands(t *testing.T) {
	if got := status.Infof("%d of %d", 1, 2)().(status.Msg); got != (status.Msg{Kind: status.KindInfo, Text: "1 of 2"}) {
		t.Fatalf("%+v", got)
	}
}
