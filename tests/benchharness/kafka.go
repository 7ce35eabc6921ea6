package main

// The issue-4 figures: records from a Kafka topic (kfake in this process)
// through a source's decoder into a GROUP BY view, per second of Weir's
// CPU (records/s per core) and of wall clock, for ~200-byte JSON and Avro
// records; the same records read by a bare franz-go consumer that only
// unmarshals the JSON (a child process, so that its CPU time is its own
// and not the cluster's), and the ratio Weir/bare; the time from kill -9
// to the source consuming again.

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirdb/weir/connectors/registry/registrytest"
	"github.com/weirdb/weir/tests/internal/weirtest"
)

var (
	kafkaRecords    = flag.Int("kafka-records", 1_000_000, "records in each topic of the Kafka figures")
	kafkaPartitions = flag.Int("kafka-partitions", 4, "partitions of the Kafka figures' topics")
	kafkaReps       = flag.Int("kafka-reps", 2, "runs of each Kafka throughput figure (the best is reported)")
	kafkaKills      = flag.Int("kafka-kills", 3, "kill -9s of the Kafka restart figure (the median is reported)")
	// The bare consumer's child process: brokers, topic and records.
	bareConsumer = flag.String("kafka-bare-consumer", "", "internal: run as the bare consumer of brokers/topic/records and exit")
)

// benchRate is one record of the figures: ~200 bytes of JSON.
type benchRate struct {
	ID       int64  `json:"id"`
	Customer string `json:"customer"`
	Country  string `json:"country"`
	Rate     int32  `json:"rate"`
	TS       string `json:"ts"`
	Channel  string `json:"channel"`
	Note     string `json:"note"`
}

const benchColumns = `(id BIGINT, customer VARCHAR, country VARCHAR, rate INT, ts TIMESTAMP, channel VARCHAR, note VARCHAR)`

// benchRateAvro is benchRate's Avro schema, as ksqlDB writes one (nullable
// fields); ts is local-timestamp-micros, Weir's TIMESTAMP.
const benchRateAvro = `{"type":"record","name":"rate","fields":[` +
	`{"name":"id","type":["null","long"],"default":null},` +
	`{"name":"customer","type":["null","string"],"default":null},` +
	`{"name":"country","type":["null","string"],"default":null},` +
	`{"name":"rate","type":["null","int"],"default":null},` +
	`{"name":"ts","type":["null",{"type":"long","logicalType":"local-timestamp-micros"}],"default":null},` +
	`{"name":"channel","type":["null","string"],"default":null},` +
	`{"name":"note","type":["null","string"],"default":null}]}`

const benchGroups = 50

func benchRecord(i int) benchRate {
	return benchRate{
		ID:       int64(i),
		Customer: fmt.Sprintf("customer-%010d", i%100_000),
		Country:  fmt.Sprintf("country-%02d", i*7%benchGroups),
		Rate:     int32(i % 1000),
		TS:       time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Millisecond).Format("2006-01-02 15:04:05.000"),
		Channel:  [...]string{"web", "mobile", "partner"}[i%3],
		Note:     "a note that pads the record to about two hundred bytes of JSON",
	}
}

// kafkaFigures are the results; a figure missing from vals failed or did
// not run (errs says why).
type kafkaFigures struct {
	vals  map[string]float64
	errs  map[string]string
	notes []string
	bytes float64 // mean JSON record size
}

func (f *kafkaFigures) fail(key string, err error) {
	logf("kafka", "FAILED %s: %v", key, err)
	f.errs[key] = err.Error()
}

// best keeps the larger of v and what key holds.
func (f *kafkaFigures) best(key string, v float64) {
	if old, ok := f.vals[key]; !ok || v > old {
		f.vals[key] = v
	}
}

func runKafkaFigures(ctx context.Context, bin string) *kafkaFigures {
	f := &kafkaFigures{vals: map[string]float64{}, errs: map[string]string{}}
	k, err := weirtest.StartKafka()
	if err != nil {
		f.fail("*", err)
		return f
	}
	defer k.Close()
	reg := registrytest.New()
	defer reg.Close()
	n := *kafkaRecords
	logf("kafka", "producing %d JSON and %d Avro records (%d partitions) with kcat", n, n, *kafkaPartitions)
	if err := fillTopics(k, reg, f, n); err != nil {
		f.fail("*", err)
		return f
	}

	for rep := range *kafkaReps {
		cpu, wall, err := runBareConsumer(ctx, k.Brokers(), "bench_json", n)
		if err != nil {
			f.fail("bare_cpu", err)
			break
		}
		logf("kafka", "bare consumer run %d: %.0f records/s per core, %.0f records/s", rep+1, float64(n)/cpu.Seconds(), float64(n)/wall.Seconds())
		f.best("bare_cpu", float64(n)/cpu.Seconds())
		f.best("bare_wall", float64(n)/wall.Seconds())
	}

	dir, err := mkTemp()
	if err != nil {
		f.fail("*", err)
		return f
	}
	defer removeAll(dir)
	w, err := weirtest.StartWeir(ctx, bin, filepath.Join(dir, "data"), filepath.Join(dir, "weir.log"),
		"--log-level=info", "--kafka-brokers="+k.Brokers(), "--schema-registry="+reg.URL)
	if err != nil {
		f.fail("*", err)
		return f
	}
	defer w.Stop()
	c, err := pgx.Connect(ctx, w.DSN())
	if err != nil {
		f.fail("*", err)
		return f
	}
	defer c.Close(context.Background())
	for rep := range *kafkaReps {
		for _, format := range []string{"json", "avro"} {
			name := fmt.Sprintf("b%s%d", format, rep+1)
			cpu, wall, err := weirThroughput(ctx, w, c, name, "bench_"+format, format, n)
			if err != nil {
				f.fail(format+"_cpu", err)
				logf("kafka", "weir log tail:\n%s", w.LogTail(3000))
				continue
			}
			logf("kafka", "weir %s run %d: %.0f records/s per core (%.2f CPU s), %.0f records/s (%.2f s)",
				format, rep+1, float64(n)/cpu.Seconds(), cpu.Seconds(), float64(n)/wall.Seconds(), wall.Seconds())
			f.best(format+"_cpu", float64(n)/cpu.Seconds())
			f.best(format+"_wall", float64(n)/wall.Seconds())
		}
	}
	if j, b := f.vals["json_cpu"], f.vals["bare_cpu"]; j > 0 && b > 0 {
		f.vals["ratio"] = j / b
	}
	if err := killFigure(ctx, f, k, w); err != nil {
		f.fail("kill", err)
		logf("kafka", "weir log tail:\n%s", w.LogTail(3000))
	}
	return f
}

// fillTopics produces n records to bench_json and bench_avro.
func fillTopics(k *weirtest.Kafka, reg *registrytest.Server, f *kafkaFigures, n int) error {
	id := reg.Add("bench_avro-value", benchRateAvro)
	var size int
	for _, format := range []string{"json", "avro"} {
		topic := "bench_" + format
		if err := k.CreateTopic(topic, *kafkaPartitions); err != nil {
			return err
		}
		p, err := k.StartProducer(topic, -1)
		if err != nil {
			return err
		}
		for i := range n {
			r := benchRecord(i)
			var v []byte
			if format == "json" {
				v, _ = json.Marshal(r)
				size += len(v)
			} else {
				ts, _ := time.Parse("2006-01-02 15:04:05.000", r.TS)
				v = weirtest.ConfluentAvro(id, r.ID, r.Customer, r.Country, r.Rate, ts.UnixMicro(), r.Channel, r.Note)
			}
			if err := p.Send(weirtest.Record{Key: fmt.Appendf(nil, "%d", i), Value: v}); err != nil {
				p.Close()
				return err
			}
		}
		if err := p.Close(); err != nil {
			return err
		}
	}
	f.bytes = float64(size) / float64(n)
	return nil
}

// weirThroughput creates a source on topic and a GROUP BY view on it (in
// one query string, so that the view reads the records as they come), and
// measures Weir's CPU and the wall clock until the view has counted n.
func weirThroughput(ctx context.Context, w *weirtest.Weir, c *pgx.Conn, name, topic, format string, n int) (cpu, wall time.Duration, err error) {
	cpu0, err := w.CPUTime()
	if err != nil {
		return 0, 0, err
	}
	start := time.Now()
	_, err = c.Exec(ctx, fmt.Sprintf(`CREATE SOURCE %[1]s %[2]s WITH (connector='kafka', topic='%[3]s', format='%[4]s', scan.startup='earliest');
CREATE MATERIALIZED VIEW %[1]s_by_country AS SELECT country, count(*) AS n, sum(rate) AS s FROM %[1]s GROUP BY country`,
		name, benchColumns, topic, format))
	if err != nil {
		return 0, 0, err
	}
	if err := waitCounted(ctx, c, name, n, 5*time.Minute); err != nil {
		return 0, 0, err
	}
	wall = time.Since(start)
	cpu1, err := w.CPUTime()
	if err != nil {
		return 0, 0, err
	}
	var groups int
	if err := c.QueryRow(ctx, `SELECT count(*) FROM `+name+`_by_country`).Scan(&groups); err != nil || groups != benchGroups {
		return 0, 0, fmt.Errorf("%s_by_country has %d groups (%v), want %d", name, groups, err, benchGroups)
	}
	return cpu1 - cpu0, wall, nil
}

// waitCounted polls until source's view has counted at least n records.
func waitCounted(ctx context.Context, c *pgx.Conn, source string, n int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		var got *int64
		err := c.QueryRow(ctx, `SELECT sum(n) FROM `+source+`_by_country`).Scan(&got)
		if err == nil && got != nil && *got >= int64(n) {
			return nil
		}
		if time.Now().After(deadline) {
			var state, errText string
			c.QueryRow(ctx, `SELECT state, coalesce(error, '') FROM weir_catalog.sources WHERE name = $1`, source).Scan(&state, &errText)
			return fmt.Errorf("%s: %v records after %v (%v; source %s %s)", source, got, timeout, err, state, errText)
		}
		time.Sleep(20 * time.Millisecond) // poll interval, bounded by the deadline
	}
}

// killFigure: with records produced all along, kill -9 Weir, start it
// again, and time from the kill to the view counting a record it had not
// counted before the kill (what the restarted server recovered, read first).
func killFigure(ctx context.Context, f *kafkaFigures, k *weirtest.Kafka, w *weirtest.Weir) error {
	const source = "bjson1"
	p, err := k.StartProducer("bench_json", -1)
	if err != nil {
		return err
	}
	stop := make(chan struct{})
	produced := make(chan error, 1)
	go func() { // ~2000 records/s until stopped
		i := *kafkaRecords
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				produced <- p.Close()
				return
			case <-tick.C:
			}
			for range 20 {
				v, _ := json.Marshal(benchRecord(i))
				if err := p.Send(weirtest.Record{Key: fmt.Appendf(nil, "%d", i), Value: v}); err != nil {
					produced <- err
					return
				}
				i++
			}
			if err := p.Flush(); err != nil {
				produced <- err
				return
			}
		}
	}()
	var times []float64
	var ferr error
	for i := range *kafkaKills {
		d, detail, err := killOnce(ctx, w, source)
		if err != nil {
			ferr = err
			break
		}
		logf("kafka", "kill %d: consuming again %.3f s after kill -9 (%s)", i+1, d.Seconds(), detail)
		times = append(times, d.Seconds())
	}
	close(stop)
	if err := <-produced; ferr == nil && err != nil {
		ferr = err
	}
	if len(times) > 0 {
		runs := make([]string, len(times))
		for i, t := range times {
			runs[i] = fmt.Sprintf("%.3f", t)
		}
		f.notes = append(f.notes, fmt.Sprintf("kill -9 to consuming again, %d runs: %s s", len(times), strings.Join(runs, ", ")))
		slices.Sort(times)
		f.vals["kill"] = times[len(times)/2]
	}
	return ferr
}

func killOnce(ctx context.Context, w *weirtest.Weir, source string) (time.Duration, string, error) {
	kill := time.Now()
	w.Kill()
	reaped := time.Since(kill)
	if err := w.Start(ctx); err != nil {
		return 0, "", err
	}
	ready := time.Since(kill)
	c, err := pgx.Connect(ctx, w.DSN())
	if err != nil {
		return 0, "", err
	}
	defer c.Close(context.Background())
	count := func() (int64, error) {
		var n int64
		err := c.QueryRow(ctx, `SELECT sum(n) FROM `+source+`_by_country`).Scan(&n)
		return n, err
	}
	recovered, err := count()
	if err != nil {
		return 0, "", err
	}
	for {
		n, err := count()
		if err != nil {
			return 0, "", err
		}
		if n > recovered {
			return time.Since(kill), fmt.Sprintf("gone after %.3f s, ready after %.3f s, %d records recovered", reaped.Seconds(), ready.Seconds(), recovered), nil
		}
		if time.Since(kill) > time.Minute {
			return 0, "", fmt.Errorf("%s not consuming a minute after kill -9 (%d records)", source, n)
		}
		time.Sleep(5 * time.Millisecond) // poll interval, bounded by the minute above
	}
}

// runBareConsumer runs this program as the bare consumer in a child process
// and returns its CPU time (user + system) and wall clock.
func runBareConsumer(ctx context.Context, brokers, topic string, n int) (cpu, wall time.Duration, err error) {
	self, err := os.Executable()
	if err != nil {
		return 0, 0, err
	}
	cmd := exec.CommandContext(ctx, self, "-kafka-bare-consumer", fmt.Sprintf("%s/%s/%d", brokers, topic, n))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return 0, 0, fmt.Errorf("bare consumer: %w", err)
	}
	var res struct{ WallNanos int64 }
	if err := json.Unmarshal(out, &res); err != nil {
		return 0, 0, fmt.Errorf("bare consumer printed %q: %w", out, err)
	}
	ps := cmd.ProcessState
	return ps.UserTime() + ps.SystemTime(), time.Duration(res.WallNanos), nil
}

// bareConsume is the child process: read n records of topic from the
// start with franz-go and unmarshal each into a benchRate; print the wall
// clock as JSON.
func bareConsume(arg string) error {
	parts := strings.Split(arg, "/")
	if len(parts) != 3 {
		return fmt.Errorf("-kafka-bare-consumer %q: want brokers/topic/records", arg)
	}
	var n int
	if _, err := fmt.Sscan(parts[2], &n); err != nil {
		return err
	}
	start := time.Now()
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(parts[0], ",")...), kgo.ConsumeTopics(parts[1]),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var r benchRate
	var sum int64
	for got := 0; got < n; {
		fs := cl.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			return fmt.Errorf("after %d records: %w", got, err)
		}
		var decodeErr error
		fs.EachRecord(func(rec *kgo.Record) {
			if err := json.Unmarshal(rec.Value, &r); err != nil && decodeErr == nil {
				decodeErr = err
			}
			sum += int64(r.Rate)
			got++
		})
		if decodeErr != nil {
			return decodeErr
		}
	}
	if sum == 0 {
		return errors.New("nothing decoded")
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]int64{"WallNanos": int64(time.Since(start))})
}

// reportKafka prints the Kafka figures; it reports whether any failed.
func reportKafka(f *kafkaFigures) bool {
	fmt.Printf("\nkafka (issue 4): %d records per topic, %d partitions, JSON ~%.0f bytes/record, %d groups; kfake in the bench process, records produced by kcat; best of %d runs\n",
		*kafkaRecords, *kafkaPartitions, f.bytes, benchGroups, *kafkaReps)
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "figure\tvalue\t")
	for _, row := range []struct{ key, name, unit string }{
		{"json_cpu", "JSON source -> GROUP BY view, per Weir CPU second (target >= 250000)", "records/s per core"},
		{"json_wall", "the same, wall clock", "records/s"},
		{"avro_cpu", "Avro source (schema registry) -> GROUP BY view, per Weir CPU second", "records/s per core"},
		{"avro_wall", "the same, wall clock", "records/s"},
		{"bare_cpu", "bare franz-go consumer + json.Unmarshal, per CPU second", "records/s per core"},
		{"bare_wall", "the same, wall clock", "records/s"},
		{"ratio", "Weir JSON / bare, per core (target >= 0.7)", "ratio"},
		{"kill", "kill -9 to the source consuming again, median", "s"},
	} {
		v, ok := f.vals[row.key]
		cell := "-"
		switch {
		case ok && row.unit == "ratio":
			cell = fmt.Sprintf("%.3f", v)
		case ok && row.unit == "s":
			cell = fmt.Sprintf("%.3f s", v)
		case ok:
			cell = fmt.Sprintf("%.0f %s", v, row.unit)
		case f.errs[row.key] != "" || f.errs["*"] != "":
			cell = "FAILED"
		}
		fmt.Fprintf(tw, "%s\t%s\t\n", row.name, cell)
	}
	tw.Flush()
	for _, n := range f.notes {
		fmt.Println("kafka:", n)
	}
	keys := make([]string, 0, len(f.errs))
	for k := range f.errs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Printf("kafka FAILED %s: %s\n", k, f.errs[k])
	}
	return len(f.errs) > 0
}
