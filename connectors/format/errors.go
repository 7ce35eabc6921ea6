package format

import (
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/weirdb/weir/sql/sqlerr"
)

// Error is a record that cannot be decoded, or a row that cannot be
// encoded: what a source stores in its `<source>_errors` relation and
// dead-letter topic. It names the field or column at fault and gives a
// short reason. Decoders return *Error for every fault of the record's
// bytes; any other error (a schema registry that cannot be reached) is a
// fault of the source, not of the record, and the caller retries.
type Error struct {
	// Key is set when the fault is in the record's key, not its value.
	Key bool
	// Field is the field or column at fault; "" when the record as a
	// whole is (not an object, truncated, unknown schema id).
	Field string
	// Reason is one line, at most maxReason bytes.
	Reason string
	// Err is the underlying error, if any (a *sqlerr.Error from a type's
	// input function carries its SQLSTATE).
	Err error
}

func (e *Error) Error() string {
	part := ""
	if e.Key {
		part = "key: "
	}
	if e.Field == "" {
		return part + e.Reason
	}
	return fmt.Sprintf("%sfield %q: %s", part, e.Field, e.Reason)
}

func (e *Error) Unwrap() error { return e.Err }

// maxReason bounds a reason: a type's input function quotes the value,
// which may be a megabyte of garbage.
const maxReason = 200

func clip(s string) string {
	if len(s) <= maxReason {
		return s
	}
	cut := maxReason
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// errRecord is a fault of the record as a whole.
func errRecord(format string, args ...any) *Error {
	return &Error{Reason: clip(fmt.Sprintf(format, args...))}
}

// errField is a fault of one field.
func errField(field, format string, args ...any) *Error {
	return &Error{Field: field, Reason: clip(fmt.Sprintf(format, args...))}
}

// errValue wraps the error of a type's input function for field.
func errValue(field string, err error) *Error {
	return &Error{Field: field, Reason: clip(err.Error()), Err: err}
}

// inKey marks err, if it is a record error, as a fault of the key.
func inKey(err error) error {
	var e *Error
	if errors.As(err, &e) {
		c := *e
		c.Key = true
		return &c
	}
	return err
}

// errNotNull is the fault of a NULL in a NOT NULL column.
func errNotNull(col string) *Error {
	return &Error{Field: col, Reason: fmt.Sprintf("null value in column %q violates not-null constraint", col),
		Err: sqlerr.New(sqlerr.NotNullViolation, "null value in column \"%s\" violates not-null constraint", col)}
}
