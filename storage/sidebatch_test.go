package storage

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/weirdb/weir/sql/catalog"
	"github.com/weirdb/weir/sql/types"
)

var groups = &catalog.Relation{ID: 20010, Name: "groups", Kind: catalog.MaterializedView, Columns: []catalog.Column{
	{Name: "grp", Type: types.Int64},
	{Name: catalog.CountColumn, Type: types.Int64, NotNull: true, Hidden: true},
}, PrimaryKey: []int{0}}

// viewRows returns "grp×count" for every stored row of groups.
func viewRows(t testing.TB, s interface {
	Scan(context.Context, *catalog.Relation, []types.Datum, func([]types.Row) error) error
}) []string {
	t.Helper()
	var out []string
	for _, r := range scanAll(t, s, groups) {
		out = append(out, fmt.Sprintf("%d×%d", r[0].Int(), r[1].Int()))
	}
	return out
}

func committedView(t testing.TB, db *DB) []string {
	t.Helper()
	snap := db.Snapshot()
	defer snap.Close()
	return viewRows(t, snap)
}

func committedUsers(t testing.TB, db *DB) []types.Row {
	t.Helper()
	snap := db.Snapshot()
	defer snap.Close()
	return scanAll(t, snap, users)
}

func stateEntries(t testing.TB, db *DB, obj catalog.ID) []string {
	t.Helper()
	snap := db.Snapshot()
	defer snap.Close()
	var got []string
	if err := snap.ScanState(obj, func(op uint32, k, v []byte) error {
		got = append(got, fmt.Sprintf("%d:%s=%s", op, k, v))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return got
}

func grpRows(ids ...int64) []types.Row {
	out := make([]types.Row, len(ids))
	for i, id := range ids {
		out[i] = types.Row{types.NewInt64(id)}
	}
	return out
}

func weightsOf(w int64, n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = w
	}
	return out
}

func TestSideBatchCommitIsAtomic(t *testing.T) {
	dir := t.TempDir()
	db := openTest(t, dir)
	ctx := context.Background()

	// State committed earlier, replaced below (DropState + PutState, both
	// in the side batch, must keep their order).
	txn := db.Begin()
	if err := txn.PutState(groups.ID, 1, []byte("old"), []byte("0")); err != nil {
		t.Fatal(err)
	}
	mustCommit(t, txn)

	epoch := func(fail bool) error {
		txn := db.Begin()
		defer txn.Rollback()
		if err := txn.Insert(ctx, users, user(1, "a")); err != nil {
			t.Fatal(err)
		}
		return txn.CommitWith(ctx, func() error {
			if err := txn.DropState(groups.ID); err != nil {
				return err
			}
			for i, k := range []string{"a", "b", "c"} {
				if err := txn.PutState(groups.ID, 1, []byte(k), []byte(fmt.Sprint(i))); err != nil {
					return err
				}
			}
			if err := txn.PutState(groups.ID, 1, []byte("b"), nil); err != nil {
				return err
			}
			if err := txn.ApplyView(groups, grpRows(1, 2, 3), weightsOf(1, 3), true); err != nil {
				return err
			}
			if err := txn.PutCatalog(uint64(groups.ID), []byte("def")); err != nil {
				return err
			}
			if fail {
				return errors.New("pre failed")
			}
			return nil
		})
	}
	errPre := epoch(true)
	if errPre == nil || errPre.Error() != "pre failed" {
		t.Fatalf("failed pre: got %v", errPre)
	}
	if got := committedUsers(t, db); len(got) != 0 {
		t.Fatalf("failed pre left rows: %v", got)
	}
	if got := committedView(t, db); len(got) != 0 {
		t.Fatalf("failed pre left view rows: %v", got)
	}
	if got := fmt.Sprint(stateEntries(t, db, groups.ID)); got != "[1:old=0]" {
		t.Fatalf("failed pre changed state: %s", got)
	}
	if err := epoch(false); err != nil {
		t.Fatal(err)
	}
	check := func(db *DB, wantState string) {
		t.Helper()
		if got := ids(committedUsers(t, db)); fmt.Sprint(got) != "[1]" {
			t.Fatalf("users: %v", got)
		}
		if got := fmt.Sprint(committedView(t, db)); got != "[1×1 2×1 3×1]" {
			t.Fatalf("view: %s", got)
		}
		if got := fmt.Sprint(stateEntries(t, db, groups.ID)); got != wantState {
			t.Fatalf("state: %s, want %s", got, wantState)
		}
		if cat, err := db.Catalog(); err != nil || len(cat) != 1 || string(cat[0].Data) != "def" {
			t.Fatalf("catalog: %v %v", cat, err)
		}
	}
	check(db, "[1:a=0 1:c=2]")

	// A side-only commit (state alone, as a view's backfill saves it).
	txn = db.Begin()
	if err := txn.PutState(groups.ID, 2, []byte("z"), []byte("9")); err != nil {
		t.Fatal(err)
	}
	mustCommit(t, txn)

	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openTest(t, dir)
	defer db.Close()
	check(db, "[1:a=0 1:c=2 2:z=9]")
}

// Rows of a unique view are written blind to the side batch; any later
// read or write of that view through the indexed batch must see them, and
// the commit must keep the order of writes across both batches.
func TestSideBatchReadsAndOrder(t *testing.T) {
	db := openTest(t, t.TempDir())
	defer db.Close()
	ctx := context.Background()

	txn := db.Begin()
	// Indexed first (a read-modify-write), then blind deletes of the same
	// keys: the deletes must win.
	if err := txn.ApplyView(groups, grpRows(1, 2, 5), weightsOf(1, 3), false); err != nil {
		t.Fatal(err)
	}
	if err := txn.ApplyView(groups, grpRows(1, 3, 4), []int64{-1, 1, 1}, true); err != nil {
		t.Fatal(err)
	}
	// Blind writes are read back: by a counting update of the same rows...
	if err := txn.ApplyView(groups, grpRows(3, 2), []int64{2, 1}, false); err != nil {
		t.Fatal(err)
	}
	// ... after which a blind delete follows them again ...
	if err := txn.ApplyView(groups, grpRows(4), weightsOf(-1, 1), true); err != nil {
		t.Fatal(err)
	}
	// ... and by a scan.
	if got := fmt.Sprint(viewRows(t, txn)); got != "[2×2 3×3 5×1]" {
		t.Fatalf("in txn: %s", got)
	}
	if err := txn.ApplyView(groups, grpRows(6), weightsOf(1, 1), true); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := txn.Get(ctx, groups, []types.Datum{types.NewInt64(6)}); err != nil || !ok {
		t.Fatalf("get of a blind write: %v %v", ok, err)
	}
	// A truncation, then blind writes: only those stay.
	if err := txn.ApplyView(groups, grpRows(7), weightsOf(1, 1), true); err != nil {
		t.Fatal(err)
	}
	if err := txn.Truncate(groups); err != nil {
		t.Fatal(err)
	}
	if err := txn.ApplyView(groups, grpRows(8, 9), weightsOf(1, 2), true); err != nil {
		t.Fatal(err)
	}
	mustCommit(t, txn)
	if got := fmt.Sprint(committedView(t, db)); got != "[8×1 9×1]" {
		t.Fatalf("committed: %s", got)
	}

	// Indexed writes, then blind ones of the same keys, committed.
	txn = db.Begin()
	if err := txn.ApplyView(groups, grpRows(8, 10), weightsOf(1, 2), false); err != nil {
		t.Fatal(err)
	}
	if err := txn.ApplyView(groups, grpRows(8, 9, 10), weightsOf(-1, 3), true); err != nil {
		t.Fatal(err)
	}
	mustCommit(t, txn)
	if got := fmt.Sprint(committedView(t, db)); got != "[]" {
		t.Fatalf("committed: %s", got)
	}
}
