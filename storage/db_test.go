package storage

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/weirdb/weir/sql/catalog"
	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
)

func openTest(t testing.TB, dir string) *DB {
	t.Helper()
	db, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

var (
	users = &catalog.Relation{ID: 20000, Name: "users", Columns: []catalog.Column{
		{Name: "id", Type: types.Int64, NotNull: true},
		{Name: "name", Type: types.Text},
		{Name: "score", Type: types.Float64},
	}, PrimaryKey: []int{0}}
	pairs = &catalog.Relation{ID: 20001, Name: "pairs", Columns: []catalog.Column{
		{Name: "v", Type: types.Int32},
		{Name: "a", Type: types.Text},
		{Name: "b", Type: types.Int32},
	}, PrimaryKey: []int{1, 2}}
	logs = &catalog.Relation{ID: 20002, Name: "logs", Columns: []catalog.Column{
		{Name: "msg", Type: types.Text},
		{Name: catalog.RowIDColumn, Type: types.Int64, Hidden: true},
	}, PrimaryKey: []int{1}}
)

func user(id int64, name string) types.Row {
	return types.Row{types.NewInt64(id), types.NewText(name), types.NewFloat64(float64(id) / 2)}
}

// scanAll collects copies of every row with the given prefix.
func scanAll(t testing.TB, s interface {
	Scan(context.Context, *catalog.Relation, []types.Datum, func([]types.Row) error) error
}, rel *catalog.Relation, prefix ...types.Datum) []types.Row {
	t.Helper()
	var out []types.Row
	err := s.Scan(context.Background(), rel, prefix, func(rows []types.Row) error {
		for _, r := range rows {
			out = append(out, slices.Clone(r))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func ids(rows []types.Row) []int64 {
	out := make([]int64, len(rows))
	for i, r := range rows {
		out[i] = r[0].Int()
	}
	return out
}

func mustCommit(t testing.TB, txn *Txn) {
	t.Helper()
	if err := txn.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func insertUsers(t testing.TB, db *DB, idList ...int64) {
	t.Helper()
	txn := db.Begin()
	defer txn.Rollback()
	for _, id := range idList {
		if err := txn.Insert(context.Background(), users, user(id, fmt.Sprint("u", id))); err != nil {
			t.Fatal(err)
		}
	}
	mustCommit(t, txn)
}

func wantCode(t *testing.T, err error, code sqlerr.Code) *sqlerr.Error {
	t.Helper()
	var e *sqlerr.Error
	if !errors.As(err, &e) || e.Code != code {
		t.Fatalf("got %v, want SQLSTATE %s", err, code)
	}
	return e
}

func TestTxnReadYourWritesAndRollback(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, t.TempDir())
	defer db.Close()
	insertUsers(t, db, 1, 2)

	txn := db.Begin()
	if err := txn.Insert(ctx, users, user(3, "c")); err != nil {
		t.Fatal(err)
	}
	if err := txn.Delete(ctx, users, user(1, "u1")); err != nil {
		t.Fatal(err)
	}
	if err := txn.Update(ctx, users, user(2, "u2"), user(2, "bee")); err != nil {
		t.Fatal(err)
	}
	if got := ids(scanAll(t, txn, users)); !slices.Equal(got, []int64{2, 3}) {
		t.Fatalf("txn sees %v", got)
	}
	row, ok, err := txn.Get(ctx, users, []types.Datum{types.NewInt64(2)})
	if err != nil || !ok || row[1].Str() != "bee" {
		t.Fatalf("Get in txn: %v %v %v", row, ok, err)
	}
	// Others do not see uncommitted writes.
	snap := db.Snapshot()
	if got := ids(scanAll(t, snap, users)); !slices.Equal(got, []int64{1, 2}) {
		t.Fatalf("snapshot sees %v", got)
	}
	snap.Close()
	txn.Rollback()
	if err := txn.Insert(ctx, users, user(9, "x")); err == nil {
		t.Fatal("insert after rollback succeeded")
	}
	snap = db.Snapshot()
	defer snap.Close()
	if got := scanAll(t, snap, users); !slices.Equal(ids(got), []int64{1, 2}) || got[1][1].Str() != "u2" {
		t.Fatalf("after rollback: %v", got)
	}
}

func TestDuplicateKey(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, t.TempDir())
	defer db.Close()
	insertUsers(t, db, 1)

	txn := db.Begin()
	defer txn.Rollback()
	e := wantCode(t, txn.Insert(ctx, users, user(1, "again")), sqlerr.UniqueViolation)
	if e.Message != `duplicate key value violates unique constraint "users_pkey"` || e.Detail != "Key (id)=(1) already exists." {
		t.Fatalf("error %q / %q", e.Message, e.Detail)
	}
	if err := txn.Insert(ctx, users, user(2, "b")); err != nil {
		t.Fatal(err)
	}
	wantCode(t, txn.Insert(ctx, users, user(2, "b")), sqlerr.UniqueViolation)
	// Delete then re-insert the same key is fine.
	if err := txn.Delete(ctx, users, user(1, "u1")); err != nil {
		t.Fatal(err)
	}
	if err := txn.Insert(ctx, users, user(1, "new")); err != nil {
		t.Fatal(err)
	}
	// An update moving onto an existing key clashes.
	wantCode(t, txn.Update(ctx, users, user(2, "b"), user(1, "b")), sqlerr.UniqueViolation)
	// A composite key, in the detail.
	if err := txn.Insert(ctx, pairs, types.Row{types.NewInt32(1), types.NewText("x"), types.NewInt32(2)}); err != nil {
		t.Fatal(err)
	}
	e = wantCode(t, txn.Insert(ctx, pairs, types.Row{types.NewInt32(5), types.NewText("x"), types.NewInt32(2)}), sqlerr.UniqueViolation)
	if e.Detail != "Key (a, b)=(x, 2) already exists." {
		t.Fatalf("detail %q", e.Detail)
	}
	wantCode(t, txn.Insert(ctx, users, types.Row{types.Null, types.NewText("x"), types.Null}), sqlerr.NotNullViolation)
	mustCommit(t, txn)
	snap := db.Snapshot()
	defer snap.Close()
	if got := scanAll(t, snap, users); !slices.Equal(ids(got), []int64{1, 2}) || got[0][1].Str() != "new" {
		t.Fatalf("committed %v", got)
	}
}

func TestCommitConflict(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, t.TempDir())
	defer db.Close()
	a, b := db.Begin(), db.Begin()
	for _, txn := range []*Txn{a, b} {
		if err := txn.Insert(ctx, users, user(7, "seven")); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Insert(ctx, users, user(8, "eight")); err != nil {
		t.Fatal(err)
	}
	mustCommit(t, a)
	e := wantCode(t, b.Commit(ctx), sqlerr.UniqueViolation)
	if e.Detail != "Key (id)=(7) already exists." {
		t.Fatalf("detail %q", e.Detail)
	}
	// Nothing of b applied.
	snap := db.Snapshot()
	defer snap.Close()
	if got := ids(scanAll(t, snap, users)); !slices.Equal(got, []int64{7}) {
		t.Fatalf("after conflict: %v", got)
	}
	// A txn that deleted the key itself does not conflict on re-insert.
	c := db.Begin()
	if err := c.Delete(ctx, users, user(7, "")); err != nil {
		t.Fatal(err)
	}
	if err := c.Insert(ctx, users, user(7, "again")); err != nil {
		t.Fatal(err)
	}
	insertUsers(t, db, 100) // a concurrent commit forces re-validation
	mustCommit(t, c)
}

func TestRowIDSurvivesReopen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := openTest(t, dir)
	txn := db.Begin()
	for i := range 5 {
		row := types.Row{types.NewText(fmt.Sprint("m", i)), types.Null}
		if err := txn.Insert(ctx, logs, row); err != nil {
			t.Fatal(err)
		}
		if row[1].Int() != int64(i+1) {
			t.Fatalf("row id %d, want %d", row[1].Int(), i+1)
		}
	}
	mustCommit(t, txn)
	// An uncommitted txn consumes ids 6, 7; they are not reused in-process.
	lost := db.Begin()
	for range 2 {
		if err := lost.Insert(ctx, logs, types.Row{types.NewText("lost"), types.Null}); err != nil {
			t.Fatal(err)
		}
	}
	lost.Rollback()
	txn = db.Begin()
	row := types.Row{types.NewText("after"), types.Null}
	if err := txn.Insert(ctx, logs, row); err != nil {
		t.Fatal(err)
	}
	mustCommit(t, txn)
	if row[1].Int() != 8 {
		t.Fatalf("row id %d, want 8", row[1].Int())
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err == nil {
		t.Fatal("second Close succeeded")
	}

	db = openTest(t, dir)
	defer db.Close()
	txn = db.Begin()
	row = types.Row{types.NewText("reopened"), types.Null}
	if err := txn.Insert(ctx, logs, row); err != nil {
		t.Fatal(err)
	}
	mustCommit(t, txn)
	if row[1].Int() != 9 {
		t.Fatalf("row id after reopen %d, want 9", row[1].Int())
	}
	snap := db.Snapshot()
	defer snap.Close()
	if got := scanAll(t, snap, logs); len(got) != 7 || got[6][0].Str() != "reopened" {
		t.Fatalf("rows %v", got)
	}
}

func TestSnapshotIsolation(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, t.TempDir())
	defer db.Close()
	insertUsers(t, db, 1, 2)
	snap := db.Snapshot()
	defer snap.Close()
	insertUsers(t, db, 3)
	txn := db.Begin()
	if err := txn.Delete(ctx, users, user(1, "")); err != nil {
		t.Fatal(err)
	}
	mustCommit(t, txn)
	if got := ids(scanAll(t, snap, users)); !slices.Equal(got, []int64{1, 2}) {
		t.Fatalf("snapshot sees %v", got)
	}
	if _, ok, err := snap.Get(ctx, users, []types.Datum{types.NewInt64(3)}); ok || err != nil {
		t.Fatalf("snapshot Get(3) = %v, %v", ok, err)
	}
	wantCode(t, snap.Insert(ctx, users, user(4, "")), sqlerr.ReadOnlySQLTransaction)
	wantCode(t, snap.Update(ctx, users, user(4, ""), user(4, "")), sqlerr.ReadOnlySQLTransaction)
	wantCode(t, snap.Delete(ctx, users, user(4, "")), sqlerr.ReadOnlySQLTransaction)
}

func TestScanPrefixAndBatches(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, t.TempDir())
	defer db.Close()
	txn := db.Begin()
	letters := []string{"b", "a", "", "a\x00", "ab"}
	for i := range 3000 {
		row := types.Row{types.NewInt32(int32(i)), types.NewText(letters[i%len(letters)]), types.NewInt32(int32(i - 1500))}
		if err := txn.Insert(ctx, pairs, row); err != nil {
			t.Fatal(err)
		}
	}
	mustCommit(t, txn)
	snap := db.Snapshot()
	defer snap.Close()

	var sizes []int
	var prev []byte
	n := 0
	err := snap.Scan(ctx, pairs, nil, func(rows []types.Row) error {
		sizes = append(sizes, len(rows))
		for _, r := range rows {
			k := AppendKey(nil, r, pairs.PrimaryKey)
			if prev != nil && string(prev) >= string(k) {
				t.Fatalf("rows out of key order at %d", n)
			}
			prev = k
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != 3000 || !slices.Equal(sizes, []int{1024, 1024, 952}) {
		t.Fatalf("scanned %d rows in batches %v", n, sizes)
	}
	tests := []struct {
		name   string
		prefix []types.Datum
		want   int
	}{
		{"first column", []types.Datum{types.NewText("a")}, 600},
		{"prefix string is not a prefix match", []types.Datum{types.NewText("")}, 600},
		{"full key", []types.Datum{types.NewText("ab"), types.NewInt32(4 - 1500)}, 1},
		{"absent", []types.Datum{types.NewText("zz")}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := scanAll(t, snap, pairs, tt.prefix...); len(got) != tt.want {
				t.Fatalf("got %d rows, want %d", len(got), tt.want)
			}
		})
	}
	// A cancelled context stops the scan between batches.
	cctx, cancel := context.WithCancel(ctx)
	calls := 0
	err = snap.Scan(cctx, pairs, nil, func([]types.Row) error { calls++; cancel(); return nil })
	if !errors.Is(err, context.Canceled) || calls != 1 {
		t.Fatalf("cancelled scan: %v after %d calls", err, calls)
	}
}

func TestCatalogAndIDs(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := openTest(t, dir)
	var got []uint64
	for range 3 {
		id, err := db.NextID()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, id)
	}
	if !slices.Equal(got, []uint64{16384, 16385, 16386}) {
		t.Fatalf("ids %v", got)
	}
	txn := db.Begin()
	for _, id := range []uint64{16386, 16384, 16385} {
		if err := txn.PutCatalog(id, []byte(fmt.Sprint("obj", id))); err != nil {
			t.Fatal(err)
		}
	}
	mustCommit(t, txn)
	txn = db.Begin()
	if err := txn.DeleteCatalog(16385); err != nil {
		t.Fatal(err)
	}
	mustCommit(t, txn)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openTest(t, dir)
	defer db.Close()
	entries, err := db.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 || entries[0].ID != 16384 || string(entries[1].Data) != "obj16386" {
		t.Fatalf("catalog %+v", entries)
	}
	if id, err := db.NextID(); err != nil || id != 16387 {
		t.Fatalf("NextID after reopen: %d %v", id, err)
	}
	_ = ctx
}

func TestTruncateDropAndChanges(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, t.TempDir())
	defer db.Close()
	insertUsers(t, db, 1, 2, 3)
	txn := db.Begin()
	if err := txn.Insert(ctx, users, user(4, "d")); err != nil {
		t.Fatal(err)
	}
	if err := txn.Update(ctx, users, user(1, "u1"), user(10, "ten")); err != nil {
		t.Fatal(err)
	}
	if err := txn.Delete(ctx, users, user(2, "u2")); err != nil {
		t.Fatal(err)
	}
	if err := txn.Insert(ctx, logs, types.Row{types.NewText("hi"), types.Null}); err != nil {
		t.Fatal(err)
	}
	mustCommit(t, txn)
	ch, err := txn.Changes()
	if err != nil {
		t.Fatal(err)
	}
	if len(ch) != 2 || ch[0].Rel != users || ch[1].Rel != logs || len(ch[0].Changes) != 3 || len(ch[1].Changes) != 1 {
		t.Fatalf("changes %+v", ch)
	}
	c := ch[0].Changes
	if c[0].Old != nil || c[0].New[0].Int() != 4 ||
		c[1].Old[0].Int() != 1 || c[1].New[0].Int() != 10 || c[1].New[1].Str() != "ten" ||
		c[2].Old[0].Int() != 2 || c[2].New != nil {
		t.Fatalf("user changes %v", c)
	}
	if ch[1].Changes[0].New[1].Int() != 1 {
		t.Fatalf("log change %v", ch[1].Changes[0])
	}

	// Truncate inside a txn: reads see an empty table; inserting a key that
	// existed before is fine.
	txn = db.Begin()
	if err := txn.Insert(ctx, users, user(50, "gone")); err != nil {
		t.Fatal(err)
	}
	if err := txn.Truncate(users); err != nil {
		t.Fatal(err)
	}
	if got := scanAll(t, txn, users); len(got) != 0 {
		t.Fatalf("after truncate txn sees %v", got)
	}
	if err := txn.Insert(ctx, users, user(3, "three")); err != nil {
		t.Fatal(err)
	}
	if err := txn.DropTableData(logs); err != nil {
		t.Fatal(err)
	}
	insertUsers(t, db, 99) // concurrent commit: forces validation
	mustCommit(t, txn)
	ch, _ = txn.Changes()
	if !ch[0].Truncated || len(ch[0].Changes) != 1 || ch[0].Changes[0].New[0].Int() != 3 || !ch[1].Truncated {
		t.Fatalf("changes after truncate %+v", ch)
	}
	snap := db.Snapshot()
	defer snap.Close()
	if got := ids(scanAll(t, snap, users)); !slices.Equal(got, []int64{3}) {
		t.Fatalf("after truncate: %v", got)
	}
	if got := scanAll(t, snap, logs); len(got) != 0 {
		t.Fatalf("after drop: %v", got)
	}
}

func TestConcurrentInserts(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, t.TempDir())
	defer db.Close()
	const workers, per = 8, 50
	errs := make(chan error, workers)
	for w := range workers {
		go func() {
			var err error
			for i := range per {
				txn := db.Begin()
				// Every worker tries the same users key; logs get row ids.
				if e := txn.Insert(ctx, users, user(int64(i), fmt.Sprint(w))); e != nil {
					txn.Rollback()
					if sqlerr.CodeOf(e) != sqlerr.UniqueViolation {
						err = e
					}
					continue
				}
				if e := txn.Insert(ctx, logs, types.Row{types.NewText("x"), types.Null}); e != nil {
					err = e
				}
				if e := txn.Commit(ctx); e != nil && sqlerr.CodeOf(e) != sqlerr.UniqueViolation {
					err = e
				}
			}
			errs <- err
		}()
	}
	for range workers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	snap := db.Snapshot()
	defer snap.Close()
	if got := scanAll(t, snap, users); len(got) != per {
		t.Fatalf("%d users, want %d", len(got), per)
	}
	// Exactly one log row committed per user row, and row ids are unique.
	if got := scanAll(t, snap, logs); len(got) != per {
		t.Fatalf("%d logs, want %d", len(got), per)
	}
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		ok   bool
	}{
		{"no dir", Options{}, false},
		{"negative cache", Options{Dir: "x", CacheSize: -1}, false},
		{"tiny memtable", Options{Dir: "x", MemTableSize: 10}, false},
		{"defaults", Options{Dir: "x"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.opts.EnsureDefaults().Validate(); (err == nil) != tt.ok {
				t.Fatalf("Validate = %v", err)
			}
		})
	}
}

// TestCrashDurability commits in a child process that then kills itself
// with SIGKILL (no Close, no flush); the parent reopens and must find every
// acknowledged write: fsynced by the commit, or, with asynchronous commits,
// by the WAL syncer, which the child waits for.
func TestCrashDurability(t *testing.T) {
	if dir := os.Getenv("WEIR_STORAGE_CRASH_DIR"); dir != "" {
		crashChild(dir, os.Getenv("WEIR_STORAGE_CRASH_ASYNC") != "")
		return
	}
	for _, async := range []bool{false, true} {
		t.Run(fmt.Sprintf("async=%v", async), func(t *testing.T) { crashDurability(t, async) })
	}
}

func crashDurability(t *testing.T, async bool) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashDurability$", "-test.count=1")
	cmd.Env = append(os.Environ(), "WEIR_STORAGE_CRASH_DIR="+dir)
	if async {
		cmd.Env = append(cmd.Env, "WEIR_STORAGE_CRASH_ASYNC=1")
	}
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child did not die by SIGKILL: %v\n%s", err, out)
	}
	db := openTest(t, dir)
	defer db.Close()
	snap := db.Snapshot()
	defer snap.Close()
	if got := scanAll(t, snap, users); len(got) != 1000 {
		t.Fatalf("after crash: %d users, want 1000", len(got))
	}
	if got := scanAll(t, snap, logs); len(got) != 1 || got[0][1].Int() != 1 {
		t.Fatalf("after crash: logs %v", got)
	}
	entries, err := db.Catalog()
	if err != nil || len(entries) != 1 {
		t.Fatalf("after crash: catalog %v %v", entries, err)
	}
	if id, err := db.NextID(); err != nil || id != 16385 {
		t.Fatalf("after crash: NextID %d %v", id, err)
	}
	txn := db.Begin()
	row := types.Row{types.NewText("after"), types.Null}
	if err := txn.Insert(context.Background(), logs, row); err != nil {
		t.Fatal(err)
	}
	mustCommit(t, txn)
	if row[1].Int() != 2 {
		t.Fatalf("row id after crash %d, want 2", row[1].Int())
	}
}

func crashChild(dir string, async bool) {
	ctx := context.Background()
	db, err := Open(Options{Dir: dir, AsynchronousCommit: async})
	if err != nil {
		fmt.Println(err)
		os.Exit(2)
	}
	id, err := db.NextID()
	if err != nil {
		os.Exit(2)
	}
	txn := db.Begin()
	_ = txn.PutCatalog(id, []byte("t"))
	for i := range 1000 {
		if err := txn.Insert(ctx, users, user(int64(i), "x")); err != nil {
			os.Exit(2)
		}
	}
	if err := txn.Insert(ctx, logs, types.Row{types.NewText("one"), types.Null}); err != nil {
		os.Exit(2)
	}
	if err := txn.Commit(ctx); err != nil {
		os.Exit(2)
	}
	for deadline := time.Now().Add(time.Minute); async && db.unsynced.Load(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			fmt.Println("the WAL syncer never synced")
			os.Exit(2)
		}
	}
	// Acknowledged: now die without Close.
	_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {}
}

// TestAsynchronousCommit: an asynchronous commit is visible at once,
// survives Close and reopening, and a Txn can choose either mode.
func TestAsynchronousCommit(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := Open(Options{Dir: dir, AsynchronousCommit: true})
	if err != nil {
		t.Fatal(err)
	}
	if !db.AsynchronousCommit() {
		t.Fatal("AsynchronousCommit() = false")
	}
	for i, async := range []bool{true, false} {
		txn := db.Begin()
		txn.SetAsynchronousCommit(async)
		if err := txn.Insert(ctx, users, user(int64(i), "x")); err != nil {
			t.Fatal(err)
		}
		mustCommit(t, txn)
	}
	snap := db.Snapshot()
	if got := ids(scanAll(t, snap, users)); !slices.Equal(got, []int64{0, 1}) {
		t.Fatalf("users %v", got)
	}
	snap.Close()
	if err := db.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openTest(t, dir)
	defer db.Close()
	if db.AsynchronousCommit() {
		t.Fatal("AsynchronousCommit() = true by default")
	}
	snap = db.Snapshot()
	defer snap.Close()
	if got := ids(scanAll(t, snap, users)); !slices.Equal(got, []int64{0, 1}) {
		t.Fatalf("after reopening: users %v", got)
	}
}

// TestCheckpoint: after Checkpoint the memtable's rows are in sstables (the
// WAL alone no longer holds them); a cancelled context returns at once.
func TestCheckpoint(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, t.TempDir())
	defer db.Close()
	txn := db.Begin()
	for i := range 1000 {
		if err := txn.Insert(ctx, users, user(int64(i), "x")); err != nil {
			t.Fatal(err)
		}
	}
	mustCommit(t, txn)
	if st := db.Stats(); st.Flushes != 0 || st.MemtableBytes == 0 || st.WALBytesWritten == 0 {
		t.Fatalf("before Checkpoint: %+v; want no flush, a memtable and a log", st)
	}
	if err := db.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	if st := db.Stats(); st.Flushes != 1 || st.Tables == 0 || st.DiskBytes == 0 {
		t.Fatalf("after Checkpoint: %+v; want 1 flush, tables on disk", st)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := db.Checkpoint(cctx); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Checkpoint: %v", err)
	}
}
