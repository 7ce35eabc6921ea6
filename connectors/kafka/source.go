package kafka

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/weirdb/weir/connectors/format"
	"github.com/weirdb/weir/executor"
	"github.com/weirdb/weir/sql/types"
)

var (
	_ executor.Source         = (*source)(nil)
	_ executor.DeadLetterer   = (*source)(nil)
	_ executor.HealthReporter = (*source)(nil)
	_ executor.LagReporter    = (*source)(nil)
)

// source is a Kafka source (executor.Source): a Reader whose records a
// format decoder turns into changes of the relation.
type source struct {
	reader  *Reader
	dec     format.Decoder
	meta    []metadataColumn
	onError executor.OnError
	max     int
	dlq     *Writer // nil unless dlq.topic is set

	// recs are the records of the last Reader.Poll not yet decoded, from
	// recs[pos]; their batch's offsets in batchNext. A Poll that stops
	// early (a transient decode error: the schema registry is down) goes
	// on from there next time.
	recs      []Record
	pos       int
	batchNext []PartitionOffset
	next      map[TopicPartition]int64 // offsets reached in the Poll being built

	dlqMsgs []Message
	dlqSeq  uint64

	// committed are the offsets of the last committed batch by partition
	// (Committed), which Lag measures from; guarded by mu.
	mu        sync.Mutex
	committed map[TopicPartition]int64
}

// Poll implements executor.Source.
func (s *source) Poll(ctx context.Context, b *executor.SourceBatch) error {
	if s.pos >= len(s.recs) {
		batch, err := s.reader.Poll(ctx, s.max)
		if err != nil {
			return err
		}
		s.recs, s.pos = batch.Records, 0
		s.batchNext = append(s.batchNext[:0], batch.Next...)
	}
	clear(s.next)
	defer s.fillOffsets(b)
	for ; s.pos < len(s.recs); s.pos++ {
		rec := &s.recs[s.pos]
		tp := TopicPartition{Topic: rec.Topic, Partition: rec.Partition}
		b.Bytes += int64(len(rec.Key) + len(rec.Value))
		var ch executor.Change
		if err := s.dec.Decode(ctx, rec.Key, rec.Value, &ch); err != nil {
			var fe *format.Error
			if !errors.As(err, &fe) {
				// Not the record's fault: deliver what was decoded, and
				// meet the error again at this record on the next Poll.
				if len(b.Changes) > 0 || len(b.Rejects) > 0 {
					return nil
				}
				return fmt.Errorf("kafka: %s[%d] offset %d: %w", rec.Topic, rec.Partition, rec.Offset, err)
			}
			// Reported also when skipped: the engine counts them.
			b.Rejects = append(b.Rejects, executor.Reject{
				Topic: rec.Topic, Partition: rec.Partition, Offset: rec.Offset, Timestamp: rec.Timestamp,
				Key: clone(rec.Key), Value: clone(rec.Value), Err: fe.Error(),
			})
			if s.onError == executor.OnErrorFail {
				b.Failed = true
				return nil
			}
			s.next[tp] = rec.Offset + 1
			continue
		}
		if ch.Op == executor.ChangeNone {
			s.next[tp] = rec.Offset + 1
			continue
		}
		if len(s.meta) > 0 && ch.After != nil {
			s.fillMetadata(rec, ch.After)
		}
		b.Changes = append(b.Changes, ch)
		b.ChangeOffsets = append(b.ChangeOffsets, executor.SourceOffset{Topic: rec.Topic, Partition: rec.Partition, Next: rec.Offset + 1})
		s.next[tp] = rec.Offset + 1
	}
	// The whole batch is in: its offsets also step over what the records
	// do not show (transaction markers).
	for _, n := range s.batchNext {
		s.next[n.TopicPartition] = max(s.next[n.TopicPartition], n.Next)
	}
	return nil
}

func (s *source) fillOffsets(b *executor.SourceBatch) {
	for tp, next := range s.next {
		b.Offsets = append(b.Offsets, executor.SourceOffset{Topic: tp.Topic, Partition: tp.Partition, Next: next})
	}
}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}

// fillMetadata sets the metadata columns of row from rec.
func (s *source) fillMetadata(rec *Record, row types.Row) {
	for _, m := range s.meta {
		var d types.Datum
		switch m.kind {
		case "partition":
			if m.typ.Kind == types.KindInt32 {
				d = types.NewInt32(rec.Partition)
			} else {
				d = types.NewInt64(int64(rec.Partition))
			}
		case "offset":
			d = types.NewInt64(rec.Offset)
		case "timestamp":
			ts := types.TimeToTimestamp(rec.Timestamp)
			if m.typ.Kind == types.KindTimestampTZ {
				d = types.NewTimestampTZ(ts)
			} else {
				d = types.NewTimestamp(ts)
			}
		case "key":
			switch {
			case rec.Key == nil:
				d = types.Null
			case m.typ.Kind == types.KindText:
				d = types.NewText(string(rec.Key))
			default:
				d = types.NewBytea(clone(rec.Key))
			}
		case "headers":
			h := make(map[string]string, len(rec.Headers))
			for _, kv := range rec.Headers {
				h[kv.Key] = string(kv.Value)
			}
			js, _ := json.Marshal(h) // a map of strings always marshals
			d, _ = types.ParseJSONB(string(js))
		}
		row[m.col] = d
	}
}

// Committed implements executor.Source: Lag measures from b's offsets.
func (s *source) Committed(ctx context.Context, b *executor.SourceBatch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range b.Offsets {
		s.committed[TopicPartition{Topic: o.Topic, Partition: o.Partition}] = o.Next
	}
	return nil
}

// Lag implements executor.LagReporter: per partition read so far, its
// end as of the last fetch less the offset after the last record
// committed (or the offset the source started at). Transaction markers
// count as records until a record after them is read.
func (s *source) Lag() []executor.PartitionLag {
	ends := s.reader.Ends()
	start := s.reader.StartOffsets()
	out := make([]executor.PartitionLag, 0, len(ends))
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range start {
		end, ok := ends[o.TopicPartition]
		if !ok {
			continue
		}
		next, ok := s.committed[o.TopicPartition]
		if !ok {
			next = o.Next
		}
		out = append(out, executor.PartitionLag{Topic: o.Topic, Partition: o.Partition, Records: max(end-next, 0)})
	}
	return out
}

// DeadLetter implements executor.DeadLetterer: rejects go to the
// dead-letter topic, at least once (the engine calls it before their
// offsets commit).
func (s *source) DeadLetter(ctx context.Context, rejects []executor.Reject) error {
	if s.dlq == nil {
		return nil
	}
	s.dlqMsgs = s.dlqMsgs[:0]
	for _, rj := range rejects {
		s.dlqMsgs = append(s.dlqMsgs, Message{
			Key: rj.Key, Value: rj.Value,
			Headers: []Header{
				{Key: "weir.error", Value: []byte(rj.Err)},
				{Key: "weir.topic", Value: []byte(rj.Topic)},
				{Key: "weir.partition", Value: fmt.Appendf(nil, "%d", rj.Partition)},
				{Key: "weir.offset", Value: fmt.Appendf(nil, "%d", rj.Offset)},
				{Key: "weir.timestamp", Value: []byte(rj.Timestamp.UTC().Format("2006-01-02T15:04:05.000Z07:00"))},
			},
		})
	}
	s.dlqSeq++
	return s.dlq.WriteEpoch(ctx, s.dlqSeq, s.dlqMsgs)
}

// Health implements executor.HealthReporter.
func (s *source) Health() error { return s.reader.Health() }

// StartOffsets implements executor.Source.
func (s *source) StartOffsets() []executor.SourceOffset {
	start := s.reader.StartOffsets()
	out := make([]executor.SourceOffset, len(start))
	for i, o := range start {
		out[i] = executor.SourceOffset{Topic: o.Topic, Partition: o.Partition, Next: o.Next}
	}
	return out
}

// Close implements executor.Source.
func (s *source) Close() {
	s.reader.Close()
	if s.dlq != nil {
		s.dlq.Close()
	}
}
