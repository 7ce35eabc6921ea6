package storage

import (
	"context"
	"slices"
	"testing"

	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
)

// TestLatest: Latest sees every commit that returned; one Scan reads one
// state from start to end, whatever commits while it runs.
func TestLatest(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, t.TempDir())
	defer db.Close()
	l := db.Latest()
	insertUsers(t, db, 1, 2)
	if got := ids(scanAll(t, l, users)); !slices.Equal(got, []int64{1, 2}) {
		t.Fatalf("scan sees %v", got)
	}
	insertUsers(t, db, 3)
	if row, ok, err := l.Get(ctx, users, []types.Datum{types.NewInt64(3)}); !ok || err != nil || row[0].Int() != 3 {
		t.Fatalf("Get(3) after its commit = %v, %v, %v", row, ok, err)
	}

	var many []int64
	for id := int64(10); id < 10+2*ScanBatchSize+5; id++ {
		many = append(many, id)
	}
	insertUsers(t, db, many...)
	var seen []int64
	first := true
	err := l.Scan(ctx, users, nil, func(rows []types.Row) error {
		if first {
			first = false
			// Commits during the scan: the scan started before them.
			insertUsers(t, db, 100_000)
			txn := db.Begin()
			defer txn.Rollback()
			if err := txn.Delete(ctx, users, user(many[len(many)-1], "")); err != nil {
				t.Fatal(err)
			}
			mustCommit(t, txn)
		}
		for _, r := range rows {
			seen = append(seen, r[0].Int())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := append([]int64{1, 2, 3}, many...); !slices.Equal(seen, want) {
		t.Fatalf("scan saw %d rows (%v ... %v), want %d", len(seen), seen[:3], seen[len(seen)-3:], len(want))
	}
	if _, ok, _ := l.Get(ctx, users, []types.Datum{types.NewInt64(many[len(many)-1])}); ok {
		t.Fatal("Get sees a row deleted by a commit that returned")
	}
	wantCode(t, l.Insert(ctx, users, user(4, "")), sqlerr.ReadOnlySQLTransaction)
	wantCode(t, l.Update(ctx, users, user(4, ""), user(4, "")), sqlerr.ReadOnlySQLTransaction)
	wantCode(t, l.Delete(ctx, users, user(4, "")), sqlerr.ReadOnlySQLTransaction)
}
