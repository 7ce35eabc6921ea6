// Package sqlerr is the one user-facing error type of Weir: a SQLSTATE code,
// a message and optional detail, hint and position. Every layer returns these
// for anything a user caused; only the server turns them into ErrorResponse.
package sqlerr

import (
	"errors"
	"fmt"
)

// Code is a five-character SQLSTATE.
type Code string

// The SQLSTATE codes Weir emits, in one table (PostgreSQL Appendix A).
const (
	SuccessfulCompletion         Code = "00000"
	Warning                      Code = "01000"
	FeatureNotSupported          Code = "0A000"
	CardinalityViolation         Code = "21000"
	DataException                Code = "22000"
	StringDataRightTruncation    Code = "22001"
	NumericValueOutOfRange       Code = "22003"
	InvalidDatetimeFormat        Code = "22007"
	DatetimeFieldOverflow        Code = "22008"
	DivisionByZero               Code = "22012"
	InvalidParameterValue        Code = "22023"
	InvalidRegularExpression     Code = "2201B"
	InvalidTextRepresentation    Code = "22P02"
	BadCopyFileFormat            Code = "22P04"
	InvalidEscapeSequence        Code = "22025"
	UntranslatableCharacter      Code = "22P05"
	CharacterNotInRepertoire     Code = "22021"
	InvalidJSONText              Code = "22032"
	NotNullViolation             Code = "23502"
	UniqueViolation              Code = "23505"
	CheckViolation               Code = "23514"
	InvalidTransactionState      Code = "25000"
	ActiveSQLTransaction         Code = "25001"
	ReadOnlySQLTransaction       Code = "25006"
	NoActiveSQLTransaction       Code = "25P01"
	InFailedSQLTransaction       Code = "25P02"
	SerializationFailure         Code = "40001"
	InvalidSQLStatementName      Code = "26000"
	InvalidCursorName            Code = "34000"
	InvalidSchemaName            Code = "3F000"
	CannotCoerce                 Code = "42846"
	CantChangeRuntimeParam       Code = "55P02"
	SyntaxError                  Code = "42601"
	InsufficientPrivilege        Code = "42501"
	UndefinedColumn              Code = "42703"
	UndefinedFunction            Code = "42883"
	UndefinedTable               Code = "42P01"
	UndefinedParameter           Code = "42P02"
	UndefinedObject              Code = "42704"
	DuplicateColumn              Code = "42701"
	DuplicateTable               Code = "42P07"
	DuplicateObject              Code = "42710"
	DuplicatePreparedStatement   Code = "42P05"
	DuplicateCursor              Code = "42P03"
	AmbiguousColumn              Code = "42702"
	AmbiguousFunction            Code = "42725"
	DatatypeMismatch             Code = "42804"
	WrongObjectType              Code = "42809"
	GroupingError                Code = "42803"
	InvalidColumnReference       Code = "42P10"
	IndeterminateDatatype        Code = "42P18"
	InvalidTableDefinition       Code = "42P16"
	InvalidObjectDefinition      Code = "42P17"
	InvalidName                  Code = "42602"
	ProtocolViolation            Code = "08P01"
	ConnectionFailure            Code = "08006"
	InvalidAuthorization         Code = "28000"
	ProgramLimitExceeded         Code = "54000"
	OutOfMemory                  Code = "53200"
	QueryCanceled                Code = "57014"
	AdminShutdown                Code = "57P01"
	DependentObjectsStillExist   Code = "2BP01"
	ObjectNotInPrerequisiteState Code = "55000"
	ObjectInUse                  Code = "55006"
	InternalError                Code = "XX000"
)

// Error is a user-facing error. The zero Position means "no position";
// otherwise it is a 1-based character offset into the statement text the
// user sent.
type Error struct {
	Code     Code
	Message  string
	Detail   string
	Hint     string
	Position int
	// Severity is ERROR unless set (FATAL for connection-ending errors).
	Severity string
}

func (e *Error) Error() string { return e.Message }

// New returns an Error with the given code and a formatted message.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// WithDetail returns a copy of e with its detail set.
func (e *Error) WithDetail(format string, args ...any) *Error {
	c := *e
	c.Detail = fmt.Sprintf(format, args...)
	return &c
}

// WithHint returns a copy of e with its hint set.
func (e *Error) WithHint(format string, args ...any) *Error {
	c := *e
	c.Hint = fmt.Sprintf(format, args...)
	return &c
}

// WithPosition returns a copy of e located at a 1-based character offset.
func (e *Error) WithPosition(pos int) *Error {
	c := *e
	c.Position = pos
	return &c
}

// From extracts the *Error in err's chain. Anything else becomes an internal
// error (XX000) carrying err's text, so that no error reaches a client
// without a SQLSTATE.
func From(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: InternalError, Message: err.Error()}
}

// CodeOf returns the SQLSTATE of err, or "" if err is nil.
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	return From(err).Code
}

// Unsupported is the error for a recognised construct Weir does not (yet) run.
func Unsupported(format string, args ...any) *Error {
	return New(FeatureNotSupported, format, args...)
}
