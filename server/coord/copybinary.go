package coord

import (
	"bytes"
	"context"
	"encoding/binary"

	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
)

// PostgreSQL's binary COPY format: an 11-byte signature, int32 flags, an
// int32 header extension length and the extension; then per tuple an int16
// field count (-1 is the trailer) and per field an int32 length (-1 is
// NULL) and the value in its binary wire format (types.DecodeBinary); all
// integers big-endian.
var copySignature = []byte("PGCOPY\n\377\r\n\000")

// copyHeaderLen is the fixed part of the header: signature, flags and
// extension length.
const copyHeaderLen = 11 + 4 + 4

// binErrorf is a 22P04 error about the binary stream, with the COPY
// context as detail.
func (c *copyIn) binErrorf(format string, args ...any) error {
	return sqlerr.New(sqlerr.BadCopyFileFormat, format, args...).WithDetail("COPY %s, line %d", c.table, max(c.line, 1))
}

// writeBinary takes the next CopyData payload of a binary COPY: it decodes
// every complete tuple in the buffer and keeps a partial one for the next
// payload.
func (c *copyIn) writeBinary(ctx context.Context, data []byte) error {
	c.buf = append(c.buf, data...)
	if !c.headerDone {
		n, err := c.binaryHeader(c.buf)
		if err != nil || n == 0 {
			return err
		}
		c.buf, c.headerDone = c.buf[n:], true
	}
	for !c.ended {
		n, err := c.binaryTuple(ctx, c.buf)
		if err != nil {
			return err
		}
		if n == 0 {
			break
		}
		c.buf = c.buf[n:]
	}
	if len(c.buf) > maxCopyLine {
		return sqlerr.New(sqlerr.ProgramLimitExceeded, "COPY row %d is longer than %d bytes", c.line+1, maxCopyLine)
	}
	// Keep the buffer from growing by its consumed prefix.
	if cap(c.buf) > 1<<20 && len(c.buf) < cap(c.buf)/4 {
		c.buf = append([]byte(nil), c.buf...)
	}
	return nil
}

// binaryHeader checks the header at the start of b; n is its length, 0
// while it is incomplete.
func (c *copyIn) binaryHeader(b []byte) (n int, err error) {
	if len(b) >= len(copySignature) && !bytes.Equal(b[:len(copySignature)], copySignature) {
		return 0, c.binErrorf("COPY file signature not recognized")
	}
	if len(b) < copyHeaderLen {
		return 0, nil
	}
	flags := binary.BigEndian.Uint32(b[11:])
	if flags&(1<<16) != 0 {
		return 0, c.binErrorf("invalid COPY file header (WITH OIDS)")
	}
	if flags&0xFFFF0000 != 0 {
		return 0, c.binErrorf("unrecognized critical flags in COPY file header")
	}
	ext := int32(binary.BigEndian.Uint32(b[15:]))
	if ext < 0 || ext > maxCopyLine {
		return 0, c.binErrorf("invalid COPY file header (wrong length)")
	}
	if len(b) < copyHeaderLen+int(ext) {
		return 0, nil
	}
	return copyHeaderLen + int(ext), nil
}

// binaryTuple decodes and queues the tuple (or the trailer) at the start
// of b; n is its length, 0 while it is incomplete.
func (c *copyIn) binaryTuple(ctx context.Context, b []byte) (n int, err error) {
	if len(b) < 2 {
		return 0, nil
	}
	count := int16(binary.BigEndian.Uint16(b))
	if count == -1 {
		c.ended = true
		return 2, nil
	}
	if int(count) != len(c.ins.Types) {
		c.line++
		return 0, c.binErrorf("row field count is %d, expected %d", count, len(c.ins.Types))
	}
	// Find the end of the tuple first, so that a partial one waits whole.
	pos := 2
	for range int(count) {
		if len(b) < pos+4 {
			return 0, nil
		}
		size := int32(binary.BigEndian.Uint32(b[pos:]))
		pos += 4
		if size == -1 {
			continue
		}
		if size < -1 {
			c.line++
			return 0, c.binErrorf("invalid field size")
		}
		if len(b) < pos+int(size) {
			return 0, nil
		}
		pos += int(size)
	}
	c.line++
	row := make(types.Row, count)
	p := 2
	for i := range row {
		size := int32(binary.BigEndian.Uint32(b[p:]))
		p += 4
		if size == -1 {
			continue
		}
		d, err := types.DecodeBinary(c.ins.Types[i], b[p:p+int(size)])
		if err != nil {
			return 0, sqlerr.From(err).WithDetail("COPY %s, line %d, column %d", c.table, c.line, i+1)
		}
		row[i] = d
		p += int(size)
	}
	c.batch = append(c.batch, row)
	if len(c.batch) >= copyBatchRows {
		if err := c.flush(ctx); err != nil {
			return 0, err
		}
	}
	return pos, nil
}

// endBinary checks the stream at CopyDone: a missing trailer is accepted
// at a tuple boundary, as PostgreSQL does, a partial tuple is not.
func (c *copyIn) endBinary() error {
	if c.ended {
		return nil
	}
	if !c.headerDone {
		return c.binErrorf("COPY file signature not recognized")
	}
	if len(c.buf) > 0 {
		c.line++
		return c.binErrorf("unexpected EOF in COPY data")
	}
	return nil
}

// appendBinaryRow appends one tuple of a binary COPY TO: the field count,
// then each field's length (-1 for NULL) and binary value.
func appendBinaryRow(buf []byte, row types.Row) ([]byte, error) {
	buf = binary.BigEndian.AppendUint16(buf, uint16(len(row)))
	for _, d := range row {
		if d.IsNull() {
			buf = binary.BigEndian.AppendUint32(buf, 0xFFFFFFFF)
			continue
		}
		at := len(buf)
		buf = append(buf, 0, 0, 0, 0)
		var err error
		if buf, err = types.AppendBinary(buf, d); err != nil {
			return buf, err
		}
		binary.BigEndian.PutUint32(buf[at:], uint32(len(buf)-at-4))
	}
	return buf, nil
}

// appendBinaryHeader appends the header of a binary COPY TO: no flags, no
// extension.
func appendBinaryHeader(buf []byte) []byte {
	buf = append(buf, copySignature...)
	return append(buf, 0, 0, 0, 0, 0, 0, 0, 0)
}

// appendBinaryTrailer appends the end of a binary COPY TO, after the
// header when there were no rows.
func appendBinaryTrailer(buf []byte, header bool) []byte {
	if header {
		buf = appendBinaryHeader(buf)
	}
	return binary.BigEndian.AppendUint16(buf, 0xFFFF)
}
