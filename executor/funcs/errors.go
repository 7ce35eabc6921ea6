package funcs

import "github.com/weirdb/weir/sql/sqlerr"

// Errors users cause at evaluation time, worded as PostgreSQL words them.
// Shared read-only values: evaluation must not allocate on the error path
// either when it can be helped.
var (
	errInt2Range     = sqlerr.New(sqlerr.NumericValueOutOfRange, "smallint out of range")
	errInt4Range     = sqlerr.New(sqlerr.NumericValueOutOfRange, "integer out of range")
	errInt8Range     = sqlerr.New(sqlerr.NumericValueOutOfRange, "bigint out of range")
	errDivZero       = sqlerr.New(sqlerr.DivisionByZero, "division by zero")
	errFloatOver     = sqlerr.New(sqlerr.NumericValueOutOfRange, "value out of range: overflow")
	errFloatUnder    = sqlerr.New(sqlerr.NumericValueOutOfRange, "value out of range: underflow")
	errNumericRange  = sqlerr.New(sqlerr.NumericValueOutOfRange, "value overflows numeric format")
	errTSRange       = sqlerr.New(sqlerr.DatetimeFieldOverflow, "timestamp out of range")
	errDateRange     = sqlerr.New(sqlerr.DatetimeFieldOverflow, "date out of range")
	errIntervalRange = sqlerr.New(sqlerr.DatetimeFieldOverflow, "interval out of range")
)
