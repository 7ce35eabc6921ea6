package tests

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// The sqllogictest runner. Each tests/slt/*.slt file runs against a fresh
// Weir (new data directory) and against the real PostgreSQL in a fresh
// database; both must give the results written in the file.
//
// File format (one record per paragraph, blank-line separated):
//
//	# comment
//	statement ok
//	<sql>
//
//	statement error <SQLSTATE> [message regex]   or   statement error <regex>
//	<sql>
//
//	query <types> [rowsort|nosort]
//	<sql>
//	----
//	<row: values separated by one space; NULL is NULL, '' is (empty)>
//
// `skipif <engine>` / `onlyif <engine>` (engine weir or postgres) may precede
// a record; each use needs a comment saying why. `halt` stops the file.
//
// `control refresh-views` (views_*.slt): from there on, on PostgreSQL only,
// every query record and every CREATE statement is preceded by REFRESH
// MATERIALIZED VIEW of every live materialized view the file created, in
// creation order (as the shared conformance runner's --postgres-refresh
// does). Weir gets no refresh: its views must already be up to date when the
// write returns. PostgreSQL so checks the expected results of views that
// Weir maintains incrementally.
//
// SLT_TARGET=postgres (or weir) runs one side only; SLT_FILE=<glob> picks files.

type sltRecord struct {
	line     int
	kind     string // statement, query
	ok       bool   // statement ok
	errCode  string // expected SQLSTATE
	errRE    *regexp.Regexp
	types    string
	sortMode string
	sql      string
	expect   []string
	skipIf   []string
	onlyIf   []string
	refresh  bool // control refresh-views was in effect
}

var sqlstateRE = regexp.MustCompile(`^[0-9A-Z]{5}$`)

func parseSLT(path string) ([]sltRecord, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var recs []sltRecord
	var lines []string
	lineNo := 0
	var startLine int
	var skip, only []string
	refresh := false
	flush := func() error {
		if len(lines) == 0 {
			return nil
		}
		defer func() { lines = nil }()
		head := strings.Fields(lines[0])
		r := sltRecord{line: startLine, skipIf: skip, onlyIf: only, refresh: refresh}
		skip, only = nil, nil
		body := lines[1:]
		switch head[0] {
		case "statement":
			r.kind = "statement"
			if len(head) < 2 {
				return fmt.Errorf("%s:%d: statement needs ok or error", path, startLine)
			}
			switch head[1] {
			case "ok":
				r.ok = true
			case "error":
				rest := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(lines[0])[len("statement"):], " error"))
				rest = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(rest), "error"))
				if f := strings.Fields(rest); len(f) > 0 && sqlstateRE.MatchString(f[0]) {
					r.errCode = f[0]
					rest = strings.TrimSpace(rest[len(f[0]):])
				}
				if rest != "" {
					re, err := regexp.Compile("(?i)" + rest)
					if err != nil {
						return fmt.Errorf("%s:%d: %v", path, startLine, err)
					}
					r.errRE = re
				}
			default:
				return fmt.Errorf("%s:%d: statement %s?", path, startLine, head[1])
			}
			r.sql = strings.Join(body, "\n")
		case "query":
			r.kind = "query"
			if len(head) < 2 {
				return fmt.Errorf("%s:%d: query needs column types", path, startLine)
			}
			r.types = head[1]
			r.sortMode = "nosort"
			if len(head) > 2 {
				r.sortMode = head[2]
			}
			if r.sortMode != "nosort" && r.sortMode != "rowsort" {
				return fmt.Errorf("%s:%d: unknown sort mode %q", path, startLine, r.sortMode)
			}
			i := 0
			for i < len(body) && body[i] != "----" {
				i++
			}
			r.sql = strings.Join(body[:i], "\n")
			if i < len(body) {
				r.expect = append([]string{}, body[i+1:]...)
			}
		default:
			return fmt.Errorf("%s:%d: unknown record %q", path, startLine, head[0])
		}
		if strings.TrimSpace(r.sql) == "" {
			return fmt.Errorf("%s:%d: record without SQL", path, startLine)
		}
		recs = append(recs, r)
		return nil
	}
	for sc.Scan() {
		lineNo++
		line := strings.TrimRight(sc.Text(), " \t\r")
		if len(lines) == 0 {
			t := strings.TrimSpace(line)
			switch {
			case t == "" || strings.HasPrefix(t, "#"):
				continue
			case strings.HasPrefix(t, "skipif "):
				skip = append(skip, strings.Fields(t)[1])
				continue
			case strings.HasPrefix(t, "onlyif "):
				only = append(only, strings.Fields(t)[1])
				continue
			case t == "halt":
				return recs, nil
			case t == "control refresh-views":
				refresh = true
				continue
			case strings.HasPrefix(t, "control "):
				return nil, fmt.Errorf("%s:%d: unknown directive %q", path, lineNo, t)
			}
			startLine = lineNo
			lines = append(lines, line)
			continue
		}
		if line == "" {
			if err := flush(); err != nil {
				return nil, err
			}
			continue
		}
		lines = append(lines, line)
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return recs, sc.Err()
}

// applies reports whether r runs on engine.
func (r *sltRecord) applies(engine string) bool {
	for _, e := range r.skipIf {
		if e == engine {
			return false
		}
	}
	if len(r.onlyIf) == 0 {
		return true
	}
	for _, e := range r.onlyIf {
		if e == engine {
			return true
		}
	}
	return false
}

// execText runs sql with the simple protocol and returns the last result's
// rows as text values (nil = NULL).
func execText(ctx context.Context, c *pgconn.PgConn, sql string) ([][]*string, int, error) {
	mrr := c.Exec(ctx, sql)
	var rows [][]*string
	ncols := 0
	var firstErr error
	for mrr.NextResult() {
		rr := mrr.ResultReader()
		rows, ncols = nil, 0
		for rr.NextRow() {
			vals := rr.Values()
			row := make([]*string, len(vals))
			for i, v := range vals {
				if v != nil {
					s := string(v)
					row[i] = &s
				}
			}
			rows = append(rows, row)
		}
		ncols = len(rr.FieldDescriptions())
		if _, err := rr.Close(); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	if err := mrr.Close(); err != nil && firstErr == nil {
		firstErr = err
	}
	if firstErr != nil {
		return nil, 0, firstErr
	}
	return rows, ncols, nil
}

func renderRow(row []*string) string {
	parts := make([]string, len(row))
	for i, v := range row {
		switch {
		case v == nil:
			parts[i] = "NULL"
		case *v == "":
			parts[i] = "(empty)"
		default:
			parts[i] = *v
		}
	}
	return strings.Join(parts, " ")
}

// runSLT runs the records of one file on one connection; it reports every
// mismatch (not only the first) with the file and line.
type sltReporter interface {
	Errorf(format string, args ...any)
}

var (
	createMatViewRE = regexp.MustCompile(`(?is)^\s*create\s+materialized\s+view\s+(?:if\s+not\s+exists\s+)?([a-z_][a-z0-9_]*)`)
	dropMatViewRE   = regexp.MustCompile(`(?is)^\s*drop\s+materialized\s+view\s+(?:if\s+exists\s+)?([a-z_][a-z0-9_,\s]*?)\s*(cascade|restrict)?\s*;?\s*$`)
	createRE        = regexp.MustCompile(`(?is)^\s*create\s`)
)

// matViews tracks the live materialized views of a file, in creation order.
type matViews struct{ names []string }

func (m *matViews) apply(sql string) {
	if g := createMatViewRE.FindStringSubmatch(sql); g != nil {
		m.names = append(m.names, strings.ToLower(g[1]))
		return
	}
	if g := dropMatViewRE.FindStringSubmatch(sql); g != nil {
		for _, n := range strings.Split(g[1], ",") {
			n = strings.ToLower(strings.TrimSpace(n))
			for i, x := range m.names {
				if x == n {
					m.names = append(m.names[:i:i], m.names[i+1:]...)
					break
				}
			}
		}
		// CASCADE drops dependents too; refreshing one that is gone fails,
		// so dependents are found again by asking the server (see refresh).
	}
}

// refresh runs REFRESH MATERIALIZED VIEW for each live view (PostgreSQL only).
func (m *matViews) refresh(ctx context.Context, c *pgconn.PgConn) error {
	live := m.names[:0:0]
	for _, n := range m.names {
		_, _, err := execText(ctx, c, "REFRESH MATERIALIZED VIEW "+n)
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "42P01" { // dropped by a CASCADE
			continue
		}
		if err != nil {
			return fmt.Errorf("REFRESH MATERIALIZED VIEW %s: %w", n, err)
		}
		live = append(live, n)
	}
	m.names = live
	return nil
}

func runSLT(t sltReporter, engine, path string, recs []sltRecord, c *pgconn.PgConn) {
	runSLTRewrite(t, engine, path, recs, c, nil)
}

// runSLTRewrite is runSLT; when rewrites is not nil it also records each
// query record's actual rows (sorted for rowsort) by the record's line.
func runSLTRewrite(t sltReporter, engine, path string, recs []sltRecord, c *pgconn.PgConn, rewrites map[int][]string) {
	name := filepath.Base(path)
	failures := 0
	var mv matViews
	for _, r := range recs {
		if !r.applies(engine) {
			continue
		}
		if r.refresh && engine == "postgres" && (r.kind == "query" || createRE.MatchString(r.sql)) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			err := mv.refresh(ctx, c)
			cancel()
			if err != nil {
				t.Errorf("%s:%d: %v", name, r.line, err)
				failures++
			}
		}
		if r.kind == "statement" {
			mv.apply(r.sql)
		}
		if failures >= 25 {
			t.Errorf("%s: too many failures, stopping", name)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		rows, ncols, err := execText(ctx, c, r.sql)
		cancel()
		if c.IsClosed() {
			t.Errorf("%s:%d: connection lost running %q: %v", name, r.line, r.sql, err)
			return
		}
		fail := func(format string, args ...any) {
			failures++
			t.Errorf("%s:%d: %s\n    %s", name, r.line, fmt.Sprintf(format, args...), strings.ReplaceAll(r.sql, "\n", "\n    "))
		}
		if r.kind == "statement" && r.ok {
			if err != nil {
				fail("statement failed: %v", err)
			}
			continue
		}
		if r.kind == "statement" {
			if err == nil {
				fail("statement succeeded; want error %s %v", r.errCode, r.errRE)
				continue
			}
			var pe *pgconn.PgError
			if !errors.As(err, &pe) {
				fail("want a PostgreSQL error, got %v", err)
				continue
			}
			if r.errCode != "" && pe.Code != r.errCode {
				fail("SQLSTATE %s (%s), want %s", pe.Code, pe.Message, r.errCode)
			} else if r.errRE != nil && !r.errRE.MatchString(pe.Message) {
				fail("error %q does not match /%s/", pe.Message, r.errRE)
			}
			continue
		}
		// query
		if err != nil {
			fail("query failed: %v", err)
			continue
		}
		if ncols != len(r.types) {
			fail("%d columns, want %d (%s)", ncols, len(r.types), r.types)
			continue
		}
		got := make([]string, len(rows))
		for i, row := range rows {
			got[i] = renderRow(row)
		}
		want := append([]string{}, r.expect...)
		if r.sortMode == "rowsort" {
			sort.Strings(got)
			sort.Strings(want)
		}
		if rewrites != nil {
			rewrites[r.line] = got
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			fail("results differ\n--- got\n%s\n--- want\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}

func sltFiles(t *testing.T) []string {
	pattern := os.Getenv("SLT_FILE")
	if pattern == "" {
		pattern = "*.slt"
	}
	files, err := filepath.Glob(filepath.Join("slt", pattern))
	if err != nil || len(files) == 0 {
		t.Fatalf("no slt files match slt/%s (%v)", pattern, err)
	}
	return files
}

func TestSLT(t *testing.T) {
	target := os.Getenv("SLT_TARGET")
	for _, path := range sltFiles(t) {
		recs, err := parseSLT(path)
		if err != nil {
			t.Fatal(err)
		}
		base := strings.TrimSuffix(filepath.Base(path), ".slt")
		t.Run(base, func(t *testing.T) {
			if target == "" || target == "postgres" {
				t.Run("postgres", func(t *testing.T) {
					pg := postgres(t)
					ctx := testCtx(t, time.Minute)
					db := "slt_" + strings.ReplaceAll(base, "-", "_")
					if err := pg.CreateDB(ctx, db); err != nil {
						t.Fatal(err)
					}
					c := connect(t, pg.DSN(db), pgx.QueryExecModeSimpleProtocol)
					if os.Getenv("SLT_REWRITE") == "1" {
						got := map[int][]string{}
						runSLTRewrite(discard{}, "postgres", path, recs, c.PgConn(), got)
						if err := rewriteSLT(path, got); err != nil {
							t.Fatal(err)
						}
						return
					}
					runSLT(t, "postgres", path, recs, c.PgConn())
				})
			}
			if target == "" || target == "weir" {
				t.Run("weir", func(t *testing.T) {
					w := startWeir(t)
					c := connect(t, w.DSN(), pgx.QueryExecModeSimpleProtocol)
					runSLT(t, "weir", path, recs, c.PgConn())
				})
			}
		})
	}
}

type countingReporter struct{ msgs []string }

func (c *countingReporter) Errorf(format string, args ...any) {
	c.msgs = append(c.msgs, fmt.Sprintf(format, args...))
}

// TestSLTRunnerDetectsMismatch checks the runner itself: a wrong result, a
// wrong SQLSTATE, an unexpected success and a wrong column count must each
// be reported, and a correct file must not be.
func TestSLTRunnerDetectsMismatch(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	bad := write("bad.slt", "query I nosort\nSELECT 1\n----\n2\n\n"+
		"statement error 42P01\nSELECT 1/0\n\n"+
		"statement error 22012\nSELECT 1\n\n"+
		"query II nosort\nSELECT 1\n----\n1\n")
	good := write("good.slt", "# ok\nquery IT rowsort\nSELECT * FROM (VALUES (2, ''), (1, NULL)) v\n----\n1 NULL\n2 (empty)\n\n"+
		"statement error 22012\nSELECT 1/0\n\nstatement error division by zero\nSELECT 1/0\n\n"+
		"skipif postgres\nstatement ok\nSELECT no_such_function()\n")
	pg := postgres(t)
	c := connect(t, pg.DSN("weir"), pgx.QueryExecModeSimpleProtocol)
	for _, tc := range []struct {
		path string
		want int
	}{{bad, 4}, {good, 0}} {
		recs, err := parseSLT(tc.path)
		if err != nil {
			t.Fatal(err)
		}
		rep := &countingReporter{}
		runSLT(rep, "postgres", tc.path, recs, c.PgConn())
		if len(rep.msgs) != tc.want {
			t.Errorf("%s: %d failures reported, want %d:\n%s", filepath.Base(tc.path), len(rep.msgs), tc.want, strings.Join(rep.msgs, "\n"))
		}
	}
}

type discard struct{}

func (discard) Errorf(string, ...any) {}

// rewriteSLT replaces the expected rows of the query records at the given
// lines with PostgreSQL's (SLT_REWRITE=1 SLT_TARGET=postgres SLT_FILE=x.slt):
// the way to write a new file's expectations, to be read before committing.
func rewriteSLT(path string, got map[int][]string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	lines := strings.Split(string(b), "\n")
	var out []string
	for i := 0; i < len(lines); i++ {
		rows, ok := got[i+1]
		if !ok {
			out = append(out, lines[i])
			continue
		}
		// copy the record head and SQL up to ----, then the new rows, then skip the old ones
		for ; i < len(lines) && strings.TrimSpace(lines[i]) != "" && lines[i] != "----"; i++ {
			out = append(out, lines[i])
		}
		out = append(out, "----")
		out = append(out, rows...)
		for i < len(lines) && strings.TrimSpace(lines[i]) != "" {
			i++
		}
		if i < len(lines) {
			out = append(out, lines[i])
		}
	}
	return os.WriteFile(path, []byte(strings.Join(out, "\n")), 0o644)
}
