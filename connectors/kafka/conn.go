package kafka

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// conn is a franz-go client together with what its errors name: the seed
// brokers, and the timeout that bounds connecting and each request.
type conn struct {
	client  *kgo.Client
	brokers []string
	timeout time.Duration
}

// newConn makes a client of the brokers; it connects lazily, on the first
// request. opts come after the common options, and props after them all.
func newConn(brokers []string, clientID string, timeout time.Duration, props Properties, opts ...kgo.Opt) (conn, error) {
	security, err := props.clientOpts()
	if err != nil {
		return conn{}, err
	}
	all := append([]kgo.Opt{
		kgo.SeedBrokers(brokers...),
		kgo.ClientID(clientID),
		kgo.DialTimeout(timeout),
		kgo.RetryTimeout(timeout),
	}, opts...)
	client, err := kgo.NewClient(append(all, security...)...)
	if err != nil {
		return conn{}, fmt.Errorf("kafka: %w", err)
	}
	return conn{client: client, brokers: brokers, timeout: timeout}, nil
}

// topicMetadata is what a metadata request says of one topic.
type topicMetadata struct {
	name       string
	id         [16]byte // what fetch requests name the topic by (v13+)
	partitions []partitionLeader
}

type partitionLeader struct {
	partition, leader int32
}

// metadata asks the cluster about topics. A topic that does not exist is an
// error wrapping kerr.UnknownTopicOrPartition.
func (c conn) metadata(ctx context.Context, topics []string) ([]topicMetadata, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req := kmsg.NewPtrMetadataRequest()
	for _, t := range topics {
		rt := kmsg.NewMetadataRequestTopic()
		rt.Topic = kmsg.StringPtr(t)
		req.Topics = append(req.Topics, rt)
	}
	resp, err := req.RequestWith(ctx, c.client)
	if err != nil {
		return nil, fmt.Errorf("kafka: brokers %v: cannot read metadata within %v: %w", c.brokers, c.timeout, err)
	}
	out := make([]topicMetadata, 0, len(resp.Topics))
	for _, t := range resp.Topics {
		var name string
		if t.Topic != nil {
			name = *t.Topic
		}
		if err := kerr.ErrorForCode(t.ErrorCode); err != nil {
			return nil, fmt.Errorf("kafka: topic %q: %w", name, err)
		}
		tm := topicMetadata{name: name, id: t.TopicID}
		for _, p := range t.Partitions {
			tm.partitions = append(tm.partitions, partitionLeader{partition: p.Partition, leader: p.Leader})
		}
		slices.SortFunc(tm.partitions, func(a, b partitionLeader) int { return cmp.Compare(a.partition, b.partition) })
		out = append(out, tm)
	}
	return out, nil
}

// partitions lists the partitions of topics.
func (c conn) partitions(ctx context.Context, topics []string) ([]TopicPartition, error) {
	metas, err := c.metadata(ctx, topics)
	if err != nil {
		return nil, err
	}
	var parts []TopicPartition
	for _, tm := range metas {
		for _, p := range tm.partitions {
			parts = append(parts, TopicPartition{Topic: tm.name, Partition: p.partition})
		}
	}
	return parts, nil
}

// Timestamps that ListOffsets reads as the log's end and start.
const (
	listLatest   = -1
	listEarliest = -2
)

// listOffsets resolves pos to an exact offset in each of tps. A timestamp
// after every record resolves to the end of the log. With readCommitted the
// end is the last stable offset (before the first record of a transaction
// still open), else the high watermark.
func (c conn) listOffsets(ctx context.Context, tps []TopicPartition, pos StartPosition, readCommitted bool) (map[TopicPartition]int64, error) {
	out := make(map[TopicPartition]int64, len(tps))
	if len(tps) == 0 {
		return out, nil
	}
	ts := int64(listEarliest)
	switch pos.Kind {
	case StartLatest:
		ts = listLatest
	case StartTimestamp:
		ts = pos.Millis
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req := kmsg.NewPtrListOffsetsRequest()
	req.ReplicaID = -1
	if readCommitted {
		req.IsolationLevel = 1
	}
	byTopic := make(map[string]int)
	for _, tp := range tps {
		i, ok := byTopic[tp.Topic]
		if !ok {
			i = len(req.Topics)
			byTopic[tp.Topic] = i
			rt := kmsg.NewListOffsetsRequestTopic()
			rt.Topic = tp.Topic
			req.Topics = append(req.Topics, rt)
		}
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Partition, rp.Timestamp, rp.CurrentLeaderEpoch = tp.Partition, ts, -1
		req.Topics[i].Partitions = append(req.Topics[i].Partitions, rp)
	}
	resp, err := req.RequestWith(ctx, c.client)
	if err != nil {
		return nil, fmt.Errorf("kafka: brokers %v: cannot list offsets within %v: %w", c.brokers, c.timeout, err)
	}
	var pastEnd []TopicPartition
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			tp := TopicPartition{Topic: t.Topic, Partition: p.Partition}
			if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
				return nil, fmt.Errorf("kafka: topic %q partition %d: %w", tp.Topic, tp.Partition, err)
			}
			if p.Offset < 0 {
				pastEnd = append(pastEnd, tp)
				continue
			}
			out[tp] = p.Offset
		}
	}
	if len(pastEnd) > 0 && ts != listLatest {
		ends, err := c.listOffsets(ctx, pastEnd, StartPosition{Kind: StartLatest}, readCommitted)
		if err != nil {
			return nil, err
		}
		maps.Copy(out, ends)
	}
	for _, tp := range tps {
		if _, ok := out[tp]; !ok {
			return nil, fmt.Errorf("kafka: topic %q partition %d: no offset listed", tp.Topic, tp.Partition)
		}
	}
	return out, nil
}
