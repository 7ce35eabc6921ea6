package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// The headers a Writer adds to every record it writes.
const (
	// HeaderEpoch holds the epoch's sequence number as decimal text.
	HeaderEpoch = "weir.epoch"
	// HeaderSink holds WriterOptions.Sink.
	HeaderSink = "weir.sink"
	// HeaderSinkID holds WriterOptions.SinkID, when set.
	HeaderSinkID = "weir.sink_id"
)

// Message is one record to write.
type Message struct {
	// Key picks the partition: murmur2 of the key modulo the partition
	// count, as Kafka's Java client does, so that a key always lands on
	// the same partition, whoever writes it (while the partition count
	// stays). Records without a key are spread over the partitions.
	Key     []byte
	Value   []byte   // nil for a tombstone
	Headers []Header // HeaderEpoch and HeaderSink are added after these
}

// WriterOptions configure a Writer. Zero values take the defaults named on
// each field (see ensureDefaults).
type WriterOptions struct {
	Brokers []string // host:port seeds; required
	Topic   string   // required
	// Sink is what every record's HeaderSink says, and what LastEpoch
	// looks for: the sink's name (for a dead-letter topic, the name of
	// the object whose rejects it holds). Required.
	Sink string
	// SinkID, when set, tells the sink from an older one of the same name
	// (dropped, then created again on the same topic), whose epochs are
	// numbered from 1 too: records carry it in HeaderSinkID, and LastEpoch
	// counts only the records that carry it.
	SinkID string
	// TransactionalID makes each WriteEpoch one Kafka transaction, so that
	// read_committed consumers see each epoch once, whole or not at all.
	// Give each sink its own, the same across restarts: a Writer started
	// with it fences (ErrFenced) the one that had it before, and aborts
	// the transaction that one left open. Empty: records are written at
	// least once by an idempotent producer (dead-letter topics).
	TransactionalID string
	// CreateTopic creates Topic if it does not exist, with Partitions
	// partitions (default 1) and the cluster's default replication. An
	// existing topic is used as it is.
	CreateTopic bool
	Partitions  int32
	ClientID    string // default "weir"
	// Timeout bounds connecting, each request, and how long a write may
	// go without a record acknowledged; default 10s.
	Timeout    time.Duration
	Logger     *slog.Logger // default: discards
	Properties Properties   // security (SASL, TLS); see Properties

	// health, when set, learns of every broker connection's outcome: a
	// sink reports from it that it cannot reach its cluster while a write
	// still waits to give up.
	health *connHealth
}

func (o *WriterOptions) ensureDefaults() {
	if o.ClientID == "" {
		o.ClientID = "weir"
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Partitions <= 0 {
		o.Partitions = 1
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

func (o *WriterOptions) validate() error {
	if len(o.Brokers) == 0 {
		return errors.New("kafka: no brokers given")
	}
	if o.Topic == "" {
		return errors.New("kafka: no topic given")
	}
	if o.Sink == "" {
		return errors.New("kafka: no sink name given")
	}
	return nil
}

// ErrFenced is returned by a transactional Writer once the broker's
// transaction is no longer the writer's own: a newer producer with the same
// transactional id started, or the broker aborted the transaction after
// its timeout (which it tells the same way, or as an invalid transaction
// state). The Writer can write no more: Close it. A new Writer takes the id
// back, fencing the other: make one only while this process owns the sink.
var ErrFenced = errors.New("kafka: producer fenced (its transactional id was taken over, or the broker aborted its transaction)")

// Writer writes a sink's epochs to one topic. It is not safe for concurrent
// use: the sink's goroutine owns it.
type Writer struct {
	opts   WriterOptions
	sink   []byte // opts.Sink, the HeaderSink value
	sinkID []byte // opts.SinkID, the HeaderSinkID value; nil for none
	// conn.client is nil after a failed write, until the next call makes
	// a new one: its producer id fences whatever the failed client left.
	conn
	// next is the least epoch not known to be committed, for a
	// transactional writer: WriteEpoch does not write the ones below.
	next uint64
	// recheck: what the topic holds is not known, at the start or after
	// a transactional write failed (perhaps after its commit reached the
	// broker). LastEpoch must tell before the next write.
	recheck bool
	fenced  bool
	closed  bool
	// recs and headers are scratch for the records of one write. The
	// client holds none of them once a write returned and all were
	// acknowledged or failed; after a failed write (fail) they are
	// dropped, since the client closed then finishes their promises in
	// goroutines of its own, after Close returned.
	recs    []kgo.Record
	headers []kgo.RecordHeader
	// beforeCommit, when set by a test, runs between flush and commit.
	beforeCommit func()
}

// keptScratchRecords bounds the scratch a Writer keeps between writes: an
// epoch far larger than the usual does not hold its memory forever.
const keptScratchRecords = 1 << 16

func (w *Writer) dropLargeScratch() {
	if cap(w.recs) > keptScratchRecords {
		w.recs, w.headers = nil, nil
	}
}

// NewWriter connects to the brokers, checks that the topic exists (or
// creates it, with CreateTopic) and initializes the producer id, which for
// a transactional writer fences any older one with the same id. It fails
// within opts.Timeout, naming the brokers, when none answers.
func NewWriter(ctx context.Context, opts WriterOptions) (*Writer, error) {
	opts.ensureDefaults()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	w := &Writer{opts: opts, sink: []byte(opts.Sink), recheck: opts.TransactionalID != ""}
	if opts.SinkID != "" {
		w.sinkID = []byte(opts.SinkID)
	}
	if err := w.connect(ctx); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *Writer) transactional() bool { return w.opts.TransactionalID != "" }

// connect makes w.conn.client.
func (w *Writer) connect(ctx context.Context) error {
	producer := []kgo.Opt{
		// franz-go's default, stated because key placement is part of
		// the contract: murmur2 of non-nil keys, like the Java client.
		kgo.RecordPartitioner(kgo.UniformBytesPartitioner(64<<10, true, true, nil)),
	}
	if w.transactional() {
		producer = append(producer, kgo.TransactionalID(w.opts.TransactionalID))
	}
	if w.opts.health != nil {
		producer = append(producer, kgo.WithHooks(w.opts.health))
	}
	c, err := newConn(w.opts.Brokers, w.opts.ClientID, w.opts.Timeout, w.opts.Properties, producer...)
	if err != nil {
		return err
	}
	if err := w.ensureTopic(ctx, c); err != nil {
		c.client.Close()
		return err
	}
	ictx, cancel := context.WithTimeout(ctx, w.opts.Timeout)
	defer cancel()
	if _, _, err := c.client.ProducerID(ictx); err != nil {
		c.client.Close()
		return fmt.Errorf("kafka: brokers %v: cannot initialize a producer id within %v: %w", w.opts.Brokers, w.opts.Timeout, err)
	}
	w.conn = c
	return nil
}

// ensureTopic checks that the topic exists, creating it if asked to.
func (w *Writer) ensureTopic(ctx context.Context, c conn) error {
	_, err := c.metadata(ctx, []string{w.opts.Topic})
	if err == nil || !w.opts.CreateTopic || !errors.Is(err, kerr.UnknownTopicOrPartition) {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, w.opts.Timeout)
	defer cancel()
	req := kmsg.NewPtrCreateTopicsRequest()
	req.TimeoutMillis = int32(w.opts.Timeout.Milliseconds())
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = w.opts.Topic, w.opts.Partitions, -1
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, c.client)
	if err != nil {
		return fmt.Errorf("kafka: brokers %v: cannot create topic %q within %v: %w", w.opts.Brokers, w.opts.Topic, w.opts.Timeout, err)
	}
	if len(resp.Topics) != 1 {
		return fmt.Errorf("kafka: creating topic %q: %d topics in the response", w.opts.Topic, len(resp.Topics))
	}
	t := resp.Topics[0]
	switch err := kerr.ErrorForCode(t.ErrorCode); {
	case err == nil:
		w.opts.Logger.Info("kafka: created topic", "topic", w.opts.Topic, "partitions", w.opts.Partitions)
	case errors.Is(err, kerr.TopicAlreadyExists): // created meanwhile by someone else
	default:
		if t.ErrorMessage != nil {
			err = fmt.Errorf("%w: %s", err, *t.ErrorMessage)
		}
		return fmt.Errorf("kafka: creating topic %q: %w", w.opts.Topic, err)
	}
	return nil
}

// ready returns why w cannot write, or makes a new client after a failure.
func (w *Writer) ready(ctx context.Context) error {
	switch {
	case w.closed:
		return ErrClosed
	case w.fenced:
		return ErrFenced
	case w.client != nil:
		return nil
	}
	w.opts.Logger.Info("kafka: writer reconnecting", "topic", w.opts.Topic)
	return w.connect(ctx)
}

// WriteEpoch writes msgs as epoch seq. A transactional writer writes them in
// one transaction, committed before WriteEpoch returns nil; on error nothing
// of the epoch is visible to read_committed consumers, and the caller may
// retry (the next call reconnects). It never writes an epoch the topic
// holds already: not one up to the last that LastEpoch found (which it
// asks itself before its first write and after a failure, when the caller
// did not), nor one it committed, so retrying an epoch whose commit had an
// unknown outcome does not repeat it. After ErrFenced the writer is of no
// more use.
//
// A non-transactional writer returns once every record is acknowledged;
// after an error some may have been written, and retrying writes them
// again (at least once).
//
// An epoch without messages writes nothing: LastEpoch cannot find it.
// WriteEpoch fails when no record is acknowledged for Timeout (a cluster
// that went away); it returns by then or by ctx's end, plus at most Timeout
// to abort a failed transaction.
func (w *Writer) WriteEpoch(ctx context.Context, seq uint64, msgs []Message) error {
	if err := w.ready(ctx); err != nil {
		return err
	}
	if w.recheck {
		if _, _, err := w.LastEpoch(ctx); err != nil {
			return err
		}
	}
	if w.transactional() && seq < w.next {
		return nil
	}
	if len(msgs) > 0 {
		if err := w.write(ctx, seq, msgs); err != nil {
			return w.fail(ctx, seq, err)
		}
	}
	if w.transactional() {
		w.next = seq + 1
	}
	return nil
}

func (w *Writer) write(ctx context.Context, seq uint64, msgs []Message) error {
	cl := w.client
	if w.transactional() {
		if err := cl.BeginTransaction(); err != nil {
			return err
		}
	}
	var (
		finished atomic.Int64 // records acknowledged or failed
		mu       sync.Mutex
		first    error
	)
	promise := func(_ *kgo.Record, err error) {
		finished.Add(1)
		if err != nil {
			mu.Lock()
			if first == nil {
				first = err
			}
			mu.Unlock()
		}
	}
	pctx, stop := w.whileProgressing(ctx, &finished)
	epoch := strconv.AppendUint(nil, seq, 10)
	tags := 2
	if w.sinkID != nil {
		tags++
	}
	nheaders := tags * len(msgs)
	for i := range msgs {
		nheaders += len(msgs[i].Headers)
	}
	if cap(w.recs) < len(msgs) {
		w.recs = make([]kgo.Record, len(msgs))
	}
	recs := w.recs[:len(msgs)]
	// Grown once: the records' header slices point into it.
	headers := slices.Grow(w.headers[:0], nheaders)
	w.headers = headers
	defer w.dropLargeScratch()
	for i := range msgs {
		m := &msgs[i]
		from := len(headers)
		for _, h := range m.Headers {
			headers = append(headers, kgo.RecordHeader{Key: h.Key, Value: h.Value})
		}
		headers = append(headers, kgo.RecordHeader{Key: HeaderEpoch, Value: epoch}, kgo.RecordHeader{Key: HeaderSink, Value: w.sink})
		if w.sinkID != nil {
			headers = append(headers, kgo.RecordHeader{Key: HeaderSinkID, Value: w.sinkID})
		}
		recs[i] = kgo.Record{Topic: w.opts.Topic, Key: m.Key, Value: m.Value, Headers: headers[from:len(headers):len(headers)]}
		cl.Produce(pctx, &recs[i], promise)
	}
	err := cl.Flush(pctx)
	stalled := context.Cause(pctx) // what ended pctx, if anything did
	stop()
	if err == nil {
		// Flush returns after the last promise ran.
		mu.Lock()
		err = first
		mu.Unlock()
	}
	if err != nil && stalled != nil {
		err = stalled
	}
	if err != nil || !w.transactional() {
		return err
	}
	if w.beforeCommit != nil {
		w.beforeCommit()
	}
	return cl.EndTransaction(ctx, kgo.TryCommit)
}

// whileProgressing returns a context that ends once finished has not grown
// for Timeout. franz-go retries a record it cannot deliver without end
// where failing it is not safe (it may have been sent), so its delivery
// timeout alone does not keep a write to a cluster that went away from
// hanging. stop releases the context and waits for its watcher.
func (w *Writer) whileProgressing(ctx context.Context, finished *atomic.Int64) (_ context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	done, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		tick := time.NewTicker(w.opts.Timeout / 4)
		defer tick.Stop()
		last, since := finished.Load(), time.Now()
		for {
			select {
			case <-done:
				return
			case now := <-tick.C:
				if n := finished.Load(); n != last {
					last, since = n, now
				} else if now.Sub(since) >= w.opts.Timeout {
					cancel(fmt.Errorf("brokers %v: no record acknowledged within %v", w.opts.Brokers, w.opts.Timeout))
					return
				}
			}
		}
	}()
	return ctx, func() {
		close(done)
		<-exited
		cancel(nil)
	}
}

// fail drops the client after a failed write, first ending the transaction
// it may have left open so that read_committed consumers are not held up
// until the next write or the transaction timeout.
func (w *Writer) fail(ctx context.Context, seq uint64, err error) error {
	cl := w.client
	w.client = nil
	defer cl.Close()
	w.recs, w.headers = nil, nil
	fenced := errors.Is(err, kerr.ProducerFenced) || errors.Is(err, kerr.InvalidProducerEpoch) || errors.Is(err, kerr.InvalidTxnState)
	if w.transactional() && fenced {
		w.fenced = true
		return fmt.Errorf("kafka: topic %q epoch %d: %w (%w)", w.opts.Topic, seq, ErrFenced, err)
	}
	if w.transactional() {
		w.recheck = true
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), w.opts.Timeout)
		defer cancel()
		aerr := cl.AbortBufferedRecords(actx)
		if aerr == nil {
			aerr = cl.EndTransaction(actx, kgo.TryAbort)
		}
		if aerr != nil {
			w.opts.Logger.Warn("kafka: cannot abort the failed transaction; the next write will", "topic", w.opts.Topic, "epoch", seq, "err", aerr)
		}
	}
	return fmt.Errorf("kafka: topic %q epoch %d: %w", w.opts.Topic, seq, err)
}

// lastEpochWindow is how many offsets at the end of each partition
// LastEpoch reads first; each further window before it is twice as long.
const lastEpochWindow = 1024

// LastEpoch returns the greatest epoch that records of the sink
// (HeaderSink = WriterOptions.Sink, and HeaderSinkID = WriterOptions.SinkID
// when set) carry in the topic, reading committed records only: records of
// aborted or open transactions do not count.
// found is false when the topic holds none (an empty topic, or retention
// removed them all). It reads each partition backwards from its end, in
// windows of growing size, until it finds one of the sink's records or the
// partition's start; a transaction still open before the end (another
// producer's) is waited for, up to ctx. Epochs written without messages
// leave no record and are not found.
//
// After a crash the caller writes again the epochs after seq; a
// transactional writer skips epochs up to seq (see WriteEpoch).
func (w *Writer) LastEpoch(ctx context.Context) (seq uint64, found bool, err error) {
	if err := w.ready(ctx); err != nil {
		return 0, false, err
	}
	metas, err := w.metadata(ctx, []string{w.opts.Topic})
	if err != nil {
		return 0, false, err
	}
	if len(metas) != 1 {
		return 0, false, fmt.Errorf("kafka: topic %q: metadata answered for %d topics", w.opts.Topic, len(metas))
	}
	tm := metas[0]
	tps := make([]TopicPartition, len(tm.partitions))
	for i, p := range tm.partitions {
		tps[i] = TopicPartition{Topic: tm.name, Partition: p.partition}
	}
	starts, err := w.listOffsets(ctx, tps, StartPosition{Kind: StartEarliest}, false)
	if err != nil {
		return 0, false, err
	}
	// The high watermark, not the last stable offset: a commit of the
	// sink after another producer's open transaction lies beyond the
	// latter, and must count.
	ends, err := w.listOffsets(ctx, tps, StartPosition{Kind: StartLatest}, false)
	if err != nil {
		return 0, false, err
	}
	s := epochScan{w: w, topic: tm, decompressor: kgo.DefaultDecompressor()}
	for i, p := range tm.partitions {
		pseq, pfound, err := s.partition(ctx, p, starts[tps[i]], ends[tps[i]])
		if err != nil {
			return 0, false, err
		}
		if pfound && (!found || pseq > seq) {
			seq, found = pseq, true
		}
	}
	if w.transactional() {
		if found {
			w.next = max(w.next, seq+1)
		}
		w.recheck = false
	}
	return seq, found, nil
}

// epochScan reads a topic's committed records with raw fetch requests, so
// that it knows exactly which offsets it has read: the last records before
// a window's end may be transaction markers or aborted records, which a
// consumer never hands out.
type epochScan struct {
	w            *Writer
	topic        topicMetadata
	decompressor kgo.Decompressor
}

// partition returns the last epoch of the sink in offsets start..end-1.
func (s *epochScan) partition(ctx context.Context, p partitionLeader, start, end int64) (uint64, bool, error) {
	window := int64(lastEpochWindow)
	for to := end; to > start; {
		from := max(start, to-window)
		seq, found, err := s.window(ctx, p, from, to)
		if err != nil || found {
			return seq, found, err
		}
		to, window = from, 2*window
	}
	return 0, false, nil
}

// scanFetchBytes bounds one fetch response of the scan.
const scanFetchBytes = 1 << 20

// window returns the greatest epoch of the sink in offsets from..to-1.
func (s *epochScan) window(ctx context.Context, p partitionLeader, from, to int64) (seq uint64, found bool, err error) {
	if p.leader < 0 {
		return 0, false, fmt.Errorf("kafka: topic %q partition %d has no leader", s.topic.name, p.partition)
	}
	broker := s.w.client.Broker(int(p.leader))
	req := kmsg.NewPtrFetchRequest()
	req.MaxWaitMillis = 200
	req.MinBytes = 1
	req.MaxBytes = scanFetchBytes
	req.IsolationLevel = 1
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic, rt.TopicID = s.topic.name, s.topic.id
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.Partition, rp.PartitionMaxBytes = p.partition, scanFetchBytes
	for at := from; at < to; {
		rp.FetchOffset = at
		rt.Partitions = []kmsg.FetchRequestTopicPartition{rp}
		req.Topics = []kmsg.FetchRequestTopic{rt}
		next, err := s.fetch(ctx, broker, req, p.partition, at, func(r *kgo.Record) error {
			if r.Offset >= to {
				return nil
			}
			e, ok, err := s.epochOf(r)
			if ok && (!found || e > seq) {
				seq, found = e, true
			}
			return err
		})
		if err != nil {
			return 0, false, err
		}
		if next <= at {
			// Nothing readable at at: a transaction still open holds
			// the last stable offset back. The fetch waited
			// MaxWaitMillis; ask again until it ends or ctx does.
			if err := ctx.Err(); err != nil {
				return 0, false, fmt.Errorf("kafka: topic %q partition %d: waiting for an open transaction at offset %d: %w", s.topic.name, p.partition, at, err)
			}
			continue
		}
		at = next
	}
	return seq, found, nil
}

// fetch sends one fetch request for one partition and calls each for the
// committed records it returns; it returns the next offset to fetch.
func (s *epochScan) fetch(ctx context.Context, broker *kgo.Broker, req *kmsg.FetchRequest, partition int32, at int64, each func(*kgo.Record) error) (int64, error) {
	name := s.topic.name
	ctx, cancel := context.WithTimeout(ctx, s.w.opts.Timeout)
	defer cancel()
	kresp, err := broker.RetriableRequest(ctx, req)
	if err != nil {
		return 0, fmt.Errorf("kafka: topic %q partition %d: cannot fetch within %v: %w", name, partition, s.w.opts.Timeout, err)
	}
	resp := kresp.(*kmsg.FetchResponse)
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		return 0, fmt.Errorf("kafka: topic %q partition %d: fetch: %w", name, partition, err)
	}
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		return 0, fmt.Errorf("kafka: topic %q partition %d: fetch answered for %d topics", name, partition, len(resp.Topics))
	}
	fp, next := kgo.ProcessFetchPartition(kgo.ProcessFetchPartitionOpts{
		Offset: at, IsolationLevel: kgo.ReadCommitted(), Topic: name, Partition: partition,
	}, &resp.Topics[0].Partitions[0], s.decompressor, nil)
	if fp.Err != nil {
		return 0, fmt.Errorf("kafka: topic %q partition %d offset %d: %w", name, partition, at, fp.Err)
	}
	for _, r := range fp.Records {
		if err := each(r); err != nil {
			return 0, err
		}
	}
	return next, nil
}

// epochOf returns the epoch of a record of the sink; ok is false for other
// records.
func (s *epochScan) epochOf(r *kgo.Record) (seq uint64, ok bool, err error) {
	var epoch []byte
	ours, sameID := false, s.w.opts.SinkID == ""
	for _, h := range r.Headers {
		switch h.Key {
		case HeaderEpoch:
			epoch = h.Value
		case HeaderSink:
			ours = string(h.Value) == s.w.opts.Sink
		case HeaderSinkID:
			sameID = sameID || string(h.Value) == s.w.opts.SinkID
		}
	}
	if !ours || !sameID {
		return 0, false, nil
	}
	seq, err = strconv.ParseUint(string(epoch), 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("kafka: topic %q partition %d offset %d: header %s %q: not an epoch", r.Topic, r.Partition, r.Offset, HeaderEpoch, epoch)
	}
	return seq, true, nil
}

// Close closes the connections. WriteEpoch leaves no transaction open, so
// there is nothing to abort. Close may be called more than once; after it
// the other methods return ErrClosed.
func (w *Writer) Close() {
	if w.client != nil {
		w.client.Close()
		w.client = nil
	}
	w.closed = true
}
