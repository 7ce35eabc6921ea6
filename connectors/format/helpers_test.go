package format

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/weirdb/weir/connectors/registry"
	"github.com/weirdb/weir/connectors/registry/registrytest"
	"github.com/weirdb/weir/sql/types"
)

// allTypes is a schema with a column of every type of sql/types.
var allTypes = []Column{
	{Name: "b", Type: types.Bool},
	{Name: "i2", Type: types.Int16},
	{Name: "i4", Type: types.Int32},
	{Name: "i8", Type: types.Int64},
	{Name: "f4", Type: types.Float32},
	{Name: "f8", Type: types.Float64},
	{Name: "n", Type: types.Numeric},
	{Name: "n2", Type: types.Type{Kind: types.KindNumeric, Precision: 10, Scale: 2}},
	{Name: "t", Type: types.Text},
	{Name: "vc", Type: types.Type{Kind: types.KindText, Width: 5}},
	{Name: "ch", Type: types.Type{Kind: types.KindText, Width: 3, Fixed: true}},
	{Name: "by", Type: types.Bytea},
	{Name: "d", Type: types.Date},
	{Name: "tm", Type: types.Time},
	{Name: "ts", Type: types.Timestamp},
	{Name: "tz", Type: types.TimestampTZ},
	{Name: "iv", Type: types.Interval},
	{Name: "j", Type: types.JSONB},
}

// rowText prints a row as its columns' PostgreSQL text, | separated.
func rowText(r types.Row) string {
	if r == nil {
		return "<nil>"
	}
	parts := make([]string, len(r))
	for i, d := range r {
		if d.IsNull() {
			parts[i] = "NULL"
		} else {
			parts[i] = types.TextString(d, nil)
		}
	}
	return strings.Join(parts, "|")
}

// changeText prints a change as "op before / after".
func changeText(c *Change) string {
	switch c.Op {
	case OpNone:
		return "none"
	case OpInsert, OpUpsert:
		return c.Op.String() + " " + rowText(c.After)
	case OpDelete, OpDeleteKey:
		return c.Op.String() + " " + rowText(c.Before)
	}
	return c.Op.String() + " " + rowText(c.Before) + " / " + rowText(c.After)
}

func mustDecoder(t testing.TB, o Options) Decoder {
	t.Helper()
	d, err := NewDecoder(o)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// decodeText decodes one record and prints the change, or "error: ..."
// for a record error (failing the test on any other error).
func decodeText(t testing.TB, d Decoder, key, value []byte) string {
	t.Helper()
	c, err := checkDecode(t, d, key, value)
	if err != nil {
		return "error: " + err.Error()
	}
	return changeText(&c)
}

// checkDecode decodes one record and fails on any error but a record
// error with a short reason, or on a change that comes with an error.
func checkDecode(t testing.TB, d Decoder, key, value []byte) (Change, error) {
	t.Helper()
	var c Change
	err := d.Decode(context.Background(), key, value, &c)
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("not a record error: %v", err)
		}
		if e.Reason == "" || len(e.Reason) > maxReason+3 {
			t.Fatalf("bad reason %q", e.Reason)
		}
		if c.Op != OpNone {
			t.Fatalf("error %v with change %s", err, changeText(&c))
		}
	}
	return c, err
}

// newRegistry starts a test registry and a client of it.
func newRegistry(t testing.TB) (*registrytest.Server, *registry.Client) {
	t.Helper()
	srv := registrytest.New()
	t.Cleanup(srv.Close)
	c, err := registry.New(registry.Options{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
}
