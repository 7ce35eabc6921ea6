package kafka

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

const txnID = "weir-sink-s1"

// newWriter makes a writer of sink s1 to topic on c; opts may override
// anything but the brokers.
func newWriter(t testing.TB, c *kfake.Cluster, opts WriterOptions) *Writer {
	t.Helper()
	opts.Brokers = c.ListenAddrs()
	if opts.Topic == "" {
		opts.Topic = topic
	}
	if opts.Sink == "" {
		opts.Sink = "s1"
	}
	w, err := NewWriter(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	return w
}

// epoch is the n messages of epoch seq: keys k0..k<n-1>, values "seq/i".
func epoch(seq uint64, n int) []Message {
	msgs := make([]Message, n)
	for i := range msgs {
		msgs[i] = Message{Key: fmt.Appendf(nil, "k%d", i), Value: fmt.Appendf(nil, "%d/%d", seq, i)}
	}
	return msgs
}

// values lists the values of epochs from..to of n messages each, sorted.
func values(from, to uint64, n int) []string {
	var vs []string
	for seq := from; seq <= to; seq++ {
		for _, m := range epoch(seq, n) {
			vs = append(vs, string(m.Value))
		}
	}
	slices.Sort(vs)
	return vs
}

func writeEpoch(t testing.TB, w *Writer, seq uint64, msgs []Message) {
	t.Helper()
	if err := w.WriteEpoch(context.Background(), seq, msgs); err != nil {
		t.Fatalf("epoch %d: %v", seq, err)
	}
}

func checkLastEpoch(t testing.TB, w *Writer, want uint64, wantFound bool) {
	t.Helper()
	got, found, err := w.LastEpoch(context.Background())
	if err != nil || got != want || found != wantFound {
		t.Fatalf("LastEpoch = %d, %v, %v; want %d, %v", got, found, err, want, wantFound)
	}
}

// readAll reads the whole topic with a Reader, expecting n records: their
// values, sorted.
func readAll(t *testing.T, c *kfake.Cluster, readCommitted bool, n int) []string {
	t.Helper()
	r := newReader(t, c, Options{ReadCommitted: readCommitted})
	got, _ := readN(t, r, n)
	expectNone(t, r)
	r.Close()
	return got
}

func kcatPath(t *testing.T) string {
	t.Helper()
	kcat, err := exec.LookPath("kcat")
	if err != nil {
		t.Fatal("kcat not installed: run `make deps`")
	}
	return kcat
}

// kcatReadCommitted reads the whole topic as librdkafka's read_committed
// consumer does, printing "key value epoch" per record; the lines, sorted.
func kcatReadCommitted(t *testing.T, c *kfake.Cluster, format string) []string {
	t.Helper()
	cmd := exec.Command(kcatPath(t), "-C", "-b", c.ListenAddrs()[0], "-t", topic, "-e", "-q",
		"-X", "isolation.level=read_committed", "-f", format)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kcat: %v: %s", err, out)
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	slices.Sort(lines)
	return lines
}

func TestLastEpochEmptyTopic(t *testing.T) {
	c := newCluster(t)
	w := newWriter(t, c, WriterOptions{TransactionalID: txnID})
	checkLastEpoch(t, w, 0, false)
}

// A crash in the middle of an epoch's transaction, then a restart: the
// committed epochs are read once each, the aborted one never, and LastEpoch
// tells where to resume, whatever other sinks wrote to the topic.
func TestWriteEpochsExactlyOnce(t *testing.T) {
	const n = 10
	c := newCluster(t)
	w := newWriter(t, c, WriterOptions{TransactionalID: txnID})
	for seq := uint64(1); seq <= 5; seq++ {
		writeEpoch(t, w, seq, epoch(seq, n))
	}
	checkLastEpoch(t, w, 5, true)
	w.Close()

	// Another sink writes later epochs to the same topic.
	other := newWriter(t, c, WriterOptions{Sink: "s2", TransactionalID: "weir-sink-s2"})
	writeEpoch(t, other, 99, []Message{{Key: []byte("o"), Value: []byte("other")}})

	// The process restarts, writes part of epoch 6 and crashes before the
	// commit: a client of the same transactional id that never ends its
	// transaction.
	crashed, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.TransactionalID(txnID))
	if err != nil {
		t.Fatal(err)
	}
	if err := crashed.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		r := &kgo.Record{Topic: topic, Key: fmt.Appendf(nil, "k%d", i), Value: fmt.Appendf(nil, "crashed/%d", i), Headers: []kgo.RecordHeader{
			{Key: HeaderEpoch, Value: []byte("6")}, {Key: HeaderSink, Value: []byte("s1")},
		}}
		if err := crashed.ProduceSync(context.Background(), r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	crashed.Close()

	// The next start fences the crashed producer, aborting its epoch 6.
	w = newWriter(t, c, WriterOptions{TransactionalID: txnID})
	checkLastEpoch(t, w, 5, true)
	// The coordinator writes again what follows; an epoch already
	// committed is not written twice.
	writeEpoch(t, w, 5, epoch(5, n))
	writeEpoch(t, w, 6, epoch(6, n))
	writeEpoch(t, w, 7, epoch(7, n))
	checkLastEpoch(t, w, 7, true)
	checkLastEpoch(t, other, 99, true)

	want := append(values(1, 7, n), "other")
	slices.Sort(want)
	if got := readAll(t, c, true, len(want)); !slices.Equal(got, want) {
		t.Fatalf("read_committed reader got %v\nwant %v", got, want)
	}
	// The crashed epoch did reach the log: a read_uncommitted reader sees it.
	if got := readAll(t, c, false, len(want)+4); !slices.Contains(got, "crashed/0") {
		t.Fatalf("read_uncommitted reader got %v", got)
	}
	// librdkafka's read_committed consumer agrees, headers included.
	var wantKcat []string
	for seq := uint64(1); seq <= 7; seq++ {
		for _, m := range epoch(seq, n) {
			wantKcat = append(wantKcat, fmt.Sprintf("%s %s weir.epoch=%d,weir.sink=s1", m.Key, m.Value, seq))
		}
	}
	wantKcat = append(wantKcat, "o other weir.epoch=99,weir.sink=s2")
	slices.Sort(wantKcat)
	if got := kcatReadCommitted(t, c, `%k %s %h\n`); !slices.Equal(got, wantKcat) {
		t.Fatalf("kcat got %q\nwant %q", got, wantKcat)
	}
}

// LastEpoch reads back in widening windows: a sink whose last records lie
// far behind other sinks' is still found.
func TestLastEpochBehindOtherSinks(t *testing.T) {
	c := newCluster(t)
	w := newWriter(t, c, WriterOptions{TransactionalID: txnID})
	writeEpoch(t, w, 41, epoch(41, 3))
	other := newWriter(t, c, WriterOptions{Sink: "s2"})
	for seq := range uint64(4) {
		writeEpoch(t, other, seq, epoch(seq, 3*lastEpochWindow))
	}
	checkLastEpoch(t, w, 41, true)
	checkLastEpoch(t, other, 3, true)
}

// A newer writer with the same transactional id, started while the older
// one is in the middle of an epoch, aborts that epoch and fences the older
// writer for good.
func TestWriterFenced(t *testing.T) {
	c := newCluster(t)
	w1 := newWriter(t, c, WriterOptions{TransactionalID: txnID})
	writeEpoch(t, w1, 1, epoch(1, 5))
	var w2 *Writer
	w1.beforeCommit = func() { w2 = newWriter(t, c, WriterOptions{TransactionalID: txnID}) }
	if err := w1.WriteEpoch(context.Background(), 2, epoch(2, 5)); !errors.Is(err, ErrFenced) {
		t.Fatalf("fenced writer's commit: %v", err)
	}
	if err := w1.WriteEpoch(context.Background(), 3, epoch(3, 5)); !errors.Is(err, ErrFenced) {
		t.Fatalf("fenced writer's next epoch: %v", err)
	}
	// The new writer finds by itself that epoch 1 is there already.
	writeEpoch(t, w2, 1, epoch(1, 5))
	writeEpoch(t, w2, 2, epoch(2, 5))
	if got, want := readAll(t, c, true, 10), values(1, 2, 5); !slices.Equal(got, want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
	checkLastEpoch(t, w2, 2, true)
}

// A commit whose answer is lost may have gone through or not: the retry of
// the epoch finds out with LastEpoch and writes it only if it did not.
func TestWriteEpochRetryAfterUnknownCommit(t *testing.T) {
	t.Run("committed", func(t *testing.T) {
		c := newCluster(t)
		w := newWriter(t, c, WriterOptions{TransactionalID: txnID, Timeout: time.Second})
		writeEpoch(t, w, 1, epoch(1, 5))
		// The client gives up on its EndTxn (its context ends) before
		// the broker handles it; the broker commits once the write
		// returned its error.
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		ended := c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.EndTxn}, Observe: true, Count: -1})
		release := make(chan struct{})
		var once sync.Once
		c.ControlKey(kmsg.EndTxn.Int16(), func(kmsg.Request) (kmsg.Response, error, bool) {
			c.DropControl()
			once.Do(func() {
				cancel()
				c.SleepControl(func() { <-release })
			})
			return nil, nil, false
		})
		if err := w.WriteEpoch(ctx, 2, epoch(2, 5)); !errors.Is(err, context.Canceled) {
			t.Fatalf("write with a lost commit answer: %v", err)
		}
		close(release)
		wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer wcancel()
		if err := ended.Wait(wctx, 1); err != nil {
			t.Fatal(err)
		}
		writeEpoch(t, w, 2, epoch(2, 5))
		// Once: committed, and not written again (the log holds no
		// aborted copy either).
		if got, want := readAll(t, c, false, 10), values(1, 2, 5); !slices.Equal(got, want) {
			t.Fatalf("got %v\nwant %v", got, want)
		}
		checkLastEpoch(t, w, 2, true)
	})
	t.Run("not committed", func(t *testing.T) {
		c := newCluster(t)
		w := newWriter(t, c, WriterOptions{TransactionalID: txnID})
		writeEpoch(t, w, 1, epoch(1, 5))
		// UNKNOWN_SERVER_ERROR leaves the outcome unknown to the
		// client; kfake refuses before committing.
		c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.EndTxn}, Err: kerr.UnknownServerError})
		if err := w.WriteEpoch(context.Background(), 2, epoch(2, 5)); !errors.Is(err, kerr.UnknownServerError) {
			t.Fatalf("write with a failed commit: %v", err)
		}
		writeEpoch(t, w, 2, epoch(2, 5))
		if got, want := readAll(t, c, true, 10), values(1, 2, 5); !slices.Equal(got, want) {
			t.Fatalf("got %v\nwant %v", got, want)
		}
		checkLastEpoch(t, w, 2, true)
	})
}

// The cluster goes away: a write fails rather than hangs, and once the
// cluster is back (restarted from its data directory on the same port) the
// retried epoch goes through, once.
func TestWriteEpochClusterRestart(t *testing.T) {
	dir := t.TempDir()
	c1, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, topic), kfake.DataDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer c1.Close()
	_, port, err := net.SplitHostPort(c1.ListenAddrs()[0])
	if err != nil {
		t.Fatal(err)
	}
	w := newWriter(t, c1, WriterOptions{TransactionalID: txnID, Timeout: time.Second})
	writeEpoch(t, w, 1, epoch(1, 5))
	c1.Close()

	done := make(chan error, 1)
	go func() { done <- w.WriteEpoch(context.Background(), 2, epoch(2, 5)) }()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("write to a closed cluster succeeded")
		}
		t.Logf("write to a closed cluster: %v", err)
	case <-time.After(time.Minute):
		t.Fatal("write to a closed cluster hangs")
	}

	p, _ := strconv.Atoi(port)
	c2, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.DataDir(dir), kfake.Ports(p))
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	// The caller retries with backoff, as the coordinator does.
	for attempt := 1; ; attempt++ {
		err := w.WriteEpoch(context.Background(), 2, epoch(2, 5))
		if err == nil {
			break
		}
		if attempt == 20 {
			t.Fatalf("write after the restart: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	checkLastEpoch(t, w, 2, true)
	if got, want := readAll(t, c2, true, 10), values(1, 2, 5); !slices.Equal(got, want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
}

func TestNewWriterUnreachable(t *testing.T) {
	_, err := NewWriter(context.Background(), WriterOptions{
		Brokers: []string{"127.0.0.1:1"}, Topic: topic, Sink: "s1", TransactionalID: txnID, Timeout: 500 * time.Millisecond,
	})
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Fatalf("got %v", err)
	}
}

func TestNewWriterBadOptions(t *testing.T) {
	for _, o := range []WriterOptions{
		{Topic: topic, Sink: "s1"},
		{Brokers: []string{"x:1"}, Sink: "s1"},
		{Brokers: []string{"x:1"}, Topic: topic},
		{Brokers: []string{"x:1"}, Topic: topic, Sink: "s1", Properties: Properties{"acks": "1"}},
	} {
		if _, err := NewWriter(context.Background(), o); err == nil || !strings.HasPrefix(err.Error(), "kafka: ") {
			t.Errorf("%+v: got %v", o, err)
		}
	}
}

func TestCreateTopic(t *testing.T) {
	c := newCluster(t)
	_, err := NewWriter(context.Background(), WriterOptions{Brokers: c.ListenAddrs(), Topic: "counts", Sink: "s1", Timeout: time.Second})
	if err == nil || !strings.Contains(err.Error(), `"counts"`) || !errors.Is(err, kerr.UnknownTopicOrPartition) {
		t.Fatalf("missing topic without CreateTopic: %v", err)
	}
	w := newWriter(t, c, WriterOptions{Topic: "counts", CreateTopic: true, Partitions: 4, TransactionalID: txnID})
	if n := len(c.PartitionInfos("counts")); n != 4 {
		t.Fatalf("created topic has %d partitions", n)
	}
	writeEpoch(t, w, 1, epoch(1, 20))
	checkLastEpoch(t, w, 1, true)
	// Default: one partition; an existing topic is kept as it is.
	newWriter(t, c, WriterOptions{Topic: "one", CreateTopic: true})
	if n := len(c.PartitionInfos("one")); n != 1 {
		t.Fatalf("created topic has %d partitions", n)
	}
	newWriter(t, c, WriterOptions{CreateTopic: true, Partitions: 8})
	if n := len(c.PartitionInfos(topic)); n != 3 {
		t.Fatalf("existing topic has %d partitions", n)
	}
}

// Kafka's murmur2 of keys (golden values from its UtilsTest) and the Java
// client's placement: toPositive(murmur2(key)) % partitions.
var murmur2Keys = []struct {
	key  string
	hash int32
}{
	{"21", -973932308},
	{"foobar", -790332482},
	{"a-little-bit-long-string", -985981536},
	{"a-little-bit-longer-string", -1486304829},
	{"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971},
	{"abc", 479470107},
}

// A key lands where the Java client puts it, whichever writer writes it,
// transactional or not, and where librdkafka's murmur2 partitioner does.
func TestKeyPlacement(t *testing.T) {
	const partitions = 7
	c := newCluster(t, kfake.SeedTopics(partitions, "placed"))
	var msgs []Message
	var kcatIn strings.Builder
	for _, k := range murmur2Keys {
		msgs = append(msgs, Message{Key: []byte(k.key), Value: []byte("weir")})
		fmt.Fprintf(&kcatIn, "%s:kcat\n", k.key)
	}
	writeEpoch(t, newWriter(t, c, WriterOptions{Topic: "placed", TransactionalID: txnID}), 1, msgs)
	writeEpoch(t, newWriter(t, c, WriterOptions{Topic: "placed"}), 1, msgs)
	cmd := exec.Command(kcatPath(t), "-P", "-b", c.ListenAddrs()[0], "-t", "placed", "-K", ":", "-X", "topic.partitioner=murmur2_random")
	cmd.Stdin = strings.NewReader(kcatIn.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("kcat: %v: %s", err, out)
	}

	r, err := NewReader(context.Background(), Options{Brokers: c.ListenAddrs(), Topics: []string{"placed"}})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	placed := make(map[string][]int32)
	for seen := 0; seen < 3*len(murmur2Keys); {
		b, err := r.Poll(ctx, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, rec := range b.Records {
			placed[string(rec.Key)] = append(placed[string(rec.Key)], rec.Partition)
		}
		seen += len(b.Records)
	}
	for _, k := range murmur2Keys {
		want := int32((uint32(k.hash) & 0x7fffffff) % partitions)
		if got := placed[k.key]; !slices.Equal(got, []int32{want, want, want}) {
			t.Errorf("key %q: partitions %v, want %d", k.key, got, want)
		}
	}
}

func TestWriterClosed(t *testing.T) {
	c := newCluster(t)
	w := newWriter(t, c, WriterOptions{TransactionalID: txnID})
	w.Close()
	w.Close()
	if err := w.WriteEpoch(context.Background(), 1, epoch(1, 1)); !errors.Is(err, ErrClosed) {
		t.Fatalf("write after Close: %v", err)
	}
	if _, _, err := w.LastEpoch(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("LastEpoch after Close: %v", err)
	}
}

// A record whose epoch header is not a number, written under the sink's
// name, is reported rather than skipped.
func TestLastEpochBadHeader(t *testing.T) {
	c := newCluster(t)
	w := newWriter(t, c, WriterOptions{Sink: "s1"})
	writeEpoch(t, w, 1, []Message{{Value: []byte("x"), Headers: []Header{{Key: HeaderSink, Value: []byte("ignored")}}}})
	checkLastEpoch(t, w, 1, true)
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	r := &kgo.Record{Topic: topic, Value: []byte("y"), Headers: []kgo.RecordHeader{{Key: HeaderSink, Value: []byte("s1")}, {Key: HeaderEpoch, Value: []byte("x")}}}
	if err := cl.ProduceSync(context.Background(), r).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.LastEpoch(context.Background()); err == nil || !strings.Contains(err.Error(), "not an epoch") {
		t.Fatalf("got %v", err)
	}
}

// An epoch committed after another producer opened a transaction lies past
// the last stable offset until that one ends: LastEpoch waits for it rather
// than answer an older epoch (whose successors would then be written twice).
func TestLastEpochWaitsForOpenTransaction(t *testing.T) {
	c := newCluster(t)
	w := newWriter(t, c, WriterOptions{TransactionalID: txnID})
	writeEpoch(t, w, 1, epoch(1, 30))
	cl := openTransaction(t, c, 0, 1, 2)
	writeEpoch(t, w, 2, epoch(2, 30))
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if seq, found, err := w.LastEpoch(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("LastEpoch while a transaction is open = %d, %v, %v", seq, found, err)
	}
	if err := cl.EndTransaction(context.Background(), kgo.TryAbort); err != nil {
		t.Fatal(err)
	}
	checkLastEpoch(t, w, 2, true)
}
