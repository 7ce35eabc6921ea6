package coord

import (
	"context"
	"fmt"
	"testing"

	"github.com/weirdb/weir/server"
)

// pushFrom starts query on s after pos and returns the first n rows as
// "op id" lines, and whether it resumed.
func pushFrom(t *testing.T, s server.Session, query, pos string, n int) ([]string, bool, string) {
	t.Helper()
	ctx := context.Background()
	stmts, err := s.Parse(ctx, query, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, resumed, err := s.(server.Resumer).ExecuteFrom(ctx, stmts[0], nil, pos)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	var out []string
	for len(out) < n {
		row, ok, err := res.Next(ctx)
		if err != nil || !ok {
			t.Fatalf("after %v: %v %v", out, ok, err)
		}
		out = append(out, fmt.Sprintf("%s %d", row[0].Str(), row[1].Int()))
	}
	return out, resumed, res.(server.Positioned).Position()
}

func TestPushQueryResumes(t *testing.T) {
	h := newHarness(t, t.TempDir())
	s := h.session()
	mustRun(t, s, "CREATE TABLE ev (id BIGINT PRIMARY KEY, c TEXT)")
	mustRun(t, s, "INSERT INTO ev VALUES (1, 'a'), (2, 'b')")
	const q = "SELECT id FROM ev WHERE c = 'a' EMIT CHANGES"
	rows, resumed, pos := pushFrom(t, s, q, "", 1)
	if resumed || rows[0] != "insert 1" || pos == "" {
		t.Fatalf("start: %v %v %q", rows, resumed, pos)
	}
	// The client is gone; changes go on; it comes back.
	mustRun(t, s, "INSERT INTO ev VALUES (3, 'a'), (4, 'b'); UPDATE ev SET c = 'b' WHERE id = 1")
	rows, resumed, pos2 := pushFrom(t, s, q, pos, 2)
	if !resumed || rows[0] != "insert 3" || rows[1] != "delete 1" {
		t.Fatalf("resumed: %v %v", rows, resumed)
	}
	// In the middle of an epoch: the rest of it.
	mustRun(t, s, "INSERT INTO ev VALUES (5, 'a'), (6, 'a')")
	rows, _, mid := pushFrom(t, s, q, pos2, 1)
	if rows[0] != "insert 5" && rows[0] != "insert 6" {
		t.Fatalf("rows %v", rows)
	}
	rest, resumed, _ := pushFrom(t, s, q, mid, 1)
	if !resumed || rest[0] == rows[0] {
		t.Fatalf("after %v: %v %v", rows, rest, resumed)
	}
	// A stateful query, and a position of another run, start over.
	if _, resumed, _ := pushFrom(t, s, "SELECT count(*) FROM ev EMIT CHANGES", pos, 1); resumed {
		t.Fatal("a count resumed")
	}
	if _, resumed, _ := pushFrom(t, s, q, "0123.1.1", 1); resumed {
		t.Fatal("a foreign position resumed")
	}
	// Changes beyond what is retained: start over.
	defer func(n int) { retainChanges = n }(retainChanges)
	retainChanges = 4
	for i := 0; i < 3; i++ {
		mustRun(t, s, fmt.Sprintf("INSERT INTO ev VALUES (%d, 'z'), (%d, 'z'), (%d, 'z')", 100+3*i, 101+3*i, 102+3*i))
	}
	if _, resumed, _ := pushFrom(t, s, q, pos2, 1); resumed {
		t.Fatal("resumed past what is retained")
	}
}
