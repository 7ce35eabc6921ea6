package tests

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

const jdbcJar = "/usr/share/java/postgresql.jar"

// TestJDBC compiles tests/jdbc/JdbcSmoke.java against Debian's PostgreSQL
// JDBC driver and runs it with the JDK.
func TestJDBC(t *testing.T) {
	for _, tool := range []string{"javac", "java"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not installed: run `make deps`", tool)
		}
	}
	if _, err := os.Stat(jdbcJar); err != nil {
		t.Fatalf("%s missing: run `make deps` (libpostgresql-jdbc-java)", jdbcJar)
	}
	classes := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "javac", "-cp", jdbcJar, "-d", classes, "jdbc/JdbcSmoke.java").CombinedOutput(); err != nil {
		t.Fatalf("javac: %v\n%s", err, out)
	}
	want := `connected PostgreSQL 15
insert 1
insert 1
insert 1
insert 1
insert 1
insert 1
insert 1
insert 1
insert 1
row 2 name-2 2.25 2024-03-03 12:34:56.5 true
row 3 name-3 3.25 2024-03-04 12:34:56.5 false
row 2 name-2 2.25 2024-03-03 12:34:56.5 true
row 3 name-3 3.25 2024-03-04 12:34:56.5 false
row 4 name-4 4.25 2024-03-05 12:34:56.5 true
row 5 name-5 5.25 2024-03-06 12:34:56.5 false
row 6 name-6 6.25 2024-03-07 12:34:56.5 true
row 7 name-7 7.25 2024-03-08 12:34:56.5 false
row 8 name-8 8.25 2024-03-09 12:34:56.5 true
row 9 null null null null
error 42P01
total 9 38.00
column 1 id int8
column 2 name varchar
column 3 amount numeric
column 4 at timestamp
column 5 ok bool
`
	onBoth(t, func(t *testing.T, s server) {
		cfg, err := pgconn.ParseConfig(s.dsn)
		if err != nil {
			t.Fatal(err)
		}
		url := "jdbc:postgresql://" + cfg.Host + ":" + strconv.Itoa(int(cfg.Port)) + "/" + cfg.Database + "?sslmode=disable&connectTimeout=10"
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "java", "-Duser.timezone=UTC", "-cp", jdbcJar+string(filepath.ListSeparator)+classes, "JdbcSmoke", url)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("java JdbcSmoke: %v\n%s", err, out)
		}
		if string(out) != want {
			t.Errorf("JDBC output:\n%s\nwant:\n%s", out, want)
		}
	})
}

// TestPsycopg2 runs tests/python/psycopg2_smoke.py with Debian's python3.
func TestPsycopg2(t *testing.T) {
	py := "/usr/bin/python3"
	if out, err := exec.Command(py, "-c", "import psycopg2").CombinedOutput(); err != nil {
		t.Fatalf("python3-psycopg2 not installed (run `make deps`): %v %s", err, out)
	}
	want := `row (1, 'one', Decimal('1.50'), True)
row (2, "it's", None, False)
row (3, None, Decimal('3.00'), None)
error 42P01
total (3, Decimal('4.50'))
`
	onBoth(t, func(t *testing.T, s server) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, py, "python/psycopg2_smoke.py", strings.Replace(s.dsn, "postgres://", "postgresql://", 1)).CombinedOutput()
		if err != nil {
			t.Fatalf("psycopg2_smoke.py: %v\n%s", err, out)
		}
		if string(out) != want {
			t.Errorf("psycopg2 output:\n%s\nwant:\n%s", out, want)
		}
	})
}
