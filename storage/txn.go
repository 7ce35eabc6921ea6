package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/maphash"

	"github.com/cockroachdb/pebble/v2"
	"github.com/weirdb/weir/sql/catalog"
	"github.com/weirdb/weir/sql/types"
)

// Txn is a read-write transaction: an indexed Pebble batch. Reads see the
// committed database (as of each read, not of Begin) plus the transaction's
// own writes; writes become visible to others, atomically and durably, at
// Commit. A Txn is not safe for concurrent use; many Txns may be open at
// once. Every Txn must end with Commit or Rollback (Rollback after Commit
// is a no-op, so `defer txn.Rollback()` is the idiom).
//
// Writes that the transaction never reads back go to a second, unindexed
// batch (the side batch), which spares them the indexed batch's skiplist:
// operator state (PutState, DropState) and the blind puts and deletes of a
// unique view (ApplyView with unique set). Commit writes the indexed
// batch's operations, then the side batch's, as one Pebble batch: one
// atomic, fsynced commit, as if everything had been written in order to one
// batch. The rule that keeps reads right: a relation's rows are read from
// (or written to) the indexed batch only while the side batch holds none of
// them. Before the indexed batch touches the rows of a relation the side
// batch holds, the side batch is folded into it (applied, then emptied),
// which keeps both the order of the writes and the reads' view of them.
// Operator state is only ever written to the side batch, and never read
// through a Txn (ScanState reads a Snapshot).
//
// Txn satisfies executor.TableStore.
type Txn struct {
	db *DB
	b  *pebble.Batch // indexed
	// viewIter reads a view's counts in key order during an ApplyView.
	viewIter *pebble.Iterator
	seq      uint64 // db.commitSeq at Begin
	done     bool
	// async commits without waiting for fsync (SetAsynchronousCommit).
	async bool

	// side is the unindexed batch of writes not read back (nil until the
	// first); sideRels the relations whose rows it holds.
	side     *pebble.Batch
	sideRels map[catalog.ID]struct{}

	key, key2, val []byte // scratch

	// Keys inserted that the committed database lacked when they were
	// checked: re-checked at Commit if another commit happened meanwhile.
	newKeyBuf []byte
	newKeys   []newKey
	// deleted holds keys this txn deleted (re-inserting them needs no
	// re-check); truncated the tables it emptied; dropped those it dropped.
	deleted map[string]struct{}
	// touched holds hashes of the table keys the batch wrote or deleted.
	touched   map[uint64]struct{}
	checkIter *pebble.Iterator // over the committed DB; see insertCheck
	truncated map[catalog.ID]bool
	dropped   []catalog.ID

	// The change record: encoded old/new row values in chBuf.
	chBuf   []byte
	changes []change
	tables  []tableMark
}

type newKey struct {
	rel *catalog.Relation
	end int // end offset in newKeyBuf; starts where the previous ends
}

type change struct {
	tab                        int // index into tables
	oldLo, oldHi, newLo, newHi int // ranges of chBuf; empty = no row
}

type tableMark struct {
	rel       *catalog.Relation
	truncated bool
}

// Change is one row change: Old is nil for an insert, New nil for a delete.
type Change struct {
	Old, New types.Row
}

// TableChanges are the changes a transaction applied to one table, in the
// order applied. Truncated means every row the table held before the
// transaction was removed (Truncate or DropTableData) before Changes.
type TableChanges struct {
	Rel       *catalog.Relation
	Truncated bool
	Changes   []Change
}

// Begin starts a transaction.
func (db *DB) Begin() *Txn {
	return &Txn{db: db, b: db.pdb.NewIndexedBatch(), seq: db.commitSeq.Load(), async: db.asyncCommit}
}

// SetAsynchronousCommit chooses, for this transaction, what
// Options.AsynchronousCommit chooses for all: whether Commit returns
// before the write-ahead log is fsynced (PostgreSQL's synchronous_commit =
// off). Either way the commit is atomic, and a later fsynced commit makes
// it durable too.
func (t *Txn) SetAsynchronousCommit(async bool) { t.async = async }

var errTxnDone = errors.New("storage: transaction already finished")

// Scan yields the rows whose primary key starts with prefix, in key order,
// in batches of at most ScanBatchSize rows. The rows and the slice are
// reused between calls of yield: valid only during the call. A cancelled
// ctx stops the scan between batches with ctx.Err().
func (t *Txn) Scan(ctx context.Context, rel *catalog.Relation, prefix []types.Datum, yield func(rows []types.Row) error) error {
	if t.done {
		return errTxnDone
	}
	if err := t.foldSide(rel.ID); err != nil {
		return err
	}
	return scan(ctx, t.b, rel, prefix, yield)
}

// Get returns the row with the given full primary key; the row is owned by
// the caller.
func (t *Txn) Get(ctx context.Context, rel *catalog.Relation, key []types.Datum) (types.Row, bool, error) {
	if t.done {
		return nil, false, errTxnDone
	}
	if err := t.foldSide(rel.ID); err != nil {
		return nil, false, err
	}
	return get(t.b, rel, key)
}

// Insert adds row. A row with the same key, committed or written by this
// txn, is a 23505 error; so is one committed by another txn before this one
// commits (reported by Commit). For a row-id table the hidden key column is
// assigned here (row is modified). The row is not retained.
func (t *Txn) Insert(ctx context.Context, rel *catalog.Relation, row types.Row) error {
	if t.done {
		return errTxnDone
	}
	if len(row) != len(rel.Columns) {
		return fmt.Errorf("storage: insert into %q: row has %d columns, table %d", rel.Name, len(row), len(rel.Columns))
	}
	if err := t.foldSide(rel.ID); err != nil {
		return err
	}
	if rel.HasRowID() {
		id, err := t.db.nextRowID(rel)
		if err != nil {
			return err
		}
		row[rel.PrimaryKey[0]] = types.NewInt64(id)
		// A fresh row id cannot clash: no existence check, no re-check.
		t.key = AppendKey(tablePrefix(t.key[:0], rel.ID), row, rel.PrimaryKey)
		return t.set(rel, t.key, row, -1, -1)
	}
	key, err := t.rowKey(t.key[:0], rel, row)
	t.key = key
	if err != nil {
		return err
	}
	if err := t.insertCheck(rel, key, row); err != nil {
		return err
	}
	return t.set(rel, key, row, -1, -1)
}

// Update replaces old with new. If the key changes, the old key is deleted
// and the new one checked like an Insert's. Neither row is retained.
func (t *Txn) Update(ctx context.Context, rel *catalog.Relation, old, new types.Row) error {
	if t.done {
		return errTxnDone
	}
	if len(old) != len(rel.Columns) || len(new) != len(rel.Columns) {
		return fmt.Errorf("storage: update %q: rows have %d/%d columns, table %d", rel.Name, len(old), len(new), len(rel.Columns))
	}
	if err := t.foldSide(rel.ID); err != nil {
		return err
	}
	if rel.HasRowID() && new[rel.PrimaryKey[0]].IsNull() {
		new[rel.PrimaryKey[0]] = old[rel.PrimaryKey[0]]
	}
	oldKey, err := t.rowKey(t.key2[:0], rel, old)
	t.key2 = oldKey
	if err != nil {
		return err
	}
	newKey, err := t.rowKey(t.key[:0], rel, new)
	t.key = newKey
	if err != nil {
		return err
	}
	oldLo := len(t.chBuf)
	if t.chBuf, err = EncodeRow(t.chBuf, old, rel.Columns); err != nil {
		t.chBuf = t.chBuf[:oldLo]
		return fmt.Errorf("storage: update %q: %w", rel.Name, err)
	}
	oldHi := len(t.chBuf)
	if !bytes.Equal(oldKey, newKey) {
		if err := t.insertCheck(rel, newKey, new); err != nil {
			t.chBuf = t.chBuf[:oldLo]
			return err
		}
		if err := t.b.Delete(oldKey, nil); err != nil {
			t.chBuf = t.chBuf[:oldLo]
			return fmt.Errorf("storage: update %q: %w", rel.Name, err)
		}
		t.markDeleted(oldKey)
	}
	return t.set(rel, newKey, new, oldLo, oldHi)
}

// Delete removes the row with old's key. old is not retained.
func (t *Txn) Delete(ctx context.Context, rel *catalog.Relation, old types.Row) error {
	if t.done {
		return errTxnDone
	}
	if err := t.foldSide(rel.ID); err != nil {
		return err
	}
	key, err := t.rowKey(t.key[:0], rel, old)
	t.key = key
	if err != nil {
		return err
	}
	lo := len(t.chBuf)
	if t.chBuf, err = EncodeRow(t.chBuf, old, rel.Columns); err != nil {
		t.chBuf = t.chBuf[:lo]
		return fmt.Errorf("storage: delete from %q: %w", rel.Name, err)
	}
	if err := t.b.Delete(key, nil); err != nil {
		t.chBuf = t.chBuf[:lo]
		return fmt.Errorf("storage: delete from %q: %w", rel.Name, err)
	}
	t.markDeleted(key)
	t.changes = append(t.changes, change{tab: t.tableIndex(rel), oldLo: lo, oldHi: len(t.chBuf)})
	return nil
}

// PutCatalog writes (or overwrites) catalog entry id; data is copied.
func (t *Txn) PutCatalog(id uint64, data []byte) error {
	if t.done {
		return errTxnDone
	}
	return t.b.Set(catalogKey(id), data, nil)
}

// DeleteCatalog removes catalog entry id.
func (t *Txn) DeleteCatalog(id uint64) error {
	if t.done {
		return errTxnDone
	}
	return t.b.Delete(catalogKey(id), nil)
}

// Truncate removes every row of table id (one range deletion).
func (t *Txn) Truncate(rel *catalog.Relation) error {
	if t.done {
		return errTxnDone
	}
	if err := t.foldSide(rel.ID); err != nil {
		return err
	}
	lower, upper := tableBounds(rel.ID)
	if err := t.b.DeleteRange(lower, upper, nil); err != nil {
		return fmt.Errorf("storage: truncate %q: %w", rel.Name, err)
	}
	if t.truncated == nil {
		t.truncated = make(map[catalog.ID]bool)
	}
	t.truncated[rel.ID] = true
	// Earlier changes to the table are superseded by the truncation.
	tab := t.tableIndex(rel)
	kept := t.changes[:0]
	for _, c := range t.changes {
		if c.tab != tab {
			kept = append(kept, c)
		}
	}
	t.changes = kept
	t.tables[tab].truncated = true
	return nil
}

// DropTableData removes every row of a dropped table and, once committed,
// its row id counter. The catalog entry is removed separately
// (DeleteCatalog).
func (t *Txn) DropTableData(rel *catalog.Relation) error {
	if err := t.Truncate(rel); err != nil {
		return err
	}
	if err := t.dropConnectorState(rel.ID); err != nil {
		return err
	}
	t.dropped = append(t.dropped, rel.ID)
	return nil
}

// Commit applies the transaction atomically and durably (fsync before it
// returns, unless the commit is asynchronous: see SetAsynchronousCommit). If a key this txn inserted was committed by another txn in the
// meantime, Commit returns 23505 and applies nothing. The Txn is finished
// either way. A cancelled ctx before the commit starts rolls back.
func (t *Txn) Commit(ctx context.Context) error {
	return t.CommitWith(ctx, nil)
}

// CommitWith is Commit with a hook that runs after validation, inside the
// commit's critical section (commits are totally ordered by it), and may add
// writes to the transaction: materialized views are maintained this way, in
// the same atomic batch as the changes that caused them. If pre fails,
// nothing is applied.
func (t *Txn) CommitWith(ctx context.Context, pre func() error) error {
	if t.done {
		return errTxnDone
	}
	defer t.Rollback()
	if err := ctx.Err(); err != nil {
		return err
	}
	if t.b.Empty() && (t.side == nil || t.side.Empty()) {
		return nil
	}
	db := t.db
	db.commitMu.Lock()
	defer db.commitMu.Unlock()
	if db.commitSeq.Load() != t.seq {
		if err := t.validate(); err != nil {
			return err
		}
	}
	if pre != nil {
		if err := pre(); err != nil {
			return err
		}
	}
	b, err := t.commitBatch()
	if err != nil {
		return fmt.Errorf("storage: commit: %w", err)
	}
	wo := pebble.Sync
	if t.async {
		wo = pebble.NoSync
	}
	if err := b.Commit(wo); err != nil {
		return fmt.Errorf("storage: commit: %w", err)
	}
	if t.async {
		// After the commit: a syncer pass between setting the flag and
		// writing the batch would leave the batch unsynced until the next.
		db.unsynced.Store(true)
	}
	// Incremented after the batch is visible, so that a Txn that began
	// before this point always re-validates.
	db.commitSeq.Add(1)
	for _, id := range t.dropped {
		db.forgetRowIDs(id)
	}
	return nil
}

// Rollback discards the transaction. It is a no-op on a finished Txn.
func (t *Txn) Rollback() {
	if t.done {
		return
	}
	t.done = true
	if t.checkIter != nil {
		_ = t.checkIter.Close()
		t.checkIter = nil
	}
	_ = t.b.Close()
	t.b = nil
	if t.side != nil {
		_ = t.side.Close()
		t.side = nil
	}
}

// sideBatch returns the side batch, created on first use.
func (t *Txn) sideBatch() *pebble.Batch {
	if t.side == nil {
		t.side = t.db.pdb.NewBatch()
	}
	return t.side
}

// foldSide applies the side batch to the indexed batch and empties it if
// it holds rows of relation id (see Txn): the indexed batch is about to
// read or write them.
func (t *Txn) foldSide(id catalog.ID) error {
	if len(t.sideRels) == 0 {
		return nil
	}
	if _, ok := t.sideRels[id]; !ok {
		return nil
	}
	if err := t.b.Apply(t.side, nil); err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	t.side.Reset()
	clear(t.sideRels)
	return nil
}

// commitBatch returns the one batch to commit: the indexed batch's
// operations followed by the side batch's. When both hold writes they are
// copied into a fresh unindexed batch (two copies of bytes, no index),
// which replaces the side batch so that Rollback closes it.
func (t *Txn) commitBatch() (*pebble.Batch, error) {
	switch {
	case t.side == nil || t.side.Empty():
		return t.b, nil
	case t.b.Empty():
		return t.side, nil
	}
	merged := t.db.pdb.NewBatchWithSize(t.b.Len() + t.side.Len())
	err := merged.Apply(t.b, nil)
	if err == nil {
		err = merged.Apply(t.side, nil)
	}
	_ = t.side.Close()
	t.side = merged
	return merged, err
}

// Changes decodes the change record: per table, in order of first change,
// the (old, new) rows this transaction applied. The rows are newly
// allocated and owned by the caller. Valid before and after Commit.
func (t *Txn) Changes() ([]TableChanges, error) {
	out := make([]TableChanges, len(t.tables))
	rows := make([]int, len(t.tables))
	for _, c := range t.changes {
		rows[c.tab] += btoi(c.oldHi > c.oldLo) + btoi(c.newHi > c.newLo)
	}
	for i, m := range t.tables {
		out[i] = TableChanges{Rel: m.rel, Truncated: m.truncated, Changes: make([]Change, 0, rows[i])}
	}
	// Each row is allocated at its width, not grown datum by datum; and
	// on its own: operators keep some rows (a join's side), and a row
	// carved from a shared chunk would keep the whole chunk alive.
	decode := func(tab int, value []byte) (types.Row, error) {
		cols := out[tab].Rel.Columns
		return DecodeRow(make(types.Row, 0, len(cols)), value, cols)
	}
	for _, c := range t.changes {
		var ch Change
		var err error
		if c.oldHi > c.oldLo {
			if ch.Old, err = decode(c.tab, t.chBuf[c.oldLo:c.oldHi]); err != nil {
				return nil, err
			}
		}
		if c.newHi > c.newLo {
			if ch.New, err = decode(c.tab, t.chBuf[c.newLo:c.newHi]); err != nil {
				return nil, err
			}
		}
		out[c.tab].Changes = append(out[c.tab].Changes, ch)
	}
	return out, nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// rowKey appends the table key of row to buf; a NULL key column is 23502.
func (t *Txn) rowKey(buf []byte, rel *catalog.Relation, row types.Row) ([]byte, error) {
	if len(row) != len(rel.Columns) {
		return buf, fmt.Errorf("storage: table %q: row has %d columns, table %d", rel.Name, len(row), len(rel.Columns))
	}
	buf = tablePrefix(buf, rel.ID)
	for _, c := range rel.PrimaryKey {
		if row[c].IsNull() {
			return buf, errNullKey(rel, c)
		}
		buf = AppendKeyDatum(buf, row[c])
	}
	return buf, nil
}

// insertCheck fails with 23505 if key exists (committed or in this txn),
// and otherwise remembers key for re-validation at Commit unless this txn
// itself deleted it.
func (t *Txn) insertCheck(rel *catalog.Relation, key []byte, row types.Row) error {
	// A key this txn never touched (and no range deletion of its table)
	// only needs the committed database, read through one iterator kept
	// for the txn: far cheaper than a Get per row (Batch.Get builds batch
	// iterators on every call), and ascending keys seek by stepping. The
	// iterator's view is fixed at its creation, after Begin; commits
	// since then make Commit re-validate.
	h := maphash.Bytes(t.db.seed, key)
	if _, ok := t.touched[h]; ok || t.truncated[rel.ID] {
		_, c, err := t.b.Get(key)
		switch {
		case err == nil:
			_ = c.Close()
			return errDuplicateKey(rel, keyDatums(rel, row))
		case !errors.Is(err, pebble.ErrNotFound):
			return fmt.Errorf("storage: table %q: %w", rel.Name, err)
		}
	} else {
		if t.checkIter == nil {
			it, err := t.db.pdb.NewIter(nil)
			if err != nil {
				return fmt.Errorf("storage: table %q: %w", rel.Name, err)
			}
			t.checkIter = it
		}
		if t.checkIter.SeekGE(key) && bytes.Equal(t.checkIter.Key(), key) {
			return errDuplicateKey(rel, keyDatums(rel, row))
		}
		if err := t.checkIter.Error(); err != nil {
			return fmt.Errorf("storage: table %q: %w", rel.Name, err)
		}
	}
	if t.truncated[rel.ID] {
		return nil // the truncation will remove any concurrent insert
	}
	if _, ok := t.deleted[string(key)]; ok {
		return nil
	}
	t.newKeyBuf = append(t.newKeyBuf, key...)
	t.newKeys = append(t.newKeys, newKey{rel: rel, end: len(t.newKeyBuf)})
	return nil
}

// touch remembers (by hash) that the batch wrote key.
func (t *Txn) touch(key []byte) {
	if t.touched == nil {
		t.touched = make(map[uint64]struct{})
	}
	t.touched[maphash.Bytes(t.db.seed, key)] = struct{}{}
}

func (t *Txn) markDeleted(key []byte) {
	t.touch(key)
	if t.deleted == nil {
		t.deleted = make(map[string]struct{})
	}
	t.deleted[string(key)] = struct{}{}
}

// set encodes row, writes it at key and records the change (old row in
// chBuf[oldLo:oldHi], or none when oldLo < 0).
func (t *Txn) set(rel *catalog.Relation, key []byte, row types.Row, oldLo, oldHi int) error {
	lo := len(t.chBuf)
	var err error
	if t.chBuf, err = EncodeRow(t.chBuf, row, rel.Columns); err != nil {
		t.chBuf = t.chBuf[:max(lo, 0)]
		if oldLo >= 0 {
			t.chBuf = t.chBuf[:oldLo]
		}
		return fmt.Errorf("storage: table %q: %w", rel.Name, err)
	}
	if err := t.b.Set(key, t.chBuf[lo:], nil); err != nil {
		return fmt.Errorf("storage: table %q: %w", rel.Name, err)
	}
	if !rel.HasRowID() {
		t.touch(key)
	}
	c := change{tab: t.tableIndex(rel), newLo: lo, newHi: len(t.chBuf)}
	if oldLo >= 0 {
		c.oldLo, c.oldHi = oldLo, oldHi
	}
	t.changes = append(t.changes, c)
	return nil
}

func (t *Txn) tableIndex(rel *catalog.Relation) int {
	// Transactions touch few tables: a linear search beats a map.
	for i := len(t.tables) - 1; i >= 0; i-- {
		if t.tables[i].rel.ID == rel.ID {
			return i
		}
	}
	t.tables = append(t.tables, tableMark{rel: rel})
	return len(t.tables) - 1
}

// validate re-checks, against the committed database, the keys this txn
// inserted as new. Called with commitMu held.
func (t *Txn) validate() error {
	start := 0
	for _, nk := range t.newKeys {
		key := t.newKeyBuf[start:nk.end]
		start = nk.end
		_, c, err := t.db.pdb.Get(key)
		if errors.Is(err, pebble.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("storage: commit: %w", err)
		}
		_ = c.Close()
		return errDuplicateKey(nk.rel, decodeKeyDatums(nk.rel, key))
	}
	return nil
}

func keyDatums(rel *catalog.Relation, row types.Row) []types.Datum {
	out := make([]types.Datum, len(rel.PrimaryKey))
	for i, c := range rel.PrimaryKey {
		out[i] = row[c]
	}
	return out
}

// decodeKeyDatums decodes a table key for an error message; what cannot be
// decoded is left NULL.
func decodeKeyDatums(rel *catalog.Relation, key []byte) []types.Datum {
	out := make([]types.Datum, len(rel.PrimaryKey))
	b := key[min(9, len(key)):]
	for i, c := range rel.PrimaryKey {
		d, rest, err := DecodeKeyDatum(b, rel.Columns[c].Type)
		if err != nil {
			break
		}
		out[i], b = d, rest
	}
	return out
}
