package storage

import (
	"encoding/binary"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
	"github.com/weirdb/weir/sql/catalog"
)

// Operator state lives under /state/<object id>/<operator index>/<key>:
// the object is the view (or stream) whose dataflow holds the operator, the
// index the operator's position in that dataflow (stable for a given
// definition), the key the operator's own. It is written in the same batch
// as the epoch that produced it.

func statePrefix(buf []byte, obj catalog.ID, op uint32) []byte {
	buf = appendObjectPrefix(buf, ksState, uint64(obj))
	return binary.BigEndian.AppendUint32(buf, op)
}

// PutState writes (value != nil) or deletes (value == nil) one entry of
// operator op of object obj. key and value are copied. State goes to the
// Txn's side batch: it is never read back through a Txn.
func (t *Txn) PutState(obj catalog.ID, op uint32, key, value []byte) error {
	if t.done {
		return errTxnDone
	}
	t.key = append(statePrefix(t.key[:0], obj, op), key...)
	if value == nil {
		return t.sideBatch().Delete(t.key, nil)
	}
	return t.sideBatch().Set(t.key, value, nil)
}

// DropState removes every operator state entry of object obj.
func (t *Txn) DropState(obj catalog.ID) error {
	if t.done {
		return errTxnDone
	}
	lower := appendObjectPrefix(nil, ksState, uint64(obj))
	return t.sideBatch().DeleteRange(lower, prefixEnd(lower), nil)
}

// ScanState calls fn for every saved state entry of object obj, operator
// by operator, in key order. key and value are valid only during fn.
func (s *Snapshot) ScanState(obj catalog.ID, fn func(op uint32, key, value []byte) error) error {
	lower := appendObjectPrefix(nil, ksState, uint64(obj))
	it, err := s.s.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: prefixEnd(lower)})
	if err != nil {
		return fmt.Errorf("storage: state of %d: %w", obj, err)
	}
	defer it.Close()
	for valid := it.First(); valid; valid = it.Next() {
		k := it.Key()[len(lower):]
		if len(k) < 4 {
			return fmt.Errorf("storage: state of %d: malformed key %x", obj, it.Key())
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return fmt.Errorf("storage: state of %d: %w", obj, err)
		}
		if err := fn(binary.BigEndian.Uint32(k[:4]), k[4:], v); err != nil {
			return err
		}
	}
	return it.Error()
}
