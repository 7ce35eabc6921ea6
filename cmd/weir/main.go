// Command weir is the Weir server: a streaming SQL database that speaks the
// PostgreSQL wire protocol. It wires storage, the coordinator and the
// protocol server together, and shuts them down cleanly on SIGINT/SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/weirdb/weir/connectors/http"
	"github.com/weirdb/weir/connectors/kafka"
	"github.com/weirdb/weir/connectors/nexmark"
	"github.com/weirdb/weir/executor"
	"github.com/weirdb/weir/server"
	"github.com/weirdb/weir/server/coord"
	"github.com/weirdb/weir/storage"
)

// version is the build's source revision, set by the Makefile
// (-ldflags "-X main.version=...").
var version = "dev"

// config is the server's configuration: flags, each overridable by a WEIR_*
// environment variable (flags given on the command line win).
type config struct {
	dataDir         string
	pgAddr          string
	httpAddr        string
	httpToken       string
	httpAllowOrigin string
	logLevel        string
	shutdownTimeout time.Duration
	workers         int
	stateCacheSize  byteSize
	syncCommit      onOff
	pprof           bool
	kafkaBrokers    string
	schemaRegistry  string
}

func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("weir", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.dataDir, "data-dir", "./weir-data", "directory of the Pebble store (env WEIR_DATA_DIR)")
	fs.StringVar(&c.pgAddr, "pg-addr", "127.0.0.1:5434", "PostgreSQL wire protocol listen address (env WEIR_PG_ADDR)")
	fs.StringVar(&c.httpAddr, "http-addr", "127.0.0.1:8034", "HTTP listen address of the API (/v1/sql, /v1/ingest, /v1/subscribe) and /healthz, /readyz and /metrics (env WEIR_HTTP_ADDR)")
	fs.StringVar(&c.httpToken, "http-token", "", "bearer token every HTTP endpoint but /healthz and /readyz then requires; prefer the environment, which other users cannot read from the process list (env WEIR_HTTP_TOKEN)")
	fs.StringVar(&c.httpAllowOrigin, "http-allow-origin", "", "origins (scheme://host[:port], comma-separated) whose web pages may call the /v1 API from a browser (CORS), or * for any (env WEIR_HTTP_ALLOW_ORIGIN)")
	fs.StringVar(&c.logLevel, "log-level", "info", "log level: debug, info, warn or error (env WEIR_LOG_LEVEL)")
	fs.BoolVar(&c.pprof, "pprof", false, "serve Go profiles under /debug/pprof/ on the HTTP address (env WEIR_PPROF)")
	c.stateCacheSize = 1 << 30
	fs.Var(&c.stateCacheSize, "state-cache-size", "memory for the operator state of materialized views, e.g. 512MiB or 4GiB; state beyond it is read back from storage on demand; 0 = unbounded (env WEIR_STATE_CACHE_SIZE)")
	c.syncCommit = true
	fs.Var(&c.syncCommit, "synchronous-commit", "on: a commit returns once fsynced; off: before (a crash of the machine may lose the last 200ms of commits, never part of one); the default of each session's synchronous_commit (env WEIR_SYNCHRONOUS_COMMIT)")
	fs.IntVar(&c.workers, "workers", 0, "how many shards each keyed stateful operator of a view or push query (grouped aggregate, join, DISTINCT) runs as, each on a goroutine of its own; 0: one per core on 4 cores or more, else 1 (env WEIR_WORKERS)")
	fs.StringVar(&c.kafkaBrokers, "kafka-brokers", "", "Kafka brokers (host:port, comma-separated) of sources and sinks that name none (env WEIR_KAFKA_BROKERS)")
	fs.StringVar(&c.schemaRegistry, "schema-registry", "", "schema registry URL of Avro sources and sinks that name none (env WEIR_SCHEMA_REGISTRY)")
	fs.DurationVar(&c.shutdownTimeout, "shutdown-timeout", 30*time.Second, "how long shutdown waits for running statements (env WEIR_SHUTDOWN_TIMEOUT)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: weir [flags]\n\nWeir is a streaming SQL database server that speaks the PostgreSQL wire protocol.\nConnect with: psql -h 127.0.0.1 -p 5434 -U weir weir\n\nFlags (each also settable as a WEIR_* environment variable; flags win):\n")
		fs.PrintDefaults()
	}
	// Environment first, so that explicit flags override it.
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		env := "WEIR_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := getenv(env); v != "" {
			if err := f.Value.Set(v); err != nil && envErr == nil {
				envErr = fmt.Errorf("%s=%q: %w", env, v, err)
			}
		}
	})
	if envErr != nil {
		return c, envErr
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if c.workers < 0 {
		return c, fmt.Errorf("--workers %d: want 0 (the default) or more", c.workers)
	}
	return c, nil
}

// splitOrigins reads --http-allow-origin: origins separated by commas or
// spaces.
func splitOrigins(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' })
}

// byteSize is a flag holding a number of bytes, written as an integer with
// an optional unit: B, kB/KiB, MB/MiB, GB/GiB, TB/TiB (k, M, G, T alone
// are the binary units, as in PostgreSQL's memory settings).
type byteSize int64

var byteUnits = []struct {
	suffix string
	mult   int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"kB", 1000}, {"KB", 1000}, {"MB", 1000 * 1000}, {"GB", 1000 * 1000 * 1000}, {"TB", 1000 * 1000 * 1000 * 1000},
	{"k", 1 << 10}, {"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"T", 1 << 40}, {"B", 1},
}

func (b *byteSize) String() string { return strconv.FormatInt(int64(*b), 10) }

func (b *byteSize) Set(s string) error {
	num, mult := strings.TrimSpace(s), int64(1)
	for _, u := range byteUnits {
		if strings.HasSuffix(num, u.suffix) {
			num, mult = strings.TrimSpace(strings.TrimSuffix(num, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 || n > math.MaxInt64/mult {
		return fmt.Errorf("invalid size %q: want a non-negative integer with an optional unit (B, kB, MB, GB, KiB, MiB, GiB)", s)
	}
	*b = byteSize(n * mult)
	return nil
}

// onOff is a boolean flag written on or off, as PostgreSQL writes its
// boolean settings (true and false are accepted too).
type onOff bool

func (b *onOff) String() string {
	if *b {
		return "on"
	}
	return "off"
}

func (b *onOff) Set(s string) error {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "on", "true":
		*b = true
	case "off", "false":
		*b = false
	default:
		return errors.New("want on or off")
	}
	return nil
}

func newLogger(level string, w io.Writer) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}

func main() {
	if os.Getenv("GOGC") == "" {
		// Most of Weir's heap is short-lived batches of rows: collecting
		// at twice the live heap instead of at once more halves the GC's
		// share of a busy pipeline's CPU (about 15% of Nexmark q0's) for a
		// larger heap. GOGC set in the environment wins.
		debug.SetGCPercent(200)
	}
	os.Exit(run(os.Args[1:], os.Getenv, os.Stderr))
}

func run(args []string, getenv func(string) string, stderr io.Writer) int {
	cfg, err := parseConfig(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "weir:", err)
		return 2
	}
	logger, err := newLogger(cfg.logLevel, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "weir:", err)
		return 2
	}
	if err := serve(cfg, logger); err != nil {
		logger.Error("weir stopped", "err", err)
		return 1
	}
	return 0
}

func serve(cfg config, logger *slog.Logger) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	db, err := storage.Open(storage.Options{Dir: cfg.dataDir, Logger: logger, AsynchronousCommit: !bool(cfg.syncCommit)})
	if err != nil {
		return fmt.Errorf("open storage in %s: %w", cfg.dataDir, err)
	}
	defer func() {
		if err := db.Close(); err != nil {
			logger.Error("closing storage", "err", err)
		}
	}()
	connectors := map[string]executor.Connector{
		"kafka":   &kafka.Connector{Brokers: kafka.SplitList(cfg.kafkaBrokers), SchemaRegistry: cfg.schemaRegistry, Logger: logger},
		"http":    &http.Connector{Logger: logger},
		"nexmark": &nexmark.Connector{},
	}
	eng, err := coord.New(coord.Options{DB: db, Logger: logger, StateCacheSize: int64(cfg.stateCacheSize), Workers: cfg.workers, Connectors: connectors})
	if err != nil {
		return err
	}
	// Sources and sinks stop before storage closes (deferred above).
	defer eng.Close()
	reg := prometheus.NewRegistry()
	reg.MustRegister(newStoreCollector(db))
	srv, err := server.New(server.Options{
		PGAddr:           cfg.pgAddr,
		HTTPAddr:         cfg.httpAddr,
		HTTPToken:        cfg.httpToken,
		HTTPAllowOrigins: splitOrigins(cfg.httpAllowOrigin),
		Logger:           logger,
		Registry:         reg,
		Ready:            func() bool { return true },
		Pprof:            cfg.pprof,
	}, eng)
	if err != nil {
		return err
	}
	if err := srv.Start(ctx); err != nil {
		return err
	}
	httpAddr := "off"
	if a := srv.HTTPAddr(); a != nil {
		httpAddr = a.String()
	}
	logger.Info("weir is ready", "version", coord.Version, "build", version, "pg", srv.PGAddr().String(), "http", httpAddr, "data", cfg.dataDir)
	host, port, _ := net.SplitHostPort(srv.PGAddr().String())
	fmt.Fprintf(os.Stdout, "Weir %s is ready. Connect with:\n  psql -h %s -p %s -U weir weir\n", coord.Version, host, port)

	<-ctx.Done()
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), cfg.shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		logger.Warn("shutdown", "err", err)
	}
	return nil
}
