package executor

import (
	"slices"

	"github.com/weirdb/weir/sql/types"
)

// orderedChunks keeps values of T in the order of cmp: a two-level B-tree
// of sorted chunks of at most chunkMax entries. Finding a value is two
// binary searches; inserting or deleting one moves at most chunkMax
// entries, so every operation is O(log n + chunkMax), and walking the
// values in order from either end costs only the values walked.
type orderedChunks[T any] struct {
	chunks [][]T
}

const chunkMax = 256

// locate returns the chunk that holds or would hold a value equal to v
// under cmp, and the position in it (found reports an equal entry).
func (s *orderedChunks[T]) locate(v T, cmp func(a, b T) int) (ci, i int, found bool) {
	if len(s.chunks) == 0 {
		return 0, 0, false
	}
	// The first chunk whose last entry is >= v.
	ci, _ = slices.BinarySearchFunc(s.chunks, v, func(c []T, v T) int { return cmp(c[len(c)-1], v) })
	if ci == len(s.chunks) {
		ci--
	}
	i, found = slices.BinarySearchFunc(s.chunks[ci], v, cmp)
	return ci, i, found
}

// insertAt inserts v at a position locate returned (not found).
func (s *orderedChunks[T]) insertAt(ci, i int, v T) {
	if len(s.chunks) == 0 {
		s.chunks = [][]T{append(make([]T, 0, 8), v)}
		return
	}
	c := slices.Insert(s.chunks[ci], i, v)
	if len(c) > chunkMax {
		half := len(c) / 2
		right := append(make([]T, 0, chunkMax), c[half:]...)
		clear(c[half:])
		c = c[:half]
		s.chunks = slices.Insert(s.chunks, ci+1, right)
	}
	s.chunks[ci] = c
}

// deleteAt removes the entry at a position locate found.
func (s *orderedChunks[T]) deleteAt(ci, i int) {
	c := slices.Delete(s.chunks[ci], i, i+1)
	if len(c) == 0 {
		s.chunks = slices.Delete(s.chunks, ci, ci+1)
		return
	}
	s.chunks[ci] = c
}

// sortedMultiset is an ordered multiset of non-NULL datums (ordered by
// types.Compare) with signed counts. Values whose count drops to zero are
// removed. Entries with a negative count (a retraction seen before its
// insertion) are kept but skipped by first and last.
type sortedMultiset struct {
	orderedChunks[mmEntry]
}

type mmEntry struct {
	d types.Datum
	n int64
}

func compareMM(a, b mmEntry) int { return types.Compare(a.d, b.d) }

// add adds w to d's count.
func (s *sortedMultiset) add(d types.Datum, w int64) {
	if w == 0 {
		return
	}
	ci, i, found := s.locate(mmEntry{d: d}, compareMM)
	if !found {
		s.insertAt(ci, i, mmEntry{d: d, n: w})
		return
	}
	e := &s.chunks[ci][i]
	if e.n += w; e.n == 0 {
		s.deleteAt(ci, i)
	}
}

// first returns the smallest value with a positive count, nil if none.
func (s *sortedMultiset) first() *mmEntry {
	for _, c := range s.chunks {
		for i := range c {
			if c[i].n > 0 {
				return &c[i]
			}
		}
	}
	return nil
}

// last returns the largest value with a positive count, nil if none.
func (s *sortedMultiset) last() *mmEntry {
	for ci := len(s.chunks) - 1; ci >= 0; ci-- {
		c := s.chunks[ci]
		for i := len(c) - 1; i >= 0; i-- {
			if c[i].n > 0 {
				return &c[i]
			}
		}
	}
	return nil
}
