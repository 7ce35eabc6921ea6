package coord

import (
	"context"
	"testing"

	"github.com/weirdb/weir/server"
	"github.com/weirdb/weir/sql/sqlerr"
)

// copyOutBytes runs a COPY TO STDOUT and returns its whole stream.
func copyOutBytes(t *testing.T, s server.Session, query string) []byte {
	t.Helper()
	ctx := context.Background()
	stmts, err := s.Parse(ctx, query, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Execute(ctx, stmts[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	co := res.CopyOut()
	if !co.Binary() {
		t.Fatalf("%s: CopyOut is not binary", query)
	}
	var out []byte
	for {
		b, ok, err := co.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return out
		}
		out = append(out, b...)
	}
}

// feedCopyChunks feeds data to a COPY FROM STDIN in pieces of size n.
func feedCopyChunks(t *testing.T, s server.Session, query string, data []byte, n int) (string, error) {
	t.Helper()
	ctx := context.Background()
	stmts, err := s.Parse(ctx, query, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Execute(ctx, stmts[0], nil)
	if err != nil {
		return "", err
	}
	defer res.Close()
	ci := res.CopyIn()
	if !ci.Binary() {
		t.Fatalf("%s: CopyIn is not binary", query)
	}
	for len(data) > 0 {
		k := min(n, len(data))
		if err := ci.Write(ctx, data[:k]); err != nil {
			return "", err
		}
		data = data[k:]
	}
	return ci.Done(ctx)
}

func TestCopyBinary(t *testing.T) {
	h := newHarness(t, t.TempDir())
	s := h.session()
	mustRun(t, s, `CREATE TABLE src (id INT PRIMARY KEY, name TEXT, v VARCHAR(5), n NUMERIC(8,2), ts TIMESTAMPTZ, b BOOLEAN, f DOUBLE PRECISION);
		CREATE TABLE dst (id INT PRIMARY KEY, name TEXT, v VARCHAR(5), n NUMERIC(8,2), ts TIMESTAMPTZ, b BOOLEAN, f DOUBLE PRECISION);
		INSERT INTO src VALUES (1, 'ada', 'xy', 12.5, '2024-01-02 03:04:05+00', true, 1.5),
			(2, NULL, NULL, NULL, NULL, NULL, NULL), (3, '', 'abcde', -0.01, '1999-12-31 23:59:59.999999+00', false, -2)`)
	data := copyOutBytes(t, s, "COPY src TO STDOUT (FORMAT binary)")
	if string(data[:11]) != "PGCOPY\n\377\r\n\000" || string(data[len(data)-2:]) != "\xff\xff" {
		t.Fatalf("binary COPY TO: no header or trailer: %q", data)
	}
	// Every split of the stream, one byte at a time included, decodes the same.
	for _, n := range []int{1, 7, len(data)} {
		mustRun(t, s, "DELETE FROM dst")
		tag, err := feedCopyChunks(t, s, "COPY dst FROM STDIN WITH (FORMAT binary)", data, n)
		if err != nil || tag != "COPY 3" {
			t.Fatalf("chunks of %d: %q %v", n, tag, err)
		}
		want := mustRun(t, s, "SELECT * FROM src ORDER BY id")
		if got := mustRun(t, s, "SELECT * FROM dst ORDER BY id"); got != want {
			t.Fatalf("chunks of %d: got\n%s\nwant\n%s", n, got, want)
		}
	}
	// No rows: header and trailer only.
	empty := copyOutBytes(t, s, "COPY (SELECT * FROM src WHERE id < 0) TO STDOUT WITH (FORMAT binary)")
	if len(empty) != 19+2 {
		t.Fatalf("empty binary COPY TO: %q", empty)
	}

	mustRun(t, s, "DELETE FROM dst")
	header := data[:19]
	bad := []struct {
		name string
		data []byte
		code sqlerr.Code
	}{
		{"signature", append([]byte("PGCOPY\n\377\r\n\001"), data[11:]...), sqlerr.BadCopyFileFormat},
		{"empty", nil, sqlerr.BadCopyFileFormat},
		{"partial tuple", data[:len(data)-5], sqlerr.BadCopyFileFormat},
		{"field count", append(append([]byte{}, header...), 0, 1, 0, 0, 0, 4, 0, 0, 0, 1), sqlerr.BadCopyFileFormat},
		{"field size", append(append([]byte{}, header...), 0, 7, 0xff, 0xff, 0xff, 0xfe), sqlerr.BadCopyFileFormat},
		{"value", append(append([]byte{}, header...), 0, 7, 0, 0, 0, 2, 0, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
			0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), "22P03"},
	}
	for _, c := range bad {
		_, err := feedCopyChunks(t, s, "COPY dst FROM STDIN (FORMAT binary)", c.data, 3)
		if sqlerr.CodeOf(err) != c.code {
			t.Errorf("%s: got %v, want %s", c.name, err, c.code)
		}
	}
	// A missing trailer at a tuple boundary is accepted, as PostgreSQL does.
	tag, err := feedCopyChunks(t, s, "COPY dst FROM STDIN (FORMAT binary)", data[:len(data)-2], 5)
	if err != nil || tag != "COPY 3" {
		t.Fatalf("no trailer: %q %v", tag, err)
	}
	wantCode(t, s, "COPY dst FROM STDIN (FORMAT binary, DELIMITER ',')", sqlerr.SyntaxError)
}
