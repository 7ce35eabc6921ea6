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

func sinkLogKey(sink catalog.ID, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(appendObjectPrefix(nil, ksSinkLog, uint64(sink)), seq)
}

// AppendSinkLog adds, in this transaction, the entry seq of sink's log.
func (t *Txn) AppendSinkLog(sink catalog.ID, seq uint64, entry []byte) error {
	if t.done {
		return errTxnDone
	}
	return t.sideBatch().Set(sinkLogKey(sink, seq), entry, nil)
}

// ScanSinkLog calls fn with the entries of sink's log from seq from on, in
// order. entry is valid only during fn.
func (db *DB) ScanSinkLog(sink catalog.ID, from uint64, fn func(seq uint64, entry []byte) error) error {
	prefix := appendObjectPrefix(nil, ksSinkLog, uint64(sink))
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: sinkLogKey(sink, from), UpperBound: prefixEnd(prefix)})
	if err != nil {
		return err
	}
	for valid := it.First(); valid; valid = it.Next() {
		if err := fn(binary.BigEndian.Uint64(it.Key()[len(prefix):]), it.Value()); err != nil {
			_ = it.Close()
			return err
		}
	}
	return errors.Join(it.Error(), it.Close())
}

// LastSinkSeq returns the greatest seq in sink's log (ok false when the
// log is empty).
func (db *DB) LastSinkSeq(sink catalog.ID) (seq uint64, ok bool, err error) {
	prefix := appendObjectPrefix(nil, ksSinkLog, uint64(sink))
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return 0, false, err
	}
	if it.Last() {
		seq, ok = binary.BigEndian.Uint64(it.Key()[len(prefix):]), true
	}
	return seq, ok, errors.Join(it.Error(), it.Close())
}

// TrimSinkLog removes the entries of sink's log up to seq through. It
// does not wait for the write-ahead log: a trim lost in a crash only
// makes the sink look at entries it already delivered again.
func (db *DB) TrimSinkLog(sink catalog.ID, through uint64) error {
	lower := appendObjectPrefix(nil, ksSinkLog, uint64(sink))
	return db.pdb.DeleteRange(lower, sinkLogKey(sink, through+1), pebble.NoSync)
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
