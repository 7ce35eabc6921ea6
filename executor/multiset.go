package executor

import (
	"slices"

	"github.com/weirdb/weir/sql/types"
)

// sortedMultiset is an ordered multiset of non-NULL datums (ordered by
// types.Compare) with signed counts: a two-level B-tree of sorted chunks of
// at most chunkMax entries. Finding a value is two binary searches; adding
// or removing one moves at most chunkMax entries, so every operation is
// O(log n + chunkMax). Values whose count drops to zero are removed.
// Entries with a negative count (a retraction seen before its insertion)
// are kept but skipped by first and last.
type sortedMultiset struct {
	chunks [][]mmEntry
}

type mmEntry struct {
	d types.Datum
	n int64
}

const chunkMax = 256

// locate returns the chunk that holds or would hold d, and d's position in
// it (found reports an entry equal to d).
func (s *sortedMultiset) locate(d types.Datum) (ci, i int, found bool) {
	// The first chunk whose last entry is >= d.
	ci, _ = slices.BinarySearchFunc(s.chunks, d, func(c []mmEntry, d types.Datum) int {
		return types.Compare(c[len(c)-1].d, d)
	})
	if ci == len(s.chunks) {
		ci--
	}
	i, found = slices.BinarySearchFunc(s.chunks[ci], d, func(e mmEntry, d types.Datum) int {
		return types.Compare(e.d, d)
	})
	return ci, i, found
}

// add adds w to d's count.
func (s *sortedMultiset) add(d types.Datum, w int64) {
	if w == 0 {
		return
	}
	if len(s.chunks) == 0 {
		s.chunks = [][]mmEntry{{{d: d, n: w}}}
		return
	}
	ci, i, found := s.locate(d)
	c := s.chunks[ci]
	if found {
		c[i].n += w
		if c[i].n != 0 {
			return
		}
		c = slices.Delete(c, i, i+1)
		if len(c) == 0 {
			s.chunks = slices.Delete(s.chunks, ci, ci+1)
		} else {
			s.chunks[ci] = c
		}
		return
	}
	c = slices.Insert(c, i, mmEntry{d: d, n: w})
	if len(c) > chunkMax {
		half := len(c) / 2
		right := append(make([]mmEntry, 0, chunkMax), c[half:]...)
		clear(c[half:])
		c = c[:half]
		s.chunks = slices.Insert(s.chunks, ci+1, right)
	}
	s.chunks[ci] = c
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
