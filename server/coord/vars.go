package coord

import (
	"strconv"
	"strings"
	"time"

	"github.com/weirdb/weir/sql/sqlerr"
)

// variable describes one session variable (a GUC in PostgreSQL terms).
type variable struct {
	name string // canonical spelling, as SHOW ALL prints it
	def  string
	// report marks GUC_REPORT variables, sent as ParameterStatus at startup
	// and whenever they change.
	report bool
	// readOnly variables may be SET to their current value only.
	readOnly bool
	// check validates and normalizes a new value.
	check func(v string) (string, error)
	desc  string
}

// serverVersion is what Weir reports as the PostgreSQL version it speaks.
const (
	serverVersion    = "15.8 (Weir " + Version + ")"
	serverVersionNum = "150008"
)

// Version is Weir's own version.
const Version = "0.1.0"

func variables() []*variable {
	return []*variable{
		{name: "application_name", def: "", report: true, desc: "Sets the application name to be reported in statistics and logs."},
		{name: "client_encoding", def: "UTF8", report: true, check: checkEncoding, desc: "Sets the client's character set encoding."},
		{name: "DateStyle", def: "ISO, MDY", report: true, check: checkDateStyle, desc: "Sets the display format for date and time values."},
		{name: "default_transaction_isolation", def: "read committed", desc: "Sets the transaction isolation level of each new transaction."},
		{name: "default_transaction_read_only", def: "off", report: true, check: checkBool, desc: "Sets the default read-only status of new transactions."},
		{name: "extra_float_digits", def: "1", check: checkInt(-15, 3), desc: "Sets the number of digits displayed for floating-point values."},
		{name: "in_hot_standby", def: "off", report: true, readOnly: true, desc: "Shows whether hot standby is currently active."},
		{name: "integer_datetimes", def: "on", report: true, readOnly: true, desc: "Shows whether datetimes are integer based."},
		{name: "IntervalStyle", def: "postgres", report: true, check: checkOneOf("postgres"), desc: "Sets the display format for interval values."},
		{name: "is_superuser", def: "on", report: true, readOnly: true, desc: "Shows whether the current user is a superuser."},
		{name: "lc_collate", def: "C", readOnly: true, desc: "Shows the collation order locale."},
		{name: "lc_ctype", def: "C", readOnly: true, desc: "Shows the character classification and case conversion locale."},
		{name: "lc_messages", def: "C", desc: "Sets the language in which messages are displayed."},
		{name: "lc_monetary", def: "C", desc: "Sets the locale for formatting monetary amounts."},
		{name: "lc_numeric", def: "C", desc: "Sets the locale for formatting numbers."},
		{name: "lc_time", def: "C", desc: "Sets the locale for formatting date and time values."},
		{name: "max_identifier_length", def: "63", readOnly: true, desc: "Shows the maximum identifier length."},
		{name: "search_path", def: `"$user", public`, desc: "Sets the schema search order for names that are not schema-qualified."},
		{name: "server_encoding", def: "UTF8", report: true, readOnly: true, desc: "Shows the server (database) character set encoding."},
		{name: "server_version", def: serverVersion, report: true, readOnly: true, desc: "Shows the server version."},
		{name: "server_version_num", def: serverVersionNum, readOnly: true, desc: "Shows the server version as an integer."},
		{name: "session_authorization", def: "weir", report: true, desc: "Sets the session user name."},
		{name: "standard_conforming_strings", def: "on", report: true, check: checkOneOf("on"), desc: "Causes '...' strings to treat backslashes literally."},
		{name: "statement_timeout", def: "0", check: checkDuration, desc: "Sets the maximum allowed duration of any statement."},
		{name: "synchronous_commit", def: "on", check: checkSynchronousCommit, desc: "Sets the current transaction's synchronization level."},
		{name: "TimeZone", def: "UTC", report: true, check: checkTimeZone, desc: "Sets the time zone for displaying and interpreting time stamps."},
		{name: "transaction_isolation", def: "read committed", desc: "Sets the current transaction's isolation level."},
		{name: "transaction_read_only", def: "off", check: checkBool, desc: "Sets the current transaction's read-only status."},
	}
}

func checkEncoding(v string) (string, error) {
	switch strings.ToUpper(strings.ReplaceAll(v, "-", "")) {
	case "UTF8", "UNICODE":
		return "UTF8", nil
	}
	return "", sqlerr.New(sqlerr.InvalidParameterValue, "invalid value for parameter \"client_encoding\": %q", v).
		WithDetail("Weir supports only the UTF8 encoding.")
}

func checkDateStyle(v string) (string, error) {
	// Weir formats dates in the ISO style only; accept what drivers send
	// that keeps ISO output.
	out := "ISO"
	order := "MDY"
	for _, part := range strings.Split(v, ",") {
		switch p := strings.ToUpper(strings.TrimSpace(part)); p {
		case "ISO", "":
		case "MDY", "DMY", "YMD":
			order = p
		case "US", "NONEURO", "NONEUROPEAN":
			order = "MDY"
		case "EURO", "EUROPEAN":
			order = "DMY"
		default:
			return "", sqlerr.Unsupported("DateStyle %q is not supported", v).WithHint("Weir outputs dates in the ISO style.")
		}
	}
	return out + ", " + order, nil
}

func checkBool(v string) (string, error) {
	switch strings.ToLower(v) {
	case "on", "true", "yes", "1", "t":
		return "on", nil
	case "off", "false", "no", "0", "f":
		return "off", nil
	}
	return "", sqlerr.New(sqlerr.InvalidParameterValue, "parameter requires a Boolean value")
}

// checkSynchronousCommit accepts PostgreSQL's values. With no standbys,
// local, remote_write and remote_apply wait for the local fsync, as on
// does; off commits asynchronously (storage.Txn.SetAsynchronousCommit).
func checkSynchronousCommit(v string) (string, error) {
	switch s := strings.ToLower(v); s {
	case "local", "remote_write", "remote_apply":
		return s, nil
	}
	if b, err := checkBool(v); err == nil {
		return b, nil
	}
	return "", sqlerr.New(sqlerr.InvalidParameterValue, "invalid value for parameter \"synchronous_commit\": %q", v).
		WithHint("Available values: local, remote_write, remote_apply, on, off.")
}

func checkInt(lo, hi int) func(string) (string, error) {
	return func(v string) (string, error) {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return "", sqlerr.New(sqlerr.InvalidParameterValue, "invalid value for integer parameter: %q", v)
		}
		if n < lo || n > hi {
			return "", sqlerr.New(sqlerr.InvalidParameterValue, "%d is outside the valid range for parameter (%d .. %d)", n, lo, hi)
		}
		return strconv.Itoa(n), nil
	}
}

func checkOneOf(allowed ...string) func(string) (string, error) {
	return func(v string) (string, error) {
		for _, a := range allowed {
			if strings.EqualFold(v, a) {
				return a, nil
			}
		}
		return "", sqlerr.Unsupported("value %q is not supported", v).WithHint("Supported: %s.", strings.Join(allowed, ", "))
	}
}

func checkDuration(v string) (string, error) {
	if _, err := parseDurationSetting(v); err != nil {
		return "", err
	}
	return v, nil
}

// parseDurationSetting reads a duration GUC: a bare number is milliseconds.
func parseDurationSetting(v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.Duration(n) * time.Millisecond, nil
	}
	for _, u := range []struct {
		suffix string
		unit   time.Duration
	}{{"ms", time.Millisecond}, {"s", time.Second}, {"min", time.Minute}, {"h", time.Hour}, {"d", 24 * time.Hour}} {
		if num, ok := strings.CutSuffix(v, u.suffix); ok {
			if n, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64); err == nil {
				return time.Duration(n) * u.unit, nil
			}
		}
	}
	return 0, sqlerr.New(sqlerr.InvalidParameterValue, "invalid value for parameter: %q", v)
}

// loadLocation resolves a TimeZone setting as PostgreSQL accepts them: IANA
// names, UTC/GMT aliases, and POSIX-style fixed offsets.
func loadLocation(v string) (*time.Location, error) {
	switch strings.ToLower(v) {
	case "utc", "gmt", "z", "zulu", "etc/utc", "universal", "default", "local", "localtime":
		return time.UTC, nil
	}
	if loc, err := time.LoadLocation(v); err == nil {
		return loc, nil
	}
	// Numeric offsets: '+02', '-05:30'. PostgreSQL's SET TIME ZONE takes an
	// ISO sign convention for numbers (east positive).
	s := strings.TrimSpace(v)
	sign := 1
	switch {
	case strings.HasPrefix(s, "+"):
		s = s[1:]
	case strings.HasPrefix(s, "-"):
		sign, s = -1, s[1:]
	}
	h, m := s, "0"
	if i := strings.IndexByte(s, ':'); i >= 0 {
		h, m = s[:i], s[i+1:]
	}
	hh, err1 := strconv.ParseFloat(h, 64)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh > 15 || mm >= 60 {
		return nil, sqlerr.New(sqlerr.InvalidParameterValue, "invalid value for parameter \"TimeZone\": %q", v)
	}
	secs := sign * (int(hh*3600) + mm*60)
	return time.FixedZone(v, secs), nil
}

func checkTimeZone(v string) (string, error) {
	if _, err := loadLocation(v); err != nil {
		return "", err
	}
	return v, nil
}
