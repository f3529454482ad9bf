package ir

import (
	"time"

	"github.com/incidentkit/incidentkit/phases"
)

// Deadlines are the response deadlines of one severity, each counted from
// the incident's detection time (which defaults to when it was reported,
// and that to when it was opened). A zero duration sets no deadline.
type Deadlines struct {
	// Acknowledge, Contain and Resolve run until the incident reaches
	// the acknowledged, contained and resolved milestones of its phase
	// model.
	Acknowledge, Contain, Resolve time.Duration
	// Warn is how long before each deadline it counts as near; zero
	// means no warning. One clock serves every severity, so each clock
	// warns as long before its deadline as the largest Warn of the
	// severities that set that deadline.
	Warn time.Duration
}

// ResponseDeadlines are the response deadlines by severity. A severity
// without an entry has none. Its clocks are named [ClockAcknowledge],
// [ClockContain] and [ClockResolve]; their deadlines follow the incident's
// severity, also when it changes (see [ClockDef].FollowsSeverity). They
// stop when the incident closes,
// as a false positive is dismissed (see [ClockDef].EndsWithIncident).
type ResponseDeadlines map[Severity]Deadlines

// Names of the clocks of [ResponseDeadlines].
const (
	ClockAcknowledge = "acknowledge"
	ClockContain     = "contain"
	ClockResolve     = "resolve"
)

// Clocks returns the clock definitions of the deadlines.
func (rd ResponseDeadlines) Clocks() []ClockDef {
	if len(rd) == 0 {
		return nil
	}
	var out []ClockDef
	for _, c := range []struct {
		name, title string
		milestone   phases.Milestone
		within      func(Deadlines) time.Duration
	}{
		{ClockAcknowledge, "Acknowledge", phases.MilestoneAcknowledged, func(d Deadlines) time.Duration { return d.Acknowledge }},
		{ClockContain, "Contain", phases.MilestoneContained, func(d Deadlines) time.Duration { return d.Contain }},
		{ClockResolve, "Resolve", phases.MilestoneResolved, func(d Deadlines) time.Duration { return d.Resolve }},
	} {
		within := c.within
		out = append(out, ClockDef{
			Name: c.name, Title: c.title,
			Start: Trigger{Event: EventOpened},
			Stop:  Trigger{Milestone: c.milestone},
			Due: func(inc *Incident, start time.Time) (time.Time, bool) {
				d, ok := rd[inc.Severity]
				if !ok || within(d) <= 0 {
					return time.Time{}, false
				}
				return start.Add(within(d)), true
			},
			Warn:             warnOf(rd, within),
			EndsWithIncident: true,
			FollowsSeverity:  true,
		})
	}
	return out
}

// warnOf returns the warning of the deadlines: the largest Warn of a
// severity that sets the deadline within picks.
func warnOf(rd ResponseDeadlines, within func(Deadlines) time.Duration) time.Duration {
	var w time.Duration
	for _, d := range rd {
		if within(d) > 0 && d.Warn > w {
			w = d.Warn
		}
	}
	return w
}

// Names of the clocks of the built-in templates.
const (
	ClockGDPR             = "gdpr-art33"
	ClockNIS2EarlyWarning = "nis2-early-warning"
	ClockNIS2Notification = "nis2-notification"
	ClockNIS2FinalReport  = "nis2-final-report"
	ClockDORAInitial      = "dora-initial"
	ClockDORAIntermediate = "dora-intermediate"
	ClockDORAFinal        = "dora-final"
	ClockSEC8K            = "sec-8k-item-1.05"
)

// GDPRArticle33 is the clock of article 33(1) of Regulation (EU) 2016/679
// (GDPR): the controller notifies a personal data breach to the
// supervisory authority "without undue delay and, where feasible, not
// later than 72 hours after having become aware of it". It starts on
// [MarkerPersonalDataBreach] (at the time the mark gives: when the
// controller became aware) and stops on [MarkerGDPRNotified]. warn is
// how long before the deadline it counts as near.
func GDPRArticle33(warn time.Duration) []ClockDef {
	return []ClockDef{{
		Name: ClockGDPR, Title: "GDPR art. 33: notify the supervisory authority",
		Start: Trigger{Marker: MarkerPersonalDataBreach}, Stop: Trigger{Marker: MarkerGDPRNotified},
		Within: 72 * time.Hour, Warn: warn,
	}}
}

// NIS2Article23 are the clocks of article 23(4) of Directive (EU)
// 2022/2555 (NIS2), for a significant incident: an early warning
// "without undue delay and in any event within 24 hours of becoming aware
// of the significant incident" (point a), an incident notification
// "within 72 hours of becoming aware" (point b), and a final report "not
// later than one month after the submission of the incident
// notification" (point d). The first two start on
// [MarkerNIS2Significant] and stop on [MarkerNIS2EarlyWarning] and
// [MarkerNIS2Notification]; the third starts on MarkerNIS2Notification
// and stops on [MarkerNIS2FinalReport]. One month is a calendar month,
// ending on the last day of the target month when it has no such day (a
// start on 31 January is due on the last day of February). warn is how
// long before each deadline it counts as near.
func NIS2Article23(warn time.Duration) []ClockDef {
	return []ClockDef{
		{Name: ClockNIS2EarlyWarning, Title: "NIS2 art. 23: early warning",
			Start: Trigger{Marker: MarkerNIS2Significant}, Stop: Trigger{Marker: MarkerNIS2EarlyWarning},
			Within: 24 * time.Hour, Warn: warn},
		{Name: ClockNIS2Notification, Title: "NIS2 art. 23: incident notification",
			Start: Trigger{Marker: MarkerNIS2Significant}, Stop: Trigger{Marker: MarkerNIS2Notification},
			Within: 72 * time.Hour, Warn: warn},
		{Name: ClockNIS2FinalReport, Title: "NIS2 art. 23: final report",
			Start: Trigger{Marker: MarkerNIS2Notification}, Stop: Trigger{Marker: MarkerNIS2FinalReport},
			Due: addMonths(1), Warn: warn},
	}
}

// DORAMajorIncident are the clocks of the reports on a major ICT-related
// incident under article 19(4) of Regulation (EU) 2022/2554 (DORA), with
// the time limits of article 5 of Commission Delegated Regulation (EU)
// 2025/301 (the regulatory technical standards on the content and time
// limits of those reports):
//
//   - the initial notification within 4 hours of the classification of
//     the incident as major, and at the latest 24 hours after the
//     financial entity became aware of it: [ClockDORAInitial] starts on
//     [MarkerDORAMajor] with the earlier of those two deadlines, the
//     moment of awareness being the incident's detection time, and stops
//     on [MarkerDORAInitial];
//   - the intermediate report within 72 hours of the submission of the
//     initial notification: [ClockDORAIntermediate] starts on
//     MarkerDORAInitial and stops on [MarkerDORAIntermediate];
//   - the final report within one month of the latest updated
//     intermediate report: [ClockDORAFinal] starts on
//     MarkerDORAIntermediate and stops on [MarkerDORAFinal]. A clock runs
//     once, so it counts from the first intermediate report recorded.
//
// The delegated regulation lets reports that fall due on a weekend or
// bank holiday be submitted by noon of the next working day, for
// entities other than credit institutions and the like; these clocks do
// not apply that allowance. warn is how long before each deadline it
// counts as near.
func DORAMajorIncident(warn time.Duration) []ClockDef {
	return []ClockDef{
		{Name: ClockDORAInitial, Title: "DORA: initial notification",
			Start: Trigger{Marker: MarkerDORAMajor}, Stop: Trigger{Marker: MarkerDORAInitial},
			Due: func(inc *Incident, start time.Time) (time.Time, bool) {
				due := start.Add(4 * time.Hour)
				if aware := inc.Times.Detected; !aware.IsZero() && aware.Add(24*time.Hour).Before(due) {
					due = aware.Add(24 * time.Hour)
				}
				return due, true
			}, Warn: warn},
		{Name: ClockDORAIntermediate, Title: "DORA: intermediate report",
			Start: Trigger{Marker: MarkerDORAInitial}, Stop: Trigger{Marker: MarkerDORAIntermediate},
			Within: 72 * time.Hour, Warn: warn},
		{Name: ClockDORAFinal, Title: "DORA: final report",
			Start: Trigger{Marker: MarkerDORAIntermediate}, Stop: Trigger{Marker: MarkerDORAFinal},
			Due: addMonths(1), Warn: warn},
	}
}

// SECForm8KItem105 is the clock of item 1.05 of Form 8-K (17 CFR
// 249.308), material cybersecurity incidents: the registrant files the
// form "within four business days after the registrant determines that it
// has experienced a material cybersecurity incident" (General Instruction
// B.1 and item 1.05). It starts on [MarkerSECMateriality] and stops on
// [MarkerSEC8KFiled]. Its deadline is 5:30 p.m. Eastern time on the
// fourth business day after the day (in Eastern time) of the
// determination, since EDGAR dates a filing submitted later the next
// business day (Regulation S-T, 17 CFR 232.13(a)(2)). Business days are
// as [USBusinessDay] counts them. warn is how long before the deadline
// it counts as near.
func SECForm8KItem105(warn time.Duration) []ClockDef {
	return []ClockDef{{
		Name: ClockSEC8K, Title: "SEC Form 8-K item 1.05: file the report",
		Start: Trigger{Marker: MarkerSECMateriality}, Stop: Trigger{Marker: MarkerSEC8KFiled},
		Due: func(_ *Incident, start time.Time) (time.Time, bool) {
			return AddUSBusinessDays(start, 4), true
		}, Warn: warn,
	}}
}

// addMonths returns a Due function adding n calendar months: the same day
// of the month n months on, or the last day of that month when it is
// shorter (one month after 31 January is 28 or 29 February, never in
// March).
func addMonths(n int) func(*Incident, time.Time) (time.Time, bool) {
	return func(_ *Incident, start time.Time) (time.Time, bool) { return addCalendarMonths(start, n), true }
}

// addCalendarMonths adds n calendar months to t, keeping to the last day
// of the target month.
func addCalendarMonths(t time.Time, n int) time.Time {
	y, m, d := t.Date()
	first := time.Date(y, m+time.Month(n), 1, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), t.Location())
	last := first.AddDate(0, 1, -1).Day()
	return first.AddDate(0, 0, min(d, last)-1)
}

// AddUSBusinessDays returns 5:30 p.m. US Eastern time on the n-th US
// business day after the day t falls on in Eastern time (see
// [USBusinessDay]), in UTC.
func AddUSBusinessDays(t time.Time, n int) time.Time {
	local := t.In(easternZone(t))
	y, m, d := local.Date()
	day := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	for n > 0 {
		day = day.AddDate(0, 0, 1)
		if USBusinessDay(day) {
			n--
		}
	}
	noonUTC := time.Date(day.Year(), day.Month(), day.Day(), 12, 0, 0, 0, time.UTC)
	zone := easternZone(noonUTC)
	return time.Date(day.Year(), day.Month(), day.Day(), 17, 30, 0, 0, zone).UTC()
}

// USBusinessDay reports whether the date of day (its year, month and day,
// whatever its zone) is a US business day: neither a Saturday nor a
// Sunday nor a federal holiday. The federal holidays are those of 5 U.S.C.
// 6103(a): New Year's Day (January 1), Birthday of Martin Luther King, Jr.
// (third Monday of January), Washington's Birthday (third Monday of
// February), Memorial Day (last Monday of May), Juneteenth National
// Independence Day (June 19, from 2021), Independence Day (July 4), Labor
// Day (first Monday of September), Columbus Day (second Monday of
// October), Veterans Day (November 11), Thanksgiving Day (fourth Thursday
// of November) and Christmas Day (December 25). A holiday that falls on a
// Saturday is observed the Friday before, and one on a Sunday the Monday
// after (5 U.S.C. 6103(b) and Executive Order 11582). Holidays declared
// for one occasion (a day of mourning) are not known to it.
func USBusinessDay(day time.Time) bool {
	y, m, d := day.Date()
	date := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	switch date.Weekday() {
	case time.Saturday, time.Sunday:
		return false
	}
	// Next year's New Year's Day observed on this year's December 31.
	for _, year := range []int{y, y + 1} {
		for _, h := range usFederalHolidays(year) {
			if observed(h).Equal(date) {
				return false
			}
		}
	}
	return true
}

// usFederalHolidays returns the federal holidays of a year, on their
// nominal dates.
func usFederalHolidays(y int) []time.Time {
	date := func(m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	nth := func(m time.Month, wd time.Weekday, n int) time.Time {
		t := date(m, 1)
		for t.Weekday() != wd {
			t = t.AddDate(0, 0, 1)
		}
		return t.AddDate(0, 0, 7*(n-1))
	}
	lastMonday := func(m time.Month) time.Time {
		t := date(m+1, 1).AddDate(0, 0, -1)
		for t.Weekday() != time.Monday {
			t = t.AddDate(0, 0, -1)
		}
		return t
	}
	hs := []time.Time{
		date(time.January, 1),
		nth(time.January, time.Monday, 3),
		nth(time.February, time.Monday, 3),
		lastMonday(time.May),
		date(time.July, 4),
		nth(time.September, time.Monday, 1),
		nth(time.October, time.Monday, 2),
		date(time.November, 11),
		nth(time.November, time.Thursday, 4),
		date(time.December, 25),
	}
	if y >= 2021 {
		hs = append(hs, date(time.June, 19))
	}
	return hs
}

// observed returns the day a holiday on date h is observed.
func observed(h time.Time) time.Time {
	switch h.Weekday() {
	case time.Saturday:
		return h.AddDate(0, 0, -1)
	case time.Sunday:
		return h.AddDate(0, 0, 1)
	}
	return h
}

// easternZone returns the US Eastern zone in force at t: daylight time
// (UTC−4) from 2 a.m. on the second Sunday of March to 2 a.m. on the first
// Sunday of November, standard time (UTC−5) otherwise, as the Energy
// Policy Act of 2005 sets it. It is worked out rather than loaded, so
// that deadlines do not depend on the time zone database of the machine.
func easternZone(t time.Time) *time.Location {
	y := t.UTC().Year()
	sunday := func(m time.Month, n int) time.Time {
		d := time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
		for d.Weekday() != time.Sunday {
			d = d.AddDate(0, 0, 1)
		}
		return d.AddDate(0, 0, 7*(n-1))
	}
	start := sunday(time.March, 2).Add(2*time.Hour + 5*time.Hour)  // 2 a.m. EST in UTC
	end := sunday(time.November, 1).Add(2*time.Hour + 4*time.Hour) // 2 a.m. EDT in UTC
	if u := t.UTC(); !u.Before(start) && u.Before(end) {
		return edt
	}
	return est
}

var (
	est = time.FixedZone("EST", -5*3600)
	edt = time.FixedZone("EDT", -4*3600)
)
