package storage

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/weirdb/weir/sql/catalog"
	"github.com/weirdb/weir/sql/types"
)

// DB is Weir's store: one Pebble instance. It is safe for concurrent use.
// Begin, Snapshot and the reads below must not be called after Close.
type DB struct {
	pdb *pebble.DB
	log *slog.Logger

	// commitMu serialises transaction validation and commit.
	commitMu sync.Mutex

	// idMu guards nextID, the next unallocated object id (persisted).
	idMu   sync.Mutex
	nextID uint64

	// rowMu guards rowIDs: the last row id handed out per row-id table,
	// loaded lazily from the largest stored key.
	rowMu  sync.Mutex
	rowIDs map[catalog.ID]int64

	// seed hashes keys for Txn's touched set.
	seed maphash.Seed

	// commitSeq counts commits; see Txn.Commit.
	commitSeq atomic.Uint64

	// asyncCommit is Options.AsynchronousCommit, every Txn's default.
	asyncCommit bool
	// unsynced is set by each asynchronous commit and cleared by the WAL
	// syncer (syncWAL) before it fsyncs the log.
	unsynced atomic.Bool
	// syncMu is held from taking unsynced to the end of the fsync it calls
	// for (syncLog): whoever finds the flag taken waits for that fsync.
	syncMu sync.Mutex
	// testHookSync, when set by a test, runs in syncLog between taking
	// the flag and the fsync.
	testHookSync func()
	// stopSyncer tells the WAL syncer to return; it closes syncerDone
	// when it has.
	stopSyncer, syncerDone chan struct{}

	closed atomic.Bool
}

// CatalogEntry is one persisted catalog object.
type CatalogEntry struct {
	ID   uint64
	Data []byte
}

// memTableStopWrites is how many memtables, the mutable one and those
// waiting to be flushed, Pebble holds before it stops writes (its default
// MemTableStopWritesThreshold).
const memTableStopWrites = 2

// Open opens (creating if needed) the store in opts.Dir. opts is not
// modified; defaults are filled on a copy.
func Open(opts Options) (*DB, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	// Pebble charges its memtables to the block cache (each reserves its
	// size until flushed, and one spent memtable is kept for reuse): a cache
	// of CacheSize alone is all memtable under writes and caches no block,
	// so that every read decompresses blocks read from the file. The
	// memtables get a budget of their own on top: the queue that stops
	// writes when full plus the one kept for reuse.
	cache := pebble.NewCache(opts.CacheSize + int64(opts.MemTableSize)*(memTableStopWrites+1))
	defer cache.Unref()
	po := &pebble.Options{
		Cache:              cache,
		FS:                 opts.FS,
		Logger:             pebbleLogger{opts.Logger},
		MemTableSize:       opts.MemTableSize,
		MaxOpenFiles:       opts.MaxOpenFiles,
		FormatMajorVersion: pebble.FormatNewest,
	}
	// Bloom filters (10 bits, ~1% false positives) on every level: a
	// lookup of a key that does not exist — a new row's primary key, a new
	// group's state read back — then skips the tables that cannot hold it
	// instead of searching each level's index and data blocks.
	for i := range po.Levels {
		po.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
	}
	po.EnsureDefaults()
	start := time.Now()
	pdb, err := pebble.Open(opts.Dir, po)
	if err != nil {
		return nil, fmt.Errorf("storage: open %s: %w", opts.Dir, err)
	}
	opened := time.Since(start)
	db := &DB{pdb: pdb, log: opts.Logger, seed: maphash.MakeSeed(), rowIDs: make(map[catalog.ID]int64),
		asyncCommit: opts.AsynchronousCommit, stopSyncer: make(chan struct{}), syncerDone: make(chan struct{})}
	if err := db.init(); err != nil {
		return nil, errors.Join(err, pdb.Close())
	}
	go db.syncWAL()
	opts.Logger.Info("storage opened", "dir", opts.Dir, "next_id", db.nextID, "asynchronous_commit", opts.AsynchronousCommit,
		"pebble_open", opened.Round(time.Millisecond), "took", time.Since(start).Round(time.Millisecond))
	return db, nil
}

// syncWAL is the writer of asynchronous commits: every WALSyncInterval it
// fsyncs the write-ahead log if an asynchronous commit happened since its
// last pass. It runs from Open until Close.
func (db *DB) syncWAL() {
	defer close(db.syncerDone)
	t := time.NewTicker(WALSyncInterval)
	defer t.Stop()
	for {
		select {
		case <-db.stopSyncer:
			return
		case <-t.C:
		}
		if err := db.syncLog(); err != nil {
			db.log.Error("storage: WAL syncer", "err", err)
		}
	}
}

// syncLog fsyncs the write-ahead log if an asynchronous commit happened
// since the last fsync, or waits for the fsync in progress that took the
// flag.
func (db *DB) syncLog() error {
	db.syncMu.Lock()
	defer db.syncMu.Unlock()
	if !db.unsynced.Swap(false) {
		return nil
	}
	if db.testHookSync != nil {
		db.testHookSync()
	}
	// A log record committed with Sync fsyncs the log up to itself, so
	// every commit before it too.
	if err := db.pdb.LogData(nil, pebble.Sync); err != nil {
		db.unsynced.Store(true)
		return fmt.Errorf("storage: fsync of the write-ahead log: %w", err)
	}
	return nil
}

// SyncCommitted makes every commit so far durable: it fsyncs the
// write-ahead log if an asynchronous commit happened since the last fsync.
// What leaves the database (a sink's delivery) waits for it, so that the
// outside world never sees an epoch a crash could still undo.
func (db *DB) SyncCommitted() error {
	// A commit is visible before it sets unsynced (see CommitWith), and
	// the caller may have seen it: the empty critical section waits for
	// the commit in progress, which holds commitMu until the flag is set.
	db.commitMu.Lock()
	db.commitMu.Unlock()
	return db.syncLog()
}

// AsynchronousCommit reports Options.AsynchronousCommit: whether a Txn
// commits without waiting for fsync unless told otherwise.
func (db *DB) AsynchronousCommit() bool { return db.asyncCommit }

// Checkpoint writes the commits held only in memory (Pebble's memtables)
// to sstables, as PostgreSQL's CHECKPOINT writes dirty buffers to the data
// files: afterwards the sstables hold every commit made before the call,
// and a restart has no write-ahead log to replay. Commits may run
// meanwhile. A cancelled ctx returns ctx.Err() at once; the flush then
// completes in the background.
func (db *DB) Checkpoint(ctx context.Context) error {
	done, err := db.pdb.AsyncFlush()
	if err != nil {
		return fmt.Errorf("storage: checkpoint: %w", err)
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// init checks the format version (writing it on a new store) and loads the
// object id counter.
func (db *DB) init() error {
	v, err := db.getMeta(metaFormat)
	if err != nil {
		return err
	}
	switch {
	case v == nil:
		b := binary.AppendUvarint(nil, formatVersion)
		if err := db.pdb.Set(metaKey(metaFormat), b, pebble.Sync); err != nil {
			return fmt.Errorf("storage: write format version: %w", err)
		}
	default:
		ver, n := binary.Uvarint(v)
		if n <= 0 {
			return errors.New("storage: corrupt format version")
		}
		if ver > formatVersion {
			return fmt.Errorf("storage: data format version %d is newer than this binary's %d", ver, formatVersion)
		}
	}
	v, err = db.getMeta(metaNextID)
	if err != nil {
		return err
	}
	db.nextID = firstObjectID
	if v != nil {
		if len(v) != 8 {
			return errors.New("storage: corrupt next object id")
		}
		db.nextID = binary.BigEndian.Uint64(v)
	}
	return nil
}

// getMeta returns a copy of a metadata value, nil if absent.
func (db *DB) getMeta(name string) ([]byte, error) {
	v, c, err := db.pdb.Get(metaKey(name))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("storage: read %s: %w", name, err)
	}
	out := append([]byte(nil), v...)
	return out, c.Close()
}

// Close flushes the memtable and closes Pebble. Every Txn and Snapshot must
// be finished first. A second call returns an error and does nothing.
func (db *DB) Close() error {
	if db.closed.Swap(true) {
		return errors.New("storage: already closed")
	}
	close(db.stopSyncer)
	<-db.syncerDone
	ferr := db.pdb.Flush()
	if ferr != nil {
		ferr = fmt.Errorf("storage: flush: %w", ferr)
	}
	return errors.Join(ferr, db.pdb.Close())
}

// Stats are the store's numbers that /metrics reports: what Pebble holds
// on disk and in memory, and the work it did since the store opened.
type Stats struct {
	DiskBytes             uint64 // on disk: tables and write-ahead log, obsolete ones not yet deleted included
	Tables                int64  // live tables, all levels
	MemtableBytes         uint64 // memtables, the mutable one and those waiting to be flushed
	WALBytesWritten       uint64 // bytes written to the write-ahead log
	Flushes               int64  // memtable flushes to level 0
	Compactions           int64  // compactions done
	CompactionsInProgress int64
	CompactionDebtBytes   uint64 // bytes compactions must rewrite to bring the levels into shape
	ReadAmplification     int    // tables a point read may search: L0 sublevels and non-empty levels
	BlockCacheBytes       int64
	BlockCacheHits        int64
	BlockCacheMisses      int64
}

// Stats returns the store's numbers now.
func (db *DB) Stats() Stats {
	m := db.pdb.Metrics()
	return Stats{
		DiskBytes:             m.DiskSpaceUsage(),
		Tables:                m.Total().TablesCount,
		MemtableBytes:         m.MemTable.Size,
		WALBytesWritten:       m.WAL.BytesWritten,
		Flushes:               m.Flush.Count,
		Compactions:           m.Compact.Count,
		CompactionsInProgress: m.Compact.NumInProgress,
		CompactionDebtBytes:   m.Compact.EstimatedDebt,
		ReadAmplification:     m.ReadAmp(),
		BlockCacheBytes:       m.BlockCache.Size,
		BlockCacheHits:        m.BlockCache.Hits,
		BlockCacheMisses:      m.BlockCache.Misses,
	}
}

// ReserveSequence durably reserves n values of the named sequence and
// returns the first; values are never handed out twice, even after a crash
// (values reserved but unused are skipped, as in PostgreSQL, where sequences
// may have gaps). Sequences start at 1. Safe for concurrent use.
func (db *DB) ReserveSequence(name string, n int64) (int64, error) {
	db.idMu.Lock()
	defer db.idMu.Unlock()
	key := metaKey("seq/" + name)
	next := int64(1)
	v, closer, err := db.pdb.Get(key)
	switch {
	case err == nil:
		if len(v) == 8 {
			next = int64(binary.BigEndian.Uint64(v))
		}
		closer.Close()
	case !errors.Is(err, pebble.ErrNotFound):
		return 0, fmt.Errorf("storage: sequence %q: %w", name, err)
	}
	if err := db.pdb.Set(key, binary.BigEndian.AppendUint64(nil, uint64(next+n)), pebble.Sync); err != nil {
		return 0, fmt.Errorf("storage: sequence %q: %w", name, err)
	}
	return next, nil
}

// NextID allocates an object id durably: the id is never handed out again,
// even after a crash (the counter is persisted with fsync before the id is
// returned). Safe for concurrent use.
func (db *DB) NextID() (uint64, error) {
	db.idMu.Lock()
	defer db.idMu.Unlock()
	id := db.nextID
	v := binary.BigEndian.AppendUint64(nil, id+1)
	if err := db.pdb.Set(metaKey(metaNextID), v, pebble.Sync); err != nil {
		return 0, fmt.Errorf("storage: allocate object id: %w", err)
	}
	db.nextID = id + 1
	return id, nil
}

// Catalog returns every committed catalog entry, ordered by id. The
// entries' Data are copies owned by the caller.
func (db *DB) Catalog() ([]CatalogEntry, error) {
	lower := []byte{ksCatalog}
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: prefixEnd(lower)})
	if err != nil {
		return nil, fmt.Errorf("storage: catalog: %w", err)
	}
	var out []CatalogEntry
	for it.First(); it.Valid(); it.Next() {
		k := it.Key()
		if len(k) != 9 {
			_ = it.Close()
			return nil, fmt.Errorf("storage: catalog: malformed key %x", k)
		}
		v, err := it.ValueAndErr()
		if err != nil {
			_ = it.Close()
			return nil, fmt.Errorf("storage: catalog: %w", err)
		}
		out = append(out, CatalogEntry{ID: binary.BigEndian.Uint64(k[1:]), Data: append([]byte(nil), v...)})
	}
	if err := errors.Join(it.Error(), it.Close()); err != nil {
		return nil, fmt.Errorf("storage: catalog: %w", err)
	}
	return out, nil
}

// nextRowID hands out the next hidden row id of a row-id table. The first
// call for a table seeks to its largest committed key; ids are never
// reused while the process runs, and after a restart continue above every
// committed one. Safe for concurrent use.
func (db *DB) nextRowID(rel *catalog.Relation) (int64, error) {
	db.rowMu.Lock()
	defer db.rowMu.Unlock()
	last, ok := db.rowIDs[rel.ID]
	if !ok {
		var err error
		if last, err = db.maxRowID(rel); err != nil {
			return 0, err
		}
	}
	last++
	db.rowIDs[rel.ID] = last
	return last, nil
}

func (db *DB) maxRowID(rel *catalog.Relation) (int64, error) {
	lower, upper := tableBounds(rel.ID)
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return 0, fmt.Errorf("storage: table %q: row id: %w", rel.Name, err)
	}
	var last int64
	if it.Last() {
		d, _, derr := DecodeKeyDatum(it.Key()[len(lower):], types.Int64)
		if derr != nil {
			err = derr
		} else if !d.IsNull() {
			last = d.Int()
		}
	}
	if err = errors.Join(err, it.Error(), it.Close()); err != nil {
		return 0, fmt.Errorf("storage: table %q: row id: %w", rel.Name, err)
	}
	return last, nil
}

// forgetRowIDs drops the row id counter of a dropped table.
func (db *DB) forgetRowIDs(id catalog.ID) {
	db.rowMu.Lock()
	delete(db.rowIDs, id)
	db.rowMu.Unlock()
}

// pebbleLogger adapts slog to Pebble's Logger.
type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) Infof(format string, args ...any) {
	p.l.Info(fmt.Sprintf(format, args...), "component", "pebble")
}

func (p pebbleLogger) Errorf(format string, args ...any) {
	p.l.Error(fmt.Sprintf(format, args...), "component", "pebble")
}

// Fatalf is called by Pebble on an internal invariant violation and must
// not return.
func (p pebbleLogger) Fatalf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	p.l.Error(msg, "component", "pebble", "fatal", true)
	panic("pebble: " + msg)
}

// reader is what a Snapshot, a Txn's batch and the DB have in common.
type reader interface {
	Get(key []byte) ([]byte, io.Closer, error)
	NewIter(o *pebble.IterOptions) (*pebble.Iterator, error)
}

// DropOrphans deletes the rows and operator state of every object that
// live reports does not exist: what a CREATE that writes its contents in
// several batches before its catalog entry left behind when it failed or
// the server died in between. It returns the objects dropped.
func (db *DB) DropOrphans(live func(catalog.ID) bool) ([]catalog.ID, error) {
	var orphans []catalog.ID
	b := db.pdb.NewBatch()
	defer b.Close()
	for _, ks := range []byte{ksTable, ksState, ksOffsets, ksSinkLog} {
		lower := []byte{ks}
		it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: prefixEnd(lower)})
		if err != nil {
			return nil, err
		}
		for valid := it.First(); valid; {
			k := it.Key()
			if len(k) < 9 {
				valid = it.Next()
				continue
			}
			id := binary.BigEndian.Uint64(k[1:9])
			prefix := appendObjectPrefix(nil, ks, id)
			if !live(catalog.ID(id)) {
				orphans = append(orphans, catalog.ID(id))
				if err := b.DeleteRange(prefix, prefixEnd(prefix), nil); err != nil {
					_ = it.Close()
					return nil, err
				}
			}
			next := prefixEnd(prefix)
			if next == nil {
				break
			}
			valid = it.SeekGE(next)
		}
		if err := errors.Join(it.Error(), it.Close()); err != nil {
			return nil, err
		}
	}
	if b.Empty() {
		return nil, nil
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return nil, fmt.Errorf("storage: drop orphaned data: %w", err)
	}
	return orphans, nil
}
