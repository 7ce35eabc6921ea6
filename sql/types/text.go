package types

import (
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/weirdb/weir/sql/sqlerr"
)

// ParseText is PostgreSQL's input function for t: text -> Datum. loc is
// the session TimeZone (timestamptz input without an explicit offset, and
// 'now'/'today'); nil means UTC. t's modifiers are applied (NUMERIC(p,s)
// rounding and overflow, VARCHAR(n) length, CHAR(n) padding). Errors are
// *sqlerr.Error with PostgreSQL's SQLSTATE and wording. The result may
// share memory with s.
func ParseText(t Type, s string, loc *time.Location) (Datum, error) {
	switch t.Kind {
	case KindUnknown:
		return NewUnknown(s), nil
	case KindBool:
		b, err := ParseBool(s)
		if err != nil {
			return Null, err
		}
		return NewBool(b), nil
	case KindInt16:
		v, err := parseInt(s, 16, "smallint")
		return NewInt16(int16(v)), err
	case KindInt32:
		v, err := parseInt(s, 32, "integer")
		return NewInt32(int32(v)), err
	case KindInt64:
		v, err := parseInt(s, 64, "bigint")
		return NewInt64(v), err
	case KindFloat32:
		f, err := ParseFloat(s, 32)
		if err != nil {
			return Null, err
		}
		return NewFloat32(float32(f)), nil
	case KindFloat64:
		f, err := ParseFloat(s, 64)
		if err != nil {
			return Null, err
		}
		return NewFloat64(f), nil
	case KindNumeric:
		d, err := ParseNumeric(s)
		if err != nil {
			return Null, err
		}
		d, err = ApplyNumericTypmod(d, t.Precision, t.Scale)
		if err != nil {
			return Null, err
		}
		return NewNumeric(d), nil
	case KindText:
		if err := checkText(s); err != nil {
			return Null, err
		}
		v, err := applyTextWidth(s, t, false)
		if err != nil {
			return Null, err
		}
		return NewText(v), nil
	case KindBytea:
		b, err := ParseBytea(s)
		if err != nil {
			return Null, err
		}
		return Datum{k: KindBytea, ok: true, s: b}, nil
	case KindDate:
		v, err := ParseDate(s, loc)
		return NewDate(v), err
	case KindTime:
		v, err := ParseTime(s, loc)
		return NewTime(v), err
	case KindTimestamp:
		v, err := ParseTimestamp(s, loc)
		return NewTimestamp(v), err
	case KindTimestampTZ:
		v, err := ParseTimestampTZ(s, loc)
		return NewTimestampTZ(v), err
	case KindInterval:
		m, d, us, err := ParseInterval(s)
		return NewInterval(m, d, us), err
	case KindJSONB:
		return ParseJSONB(s)
	}
	return Null, sqlerr.New(sqlerr.InternalError, "no input function for type %s", t)
}

// checkText rejects what PostgreSQL cannot store in a UTF8 database: invalid
// UTF-8 and NUL bytes.
func checkText(s string) error {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == 0 {
			return sqlerr.New(sqlerr.CharacterNotInRepertoire, "invalid byte sequence for encoding \"UTF8\": 0x00")
		}
		if c >= 0x80 {
			if utf8.ValidString(s[i:]) && !hasByte(s[i:], 0) {
				return nil
			}
			for j := i; j < len(s); {
				r, size := utf8.DecodeRuneInString(s[j:])
				if r == utf8.RuneError && size <= 1 {
					return sqlerr.New(sqlerr.CharacterNotInRepertoire, "invalid byte sequence for encoding \"UTF8\": 0x%02x", s[j])
				}
				if r == 0 {
					return sqlerr.New(sqlerr.CharacterNotInRepertoire, "invalid byte sequence for encoding \"UTF8\": 0x00")
				}
				j += size
			}
			return nil
		}
	}
	return nil
}

// applyTextWidth enforces VARCHAR(n) / CHAR(n) on s (lengths in
// characters). Too-long values are 22001 unless the excess is all spaces
// (then truncated), or explicit is set (then silently truncated, as an
// explicit cast does). CHAR(n) values are blank-padded to n.
func applyTextWidth(s string, t Type, explicit bool) (string, error) {
	if t.Width <= 0 {
		return s, nil
	}
	w := int(t.Width)
	if len(s) <= w && !t.Fixed {
		return s, nil
	}
	n := utf8.RuneCountInString(s)
	if n > w {
		// Byte offset of the w-th character.
		cut := 0
		for i := 0; i < w; i++ {
			_, size := utf8.DecodeRuneInString(s[cut:])
			cut += size
		}
		if !explicit {
			for i := cut; i < len(s); i++ {
				if s[i] != ' ' {
					return "", sqlerr.New(sqlerr.StringDataRightTruncation, "value too long for type %s", t)
				}
			}
		}
		return s[:cut], nil
	}
	if t.Fixed && n < w {
		b := make([]byte, len(s), len(s)+w-n)
		copy(b, s)
		for i := n; i < w; i++ {
			b = append(b, ' ')
		}
		return string(b), nil
	}
	return s, nil
}

// ParseBool is PostgreSQL's boolin: trimmed, case-insensitive, unique
// prefixes of true/false/yes/no, on/off (at least two letters), 1/0.
func ParseBool(s string) (bool, error) {
	t := trimSpace(s)
	if len(t) > 0 && len(t) <= 5 {
		prefix := func(word string, minLen int) bool {
			if len(t) > len(word) || len(t) < minLen {
				return false
			}
			for i := 0; i < len(t); i++ {
				if lower(t[i]) != word[i] {
					return false
				}
			}
			return true
		}
		switch lower(t[0]) {
		case 't':
			if prefix("true", 1) {
				return true, nil
			}
		case 'f':
			if prefix("false", 1) {
				return false, nil
			}
		case 'y':
			if prefix("yes", 1) {
				return true, nil
			}
		case 'n':
			if prefix("no", 1) {
				return false, nil
			}
		case 'o':
			if prefix("on", 2) {
				return true, nil
			}
			if prefix("off", 2) {
				return false, nil
			}
		case '1':
			if len(t) == 1 {
				return true, nil
			}
		case '0':
			if len(t) == 1 {
				return false, nil
			}
		}
	}
	return false, errSyntax("boolean", s)
}

// parseInt is PostgreSQL 15's pg_strtoint{16,32,64}: optional surrounding
// whitespace, optional sign, decimal digits.
func parseInt(s string, bitSize int, typ string) (int64, error) {
	i, n := 0, len(s)
	for i < n && isSpace(s[i]) {
		i++
	}
	neg := false
	if i < n && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	start := i
	// Accumulate as a negative number so that MinInt64 fits.
	var v int64
	overflow := false
	for i < n && isDigit(s[i]) {
		d := int64(s[i] - '0')
		if v < (math.MinInt64+d)/10 {
			overflow = true
		}
		v = v*10 - d
		i++
	}
	if i == start {
		return 0, errSyntax(typ, s)
	}
	for i < n && isSpace(s[i]) {
		i++
	}
	if i != n {
		return 0, errSyntax(typ, s)
	}
	if !neg {
		if v == math.MinInt64 {
			overflow = true
		}
		v = -v
	}
	if !overflow {
		switch bitSize {
		case 16:
			overflow = v < math.MinInt16 || v > math.MaxInt16
		case 32:
			overflow = v < math.MinInt32 || v > math.MaxInt32
		}
	}
	if overflow {
		return 0, sqlerr.New(sqlerr.NumericValueOutOfRange, "value \"%s\" is out of range for type %s", s, typ)
	}
	return v, nil
}

// ParseFloat is PostgreSQL's float8in (bitSize 64) / float4in (32):
// surrounding whitespace, decimal or exponent notation, NaN, Infinity,
// inf (signed, case-insensitive). Overflow and underflow to zero are 22003.
func ParseFloat(s string, bitSize int) (float64, error) {
	typ := "double precision"
	if bitSize == 32 {
		typ = "real"
	}
	t := trimSpace(s)
	if len(t) == 0 {
		return 0, errSyntax(typ, s)
	}
	switch {
	case eqFold(t, "nan"), eqFold(t, "+nan"), eqFold(t, "-nan"):
		return math.NaN(), nil
	case eqFold(t, "infinity"), eqFold(t, "+infinity"), eqFold(t, "inf"), eqFold(t, "+inf"):
		return math.Inf(1), nil
	case eqFold(t, "-infinity"), eqFold(t, "-inf"):
		return math.Inf(-1), nil
	}
	if !validDecimalSyntax(t) {
		return 0, errSyntax(typ, s)
	}
	f, err := strconv.ParseFloat(t, bitSize)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return 0, sqlerr.New(sqlerr.NumericValueOutOfRange, "\"%s\" is out of range for type %s", s, typ)
		}
		return 0, errSyntax(typ, s)
	}
	if f == 0 {
		// Underflow: a nonzero mantissa that became zero.
		for i := 0; i < len(t); i++ {
			c := t[i]
			if c == 'e' || c == 'E' {
				break
			}
			if c >= '1' && c <= '9' {
				return 0, sqlerr.New(sqlerr.NumericValueOutOfRange, "\"%s\" is out of range for type %s", s, typ)
			}
		}
	}
	return f, nil
}

// ParseBytea is PostgreSQL's byteain: hex format "\x0a0b" (whitespace
// allowed between bytes) or escape format (\\ and \ooo octal escapes).
func ParseBytea(s string) (string, error) {
	if len(s) >= 2 && s[0] == '\\' && s[1] == 'x' {
		b := make([]byte, 0, (len(s)-2)/2)
		for i := 2; i < len(s); {
			c := s[i]
			if isSpace(c) {
				i++
				continue
			}
			hi, ok := unhex(c)
			if !ok {
				return "", sqlerr.New(sqlerr.InvalidParameterValue, "invalid hexadecimal digit: \"%s\"", s[i:i+utf8Len(s[i:])])
			}
			if i+1 >= len(s) {
				return "", sqlerr.New(sqlerr.InvalidParameterValue, "invalid hexadecimal data: odd number of digits")
			}
			lo, ok := unhex(s[i+1])
			if !ok {
				return "", sqlerr.New(sqlerr.InvalidParameterValue, "invalid hexadecimal digit: \"%s\"", s[i+1:i+1+utf8Len(s[i+1:])])
			}
			b = append(b, hi<<4|lo)
			i += 2
		}
		return string(b), nil
	}
	if !hasByte(s, '\\') {
		return s, nil
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			b = append(b, c)
			i++
			continue
		}
		if i+1 < len(s) && s[i+1] == '\\' {
			b = append(b, '\\')
			i += 2
			continue
		}
		if i+3 < len(s)+0 && s[i+1] >= '0' && s[i+1] <= '3' && s[i+2] >= '0' && s[i+2] <= '7' && s[i+3] >= '0' && s[i+3] <= '7' {
			b = append(b, (s[i+1]-'0')<<6|(s[i+2]-'0')<<3|(s[i+3]-'0'))
			i += 4
			continue
		}
		return "", sqlerr.New(sqlerr.InvalidTextRepresentation, "invalid input syntax for type bytea")
	}
	return string(b), nil
}

func utf8Len(s string) int {
	_, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return 0
	}
	return n
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

const hexDigits = "0123456789abcdef"

// AppendText is PostgreSQL's output function (DateStyle ISO, IntervalStyle
// postgres, extra_float_digits >= 1): it appends d's text form to buf and
// returns the extended buffer. Timestamptz values are shown in loc (nil =
// UTC). A NULL appends nothing (NULL has no text form; callers send it
// as a NULL marker).
func AppendText(buf []byte, d Datum, loc *time.Location) []byte {
	if !d.ok {
		return buf
	}
	switch d.k {
	case KindBool:
		if d.i != 0 {
			return append(buf, 't')
		}
		return append(buf, 'f')
	case KindInt16, KindInt32, KindInt64:
		return strconv.AppendInt(buf, d.i, 10)
	case KindFloat32:
		return AppendFloat(buf, d.Float(), 32)
	case KindFloat64:
		return AppendFloat(buf, d.Float(), 64)
	case KindNumeric:
		return AppendNumeric(buf, d.d)
	case KindText, KindUnknown, KindJSONB:
		return append(buf, d.s...)
	case KindBytea:
		buf = append(buf, '\\', 'x')
		for i := 0; i < len(d.s); i++ {
			buf = append(buf, hexDigits[d.s[i]>>4], hexDigits[d.s[i]&15])
		}
		return buf
	case KindDate:
		return AppendDate(buf, d.i)
	case KindTime:
		return AppendTime(buf, d.i)
	case KindTimestamp:
		return AppendTimestamp(buf, d.i)
	case KindTimestampTZ:
		return AppendTimestampTZ(buf, d.i, loc)
	case KindInterval:
		m, dd, us := d.IntervalParts()
		return AppendInterval(buf, m, dd, us)
	}
	return buf
}

// TextString is AppendText into a new string.
func TextString(d Datum, loc *time.Location) string {
	var tmp [64]byte
	return string(AppendText(tmp[:0], d, loc))
}

// AppendFloat appends f as PostgreSQL prints float8 (bitSize 64) or
// float4 (32) with extra_float_digits >= 1: the shortest text that reads
// back exactly, in plain notation for decimal exponents -4 .. 14 (float4:
// -4 .. 5) and as "1e+20" otherwise; "NaN", "Infinity", "-Infinity".
func AppendFloat(buf []byte, f float64, bitSize int) []byte {
	switch {
	case f != f:
		return append(buf, "NaN"...)
	case math.IsInf(f, 1):
		return append(buf, "Infinity"...)
	case math.IsInf(f, -1):
		return append(buf, "-Infinity"...)
	}
	if f == 0 {
		if math.Signbit(f) {
			return append(buf, "-0"...)
		}
		return append(buf, '0')
	}
	var tmp [32]byte
	e := strconv.AppendFloat(tmp[:0], f, 'e', -1, bitSize)
	exp := 0
	for i := len(e) - 1; i >= 0; i-- {
		if e[i] == 'e' {
			neg := e[i+1] == '-'
			for _, c := range e[i+2:] {
				exp = exp*10 + int(c-'0')
			}
			if neg {
				exp = -exp
			}
			break
		}
	}
	limit := 15
	if bitSize == 32 {
		limit = 6
	}
	if exp < -4 || exp >= limit {
		return append(buf, e...)
	}
	return strconv.AppendFloat(buf, f, 'f', -1, bitSize)
}
