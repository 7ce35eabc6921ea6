package kafka

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

const topic = "rates"

// newCluster starts an in-process cluster holding topic with 3 partitions.
func newCluster(t testing.TB, opts ...kfake.Opt) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1), kfake.SeedTopics(3, topic)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// produce writes n records to each partition; record i of partition p has
// value "p/i", key "k<i>", a header "h"="p" and timestamp base+i ms.
func produce(t testing.TB, c *kfake.Cluster, n int, base int64) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var rs []*kgo.Record
	for p := range int32(3) {
		for i := range n {
			rs = append(rs, &kgo.Record{
				Topic: topic, Partition: p,
				Key:       fmt.Appendf(nil, "k%d", i),
				Value:     fmt.Appendf(nil, "%d/%d", p, i),
				Headers:   []kgo.RecordHeader{{Key: "h", Value: fmt.Appendf(nil, "%d", p)}},
				Timestamp: time.UnixMilli(base + int64(i)),
			})
		}
	}
	if err := cl.ProduceSync(context.Background(), rs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

func newReader(t testing.TB, c *kfake.Cluster, opts Options) *Reader {
	t.Helper()
	opts.Brokers = c.ListenAddrs()
	opts.Topics = []string{topic}
	r, err := NewReader(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r
}

// readN polls until n records arrived, and returns their values and the
// last next offset seen per partition.
func readN(t *testing.T, r *Reader, n int) ([]string, map[TopicPartition]int64) {
	t.Helper()
	var values []string
	next := make(map[TopicPartition]int64)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for len(values) < n {
		b, err := r.Poll(ctx, 7)
		if err != nil {
			t.Fatalf("after %d of %d records: %v", len(values), n, err)
		}
		if len(b.Records) > 7 {
			t.Fatalf("Poll(7) returned %d records", len(b.Records))
		}
		for _, rec := range b.Records {
			values = append(values, string(rec.Value))
			if next[rec.TopicPartition()] > rec.Offset {
				t.Fatalf("offset %d after %d", rec.Offset, next[rec.TopicPartition()])
			}
			next[rec.TopicPartition()] = rec.Offset + 1
		}
		for _, po := range b.Next {
			if next[po.TopicPartition] != po.Next {
				t.Fatalf("Next %v, last record says %d", po, next[po.TopicPartition])
			}
		}
	}
	slices.Sort(values)
	return values, next
}

// want lists the values of records from..to-1 of each partition, sorted.
func want(from, to int) []string {
	var vs []string
	for p := range 3 {
		for i := from; i < to; i++ {
			vs = append(vs, fmt.Sprintf("%d/%d", p, i))
		}
	}
	slices.Sort(vs)
	return vs
}

// expectNone checks that nothing arrives within a short wait.
func expectNone(t *testing.T, r *Reader) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	b, err := r.Poll(ctx, 100)
	if !errors.Is(err, context.DeadlineExceeded) || len(b.Records) != 0 {
		t.Fatalf("expected no records, got %d (%v)", len(b.Records), err)
	}
}

func TestReadAllFromEarliest(t *testing.T) {
	c := newCluster(t)
	produce(t, c, 50, 1000)
	r := newReader(t, c, Options{})
	got, next := readN(t, r, 150)
	if !slices.Equal(got, want(0, 50)) {
		t.Fatalf("got %v", got)
	}
	for p := range int32(3) {
		if n := next[TopicPartition{topic, p}]; n != 50 {
			t.Fatalf("partition %d: next %d", p, n)
		}
	}
	expectNone(t, r)
}

func TestRecordFields(t *testing.T) {
	c := newCluster(t)
	produce(t, c, 1, 1234)
	r := newReader(t, c, Options{})
	b, err := r.Poll(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	rec := b.Records[0]
	p := fmt.Sprint(rec.Partition)
	if rec.Topic != topic || rec.Offset != 0 || string(rec.Key) != "k0" || string(rec.Value) != p+"/0" ||
		rec.Timestamp.UnixMilli() != 1234 || len(rec.Headers) != 1 || rec.Headers[0].Key != "h" || string(rec.Headers[0].Value) != p {
		t.Fatalf("record %+v", rec)
	}
	if len(b.Next) != 1 || b.Next[0] != (PartitionOffset{rec.TopicPartition(), 1}) {
		t.Fatalf("next %v", b.Next)
	}
}

// A reader given the offsets stored after a first reader's batches goes on
// exactly after them.
func TestResumeFromStoredOffsets(t *testing.T) {
	c := newCluster(t)
	produce(t, c, 40, 1000)
	first := newReader(t, c, Options{})
	got1, next := readN(t, first, 60)
	first.Close()
	// What the engine stores: where each partition started, overridden
	// by the Next offsets of the batches it committed.
	stored := first.StartOffsets()
	for i, po := range stored {
		if n, ok := next[po.TopicPartition]; ok {
			stored[i].Next = n
		}
	}
	// Latest would skip whatever a partition without a stored offset
	// holds: every partition must have one.
	second := newReader(t, c, Options{Offsets: stored, Startup: StartPosition{Kind: StartLatest}})
	got2, _ := readN(t, second, 120-len(got1))
	all := append(got1, got2...)
	slices.Sort(all)
	if !slices.Equal(all, want(0, 40)) {
		t.Fatalf("records repeated or skipped: %v", all)
	}
	expectNone(t, second)
}

func TestStartupLatest(t *testing.T) {
	c := newCluster(t)
	produce(t, c, 10, 1000)
	r := newReader(t, c, Options{Startup: StartPosition{Kind: StartLatest}})
	for _, po := range r.StartOffsets() {
		if po.Next != 10 {
			t.Fatalf("start offsets %v", r.StartOffsets())
		}
	}
	expectNone(t, r)
	produce(t, c, 3, 2000)
	got, _ := readN(t, r, 9)
	if !slices.Equal(got, want(0, 3)) {
		t.Fatalf("got %v", got)
	}
}

func TestStartupTimestamp(t *testing.T) {
	c := newCluster(t)
	produce(t, c, 20, 1000) // timestamps 1000..1019
	r := newReader(t, c, Options{Startup: StartPosition{Kind: StartTimestamp, Millis: 1015}})
	got, _ := readN(t, r, 15)
	if !slices.Equal(got, want(15, 20)) {
		t.Fatalf("got %v", got)
	}
	expectNone(t, r)
	// After every record: the end of each partition.
	late := newReader(t, c, Options{Startup: StartPosition{Kind: StartTimestamp, Millis: 5000}})
	if s := late.StartOffsets(); len(s) != 3 || s[0].Next != 20 || s[2].Next != 20 {
		t.Fatalf("start offsets %v", s)
	}
	expectNone(t, late)
}

// openTransaction begins a transaction of another producer and writes in
// it a record "open" to each of partitions; the caller ends it.
func openTransaction(t *testing.T, c *kfake.Cluster, partitions ...int32) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.TransactionalID("open"), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	for _, p := range partitions {
		if err := cl.ProduceSync(context.Background(), &kgo.Record{Topic: topic, Partition: p, Value: []byte("open")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	return cl
}

// With ReadCommitted, "latest" is the last stable offset: a transaction
// open when the reader starts is read once it commits, not skipped.
func TestReaderReadCommittedLatest(t *testing.T) {
	c := newCluster(t)
	cl := openTransaction(t, c, 0)
	uncommitted := newReader(t, c, Options{Startup: StartPosition{Kind: StartLatest}})
	if s := uncommitted.StartOffsets(); s[0].Next != 1 {
		t.Fatalf("read_uncommitted start offsets %v", s)
	}
	r := newReader(t, c, Options{ReadCommitted: true, Startup: StartPosition{Kind: StartLatest}})
	if s := r.StartOffsets(); s[0].Next != 0 {
		t.Fatalf("read_committed start offsets %v", s)
	}
	expectNone(t, r)
	if err := cl.EndTransaction(context.Background(), kgo.TryCommit); err != nil {
		t.Fatal(err)
	}
	if got, _ := readN(t, r, 1); !slices.Equal(got, []string{"open"}) {
		t.Fatalf("got %v", got)
	}
}

func TestPause(t *testing.T) {
	c := newCluster(t)
	r := newReader(t, c, Options{})
	r.Pause()
	produce(t, c, 5, 1000)
	expectNone(t, r)
	r.Resume()
	got, _ := readN(t, r, 15)
	if !slices.Equal(got, want(0, 5)) {
		t.Fatalf("got %v", got)
	}
}

func TestNewPartitionDiscovered(t *testing.T) {
	c := newCluster(t)
	r := newReader(t, c, Options{DiscoverInterval: 50 * time.Millisecond})
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	req := kmsg.NewPtrCreatePartitionsRequest()
	rt := kmsg.NewCreatePartitionsRequestTopic()
	rt.Topic, rt.Count = topic, 4
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(context.Background(), cl)
	if err != nil || resp.Topics[0].ErrorCode != 0 {
		t.Fatalf("create partitions: %v %v", err, resp)
	}
	// Written before the reader sees the partition: read all the same.
	if err := cl.ProduceSync(context.Background(), &kgo.Record{Topic: topic, Partition: 3, Value: []byte("new")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	got, next := readN(t, r, 1)
	if got[0] != "new" || next[TopicPartition{topic, 3}] != 1 {
		t.Fatalf("got %v %v", got, next)
	}
	if s := r.StartOffsets(); len(s) != 4 || s[3] != (PartitionOffset{TopicPartition{topic, 3}, 0}) {
		t.Fatalf("start offsets %v", s)
	}
}

func TestCloseWhilePolling(t *testing.T) {
	c := newCluster(t)
	r := newReader(t, c, Options{})
	done := make(chan error)
	go func() {
		_, err := r.Poll(context.Background(), 10)
		done <- err
	}()
	r.Close()
	if err := <-done; !errors.Is(err, ErrClosed) {
		t.Fatalf("Poll after Close: %v", err)
	}
	r.Close()
	if _, err := r.Poll(context.Background(), 10); !errors.Is(err, ErrClosed) {
		t.Fatalf("Poll on closed reader: %v", err)
	}
}

func TestUnreachableBrokers(t *testing.T) {
	_, err := NewReader(context.Background(), Options{
		Brokers: []string{"127.0.0.1:1"}, Topics: []string{topic}, Timeout: 500 * time.Millisecond,
	})
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Fatalf("got %v", err)
	}
}

func TestUnknownTopic(t *testing.T) {
	c := newCluster(t)
	_, err := NewReader(context.Background(), Options{Brokers: c.ListenAddrs(), Topics: []string{"nope"}, Timeout: time.Second})
	if err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Fatalf("got %v", err)
	}
}

func TestBadOptions(t *testing.T) {
	for _, o := range []Options{{Topics: []string{topic}}, {Brokers: []string{"x:1"}}} {
		if _, err := NewReader(context.Background(), o); err == nil {
			t.Fatalf("%+v accepted", o)
		}
	}
}

// TestKcatInterop reads what librdkafka's kcat produced.
func TestKcatInterop(t *testing.T) {
	kcat, err := exec.LookPath("kcat")
	if err != nil {
		t.Fatal("kcat not installed: run `make deps`")
	}
	c := newCluster(t)
	addr := c.ListenAddrs()[0]
	cmd := exec.Command(kcat, "-b", addr, "-t", topic, "-P", "-K", ":", "-p", "1")
	cmd.Stdin = strings.NewReader("a:one\nb:two\nc:three\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("kcat: %v: %s", err, out)
	}
	r := newReader(t, c, Options{})
	got, next := readN(t, r, 3)
	if !slices.Equal(got, []string{"one", "three", "two"}) || next[TopicPartition{topic, 1}] != 3 {
		t.Fatalf("got %v %v", got, next)
	}
}

func TestSASL(t *testing.T) {
	for _, mech := range []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"} {
		t.Run(mech, func(t *testing.T) {
			c := newCluster(t, kfake.EnableSASL(), kfake.Superuser(mech, "weir", "secret"))
			props := Properties{"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": mech, "sasl.username": "weir", "sasl.password": "secret"}
			r, err := NewReader(context.Background(), Options{Brokers: c.ListenAddrs(), Topics: []string{topic}, Properties: props, Timeout: 2 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			r.Close()
			props["sasl.password"] = "wrong"
			_, err = NewReader(context.Background(), Options{Brokers: c.ListenAddrs(), Topics: []string{topic}, Properties: props, Timeout: 300 * time.Millisecond})
			if err == nil {
				t.Fatal("wrong password accepted")
			}
		})
	}
}

func TestBadProperties(t *testing.T) {
	for _, p := range []Properties{
		{"sasl.jaas.config": "x"},
		{"security.protocol": "SSH"},
		{"security.protocol": "SASL_PLAINTEXT"},
		{"security.protocol": "SASL_PLAINTEXT", "sasl.username": "u", "sasl.mechanism": "GSSAPI"},
		{"security.protocol": "SSL", "ssl.ca.location": "/nonexistent.pem"},
		{"security.protocol": "SSL", "ssl.key.location": "k.pem"},
		{"security.protocol": "SSL", "ssl.endpoint.identification.algorithm": "x"},
	} {
		if _, err := NewReader(context.Background(), Options{Brokers: []string{"127.0.0.1:1"}, Topics: []string{topic}, Properties: p}); err == nil || !strings.Contains(err.Error(), "kafka: ") {
			t.Errorf("%v: got %v", p, err)
		}
	}
}

func TestTLS(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kfake"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, IsCA: true, BasicConstraintsValid: true,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	c := newCluster(t, kfake.TLS(&tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}))
	r, err := NewReader(context.Background(), Options{
		Brokers: c.ListenAddrs(), Topics: []string{topic}, Timeout: 2 * time.Second,
		Properties: Properties{"security.protocol": "SSL", "ssl.ca.location": ca, "client.id": "weir-tls"},
	})
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	// Without the CA, the broker's certificate is not trusted.
	_, err = NewReader(context.Background(), Options{
		Brokers: c.ListenAddrs(), Topics: []string{topic}, Timeout: 300 * time.Millisecond,
		Properties: Properties{"security.protocol": "SSL"},
	})
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("untrusted broker: %v", err)
	}
}

// A topic pattern reads the topics whose whole name it matches, and those
// created later that match.
func TestTopicPattern(t *testing.T) {
	c := newCluster(t, kfake.SeedTopics(1, "rates_eu", "rates_us", "rates_eu_old", "other"))
	r, err := NewReader(context.Background(), Options{Brokers: c.ListenAddrs(), TopicPattern: regexp.MustCompile(`^(?:rates_[a-z]{2})$`), DiscoverInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for _, tp := range []string{"rates_eu", "rates_us", "rates_eu_old", "other"} {
		if err := cl.ProduceSync(context.Background(), &kgo.Record{Topic: tp, Value: []byte(tp)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := readN(t, r, 2)
	slices.Sort(got)
	if !slices.Equal(got, []string{"rates_eu", "rates_us"}) {
		t.Fatalf("read %v", got)
	}
	// A topic created later: read from its start.
	req := kmsg.NewPtrCreateTopicsRequest()
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = "rates_jp", 1, 1
	req.Topics = append(req.Topics, rt)
	if resp, err := req.RequestWith(context.Background(), cl); err != nil || resp.Topics[0].ErrorCode != 0 {
		t.Fatalf("create topic: %v %v", err, resp)
	}
	if err := cl.ProduceSync(context.Background(), &kgo.Record{Topic: "rates_jp", Value: []byte("rates_jp")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if got, _ := readN(t, r, 1); got[0] != "rates_jp" {
		t.Fatalf("read %v", got)
	}
	expectNone(t, r)
	if _, err := NewReader(context.Background(), Options{Brokers: c.ListenAddrs(), Topics: []string{"other"}, TopicPattern: regexp.MustCompile("x")}); err == nil {
		t.Fatal("topics and a pattern: no error")
	}
}

// A Poll waiting on a lost cluster cannot tell it from a quiet topic;
// Health can.
func TestHealthReportsLostCluster(t *testing.T) {
	c := newCluster(t)
	produce(t, c, 1, 0)
	r := newReader(t, c, Options{Timeout: time.Second})
	readN(t, r, 3)
	if err := r.Health(); err != nil {
		t.Fatalf("healthy reader: %v", err)
	}
	c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go func() { _, _ = r.Poll(ctx, 10) }()
	for r.Health() == nil {
		if ctx.Err() != nil {
			t.Fatal("no health error 10s after the cluster went away")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := r.Health(); !strings.Contains(err.Error(), "cannot connect to broker") {
		t.Fatalf("health: %v", err)
	}
}

// A partition created while the source was stopped is read from its start
// when the source resumes from stored offsets, as one discovered while it
// runs: startup latest would skip what was written to it meanwhile.
func TestPartitionAddedWhileStoppedReadFromStart(t *testing.T) {
	c := newCluster(t)
	produce(t, c, 10, 1000)
	first := newReader(t, c, Options{Startup: StartPosition{Kind: StartLatest}})
	stored := first.StartOffsets()
	first.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	req := kmsg.NewPtrCreatePartitionsRequest()
	rt := kmsg.NewCreatePartitionsRequestTopic()
	rt.Topic, rt.Count = topic, 4
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(context.Background(), cl)
	if err != nil || resp.Topics[0].ErrorCode != 0 {
		t.Fatalf("create partitions: %v %v", err, resp)
	}
	if err := cl.ProduceSync(context.Background(), &kgo.Record{Topic: topic, Partition: 3, Value: []byte("new")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	second := newReader(t, c, Options{Offsets: stored, Startup: StartPosition{Kind: StartLatest}})
	if s := second.StartOffsets(); len(s) != 4 || s[3] != (PartitionOffset{TopicPartition{topic, 3}, 0}) {
		t.Fatalf("start offsets %v", s)
	}
	got, _ := readN(t, second, 1)
	if !slices.Equal(got, []string{"new"}) {
		t.Fatalf("got %v", got)
	}
	expectNone(t, second)
}
