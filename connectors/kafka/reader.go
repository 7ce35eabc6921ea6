package kafka

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// StartKind says where a partition with no stored offset starts.
type StartKind uint8

const (
	// StartEarliest reads a partition from its first retained record.
	StartEarliest StartKind = iota
	// StartLatest reads only records produced after the reader started.
	StartLatest
	// StartTimestamp reads from the first record stamped at or after
	// StartPosition.Millis.
	StartTimestamp
)

// StartPosition is scan.startup: where partitions begin at a source's
// first start, without stored offsets. Partitions found later (discovered
// after the reader started, or created while it was stopped) always begin
// at their earliest record, so that nothing written to them is missed.
type StartPosition struct {
	Kind   StartKind
	Millis int64 // for StartTimestamp: milliseconds since 1970
}

// TopicPartition names one partition of one topic.
type TopicPartition struct {
	Topic     string
	Partition int32
}

// PartitionOffset is the offset of the next record to read in a partition:
// what the engine stores with an epoch, and gives back in Options.Offsets.
type PartitionOffset struct {
	TopicPartition
	Next int64
}

// Header is one Kafka record header.
type Header struct {
	Key   string
	Value []byte
}

// Record is one Kafka record as the reader hands it out.
type Record struct {
	Topic     string
	Partition int32
	Offset    int64
	Timestamp time.Time
	Key       []byte // nil for a null key
	Value     []byte // nil for a tombstone
	Headers   []Header
}

// TopicPartition is the partition the record came from.
func (r *Record) TopicPartition() TopicPartition {
	return TopicPartition{Topic: r.Topic, Partition: r.Partition}
}

// Batch is what one Poll returns. Its slices belong to the Reader and are
// reused by the next Poll: copy what must outlive it. The bytes of Key,
// Value and header values are never overwritten by the reader (each fetch
// decodes into fresh memory), so keeping a Record's bytes is safe.
type Batch struct {
	Records []Record
	// Next holds, for every partition with records in this batch, the
	// offset after its last record, sorted by topic then partition.
	// Committing Next with what was derived from Records resumes exactly
	// after them.
	Next []PartitionOffset
}

// Options configure a Reader. Zero values take the defaults named on each
// field (see ensureDefaults).
type Options struct {
	Brokers []string // host:port seeds; required
	Topics  []string // each must exist; or TopicPattern
	// TopicPattern, instead of Topics, reads every topic whose whole name
	// it matches (but Kafka's internal ones, named __*), and the topics
	// created later that match, from their start.
	TopicPattern *regexp.Regexp
	ClientID     string // default "weir"
	// Startup is where the partitions begin the first time, without
	// Offsets.
	Startup StartPosition
	// Offsets are the next offsets stored with the last committed epoch.
	// An offset no longer retained moves to the nearest retained one. A
	// partition absent from them (given some) was created since the last
	// start, and begins at its earliest record like one discovered later:
	// nothing written to it is missed.
	Offsets []PartitionOffset
	// Timeout bounds connecting and each metadata request; default 10s.
	Timeout time.Duration
	// DiscoverInterval is how often new partitions are looked for;
	// default 30s.
	DiscoverInterval time.Duration
	// FetchMaxBytes bounds one fetch response, and MaxConcurrentFetches
	// how many are buffered at once: together they bound the memory a
	// reader holds ahead of Poll. Defaults 16 MiB and 2.
	FetchMaxBytes        int32
	MaxConcurrentFetches int
	Logger               *slog.Logger // default: discards
	// Properties configure security (SASL, TLS); see Properties.
	Properties Properties
	// ReadCommitted reads only records of committed transactions (and
	// those written outside any), as far as the last stable offset: the
	// isolation level a sink's exactly-once output is read with.
	// StartLatest then means that offset.
	ReadCommitted bool
}

func (o *Options) ensureDefaults() {
	if o.ClientID == "" {
		o.ClientID = "weir"
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.DiscoverInterval <= 0 {
		o.DiscoverInterval = 30 * time.Second
	}
	if o.FetchMaxBytes <= 0 {
		o.FetchMaxBytes = 16 << 20
	}
	if o.MaxConcurrentFetches <= 0 {
		o.MaxConcurrentFetches = 2
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

func (o *Options) validate() error {
	if len(o.Brokers) == 0 {
		return errors.New("kafka: no brokers given")
	}
	if len(o.Topics) == 0 && o.TopicPattern == nil {
		return errors.New("kafka: no topics given")
	}
	if len(o.Topics) > 0 && o.TopicPattern != nil {
		return errors.New("kafka: both topics and a topic pattern given")
	}
	if o.Startup.Kind > StartTimestamp {
		return fmt.Errorf("kafka: unknown startup position %d", o.Startup.Kind)
	}
	return nil
}

// ErrClosed is returned by a Reader or Writer once it is closed.
var ErrClosed = errors.New("kafka: closed")

// Reader reads a fixed set of topics without a consumer group: it assigns
// every partition to itself, starting at the offsets it is given. Poll,
// Pause, Resume and Close may be called from different goroutines, but
// Poll from one goroutine at a time.
type Reader struct {
	opts Options
	conn

	mu       sync.Mutex
	assigned map[TopicPartition]int64 // start offsets; guarded by mu
	// ends are the partitions' ends as of their last fetch with records;
	// guarded by mu.
	ends map[TopicPartition]int64

	stop      chan struct{}
	discovery sync.WaitGroup
	closeOnce sync.Once

	batch Batch
	last  map[TopicPartition]int // index into batch.Next, reused per Poll

	health connHealth
}

// connHealth remembers the last failure to connect to a broker, until a
// connection succeeds: a Poll that waits for records cannot tell a quiet
// topic from a lost cluster, this can.
type connHealth struct {
	mu  sync.Mutex
	err error
}

// OnBrokerConnect implements kgo.HookBrokerConnect.
func (h *connHealth) OnBrokerConnect(meta kgo.BrokerMetadata, _ time.Duration, _ net.Conn, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err != nil {
		h.err = fmt.Errorf("kafka: cannot connect to broker %s:%d: %w", meta.Host, meta.Port, err)
	} else {
		h.err = nil
	}
}

// Health returns why the reader cannot reach the cluster now, or nil.
func (r *Reader) Health() error {
	r.health.mu.Lock()
	defer r.health.mu.Unlock()
	return r.health.err
}

// NewReader connects to the brokers, finds the topics' partitions and starts
// fetching. It fails within opts.Timeout when no broker answers or a topic
// does not exist.
func NewReader(ctx context.Context, opts Options) (*Reader, error) {
	opts.ensureDefaults()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	isolation := kgo.ReadUncommitted()
	if opts.ReadCommitted {
		isolation = kgo.ReadCommitted()
	}
	r := &Reader{
		opts:     opts,
		assigned: make(map[TopicPartition]int64),
		ends:     make(map[TopicPartition]int64),
		stop:     make(chan struct{}),
		last:     make(map[TopicPartition]int),
	}
	c, err := newConn(opts.Brokers, opts.ClientID, opts.Timeout, opts.Properties,
		kgo.WithHooks(&r.health),
		kgo.FetchMaxBytes(opts.FetchMaxBytes),
		kgo.FetchMaxPartitionBytes(opts.FetchMaxBytes),
		kgo.MaxConcurrentFetches(opts.MaxConcurrentFetches),
		kgo.FetchMaxWait(500*time.Millisecond),
		kgo.FetchIsolationLevel(isolation),
		// Offsets given by the engine that retention removed: start at
		// the oldest record still there.
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	)
	if err != nil {
		return nil, err
	}
	r.conn = c
	parts, err := r.topicPartitions(ctx)
	if err != nil {
		c.client.Close()
		return nil, err
	}
	stored := make(map[TopicPartition]int64, len(opts.Offsets))
	for _, po := range opts.Offsets {
		stored[po.TopicPartition] = po.Next
	}
	var unstored []TopicPartition
	for _, tp := range parts {
		if _, ok := stored[tp]; !ok {
			unstored = append(unstored, tp)
		}
	}
	start := opts.Startup
	if len(opts.Offsets) > 0 {
		start = StartPosition{Kind: StartEarliest}
	}
	resolved, err := r.listOffsets(ctx, unstored, start, opts.ReadCommitted)
	if err != nil {
		c.client.Close()
		return nil, err
	}
	assign := make(map[string]map[int32]kgo.Offset)
	for _, tp := range parts {
		at, ok := stored[tp]
		if !ok {
			at = resolved[tp]
		}
		r.add(assign, tp, at)
	}
	r.client.AddConsumePartitions(assign)
	r.discovery.Add(1)
	go r.discover()
	return r, nil
}

// topicPartitions lists the partitions of the topics read: Topics, or
// those TopicPattern matches now.
func (r *Reader) topicPartitions(ctx context.Context) ([]TopicPartition, error) {
	if r.opts.TopicPattern == nil {
		return r.partitions(ctx, r.opts.Topics)
	}
	metas, err := r.metadata(ctx, nil)
	if err != nil {
		return nil, err
	}
	var parts []TopicPartition
	for _, tm := range metas {
		if strings.HasPrefix(tm.name, "__") || !r.opts.TopicPattern.MatchString(tm.name) {
			continue
		}
		for _, p := range tm.partitions {
			parts = append(parts, TopicPartition{Topic: tm.name, Partition: p.partition})
		}
	}
	return parts, nil
}

// topics are the topics read now.
func (r *Reader) topics() []string {
	if r.opts.TopicPattern == nil {
		return r.opts.Topics
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for tp := range r.assigned {
		if !slices.Contains(out, tp.Topic) {
			out = append(out, tp.Topic)
		}
	}
	return out
}

// add records tp as assigned from offset at; the caller holds mu or owns
// r alone.
func (r *Reader) add(assign map[string]map[int32]kgo.Offset, tp TopicPartition, at int64) {
	if assign[tp.Topic] == nil {
		assign[tp.Topic] = make(map[int32]kgo.Offset)
	}
	assign[tp.Topic][tp.Partition] = kgo.NewOffset().At(at)
	r.assigned[tp] = at
}

// StartOffsets returns the offset each assigned partition started at: the
// stored one, or the startup position resolved to an exact offset when the
// reader started (for partitions found later, their earliest). The engine
// stores these with its first epoch, so that a partition it has not read
// from yet resumes at the same place after a crash, rather than at a
// "latest" that has moved on. The slice is the caller's, sorted by topic
// then partition.
func (r *Reader) StartOffsets() []PartitionOffset {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]PartitionOffset, 0, len(r.assigned))
	for tp, at := range r.assigned {
		out = append(out, PartitionOffset{TopicPartition: tp, Next: at})
	}
	sortOffsets(out)
	return out
}

func sortOffsets(pos []PartitionOffset) {
	slices.SortFunc(pos, func(a, b PartitionOffset) int {
		return cmp.Or(cmp.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition))
	})
}

// discover assigns partitions added to the topics after the reader started,
// from their earliest record.
func (r *Reader) discover() {
	defer r.discovery.Done()
	tick := time.NewTicker(r.opts.DiscoverInterval)
	defer tick.Stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-r.stop
		cancel()
	}()
	for {
		select {
		case <-r.stop:
			return
		case <-tick.C:
		}
		parts, err := r.topicPartitions(ctx)
		if err != nil {
			r.opts.Logger.Warn("kafka: partition discovery failed", "err", err)
			continue
		}
		var found []TopicPartition
		r.mu.Lock()
		for _, tp := range parts {
			if _, ok := r.assigned[tp]; !ok {
				found = append(found, tp)
			}
		}
		r.mu.Unlock()
		if len(found) == 0 {
			continue
		}
		earliest, err := r.listOffsets(ctx, found, StartPosition{Kind: StartEarliest}, r.opts.ReadCommitted)
		if err != nil {
			r.opts.Logger.Warn("kafka: partition discovery failed", "err", err)
			continue
		}
		assign := make(map[string]map[int32]kgo.Offset)
		r.mu.Lock()
		for _, tp := range found {
			r.add(assign, tp, earliest[tp])
		}
		r.mu.Unlock()
		if len(assign) > 0 {
			r.opts.Logger.Info("kafka: new partitions", "partitions", assign)
			r.client.AddConsumePartitions(assign)
		}
	}
}

// Poll returns up to max records, waiting until at least one is available,
// ctx is done (an empty Batch and ctx's error) or the reader is closed
// (ErrClosed). The Batch is valid until the next Poll.
func (r *Reader) Poll(ctx context.Context, max int) (Batch, error) {
	select {
	case <-r.stop:
		return Batch{}, ErrClosed
	default:
	}
	r.batch.Records = r.batch.Records[:0]
	r.batch.Next = r.batch.Next[:0]
	clear(r.last)
	for len(r.batch.Records) == 0 {
		fetches := r.client.PollRecords(ctx, max)
		if fetches.IsClientClosed() {
			return Batch{}, ErrClosed
		}
		fetches.EachError(func(topic string, partition int32, err error) {
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				return
			}
			// franz-go retries what can be retried; what it reports
			// per partition is worth a log line, not a stopped source.
			r.opts.Logger.Warn("kafka: fetch", "topic", topic, "partition", partition, "err", err)
		})
		fetches.EachRecord(func(kr *kgo.Record) {
			r.append(kr)
		})
		r.noteEnds(fetches)
		if len(r.batch.Records) == 0 {
			if err := ctx.Err(); err != nil {
				return Batch{}, err
			}
			select {
			case <-r.stop:
				return Batch{}, ErrClosed
			default:
			}
		}
	}
	sortOffsets(r.batch.Next)
	return r.batch, nil
}

func (r *Reader) append(kr *kgo.Record) {
	var rec *Record
	if n := len(r.batch.Records); n < cap(r.batch.Records) {
		r.batch.Records = r.batch.Records[:n+1]
		rec = &r.batch.Records[n]
	} else {
		r.batch.Records = append(r.batch.Records, Record{})
		rec = &r.batch.Records[n]
	}
	headers := rec.Headers[:0]
	for _, h := range kr.Headers {
		headers = append(headers, Header{Key: h.Key, Value: h.Value})
	}
	*rec = Record{
		Topic: kr.Topic, Partition: kr.Partition, Offset: kr.Offset,
		Timestamp: kr.Timestamp, Key: kr.Key, Value: kr.Value, Headers: headers,
	}
	tp := TopicPartition{Topic: kr.Topic, Partition: kr.Partition}
	if i, ok := r.last[tp]; ok {
		r.batch.Next[i].Next = kr.Offset + 1
		return
	}
	r.last[tp] = len(r.batch.Next)
	r.batch.Next = append(r.batch.Next, PartitionOffset{TopicPartition: tp, Next: kr.Offset + 1})
}

// noteEnds records the end of every partition fetched: its high
// watermark, or its last stable offset when reading committed records.
func (r *Reader) noteEnds(fetches kgo.Fetches) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fetches.EachPartition(func(p kgo.FetchTopicPartition) {
		if p.Err != nil {
			return
		}
		end := p.HighWatermark
		if r.opts.ReadCommitted {
			end = p.LastStableOffset
		}
		r.ends[TopicPartition{Topic: p.Topic, Partition: p.Partition}] = end
	})
}

// Ends returns the end offset (the offset the next record will have) of
// every partition Poll returned records of, as of the fetch that brought
// its last ones: franz-go hands out no fetch without records, so an end
// moves only as records are read. The map is the caller's.
func (r *Reader) Ends() map[TopicPartition]int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.ends)
}

// Pause stops fetching from every partition, including ones discovered
// while paused; records already buffered are not returned until Resume.
// The position of each partition is kept: Resume goes on where Poll left.
func (r *Reader) Pause() {
	r.client.PauseFetchTopics(r.topics()...)
}

// Resume undoes Pause.
func (r *Reader) Resume() {
	r.client.ResumeFetchTopics(r.topics()...)
}

// Close stops fetching and discovery, closes the connections and wakes a
// Poll in progress (which returns ErrClosed). It may be called more than
// once and concurrently with Poll.
func (r *Reader) Close() {
	r.closeOnce.Do(func() {
		close(r.stop)
		r.discovery.Wait()
		r.client.Close()
	})
}
