package i18n

import (
	"strconv"
	"time"
)

// Day is a date as the language writes it: "2 March 2026", "2. März 2026".
func (l Lang) Day(t time.Time) string {
	t = t.UTC()
	return l.T("date.day", l.dayOfMonth(t), l.T("month."+strconv.Itoa(int(t.Month()))), strconv.Itoa(t.Year()))
}

// DateTime is a moment in UTC as the language writes it: "Monday 2 March
// 2026, 09:30 UTC".
func (l Lang) DateTime(t time.Time) string {
	t = t.UTC()
	return l.T("date.datetime", l.T("weekday."+strconv.Itoa(int(t.Weekday()))), l.dayOfMonth(t),
		l.T("month."+strconv.Itoa(int(t.Month()))), strconv.Itoa(t.Year()), t.Format("15:04"))
}

// dayOfMonth is the day's number; French writes the first "1er".
func (l Lang) dayOfMonth(t time.Time) string {
	if t.Day() == 1 {
		return l.T("date.first")
	}
	return strconv.Itoa(t.Day())
}

// Wait says a wait the way a person would, rounded up so that waiting that
// long is enough, as core.HumanWait does in English: "40 seconds", "a
// minute", "about 2 hours".
func (l Lang) Wait(d time.Duration) string {
	secs := int((d + time.Second - 1) / time.Second)
	switch {
	case secs <= 1:
		return l.T("wait.seconds", 1)
	case secs == 60:
		return l.T("wait.minute")
	case secs < 120:
		return l.T("wait.seconds", secs)
	case secs < 3600:
		return l.T("wait.minutes", (secs+59)/60)
	case secs == 3600:
		return l.T("wait.hour")
	case secs < 2*3600:
		return l.T("wait.about_hour")
	default:
		return l.T("wait.about_hours", (secs+1799)/3600)
	}
}
