// Package tests holds Weir's end-to-end tests: they start the real bin/weir
// binary on free ports with a temporary data directory and drive it with real
// clients (psql, pgx, the PostgreSQL JDBC driver, psycopg2), and run the
// sqllogictest files against both Weir and a real PostgreSQL 15.
package tests

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/weirdb/weir/tests/internal/weirtest"
)

var (
	weirBin    string
	weirBinErr error
)

// The PostgreSQL oracle: one server per test binary run, started on first use.
var (
	pgOnce   sync.Once
	pgServer *weirtest.Postgres
	pgErr    error
)

func TestMain(m *testing.M) {
	weirBin, weirBinErr = weirtest.BinPath()
	if weirBinErr != nil {
		// Tests that need Weir fail with this; PostgreSQL-only ones still run.
		fmt.Fprintln(os.Stderr, "tests:", weirBinErr)
	}
	code := m.Run()
	if pgServer != nil {
		if err := pgServer.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "tests: stopping postgres:", err)
		}
	}
	os.Exit(code)
}

// postgres returns the shared PostgreSQL server, failing t if it cannot start.
func postgres(t testing.TB) *weirtest.Postgres {
	t.Helper()
	pgOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		pgServer, pgErr = weirtest.StartPostgres(ctx, weirtest.PGOptions{Fsync: false})
	})
	if pgErr != nil {
		t.Fatalf("PostgreSQL (the oracle) did not start: %v", pgErr)
	}
	return pgServer
}

// startWeir starts bin/weir on a temp data dir and free ports; it is killed
// at the end of the test, and its log printed if the test failed.
func startWeir(t testing.TB, args ...string) *weirtest.Weir {
	t.Helper()
	if weirBinErr != nil {
		t.Fatal(weirBinErr)
	}
	dir := t.TempDir()
	logPath := filepath.Join(dir, "weir.log")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	w, err := weirtest.StartWeir(ctx, weirBin, filepath.Join(dir, "data"), logPath, args...)
	t.Cleanup(func() {
		w.Kill()
		if t.Failed() {
			t.Logf("weir log (%s):\n%s", logPath, w.LogTail(6000))
		}
	})
	if err != nil {
		t.Fatalf("start weir: %v", err)
	}
	return w
}

// testCtx is a context that ends with the test or after d.
func testCtx(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// connect opens a pgx connection to dsn, closed at the end of the test.
func connect(t testing.TB, dsn string, mode pgx.QueryExecMode) *pgx.Conn {
	t.Helper()
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.DefaultQueryExecMode = mode
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("connect %s: %v", dsn, err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

// mustExec runs sql and fails the test on error.
func mustExec(t testing.TB, ctx context.Context, c *pgx.Conn, sql string, args ...any) pgconn.CommandTag {
	t.Helper()
	tag, err := c.Exec(ctx, sql, args...)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return tag
}

// waitFor polls cond every 10ms until it returns nil or the deadline passes.
func waitFor(t testing.TB, d time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not true after %v: %v", what, d, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// server is what a test drives: Weir, or PostgreSQL as the oracle for the
// same test (so that the test itself is known to be right).
type server struct {
	engine string // "weir" or "postgres"
	dsn    string
	weir   *weirtest.Weir // nil for postgres
}

// onBoth runs f as subtests against a fresh Weir and against a fresh
// database on the shared PostgreSQL. E2E_TARGET=weir or postgres picks one.
func onBoth(t *testing.T, f func(t *testing.T, s server)) {
	target := os.Getenv("E2E_TARGET")
	if target == "" || target == "postgres" {
		t.Run("postgres", func(t *testing.T) {
			pg := postgres(t)
			db := "e2e_" + strings.ToLower(strings.NewReplacer("/", "_", "-", "_").Replace(t.Name()))
			if len(db) > 60 {
				db = db[:60]
			}
			if err := pg.CreateDB(testCtx(t, time.Minute), db); err != nil {
				t.Fatal(err)
			}
			f(t, server{engine: "postgres", dsn: pg.DSN(db)})
		})
	}
	if target == "" || target == "weir" {
		t.Run("weir", func(t *testing.T) {
			w := startWeir(t)
			f(t, server{engine: "weir", dsn: w.DSN(), weir: w})
		})
	}
}
