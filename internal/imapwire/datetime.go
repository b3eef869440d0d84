package imapwire

import (
	"strings"
	"time"
)

var monthNames = [12]string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}

// parseMonth parses date-month, case-insensitively (RFC 5234 strings).
func parseMonth(s string) (time.Month, bool) {
	if len(s) != 3 {
		return 0, false
	}
	for i, m := range monthNames {
		if strings.EqualFold(s, m) {
			return time.Month(i + 1), true
		}
	}
	return 0, false
}

// digits parses s as a decimal number of exactly len(s) digits.
func digits(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

// validDate checks that day exists in month of year.
func validDate(year int, month time.Month, day int) bool {
	if day < 1 || day > 31 {
		return false
	}
	t := time.Date(year, month, day, 0, 0, 0, 0, time.UTC)
	return t.Day() == day
}

// parseDateText parses date-text: date-day "-" date-month "-" date-year,
// date-day being 1*2DIGIT (RFC 9051 9).
func parseDateText(s string) (time.Time, bool) {
	d, rest, ok := strings.Cut(s, "-")
	if !ok || len(d) < 1 || len(d) > 2 {
		return time.Time{}, false
	}
	m, y, ok := strings.Cut(rest, "-")
	if !ok || len(y) != 4 {
		return time.Time{}, false
	}
	day, ok1 := digits(d)
	month, ok2 := parseMonth(m)
	year, ok3 := digits(y)
	if !ok1 || !ok2 || !ok3 || !validDate(year, month, day) {
		return time.Time{}, false
	}
	return time.Date(year, month, day, 0, 0, 0, 0, time.UTC), true
}

// Date reads a SEARCH date: date-text, bare or quoted (RFC 9051 9 date),
// returned as UTC midnight of that day.
func (d *Decoder) Date() (time.Time, error) {
	d.begin()
	var s string
	if d.byteAt(d.si, d.pos) == '"' {
		v, err := d.quoted()
		if err != nil {
			return time.Time{}, err
		}
		s = v
	} else {
		s = string(d.takeWhile(isAtomChar))
	}
	t, ok := parseDateText(s)
	if !ok {
		return time.Time{}, syntaxErr("invalid date (expected d-Mon-yyyy)")
	}
	return t, nil
}

// DateTime reads a quoted date-time (RFC 9051 9): "dd-Mon-yyyy hh:mm:ss
// +zzzz", the day being 2DIGIT or SP DIGIT (a lone digit is accepted too).
func (d *Decoder) DateTime() (time.Time, error) {
	d.begin()
	if d.byteAt(d.si, d.pos) != '"' {
		return time.Time{}, syntaxErr("expected quoted date-time")
	}
	s, err := d.quoted()
	if err != nil {
		return time.Time{}, err
	}
	t, ok := parseDateTime(s)
	if !ok {
		return time.Time{}, syntaxErr("invalid date-time (expected dd-Mon-yyyy hh:mm:ss +zzzz)")
	}
	return t, nil
}

func parseDateTime(s string) (time.Time, bool) {
	if len(s) > 0 && s[0] == ' ' {
		s = s[1:]
		if len(s) < 2 || s[1] != '-' {
			return time.Time{}, false // SP DIGIT only
		}
	}
	date, rest, ok := strings.Cut(s, " ")
	if !ok {
		return time.Time{}, false
	}
	day, ok := parseDateText(date)
	if !ok {
		return time.Time{}, false
	}
	clock, zone, ok := strings.Cut(rest, " ")
	if !ok || len(clock) != 8 || clock[2] != ':' || clock[5] != ':' || len(zone) != 5 {
		return time.Time{}, false
	}
	hh, ok1 := digits(clock[0:2])
	mm, ok2 := digits(clock[3:5])
	ss, ok3 := digits(clock[6:8])
	zh, ok4 := digits(zone[1:3])
	zm, ok5 := digits(zone[3:5])
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || hh > 23 || mm > 59 || ss > 60 || zm > 59 {
		return time.Time{}, false
	}
	off := zh*3600 + zm*60
	switch zone[0] {
	case '+':
	case '-':
		off = -off
	default:
		return time.Time{}, false
	}
	loc := time.FixedZone("", off)
	return time.Date(day.Year(), day.Month(), day.Day(), hh, mm, ss, 0, loc), true
}

// formatDateTime formats t as date-time without quotes, the day space padded
// (RFC 9051 9 date-day-fixed).
func formatDateTime(t time.Time) string {
	return t.Format("_2-Jan-2006 15:04:05 -0700")
}
