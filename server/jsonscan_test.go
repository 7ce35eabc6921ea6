package server

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/weirdb/weir/sql/types"
)

// The fast path decodes every line as encoding/json does, or leaves it
// to it.
func TestScanObjectAgreesWithEncodingJSON(t *testing.T) {
	cols := []Column{{Name: "id", Type: types.Int64}, {Name: "name", Type: types.Text}, {Name: "doc", Type: types.JSONB}, {Name: "ok", Type: types.Bool}, {Name: "x", Type: types.Float64}}
	lines := []string{
		`{"id": 1, "name": "a"}`,
		`{"id":1,"name":"a \"quoted\" \u00e9","doc":{"a":[1,2,{"b":"}"}]},"ok":true,"x":-1.5e3}`,
		` { "id" : 2 , "doc" : [ ] } `,
		`{}`,
		`{"id": 1, "id": 2}`,
		`{"i\u0064": 3}`,
		`{"id": 01}`,
		`{"id": 1,}`,
		`{"id": 1} x`,
		`{"id": tru}`,
		`{"name": "unterminated}`,
		`{"doc": {"a": 1}`,
		`{"x": 1.}`,
		`{"x": -}`,
		`{"ok": null, "name": null}`,
		`{"nope": 1}`,
		`{"ID": 4}`,
		`[1, 2]`,
		`{"name": "\q"}`,
		`{"name": "\u00zz"}`,
		`{"name": "tab\there", "id": 7}`,
	}
	render := func(given []int, row types.Row, err error) string {
		if err != nil {
			return "error: " + err.Error()
		}
		return fmt.Sprint(given, row)
	}
	for _, line := range lines {
		fast := newRowDecoder("t", cols, time.UTC)
		g, r, e := fast.decode([]byte(line))
		var err error
		if e != nil {
			err = e
		}
		got := render(g, r, err)
		// The slow path alone: what encoding/json makes of it.
		var m map[string]json.RawMessage
		slow := newRowDecoder("t", cols, time.UTC)
		if json.Unmarshal([]byte(line), &m) == nil && line[0] != '[' {
			_, ok := scanObject([]byte(line), nil)
			if !ok {
				continue // the fast path passed it on: nothing to compare
			}
		}
		slow.members = nil
		g2, r2, e2 := slowDecode(slow, []byte(line))
		var err2 error
		if e2 != nil {
			err2 = e2
		}
		if want := render(g2, r2, err2); got != want {
			t.Errorf("%s:\nfast %s\nslow %s", line, got, want)
		}
	}
}

// slowDecode decodes line with encoding/json only.
func slowDecode(d *rowDecoder, line []byte) ([]int, types.Row, error) {
	saved := scanObjectHook
	scanObjectHook = func([]byte, []jsonMember) ([]jsonMember, bool) { return nil, false }
	defer func() { scanObjectHook = saved }()
	g, r, e := d.decode(line)
	if e != nil {
		return g, r, e
	}
	return g, r, nil
}

// FuzzScanObject: whatever the fast path vouches for is a JSON object,
// and its members are encoding/json's.
func FuzzScanObject(f *testing.F) {
	for _, s := range []string{`{"a": 1, "b": "x\"y", "c": [1, {"d": null}], "e": -0.5e-3}`, `{}`, ` {"a" : true } `, `{"a": "\u00e9\t"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		ms, ok := scanObject(line, nil)
		if !ok {
			return
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("%q: vouched for, but encoding/json says %v", line, err)
		}
		if dupKeys(ms) {
			return
		}
		if len(ms) != len(m) {
			t.Fatalf("%q: %d members, encoding/json %d", line, len(ms), len(m))
		}
		for _, mb := range ms {
			raw, ok := m[string(mb.key)]
			if !ok || string(raw) != string(mb.raw) {
				t.Fatalf("%q: member %q = %q, encoding/json %q", line, mb.key, mb.raw, raw)
			}
		}
	})
}
