package tests

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// psql runs the real psql binary with script on stdin against the server at
// dsn; it returns stdout, stderr and the exit code.
func psql(t *testing.T, dsn, dir, script string, extra ...string) (string, string, int) {
	t.Helper()
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	args := append([]string{"-X", "-v", "ON_ERROR_STOP=1", "-h", cfg.Host, "-p", strconv.Itoa(int(cfg.Port)),
		"-U", cfg.User, "-d", cfg.Database, "--no-psqlrc", "-A", "-t", "-q"}, extra...)
	cmd := exec.CommandContext(ctx, "psql", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PGCONNECT_TIMEOUT=10", "PGSSLMODE=prefer", "PGTZ=UTC")
	cmd.Stdin = strings.NewReader(script)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("psql: %v", err)
	}
	return out.String(), errb.String(), code
}

func TestPsql(t *testing.T) {
	if _, err := exec.LookPath("psql"); err != nil {
		t.Fatal("psql not installed: run `make deps`")
	}
	onBoth(t, func(t *testing.T, s server) {
		dir := t.TempDir()
		var csv strings.Builder
		csv.WriteString("id,name,amount\n")
		for i := 1; i <= 500; i++ {
			fmt.Fprintf(&csv, "%d,\"name, %d\",%d.%02d\n", i, i, i, i%100)
		}
		csv.WriteString("501,,\n") // empty unquoted fields are NULL in CSV
		if err := os.WriteFile(filepath.Join(dir, "data.csv"), []byte(csv.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		out, stderr, code := psql(t, s.dsn, dir, `
CREATE TABLE t (id BIGINT PRIMARY KEY, name TEXT, amount NUMERIC(10,2));
INSERT INTO t VALUES (1000, 'first', 1.5), (1001, 'second', NULL);
SELECT id, name, amount FROM t ORDER BY id;
\copy t FROM 'data.csv' WITH (FORMAT csv, HEADER true)
SELECT count(*), count(name), sum(amount) FROM t;
SELECT name FROM t WHERE id = 42;
\copy (SELECT id, name FROM t WHERE id IN (7, 1001) ORDER BY id) TO 'out.csv' CSV
SELECT 'multi' AS a; SELECT 'statement' AS b;
`)
		if code != 0 {
			t.Fatalf("psql exit %d\nstderr:\n%s\nstdout:\n%s", code, stderr, out)
		}
		want := "1000|first|1.50\n1001|second|\n503|502|125499.00\nname, 42\nmulti\nstatement\n"
		if out != want {
			t.Errorf("psql output:\n%s\nwant:\n%s\nstderr: %s", out, want, stderr)
		}
		got, err := os.ReadFile(filepath.Join(dir, "out.csv"))
		if err != nil || string(got) != "7,\"name, 7\"\n1001,second\n" {
			t.Errorf("\\copy TO: %q %v", got, err)
		}

		// errors: ON_ERROR_STOP makes psql exit 3; VERBOSITY verbose prints the SQLSTATE
		for _, tc := range []struct{ sql, code string }{
			{"SELECT * FROM missing_table;", "42P01"},
			{"INSERT INTO t VALUES (1, 'dup', 0);", "23505"},
			{"SELECT 1 +;", "42601"},
			{"SELECT 'x'::integer;", "22P02"},
		} {
			out, stderr, code := psql(t, s.dsn, dir, "\\set VERBOSITY verbose\nSELECT 'before';\n"+tc.sql+"\nSELECT 'after';\n")
			if code != 3 {
				t.Errorf("%s: psql exit %d, want 3 (ON_ERROR_STOP)", tc.sql, code)
			}
			if !strings.Contains(stderr, "ERROR:  "+tc.code+":") {
				t.Errorf("%s: stderr %q does not carry SQLSTATE %s", tc.sql, stderr, tc.code)
			}
			if out != "before\n" {
				t.Errorf("%s: stdout %q, want only the statement before the error", tc.sql, out)
			}
		}
		// without ON_ERROR_STOP the session continues after an error
		out, stderr, _ = psql(t, s.dsn, dir, "SELECT * FROM missing_table;\nSELECT count(*) FROM t;\n", "-v", "ON_ERROR_STOP=0")
		if out != "503\n" || !strings.Contains(stderr, "missing_table") {
			t.Errorf("continue after error: stdout %q stderr %q", out, stderr)
		}
	})
}
