package coord

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/weirdb/weir/executor"
	"github.com/weirdb/weir/sql/ast"
	"github.com/weirdb/weir/sql/catalog"
	"github.com/weirdb/weir/sql/sqlerr"
	"github.com/weirdb/weir/sql/types"
	"github.com/weirdb/weir/storage"
)

// Unstored sources. A source created WITH (stored = 'false') keeps no
// rows: each epoch's records flow to the views, streams and sinks that
// read it and are gone, which saves writing every record twice (its
// system already holds it) — about half of what a stored record costs. A
// query of the source itself is refused; a push query over it sees the
// records from its start on; a view created later, or rebuilt, reads the
// source's records again from the system: from the positions the source
// started at when it was created (kept with it) to those of the epoch its
// snapshot is at. That needs a system that keeps its records (a Kafka
// topic within its retention, the Nexmark generator).

// skippedOp is the state operator id, under an unstored source, of the
// records its views never got (rejected, or dropped as late): keyed by
// skipKey, so that a replay skips them again.
const skippedOp = math.MaxUint32 - 1

const (
	optStored = "stored"
	// Engine options kept with the relation, never passed to the
	// connector.
	optUnstored    = "weir.unstored"
	optStartOffset = "weir.start_offsets"
)

// unstored reports whether rel is a source that keeps no rows.
func unstored(rel *catalog.Relation) bool { return rel.Options[optUnstored] == "true" }

// connectorView is rel's options as its connector sees them.
func connectorView(opts map[string]string) map[string]string {
	if opts[optUnstored] == "" && opts[optStartOffset] == "" {
		return opts
	}
	out := make(map[string]string, len(opts))
	for k, v := range opts {
		if k != optUnstored && k != optStartOffset {
			out[k] = v
		}
	}
	return out
}

// storedOption takes WITH (stored = ...) out of opts; it sets rel
// unstored for 'false'.
func storedOption(rel *catalog.Relation, opts []*ast.Option) ([]*ast.Option, error) {
	var rest []*ast.Option
	for _, o := range opts {
		if strings.ToLower(o.Key) != optStored {
			rest = append(rest, o)
			continue
		}
		switch strings.ToLower(strings.TrimSpace(o.Value)) {
		case "true":
		case "false":
			if !rel.HasRowID() {
				return nil, sqlerr.New(sqlerr.FeatureNotSupported, "a source with a primary key must be stored").
					WithHint("Its records update and delete rows by key, which needs the rows.")
			}
			if rel.Options == nil {
				rel.Options = map[string]string{}
			}
			rel.Options[optUnstored] = "true"
		default:
			return nil, sqlerr.New(sqlerr.InvalidParameterValue, "invalid value for option \"stored\": %q", o.Value).WithHint("Give 'true' or 'false'.")
		}
	}
	return rest, nil
}

// refuseUnstored is the error of a query that reads an unstored source.
func refuseUnstored(rel *catalog.Relation) error {
	return sqlerr.New(sqlerr.FeatureNotSupported, "source \"%s\" keeps no rows (stored = 'false')", rel.Name).
		WithHint("Query a materialized view over it, or SELECT ... EMIT CHANGES to follow its records.")
}

func encodeOffsets(offs []executor.SourceOffset) string {
	b, _ := json.Marshal(offs)
	return string(b)
}

func decodeOffsets(s string) ([]executor.SourceOffset, error) {
	var offs []executor.SourceOffset
	if s == "" {
		return nil, nil
	}
	err := json.Unmarshal([]byte(s), &offs)
	return offs, err
}

type partitionKey struct {
	topic     string
	partition int32
}

// committedOffsets are the positions rel's last committed epoch reached
// (call under the epoch lock for those of the current epoch).
func (c *Coordinator) committedOffsets(rel *catalog.Relation) (map[partitionKey]int64, error) {
	out := map[partitionKey]int64{}
	err := c.db.ScanSourceOffsets(rel.ID, func(topic string, partition int32, next int64) error {
		out[partitionKey{topic, partition}] = next
		return nil
	})
	return out, err
}

// skipKey is the key of the record before position o in skippedOp.
func skipKey(o executor.SourceOffset) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(o.Partition))
	b = binary.BigEndian.AppendUint64(b, uint64(o.Next))
	return append(b, o.Topic...)
}

// skipRecord notes in txn that the views of unstored source rel never got
// the record before position o.
func skipRecord(txn *storage.Txn, rel *catalog.Relation, o executor.SourceOffset) error {
	return txn.PutState(rel.ID, skippedOp, skipKey(o), []byte{})
}

// skippedRecords are the positions after the records of rel that its
// views never got.
func (c *Coordinator) skippedRecords(rel *catalog.Relation) (map[executor.SourceOffset]bool, error) {
	out := map[executor.SourceOffset]bool{}
	err := c.db.StateReader(rel.ID, skippedOp).ScanState(nil, func(key, _ []byte) error {
		if len(key) < 12 {
			return fmt.Errorf("source %q: corrupt skipped record", rel.Name)
		}
		out[executor.SourceOffset{Topic: string(key[12:]), Partition: int32(binary.BigEndian.Uint32(key)), Next: int64(binary.BigEndian.Uint64(key[4:]))}] = true
		return nil
	})
	return out, err
}

// replay reads the records of unstored source rel again, from where it
// started to upTo, and hands them to push as rows (+1). Records the views
// never got (rejected by the source or a view, or late) are skipped; a
// partition upTo does not name had nothing committed.
func (c *Coordinator) replay(ctx context.Context, rel *catalog.Relation, upTo map[partitionKey]int64, push func(*executor.Batch) error) error {
	start, err := decodeOffsets(rel.Options[optStartOffset])
	if err != nil {
		return fmt.Errorf("source %q: its start positions: %w", rel.Name, err)
	}
	pending := 0
	startAt := map[partitionKey]int64{}
	for _, o := range start {
		startAt[partitionKey{o.Topic, o.Partition}] = o.Next
	}
	for k, next := range upTo {
		if next > startAt[k] {
			pending++
		}
	}
	if pending == 0 {
		return nil
	}
	conn, err := c.connectorOf(rel.Options)
	if err != nil {
		return err
	}
	opts, err := c.withSecrets(connectorView(rel.Options))
	if err != nil {
		return err
	}
	src, err := conn.OpenSource(ctx, executor.SourceConfig{
		Name: rel.Name, Relation: rel, Options: opts, Offsets: start,
		OnError: executor.OnErrorSkip, Logger: c.logger.With("source", rel.Name, "replay", true), Replay: true,
	})
	if err != nil {
		return fmt.Errorf("source %q: replay: %w", rel.Name, err)
	}
	defer src.Close()
	skipped, err := c.skippedRecords(rel)
	if err != nil {
		return err
	}
	done := map[partitionKey]bool{}
	var b executor.SourceBatch
	for pending > 0 {
		b.Reset()
		if err := src.Poll(ctx, &b); err != nil {
			return fmt.Errorf("source %q: replay: %w", rel.Name, err)
		}
		if len(b.ChangeOffsets) != len(b.Changes) {
			return fmt.Errorf("source %q: replay needs the position of each record", rel.Name)
		}
		out := &executor.Batch{}
		for i, ch := range b.Changes {
			o := b.ChangeOffsets[i]
			k := partitionKey{o.Topic, o.Partition}
			if done[k] || o.Next > upTo[k] || ch.Op != executor.ChangeInsert || skipped[o] {
				continue
			}
			row := make(types.Row, len(rel.Columns))
			copy(row, ch.After)
			out.Append(row, 1)
		}
		if out.Len() > 0 {
			if err := push(out); err != nil {
				return err
			}
		}
		for _, o := range b.Offsets {
			k := partitionKey{o.Topic, o.Partition}
			if to, ok := upTo[k]; ok && !done[k] && o.Next >= to && to > startAt[k] {
				done[k] = true
				pending--
			}
		}
	}
	return nil
}

// replayerLocked returns how a backfill of df reads its unstored inputs:
// up to the positions of the current epoch (under the epoch lock, at the
// snapshot the backfill reads).
func (c *Coordinator) replayerLocked(df interface{ Inputs() []*catalog.Relation }) (func(context.Context, *catalog.Relation, func(*executor.Batch) error) error, error) {
	upTo := map[catalog.ID]map[partitionKey]int64{}
	for _, rel := range df.Inputs() {
		if !unstored(rel) {
			continue
		}
		offs, err := c.committedOffsets(rel)
		if err != nil {
			return nil, err
		}
		upTo[rel.ID] = offs
	}
	return func(ctx context.Context, rel *catalog.Relation, push func(*executor.Batch) error) error {
		return c.replay(ctx, rel, upTo[rel.ID], push)
	}, nil
}
