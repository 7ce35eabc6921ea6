package server

import (
	"encoding/json"
	"unicode/utf8"
)

// A fast path for the NDJSON of /v1/ingest: most lines are flat objects
// of plain keys, and walking them in place costs a fraction of
// encoding/json's decoding into a map (which was 40% of ingest's CPU).
// Anything it does not check quickly (an escaped key, a malformed line)
// goes to encoding/json, which also words the errors.

// jsonMember is one member of an object: its key (without the quotes,
// never escaped) and its raw value.
type jsonMember struct{ key, raw []byte }

// scanObject appends the members of the JSON object line to out. ok is
// false when the line is not an object it can vouch for: the caller then
// decodes it the slow way. Values are delimited and checked (strings,
// numbers and literals by hand, objects and arrays by encoding/json);
// the column's type parses them.
func scanObject(line []byte, out []jsonMember) ([]jsonMember, bool) {
	i := skipJSONSpace(line, 0)
	if i >= len(line) || line[i] != '{' {
		return out, false
	}
	i = skipJSONSpace(line, i+1)
	if i < len(line) && line[i] == '}' {
		return out, skipJSONSpace(line, i+1) == len(line)
	}
	for {
		if i >= len(line) || line[i] != '"' {
			return out, false
		}
		j := i + 1
		for j < len(line) && line[j] != '"' {
			if line[j] == '\\' || line[j] < 0x20 {
				return out, false
			}
			j++
		}
		if j >= len(line) {
			return out, false
		}
		key := line[i+1 : j]
		if !utf8.Valid(key) {
			return out, false // encoding/json replaces the bad bytes
		}
		i = skipJSONSpace(line, j+1)
		if i >= len(line) || line[i] != ':' {
			return out, false
		}
		i = skipJSONSpace(line, i+1)
		end, ok := jsonValueEnd(line, i)
		if !ok {
			return out, false
		}
		out = append(out, jsonMember{key: key, raw: line[i:end]})
		i = skipJSONSpace(line, end)
		if i < len(line) && line[i] == ',' {
			i = skipJSONSpace(line, i+1)
			continue
		}
		if i < len(line) && line[i] == '}' {
			return out, skipJSONSpace(line, i+1) == len(line)
		}
		return out, false
	}
}

func skipJSONSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// jsonValueEnd returns where the JSON value at b[i:] ends.
func jsonValueEnd(b []byte, i int) (int, bool) {
	if i >= len(b) {
		return 0, false
	}
	switch b[i] {
	case '"':
		return jsonStringEnd(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, ok := jsonStringEnd(b, j)
				if !ok {
					return 0, false
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					// Nested values are rare in NDJSON rows: checked whole.
					return j + 1, json.Valid(b[i : j+1])
				}
			}
		}
		return 0, false
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\t' && b[j] != '\r' && b[j] != '\n' {
		j++
	}
	switch lit := string(b[i:j]); lit {
	case "true", "false", "null":
		return j, true
	}
	return j, jsonNumber(b[i:j])
}

// jsonStringEnd returns the end of the string starting at b[i] ('"').
func jsonStringEnd(b []byte, i int) (int, bool) {
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '\\':
			if j+1 >= len(b) {
				return 0, false
			}
			switch b[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j++
			case 'u':
				if j+5 >= len(b) || !isHex4(b[j+2:j+6]) {
					return 0, false
				}
				j += 5
			default:
				return 0, false
			}
		case c == '"':
			return j + 1, true
		case c < 0x20:
			return 0, false
		}
	}
	return 0, false
}

// jsonNumber reports whether b is a JSON number.
func jsonNumber(b []byte) bool {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return false
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return false
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	return i == len(b)
}

func isHex4(b []byte) bool {
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}
