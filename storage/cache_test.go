package storage

import (
	"context"
	"strings"
	"testing"

	"github.com/weirdb/weir/sql/types"
)

// TestBlockCacheBesideMemtables: Pebble charges memtables to the block
// cache; with a cache no larger than the memtables, no block would stay
// cached and every read would go to the file. A read of a flushed row is
// served from the cache the second time.
func TestBlockCacheBesideMemtables(t *testing.T) {
	db, err := Open(Options{Dir: t.TempDir(), CacheSize: 1 << 20, MemTableSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	pad := strings.Repeat("x", 200)
	// Enough commits to fill memtables of full size (Pebble starts them
	// small) and to keep one for reuse.
	for b := 0; b < 12; b++ {
		txn := db.Begin()
		for i := 0; i < 2000; i++ {
			id := int64(b*2000 + i)
			if err := txn.Insert(context.Background(), users, types.Row{types.NewInt64(id), types.NewText(pad), types.NewFloat64(0)}); err != nil {
				t.Fatal(err)
			}
		}
		mustCommit(t, txn)
	}
	if err := db.pdb.Flush(); err != nil {
		t.Fatal(err)
	}
	snap := db.Snapshot()
	defer snap.Close()
	get := func() {
		t.Helper()
		if _, ok, err := snap.Get(context.Background(), users, []types.Datum{types.NewInt64(7)}); !ok || err != nil {
			t.Fatalf("get: %v %v", ok, err)
		}
	}
	get()
	before := db.pdb.Metrics().BlockCache.Hits
	get()
	if hits := db.pdb.Metrics().BlockCache.Hits - before; hits == 0 {
		t.Errorf("second read of a row: no block cache hit (cache %d bytes, %d memtables of %d bytes)",
			db.pdb.Metrics().BlockCache.Size, db.pdb.Metrics().MemTable.Count, db.pdb.Metrics().MemTable.Size)
	}
}
