package storage

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"testing"

	"github.com/weirdb/weir/sql/types"
)

// BenchmarkInsertBatch commits batches of 1000 users rows (fsync per batch).
func BenchmarkInsertBatch(b *testing.B) {
	ctx := context.Background()
	db := openTest(b, b.TempDir())
	defer db.Close()
	const batch = 1000
	row := user(0, "someone@example.com")
	next := int64(0)
	for b.Loop() {
		txn := db.Begin()
		for range batch {
			row[0] = types.NewInt64(next)
			next++
			if err := txn.Insert(ctx, users, row); err != nil {
				b.Fatal(err)
			}
		}
		if err := txn.Commit(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(next)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkInsertRowID is BenchmarkInsertBatch for a table without a key.
func BenchmarkInsertRowID(b *testing.B) {
	ctx := context.Background()
	db := openTest(b, b.TempDir())
	defer db.Close()
	const batch = 1000
	n := 0
	for b.Loop() {
		txn := db.Begin()
		for range batch {
			if err := txn.Insert(ctx, logs, types.Row{types.NewText("a log line of some length"), types.Null}); err != nil {
				b.Fatal(err)
			}
		}
		if err := txn.Commit(ctx); err != nil {
			b.Fatal(err)
		}
		n += batch
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "rows/s")
}

func loadUsers(b *testing.B, db *DB, n int) {
	ctx := context.Background()
	for start := 0; start < n; start += 10000 {
		txn := db.Begin()
		for i := start; i < min(start+10000, n); i++ {
			if err := txn.Insert(ctx, users, user(int64(i), fmt.Sprint("user", i))); err != nil {
				b.Fatal(err)
			}
		}
		if err := txn.Commit(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGet does point lookups by primary key on a snapshot.
func BenchmarkGet(b *testing.B) {
	ctx := context.Background()
	db := openTest(b, b.TempDir())
	defer db.Close()
	const n = 100_000
	loadUsers(b, db, n)
	snap := db.Snapshot()
	defer snap.Close()
	key := []types.Datum{{}}
	i := 0
	for b.Loop() {
		key[0] = types.NewInt64(int64(i*7919) % n)
		i++
		if _, ok, err := snap.Get(ctx, users, key); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
	b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "ops/s")
}

// BenchmarkScan scans a 100k-row table.
func BenchmarkScan(b *testing.B) {
	ctx := context.Background()
	db := openTest(b, b.TempDir())
	defer db.Close()
	const n = 100_000
	loadUsers(b, db, n)
	snap := db.Snapshot()
	defer snap.Close()
	rows := 0
	for b.Loop() {
		if err := snap.Scan(ctx, users, nil, func(batch []types.Row) error {
			rows += len(batch)
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkRowCodec(b *testing.B) {
	cols := users.Columns
	row := user(123456, "someone@example.com")
	var buf []byte
	dst := make(types.Row, 0, len(cols))
	n := 0
	for b.Loop() {
		buf, _ = EncodeRow(buf[:0], row, cols)
		dst, _ = DecodeRow(dst, buf, cols)
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkStateReadBack reads operator state entries back one by one, as
// an aggregate does for groups not in memory, from 1M entries flushed to
// sstables: entries that exist, and keys that do not (new groups).
func BenchmarkStateReadBack(b *testing.B) {
	ctx := context.Background()
	db := openTest(b, b.TempDir())
	defer db.Close()
	const n = 1_000_000
	key := func(buf []byte, i int) []byte { return binary.BigEndian.AppendUint64(buf[:0], uint64(i)*7919) }
	var kb []byte
	for lo := 0; lo < n; lo += 100_000 {
		txn := db.Begin()
		for i := lo; i < lo+100_000; i++ {
			kb = key(kb, 2*i) // even: present; odd: absent
			if err := txn.PutState(7, 1, kb, []byte("0123456789abcdef")); err != nil {
				b.Fatal(err)
			}
		}
		if err := txn.Commit(ctx); err != nil {
			b.Fatal(err)
		}
	}
	if err := db.Checkpoint(ctx); err != nil {
		b.Fatal(err)
	}
	r := db.StateReader(7, 1)
	for _, c := range []struct {
		name string
		odd  int
	}{{"present", 0}, {"absent", 1}} {
		b.Run(c.name, func(b *testing.B) {
			i, found := 0, 0
			for b.Loop() {
				kb = key(kb, 2*((i*104729)%n)+c.odd)
				i++
				ok, err := r.GetState(kb, func([]byte) error { return nil })
				if err != nil {
					b.Fatal(err)
				}
				if ok {
					found++
				}
			}
			if want := i * (1 - c.odd); found != want {
				b.Fatalf("found %d of %d", found, want)
			}
			b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "reads/s")
		})
		// The same keys a thousand at a time, sorted, through GetStates.
		b.Run(c.name+"/sorted-1000", func(b *testing.B) {
			keys := make([][]byte, 1000)
			i, found := 0, 0
			for b.Loop() {
				for j := range keys {
					keys[j] = key(keys[j], 2*((i*104729)%n)+c.odd)
					i++
				}
				slices.SortFunc(keys, bytes.Compare)
				err := r.GetStates(keys, func(int, []byte) error { found++; return nil })
				if err != nil {
					b.Fatal(err)
				}
			}
			if want := i * (1 - c.odd); found != want {
				b.Fatalf("found %d of %d", found, want)
			}
			b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "reads/s")
		})
	}
}
