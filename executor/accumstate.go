package executor

import (
	"github.com/cockroachdb/apd/v3"
	"github.com/weirdb/weir/sql/types"
)

// The saved state of each accumulator (see statecodec.go for the codec).
// appendState appends it; restoreState reads it back into a fresh
// accumulator of the same spec.

func (a *countAcc) appendState(buf []byte) []byte { return appendStateInt(buf, a.n) }
func (a *countAcc) restoreState(r *stateReader)   { a.n = r.int() }
func (a *boolAcc) appendState(buf []byte) []byte {
	return appendStateInt(appendStateInt(buf, a.nTrue), a.nFal)
}
func (a *boolAcc) restoreState(r *stateReader)     { a.nTrue, a.nFal = r.int(), r.int() }
func (a *floatSumAcc) restoreState(r *stateReader) { a.s, a.n = r.datum().Float(), r.int() }
func (a *numericSumAcc) appendState(b []byte) []byte {
	b = appendStateInt(appendStateDecimal(b, &a.s), a.n)
	b = appendStateInt(b, int64(len(a.scales)))
	for _, sc := range a.scales {
		b = appendStateInt(appendStateInt(b, int64(sc.scale)), sc.n)
	}
	return b
}

func (a *floatSumAcc) appendState(buf []byte) []byte {
	return appendStateInt(appendStateDatum(buf, types.NewFloat64(a.s)), a.n)
}

func (a *numericSumAcc) restoreState(r *stateReader) {
	if d := r.decimal(); d != nil {
		a.s.Set(d)
	}
	a.n = r.int()
	for i := r.int(); i > 0; i-- {
		a.scales = append(a.scales, scaleCount{scale: int32(r.int()), n: r.int()})
	}
}

func (a *intSumAcc) appendState(buf []byte) []byte {
	buf = appendStateInt(appendStateInt(buf, a.s), a.n)
	if a.big == nil {
		return append(buf, 0)
	}
	return appendStateDecimal(append(buf, 1), a.big)
}

func (a *intSumAcc) restoreState(r *stateReader) {
	a.s, a.n = r.int(), r.int()
	if r.byte() == 1 {
		a.big = new(apd.Decimal)
		if d := r.decimal(); d != nil {
			a.big.Set(d)
		}
	}
}

func (a *intervalSumAcc) appendState(buf []byte) []byte {
	for _, v := range [...]int64{a.months, a.days, a.micros, a.n} {
		buf = appendStateInt(buf, v)
	}
	return buf
}

func (a *intervalSumAcc) restoreState(r *stateReader) {
	a.months, a.days, a.micros, a.n = r.int(), r.int(), r.int(), r.int()
}

// minMaxAcc: the multiset's entries in order (value, count); in
// append-only mode the current extreme as the one entry.
func (a *minMaxAcc) appendState(buf []byte) []byte {
	if a.appendOnly {
		if a.cur.IsNull() {
			return appendStateInt(buf, 0)
		}
		return appendStateInt(appendStateDatum(appendStateInt(buf, 1), a.cur), 1)
	}
	n := 0
	for _, c := range a.vals.chunks {
		n += len(c)
	}
	buf = appendStateInt(buf, int64(n))
	for _, c := range a.vals.chunks {
		for _, e := range c {
			buf = appendStateInt(appendStateDatum(buf, e.d), e.n)
		}
	}
	return buf
}

func (a *minMaxAcc) restoreState(r *stateReader) {
	n := r.int()
	if n < 0 || n > int64(len(r.b)) {
		r.fail()
		return
	}
	var c []mmEntry
	for range n {
		e := mmEntry{d: r.datum(), n: r.int()}
		if r.err != nil {
			return
		}
		if a.appendOnly {
			a.cur = e.d
			continue
		}
		if len(c) == chunkMax/2 {
			a.vals.chunks = append(a.vals.chunks, c)
			c = nil
		}
		if c == nil {
			c = make([]mmEntry, 0, chunkMax)
		}
		c = append(c, e)
	}
	if len(c) > 0 {
		a.vals.chunks = append(a.vals.chunks, c)
	}
}

// stringAggAcc: the arrival counter, then each distinct row with its
// count and arrival number.
func (a *stringAggAcc) appendState(buf []byte) []byte {
	buf = appendStateInt(appendStateInt(buf, a.seq), int64(len(a.rows)))
	for _, e := range a.rows {
		buf = appendStateInt(appendStateInt(appendStateRow(buf, e.row), e.n), e.seq)
	}
	return buf
}

func (a *stringAggAcc) restoreState(r *stateReader) {
	a.seq = r.int()
	n := r.int()
	if n < 0 || n > int64(len(r.b)) {
		r.fail()
		return
	}
	for range n {
		e := &saEntry{row: r.row(), n: r.int(), seq: r.int()}
		if r.err != nil {
			return
		}
		if a.rows == nil {
			a.rows = map[string]*saEntry{}
		}
		a.rows[string(appendRowKey(nil, e.row))] = e
	}
}

// distinctAcc: each distinct value's key bytes and count, then the inner
// accumulator's state.
func (a *distinctAcc) appendState(buf []byte) []byte {
	buf = appendStateInt(buf, int64(len(a.vals)))
	for k, n := range a.vals {
		buf = appendStateInt(appendStateBytes(buf, k), n)
	}
	return a.inner.appendState(buf)
}

func (a *distinctAcc) restoreState(r *stateReader) {
	n := r.int()
	if n < 0 || n > int64(len(r.b)) {
		r.fail()
		return
	}
	for range n {
		k := r.bytes()
		v := r.int()
		if r.err != nil {
			return
		}
		a.vals[string(k)] = v
	}
	a.inner.restoreState(r)
}
