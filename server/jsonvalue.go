package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
)

// This file converts values between JSON and datums for the HTTP API:
// parameters of /v1/sql and rows of /v1/ingest in, result rows out.

// maxSafeInteger is the largest integer a JSON reader that holds numbers
// as doubles (JavaScript's) reads exactly: 2^53.
const maxSafeInteger = 1 << 53

// appendJSONValue appends d as the HTTP API returns values: to_json's
// form (types.AppendJSON: numbers, booleans, ISO 8601 timestamps with
// their offset, JSONB embedded, BYTEA as "\\x..."), except for numbers a
// double cannot hold exactly, which are strings of their text: NUMERIC
// always, BIGINT beyond ±2^53.
func appendJSONValue(buf []byte, d types.Datum, loc *time.Location) []byte {
	if !d.IsNull() {
		switch d.Kind() {
		case types.KindNumeric:
			return appendJSONText(buf, d)
		case types.KindInt64:
			if v := d.Int(); v > maxSafeInteger || v < -maxSafeInteger {
				return appendJSONText(buf, d)
			}
		}
	}
	return types.AppendJSON(buf, d, loc)
}

func appendJSONText(buf []byte, d types.Datum) []byte {
	var tmp [64]byte
	return types.AppendJSONString(buf, string(types.AppendText(tmp[:0], d, nil)))
}

// datumFromJSON converts one JSON value (valid JSON, as encoding/json
// checked it) into a datum of type t, by the rules of PostgreSQL's
// json_populate_record: null is NULL; a string goes through t's input
// function as the text it holds, any other value as its JSON text (so
// "12" and 12 both fill a BIGINT, 12.5 into an INTEGER is an error, and
// an object fills a TEXT column with its JSON); a JSONB column takes the
// value itself. loc is the TimeZone of timestamptz input without an
// offset. Errors are *sqlerr.Error.
func datumFromJSON(t types.Type, raw []byte, loc *time.Location) (types.Datum, error) {
	if len(raw) == 0 {
		return types.Null, sqlerr.New(sqlerr.InvalidTextRepresentation, "invalid input syntax for type json").WithDetail("The input is empty.")
	}
	switch {
	case raw[0] == 'n':
		return types.NullOf(t.Kind), nil
	case t.Kind == types.KindJSONB:
		return types.ParseJSONB(string(raw))
	case raw[0] == '"':
		s, err := jsonString(raw)
		if err != nil {
			return types.Null, err
		}
		return types.ParseText(t, s, loc)
	}
	return types.ParseText(t, string(raw), loc)
}

// jsonString unquotes a JSON string literal: without escapes or
// non-ASCII bytes, by slicing; else by encoding/json (surrogate pairs,
// invalid UTF-8 replaced as JSON readers do).
func jsonString(raw []byte) (string, error) {
	plain := len(raw) >= 2 && raw[len(raw)-1] == '"'
	for i := 1; plain && i < len(raw)-1; i++ {
		plain = raw[i] != '\\' && raw[i] != '"' && raw[i] >= 0x20 && raw[i] < 0x80
	}
	if plain {
		return string(raw[1 : len(raw)-1]), nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", sqlerr.New(sqlerr.InvalidTextRepresentation, "invalid input syntax for type json").WithDetail("%s", err.Error())
	}
	return s, nil
}

// jsonErrorDetail describes a JSON decoding error for a client: where a
// syntax error is, what was found instead of what.
func jsonErrorDetail(err error) string {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Sprintf("%s (at byte %d)", syn.Error(), syn.Offset)
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) && typ.Field != "" {
		return fmt.Sprintf("field %q: found a JSON %s", typ.Field, typ.Value)
	}
	if errors.As(err, &typ) {
		return fmt.Sprintf("found a JSON %s", typ.Value)
	}
	return err.Error()
}
