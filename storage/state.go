package storage

import (
	"bytes"
	"encoding/binary"
	"errors"
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
	return s.scanState(obj, appendObjectPrefix(nil, ksState, uint64(obj)), fn)
}

// ScanOperatorState is ScanState for the entries of operator op only.
func (s *Snapshot) ScanOperatorState(obj catalog.ID, op uint32, fn func(key, value []byte) error) error {
	return s.scanState(obj, statePrefix(nil, obj, op), func(_ uint32, key, value []byte) error { return fn(key, value) })
}

func (s *Snapshot) scanState(obj catalog.ID, lower []byte, fn func(op uint32, key, value []byte) error) error {
	it, err := s.s.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: prefixEnd(lower)})
	if err != nil {
		return fmt.Errorf("storage: state of %d: %w", obj, err)
	}
	defer it.Close()
	objLen := len(appendObjectPrefix(nil, ksState, uint64(obj)))
	for valid := it.First(); valid; valid = it.Next() {
		k := it.Key()[objLen:]
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

// StateReader reads the committed state entries of one operator back on
// demand (operators that keep only part of their state in memory). It
// reads the latest committed data, not a snapshot: its owner reads only
// between epochs, or entries no uncommitted batch touches. Not safe for
// concurrent use.
type StateReader struct {
	pdb    *pebble.DB
	prefix []byte
	key    []byte
}

// StateReader returns the reader of operator op of object obj.
func (db *DB) StateReader(obj catalog.ID, op uint32) *StateReader {
	return &StateReader{pdb: db.pdb, prefix: statePrefix(nil, obj, op)}
}

// GetState calls fn with the value of key and reports whether there was
// one. value is valid only during fn.
func (r *StateReader) GetState(key []byte, fn func(value []byte) error) (bool, error) {
	r.key = append(append(r.key[:0], r.prefix...), key...)
	v, closer, err := r.pdb.Get(r.key)
	if errors.Is(err, pebble.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("storage: read state: %w", err)
	}
	err = fn(v)
	_ = closer.Close()
	return true, err
}

// ScanState calls fn for every entry whose key starts with prefix, in key
// order. key and value are valid only during fn.
func (r *StateReader) ScanState(prefix []byte, fn func(key, value []byte) error) error {
	lower := append(append(r.key[:0], r.prefix...), prefix...)
	r.key = lower
	it, err := r.pdb.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: prefixEnd(lower)})
	if err != nil {
		return fmt.Errorf("storage: read state: %w", err)
	}
	defer it.Close()
	for valid := it.First(); valid; valid = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			return fmt.Errorf("storage: read state: %w", err)
		}
		if err := fn(it.Key()[len(r.prefix):], v); err != nil {
			return err
		}
	}
	return it.Error()
}

// GetStates calls fn(i, value) for every keys[i] that has a value; keys
// must be in ascending order. One iterator serves them all, each seek
// starting where the previous one ended, which costs less than as many
// GetState calls when the keys are many. value is valid only during fn.
func (r *StateReader) GetStates(keys [][]byte, fn func(i int, value []byte) error) error {
	if len(keys) == 0 {
		return nil
	}
	it, err := r.pdb.NewIter(&pebble.IterOptions{LowerBound: r.prefix, UpperBound: prefixEnd(r.prefix)})
	if err != nil {
		return fmt.Errorf("storage: read state: %w", err)
	}
	defer it.Close()
	for i, k := range keys {
		r.key = append(append(r.key[:0], r.prefix...), k...)
		// A prefix seek consults the tables' bloom filters (a key is its
		// own prefix: the store does not split keys).
		if !it.SeekPrefixGE(r.key) || !bytes.Equal(it.Key(), r.key) {
			continue
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return fmt.Errorf("storage: read state: %w", err)
		}
		if err := fn(i, v); err != nil {
			return err
		}
	}
	return it.Error()
}

// GetState reads one state entry of operator op of object obj from the
// snapshot.
func (s *Snapshot) GetState(obj catalog.ID, op uint32, key []byte) ([]byte, bool, error) {
	k := append(statePrefix(nil, obj, op), key...)
	v, closer, err := s.s.Get(k)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("storage: state of %d: %w", obj, err)
	}
	defer closer.Close()
	return append([]byte(nil), v...), true, nil
}
