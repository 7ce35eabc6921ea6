package weirtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

// Kafka is the Kafka cluster of the tests and the bench: franz-go's kfake,
// in this process, on a loopback port. Records are produced and consumed
// with kcat (librdkafka), so that what Weir reads was written by a client
// Weir did not write, and what Weir writes is read by one.
type Kafka struct {
	cluster *kfake.Cluster // nil while Down
	kcat    string
	brokers string
	opts    []kfake.Opt // those it started with, to start it again (Up)
	port    int
}

// StartKafka starts a one-broker cluster. It fails when kcat is not
// installed (`make deps` installs it). Close it when done.
func StartKafka(opts ...kfake.Opt) (*Kafka, error) {
	kcat, err := exec.LookPath("kcat")
	if err != nil {
		return nil, errors.New("kcat not installed: run `make deps`")
	}
	opts = append([]kfake.Opt{kfake.NumBrokers(1)}, opts...)
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("kfake: %w", err)
	}
	addrs := c.ListenAddrs()
	_, port, err := net.SplitHostPort(addrs[0])
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("kfake: %w", err)
	}
	k := &Kafka{cluster: c, kcat: kcat, brokers: strings.Join(addrs, ","), opts: opts}
	k.port, _ = strconv.Atoi(port)
	return k, nil
}

// StartKafkaDurable starts a one-broker cluster that keeps its records and
// transactions in dataDir, so that Down and Up can take it away and bring
// it back as it was.
func StartKafkaDurable(dataDir string, opts ...kfake.Opt) (*Kafka, error) {
	return StartKafka(append(opts, kfake.DataDir(dataDir))...)
}

// Down stops the cluster as a lost one: its port refuses connections until
// Up. Only a cluster of StartKafkaDurable comes back with its records.
func (k *Kafka) Down() {
	if k.cluster != nil {
		k.cluster.Close()
		k.cluster = nil
	}
}

// Up starts the cluster again after Down, on the same port, from its data
// directory.
func (k *Kafka) Up() error {
	if k.cluster != nil {
		return errors.New("kfake: already up")
	}
	c, err := kfake.NewCluster(append(k.opts[:len(k.opts):len(k.opts)], kfake.Ports(k.port))...)
	if err != nil {
		return fmt.Errorf("kfake: start again on port %d: %w", k.port, err)
	}
	k.cluster = c
	return nil
}

// Close stops the cluster; its records are gone (but for a data directory).
func (k *Kafka) Close() { k.Down() }

// Brokers is the bootstrap list, host:port[,host:port...]; it stays the
// same across Down and Up.
func (k *Kafka) Brokers() string { return k.brokers }

// CreateTopic creates topic with the given number of partitions.
func (k *Kafka) CreateTopic(topic string, partitions int) error {
	if k.cluster == nil {
		return fmt.Errorf("create topic %s: the cluster is down", topic)
	}
	if err := k.cluster.CreateTopic(topic, int32(partitions), nil); err != nil {
		return fmt.Errorf("create topic %s: %w", topic, err)
	}
	return nil
}

// EndOffsets returns each partition's high watermark (the offset the next
// record will get), by partition; nil while the cluster is down.
func (k *Kafka) EndOffsets(topic string) []int64 {
	if k.cluster == nil {
		return nil
	}
	infos := k.cluster.PartitionInfos(topic)
	out := make([]int64, len(infos))
	for _, pi := range infos {
		if pi != nil && int(pi.Partition) < len(out) {
			out[pi.Partition] = pi.HighWatermark
		}
	}
	return out
}

// Record is one record to produce. A nil Key or Value is produced as
// null (Value nil: a tombstone); kcat cannot produce an empty non-null
// key or value.
type Record struct {
	Key, Value []byte
}

// Message is one record read back.
type Message struct {
	Partition int32
	Offset    int64
	Timestamp time.Time
	Key       []byte // nil for a null key
	Value     []byte // nil for a tombstone
	Headers   map[string]string
}

// Header returns the value of header name ("" if absent).
func (m *Message) Header(name string) string { return m.Headers[name] }

// kcat reads its input split at a delimiter: one no record contains.
const (
	recordDelim = "\x1e\x1fweir-record\x1f\x1e"
	keyDelim    = "\x1d\x1fweir-key\x1f\x1d"
)

// escape writes s as kcat's -D/-K delimiter syntax (\xNN per byte).
func escape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		fmt.Fprintf(&b, `\x%02x`, s[i])
	}
	return b.String()
}

// Producer is one running `kcat -P`: records written to it are produced
// in order. Partition -1 lets librdkafka's default partitioner choose by
// key (random for a null key). Not safe for concurrent use.
type Producer struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	w      *bufio.Writer
	stderr bytes.Buffer
	sent   int
}

// StartProducer starts `kcat -P` to topic (and partition, if >= 0),
// adding the given headers ("name=value") to every record.
func (k *Kafka) StartProducer(topic string, partition int, headers ...string) (*Producer, error) {
	args := []string{"-P", "-q", "-b", k.Brokers(), "-t", topic, "-Z",
		"-D", escape(recordDelim), "-K", escape(keyDelim),
		"-X", "linger.ms=5", "-X", "enable.idempotence=true"}
	if partition >= 0 {
		args = append(args, "-p", strconv.Itoa(partition))
	}
	for _, h := range headers {
		args = append(args, "-H", h)
	}
	p := &Producer{cmd: exec.Command(k.kcat, args...)}
	p.cmd.Stderr = &p.stderr
	var err error
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("kcat -P: %w", err)
	}
	p.w = bufio.NewWriterSize(p.stdin, 1<<16)
	return p, nil
}

// Send queues one record (see Flush).
func (p *Producer) Send(r Record) error {
	if r.Key != nil && len(r.Key) == 0 || r.Value != nil && len(r.Value) == 0 {
		return errors.New("kcat produces an empty key or value as null: use nil")
	}
	if bytes.Contains(r.Key, []byte(keyDelim)) || bytes.Contains(r.Value, []byte(recordDelim)) ||
		bytes.Contains(r.Value, []byte(keyDelim)) {
		return errors.New("record contains kcat's delimiter")
	}
	p.w.Write(r.Key)
	p.w.WriteString(keyDelim)
	p.w.Write(r.Value)
	_, err := p.w.WriteString(recordDelim)
	if err != nil {
		return fmt.Errorf("kcat -P: %w: %s", err, p.stderr.String())
	}
	p.sent++
	return nil
}

// Flush hands what Send queued to kcat (which sends it within linger.ms).
func (p *Producer) Flush() error {
	if err := p.w.Flush(); err != nil {
		return fmt.Errorf("kcat -P: %w: %s", err, p.stderr.String())
	}
	return nil
}

// Close ends the input and waits until kcat has delivered every record; it
// fails if kcat reports any error.
func (p *Producer) Close() error {
	err := p.w.Flush()
	if cerr := p.stdin.Close(); err == nil {
		err = cerr
	}
	if werr := p.cmd.Wait(); err == nil {
		err = werr
	}
	if err == nil && strings.Contains(p.stderr.String(), "ERROR") {
		err = errors.New("error output")
	}
	if err != nil {
		return fmt.Errorf("kcat -P: %w: %s", err, p.stderr.String())
	}
	return nil
}

// Produce produces recs to topic with one `kcat -P` and waits until they
// are delivered.
func (k *Kafka) Produce(topic string, partition int, recs ...Record) error {
	p, err := k.StartProducer(topic, partition)
	if err != nil {
		return err
	}
	for _, r := range recs {
		if err := p.Send(r); err != nil {
			p.Close()
			return err
		}
	}
	return p.Close()
}

// Consume reads every committed record of topic, from the beginning to the
// end of each partition, with `kcat -C -X isolation.level=read_committed -e`:
// what a downstream consumer of a transactional producer sees. Records are
// in offset order within each partition, partitions interleaved. Header
// values must not contain ',' or '=' (kcat prints them as n=v CSV).
func (k *Kafka) Consume(ctx context.Context, topic string) ([]Message, error) {
	cmd := exec.CommandContext(ctx, k.kcat, "-C", "-q", "-b", k.Brokers(), "-t", topic, "-o", "beginning", "-e",
		"-X", "isolation.level=read_committed", "-f", `%p %o %T %K %S %h\n%k%s`)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("kcat -C %s: %w: %s", topic, err, stderr.String())
	}
	msgs, err := parseKcat(out)
	if err != nil {
		return nil, fmt.Errorf("kcat -C %s: %w", topic, err)
	}
	return msgs, nil
}

// parseKcat reads Consume's format: a text line "partition offset
// timestamp keylen valuelen headers" (a length -1 for null), then the key's
// and the value's bytes.
func parseKcat(out []byte) ([]Message, error) {
	var msgs []Message
	for len(out) > 0 {
		nl := bytes.IndexByte(out, '\n')
		if nl < 0 {
			return nil, fmt.Errorf("truncated output %q", out)
		}
		line := string(out[:nl])
		out = out[nl+1:]
		f := strings.SplitN(line, " ", 6)
		if len(f) < 5 {
			return nil, fmt.Errorf("bad line %q", line)
		}
		var n [5]int64
		for i := range n {
			v, err := strconv.ParseInt(f[i], 10, 64)
			if err != nil {
				return nil, fmt.Errorf("bad line %q", line)
			}
			n[i] = v
		}
		m := Message{Partition: int32(n[0]), Offset: n[1], Timestamp: time.UnixMilli(n[2])}
		take := func(l int64) ([]byte, error) {
			if l < 0 {
				return nil, nil
			}
			if int64(len(out)) < l {
				return nil, fmt.Errorf("truncated record after %q", line)
			}
			b := out[:l:l]
			out = out[l:]
			return b, nil
		}
		var err error
		if m.Key, err = take(n[3]); err != nil {
			return nil, err
		}
		if m.Value, err = take(n[4]); err != nil {
			return nil, err
		}
		if len(f) == 6 && f[5] != "" {
			m.Headers = map[string]string{}
			for _, h := range strings.Split(f[5], ",") {
				name, v, _ := strings.Cut(h, "=")
				m.Headers[name] = v
			}
		}
		msgs = append(msgs, m)
	}
	return msgs, nil
}

// ConfluentAvro encodes a record in Confluent's wire format (a zero byte,
// the 4-byte big-endian schema id, the Avro binary body) for a schema
// whose fields are all ["null", T] unions, as ksqlDB writes them: a nil
// field is the null branch; int32 and int64 are Avro int and long, string
// is string, float64 double, bool boolean.
func ConfluentAvro(schemaID int, fields ...any) []byte {
	b := []byte{0}
	b = binary.BigEndian.AppendUint32(b, uint32(schemaID))
	long := func(v int64) { b = binary.AppendVarint(b, v) } // Avro's zigzag varint
	for _, f := range fields {
		if f == nil {
			long(0)
			continue
		}
		long(1)
		switch v := f.(type) {
		case int32:
			long(int64(v))
		case int64:
			long(v)
		case string:
			long(int64(len(v)))
			b = append(b, v...)
		case float64:
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
		case bool:
			if v {
				b = append(b, 1)
			} else {
				b = append(b, 0)
			}
		default:
			panic(fmt.Sprintf("ConfluentAvro: unsupported field type %T", f))
		}
	}
	return b
}
