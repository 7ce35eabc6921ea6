package storage

import (
	"encoding/binary"

	"github.com/weirdb/weir/sql/catalog"
)

// Keyspace bytes; see the package documentation for the layout.
const (
	ksCatalog byte = 0x01
	ksMeta    byte = 0x02
	ksOffsets byte = 0x03 // source offsets
	ksEpoch   byte = 0x04 // reserved for the last committed epoch
	ksSinkLog byte = 0x05 // changes sinks have yet to deliver
	ksState   byte = 0x10 // reserved for operator state
	ksTable   byte = 0x20
	ksView    byte = 0x30 // reserved for materialized view rows
)

// Metadata names under ksMeta.
const (
	metaNextID = "next_id"
	metaFormat = "format"
)

// formatVersion is the on-disk format this code writes and reads. Opening a
// store with a greater version fails.
const formatVersion = 1

// firstObjectID is the first id NextID hands out; ids double as table OIDs
// and PostgreSQL reserves those below 16384 for system objects.
const firstObjectID = 16384

func appendObjectPrefix(buf []byte, ks byte, id uint64) []byte {
	buf = append(buf, ks)
	return binary.BigEndian.AppendUint64(buf, id)
}

func catalogKey(id uint64) []byte { return appendObjectPrefix(nil, ksCatalog, id) }

func metaKey(name string) []byte { return append([]byte{ksMeta}, name...) }

func tablePrefix(buf []byte, id catalog.ID) []byte {
	return appendObjectPrefix(buf, ksTable, uint64(id))
}

// tableBounds returns [lower, upper) covering every row of table id.
func tableBounds(id catalog.ID) (lower, upper []byte) {
	lower = tablePrefix(nil, id)
	return lower, prefixEnd(lower)
}

// prefixEnd returns the smallest key greater than every key with the given
// prefix, or nil (no upper bound) when the prefix is all 0xff.
func prefixEnd(prefix []byte) []byte {
	end := append([]byte(nil), prefix...)
	for i := len(end) - 1; i >= 0; i-- {
		end[i]++
		if end[i] != 0 {
			return end[:i+1]
		}
	}
	return nil
}
