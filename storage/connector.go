package storage

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
	"github.com/weirdb/weir/sql/catalog"
)

// Source offsets and sink logs: the state of connectors that must commit
// with the epoch it belongs to.
//
// A source's offsets go into the batch of the epoch whose changes they
// produced, so that after a crash the source resumes exactly after what
// the last committed epoch holds. A sink's log holds, per epoch, the
// changes it still has to deliver: written in the epoch's batch, removed
// once the external system acknowledged them, so that a sink that fell
// behind or crashed mid-delivery resumes without loss.

func offsetPrefix(src catalog.ID) []byte {
	return appendObjectPrefix(nil, ksOffsets, uint64(src))
}

// PutSourceOffset records, in this transaction, that source src resumes
// at offset next in partition partition of topic (a name without NUL
// bytes, as Kafka's are).
func (t *Txn) PutSourceOffset(src catalog.ID, topic string, partition int32, next int64) error {
	if t.done {
		return errTxnDone
	}
	k := append(offsetPrefix(src), topic...)
	k = append(k, 0)
	k = binary.BigEndian.AppendUint32(k, uint32(partition))
	var v [binary.MaxVarintLen64]byte
	return t.sideBatch().Set(k, v[:binary.PutVarint(v[:], next)], nil)
}

// ScanSourceOffsets calls fn with every committed offset of source src.
func (db *DB) ScanSourceOffsets(src catalog.ID, fn func(topic string, partition int32, next int64) error) error {
	lower := offsetPrefix(src)
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: prefixEnd(lower)})
	if err != nil {
		return err
	}
	for valid := it.First(); valid; valid = it.Next() {
		k := it.Key()[len(lower):]
		if len(k) < 5 || k[len(k)-5] != 0 {
			_ = it.Close()
			return fmt.Errorf("storage: malformed source offset key %x", it.Key())
		}
		next, n := binary.Varint(it.Value())
		if n <= 0 {
			_ = it.Close()
			return fmt.Errorf("storage: malformed source offset %x", it.Value())
		}
		if err := fn(string(k[:len(k)-5]), int32(binary.BigEndian.Uint32(k[len(k)-4:])), next); err != nil {
			_ = it.Close()
			return err
		}
	}
	return errors.Join(it.Error(), it.Close())
}

// A sink's log holds its entries under seq 1, 2, ...; under seq 0 a
// marker holds the last seq delivered (entries up to it are removed) and,
// while a delivery of several entries is planned, the last seq it covers
// (PlanSinkDelivery): 8 or 16 bytes.

func sinkLogKey(sink catalog.ID, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(appendObjectPrefix(nil, ksSinkLog, uint64(sink)), seq)
}

// AppendSinkLog adds, in this transaction, the entry seq (from 1 on) of
// sink's log.
func (t *Txn) AppendSinkLog(sink catalog.ID, seq uint64, entry []byte) error {
	if t.done {
		return errTxnDone
	}
	if seq == 0 {
		return errors.New("storage: sink log entries are numbered from 1")
	}
	return t.sideBatch().Set(sinkLogKey(sink, seq), entry, nil)
}

// ScanSinkLog calls fn with the entries of sink's log from seq from on, in
// order, until fn returns false or an error. entry is valid only during fn.
func (db *DB) ScanSinkLog(sink catalog.ID, from uint64, fn func(seq uint64, entry []byte) (bool, error)) error {
	prefix := appendObjectPrefix(nil, ksSinkLog, uint64(sink))
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: sinkLogKey(sink, max(from, 1)), UpperBound: prefixEnd(prefix)})
	if err != nil {
		return err
	}
	for valid := it.First(); valid; valid = it.Next() {
		more, err := fn(binary.BigEndian.Uint64(it.Key()[len(prefix):]), it.Value())
		if err != nil || !more {
			return errors.Join(err, it.Close())
		}
	}
	return errors.Join(it.Error(), it.Close())
}

// SinkLogPosition returns the last seq of sink's log that was delivered
// (TrimSinkLog) and the last seq it holds (or delivered, when it holds
// none): a sink's next entry is last+1.
func (db *DB) SinkLogPosition(sink catalog.ID) (delivered, last uint64, err error) {
	prefix := appendObjectPrefix(nil, ksSinkLog, uint64(sink))
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return 0, 0, err
	}
	if it.First() && binary.BigEndian.Uint64(it.Key()[len(prefix):]) == 0 {
		var err error
		if delivered, _, err = decodeSinkLogMarker(it.Value()); err != nil {
			_ = it.Close()
			return 0, 0, err
		}
	}
	last = delivered
	if it.Last() {
		last = max(last, binary.BigEndian.Uint64(it.Key()[len(prefix):]))
	}
	return delivered, last, errors.Join(it.Error(), it.Close())
}

func decodeSinkLogMarker(v []byte) (delivered, planned uint64, err error) {
	switch len(v) {
	case 16:
		planned = binary.BigEndian.Uint64(v[8:])
		fallthrough
	case 8:
		return binary.BigEndian.Uint64(v), planned, nil
	}
	return 0, 0, fmt.Errorf("storage: malformed sink log marker %x", v)
}

// PlanSinkDelivery records, durably (it waits for the write-ahead log),
// that sink's next delivery covers the entries after delivered through
// through, before the sink sends any of it: a sink that merges entries
// into one request re-forms exactly that request after a crash, so that
// its content and its idempotency key stay paired. The next trim drops
// the plan.
func (db *DB) PlanSinkDelivery(sink catalog.ID, delivered, through uint64) error {
	v := binary.BigEndian.AppendUint64(nil, delivered)
	return db.pdb.Set(sinkLogKey(sink, 0), binary.BigEndian.AppendUint64(v, through), pebble.Sync)
}

// PlannedSinkDelivery returns the last entry of the delivery
// PlanSinkDelivery recorded for sink and not trimmed since (0 when there
// is none).
func (db *DB) PlannedSinkDelivery(sink catalog.ID) (through uint64, err error) {
	v, closer, err := db.pdb.Get(sinkLogKey(sink, 0))
	if errors.Is(err, pebble.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer closer.Close()
	_, through, err = decodeSinkLogMarker(v)
	return through, err
}

// TrimSinkLog records that sink delivered every entry up to through and
// removes the entries after from (the previous through) up to it. It does
// not wait for the write-ahead log: a trim lost in a crash only makes the
// sink look at entries it already delivered again.
func (db *DB) TrimSinkLog(sink catalog.ID, from, through uint64) error {
	b := db.pdb.NewBatch()
	defer b.Close()
	if err := trimSinkLog(b, sink, from, through); err != nil {
		return err
	}
	return b.Commit(pebble.NoSync)
}

// TrimSinkLog is DB.TrimSinkLog in this transaction: with what the sink
// records of the entries it trims (their dead letters).
func (t *Txn) TrimSinkLog(sink catalog.ID, from, through uint64) error {
	if t.done {
		return errTxnDone
	}
	return trimSinkLog(t.sideBatch(), sink, from, through)
}

func trimSinkLog(b *pebble.Batch, sink catalog.ID, from, through uint64) error {
	for seq := from + 1; seq <= through; seq++ {
		if err := b.Delete(sinkLogKey(sink, seq), nil); err != nil {
			return err
		}
	}
	return b.Set(sinkLogKey(sink, 0), binary.BigEndian.AppendUint64(nil, through), nil)
}

// dropConnectorState removes the offsets and sink log of object id.
func (t *Txn) dropConnectorState(id catalog.ID) error {
	for _, ks := range []byte{ksOffsets, ksSinkLog} {
		lower := appendObjectPrefix(nil, ks, uint64(id))
		if err := t.sideBatch().DeleteRange(lower, prefixEnd(lower), nil); err != nil {
			return err
		}
	}
	return nil
}
