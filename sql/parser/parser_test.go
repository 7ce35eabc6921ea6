package parser

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/weirdb/weir/sql/ast"
	"github.com/weirdb/weir/sql/sqlerr"
)

var rewrite = flag.Bool("rewrite", false, "rewrite testdata/ast.txt with the current output")

// TestAST checks the AST of every statement in testdata/ast.txt. Each case
// is SQL, a line "----", the expected AST (one line per statement, printed
// by sexp, or "error CODE pos N: message"), and a blank line.
func TestAST(t *testing.T) {
	path := filepath.Join("testdata", "ast.txt")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	for _, block := range strings.Split(strings.TrimSpace(string(data)), "\n\n") {
		sql, want, ok := strings.Cut(block, "\n----\n")
		if !ok {
			sql, want = strings.TrimSuffix(block, "\n----"), ""
		}
		got := render(sql)
		if !*rewrite && got != want {
			t.Errorf("%s\n got: %s\nwant: %s", sql, got, want)
		}
		out.WriteString(sql + "\n----\n" + got + "\n\n")
	}
	if *rewrite {
		if err := os.WriteFile(path, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func render(sql string) string {
	stmts, err := Parse(sql)
	if err != nil {
		var e *sqlerr.Error
		if !errors.As(err, &e) {
			return "non-sqlerr error: " + err.Error()
		}
		return "error " + string(e.Code) + " pos " + itoa(e.Position) + ": " + e.Message
	}
	var lines []string
	for _, s := range stmts {
		lines = append(lines, sexp(s.AST))
	}
	return strings.Join(lines, "\n")
}

func itoa(n int) string {
	return strings.TrimSpace(strings.Repeat(" ", 0) + func() string {
		b := []byte{}
		if n == 0 {
			return "0"
		}
		neg := n < 0
		if neg {
			n = -n
		}
		for n > 0 {
			b = append([]byte{byte('0' + n%10)}, b...)
			n /= 10
		}
		if neg {
			return "-" + string(b)
		}
		return string(b)
	}())
}

func TestSplitAndMeta(t *testing.T) {
	q := "SELECT 1;; /* c; */ SELECT $2 + $1 ; SELECT ';' -- x;\n"
	stmts, err := Parse(q)
	if err != nil {
		t.Fatal(err)
	}
	if len(stmts) != 3 {
		t.Fatalf("got %d statements", len(stmts))
	}
	want := []struct {
		sql       string
		numParams int
	}{{"SELECT 1", 0}, {"SELECT $2 + $1", 2}, {"SELECT ';'", 0}}
	for i, w := range want {
		if stmts[i].SQL != w.sql || stmts[i].NumParams != w.numParams || q[stmts[i].Offset:stmts[i].Offset+len(w.sql)] != w.sql {
			t.Errorf("stmt %d: %+v, want %+v", i, stmts[i], w)
		}
	}
	if s, err := Parse("  ;  -- nothing\n"); err != nil || len(s) != 0 {
		t.Errorf("empty query: %v %v", s, err)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		sql  string
		code sqlerr.Code
		pos  int
		msg  string
	}{
		{"SELECT 1 FROM FROM t", sqlerr.SyntaxError, 15, `syntax error at or near "FROM"`},
		{"SELEC 1", sqlerr.SyntaxError, 1, `syntax error at or near "SELEC"`},
		{"SELECT 1 +", sqlerr.SyntaxError, 11, `syntax error at end of input`},
		{"SELECT 1 +; SELECT 2", sqlerr.SyntaxError, 11, `syntax error at or near ";"`},
		// rewrites earlier in the text must not shift the position
		{"SELECT a::int, x ~ 'y', E'\\n', $1, 'é' FROM t WHERE WHERE", sqlerr.SyntaxError, 53, `syntax error at or near "WHERE"`},
		{"SELECT 'x'::regtypo", sqlerr.UndefinedObject, 13, `type "regtypo" does not exist`},
		{"SELECT CAST(1 AS foo)", sqlerr.UndefinedObject, 18, `type "foo" does not exist`},
		{"CREATE TABLE t (a nosuchtype)", sqlerr.UndefinedObject, 19, `type "nosuchtype" does not exist`},
		{"SELECT 'abc", sqlerr.SyntaxError, 8, `unterminated quoted string at or near "'abc"`},
		{"SELECT $$abc", sqlerr.SyntaxError, 8, `unterminated dollar-quoted string at or near "$$abc"`},
		{"SELECT /* abc", sqlerr.SyntaxError, 8, `unterminated /* comment at or near "/*"`},
		{"SELECT \"abc", sqlerr.SyntaxError, 8, `unterminated quoted identifier at or near "\"abc"`},
		{"SELECT a SIMILAR TO 'x' FROM t", sqlerr.FeatureNotSupported, 10, `SIMILAR TO is not supported`},
		{"CREATE TABLE t (a int, b int", sqlerr.SyntaxError, 29, `syntax error at end of input`},
		{"CREATE TABLE t (a int DEFAULT 1 +, b int)", sqlerr.SyntaxError, 34, `syntax error at or near ","`},
		{"DROP TABLE", sqlerr.SyntaxError, 11, `syntax error at end of input`},
		{"CREATE SOURCE s (a int)", sqlerr.SyntaxError, 24, `syntax error at end of input`},
		{"SHOW", sqlerr.SyntaxError, 5, `syntax error at end of input`},
		{"SELECT 1 FROM t WHERE x = 'é' AND AND", sqlerr.SyntaxError, 35, `syntax error at or near "AND"`},
		{"INSERT INTO t VALUES (1) RETURNING", sqlerr.SyntaxError, 35, `syntax error at end of input`},
		{"FOO BAR", sqlerr.SyntaxError, 1, `syntax error at or near "FOO"`},
		{"SELECT 123abc", sqlerr.SyntaxError, 8, `trailing junk after numeric literal at or near "123abc"`},
		{"SELECT * FROM s JOIN t FOR SYSTEM_TIME AS OF now() ON a = b", sqlerr.FeatureNotSupported, 46, `FOR SYSTEM_TIME AS OF supports only PROCTIME()`},
		{"SELECT * FROM (SELECT 1) x FOR SYSTEM_TIME AS OF PROCTIME()", sqlerr.FeatureNotSupported, 28, `FOR SYSTEM_TIME AS OF applies only to a table name`},
		{"SELECT * FROM t FOR SYSTEM_TIME OF PROCTIME()", sqlerr.SyntaxError, 33, `syntax error at or near "OF"`},
		{"SELECT * FROM t FOR SYSTEM_TIME AS OF PROCTIME() AS", sqlerr.SyntaxError, 52, `syntax error at end of input`},
	}
	for _, tc := range tests {
		_, err := Parse(tc.sql)
		var e *sqlerr.Error
		if !errors.As(err, &e) {
			t.Errorf("%s: error %v is not a *sqlerr.Error", tc.sql, err)
			continue
		}
		if e.Code != tc.code || e.Position != tc.pos || e.Message != tc.msg {
			t.Errorf("%s:\n got %s pos %d %q\nwant %s pos %d %q", tc.sql, e.Code, e.Position, e.Message, tc.code, tc.pos, tc.msg)
		}
	}
}

func TestParseExpr(t *testing.T) {
	tests := []struct{ in, want string }{
		{"now()", `Func{Name:"now"}`},
		{"'x'::text", `Cast{X:Literal{Value:'x'} Type:text}`},
		{"1 + 2", `Binary{Op:"+" L:Literal{Value:1} R:Literal{Value:2}}`},
		{"NULL", `Literal{}`},
	}
	for _, tc := range tests {
		e, err := ParseExpr(tc.in)
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if got := sexp(e); got != tc.want {
			t.Errorf("%s: got %s want %s", tc.in, got, tc.want)
		}
	}
	for _, bad := range []string{"", "1 +", "SELECT 1", "1, 2", "1 AS x", "a FROM t"} {
		if _, err := ParseExpr(bad); sqlerr.CodeOf(err) != sqlerr.SyntaxError {
			t.Errorf("ParseExpr(%q) = %v, want 42601", bad, err)
		}
	}
}

// TestCorpus parses every statement of testdata/corpus/*.sql: real
// statements PostgreSQL clients send. Statements are separated by lines
// holding only "--- next" so that each file can hold multi-statement strings.
func TestCorpus(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "corpus", "*.sql"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus: %v", err)
	}
	n := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range strings.Split(string(data), "\n--- next\n") {
			if strings.TrimSpace(q) == "" {
				continue
			}
			n++
			if _, err := Parse(q); err != nil {
				e := sqlerr.From(err)
				t.Errorf("%s: %s (pos %d) in:\n%s", filepath.Base(f), e.Message, e.Position, q)
			}
		}
	}
	t.Logf("%d corpus queries", n)
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"SELECT a::int FROM t WHERE x ~ 'y' ORDER BY a NULLS FIRST",
		"CREATE SOURCE s (a int, WATERMARK FOR a AS a - 1) WITH (x = 'y')",
		"INSERT INTO t VALUES (1) ON CONFLICT (a) DO UPDATE SET b = 1 RETURNING *",
		"SELECT $1, E'\\x41', $$q$$, ARRAY[1][1], count(*) FILTER (WHERE a)",
		"COPY t FROM STDIN WITH (FORMAT csv)", "SET x TO 1", "SELECT DISTINCT ON (a) a FROM generate_series(1,2) g(a)",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		_, err := Parse(q)
		if err != nil {
			var e *sqlerr.Error
			if !errors.As(err, &e) {
				t.Fatalf("non-sqlerr error %T %v", err, err)
			}
			if e.Code == sqlerr.InternalError {
				t.Fatalf("internal error for %q: %v", q, e.Message)
			}
		}
	})
}

func TestDefaultText(t *testing.T) {
	stmts, err := Parse("CREATE TABLE t (a INT DEFAULT 1 + 2 NOT NULL, b TEXT DEFAULT 'x''y', c TIMESTAMPTZ DEFAULT now(), d INT)")
	if err != nil {
		t.Fatal(err)
	}
	ct := stmts[0].AST.(*ast.CreateTable)
	for i, want := range []string{"1 + 2", "'x''y'", "now()", ""} {
		if got := ct.Columns[i].DefaultText; got != want {
			t.Errorf("column %d: DefaultText %q, want %q", i, got, want)
		}
	}
}
