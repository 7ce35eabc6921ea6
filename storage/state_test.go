package storage

import (
	"context"
	"testing"

	"github.com/weirdb/weir/sql/catalog"
)

func TestOperatorState(t *testing.T) {
	db, err := Open(Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	txn := db.Begin()
	for _, e := range []struct {
		obj  catalog.ID
		op   uint32
		k, v string
		del  bool
	}{
		{obj: 20000, op: 1, k: "b", v: "2"},
		{obj: 20000, op: 1, k: "a", v: "1"},
		{obj: 20000, op: 3, k: "a", v: "x"},
		{obj: 20001, op: 0, k: "z", v: "other"},
		{obj: 20000, op: 1, k: "b", del: true},
	} {
		var v []byte
		if !e.del {
			v = []byte(e.v)
		}
		if err := txn.PutState(e.obj, e.op, []byte(e.k), v); err != nil {
			t.Fatal(err)
		}
	}
	if err := txn.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	read := func(obj catalog.ID) []string {
		snap := db.Snapshot()
		defer snap.Close()
		var got []string
		if err := snap.ScanState(obj, func(op uint32, k, v []byte) error {
			got = append(got, string(rune('0'+op))+":"+string(k)+"="+string(v))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := read(20000); len(got) != 2 || got[0] != "1:a=1" || got[1] != "3:a=x" {
		t.Fatalf("state: %q", got)
	}
	txn = db.Begin()
	if err := txn.DropState(20000); err != nil {
		t.Fatal(err)
	}
	if err := txn.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := read(20000); len(got) != 0 {
		t.Fatalf("after drop: %q", got)
	}
	if got := read(20001); len(got) != 1 {
		t.Fatalf("other object: %q", got)
	}
}
