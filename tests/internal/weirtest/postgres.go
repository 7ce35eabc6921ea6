package weirtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Postgres is a private PostgreSQL 15 server: its own data directory, a
// loopback port and a socket in its own directory. Superuser "weir", trust
// authentication, database "weir".
type Postgres struct {
	BinDir  string
	Dir     string // owns data/, the socket and the log
	Port    int
	asUser  string // "" when not root; else the system user that runs it
	stopped bool
}

// PGOptions tune the test server.
type PGOptions struct {
	// Fsync false turns off fsync, synchronous_commit and full_page_writes
	// (fast tests); true keeps PostgreSQL's durable defaults (benchmarks).
	Fsync bool
	// Settings are extra "-c name=value" settings.
	Settings []string
}

// PGBinDir finds PostgreSQL 15's server binaries.
func PGBinDir() (string, error) {
	for _, d := range []string{"/usr/lib/postgresql/15/bin"} {
		if _, err := os.Stat(filepath.Join(d, "postgres")); err == nil {
			return d, nil
		}
	}
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		d := strings.TrimSpace(string(out))
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", errors.New("PostgreSQL server binaries not found (run `make deps`: apt-get install postgresql)")
}

// StartPostgres runs initdb in a new temporary directory and starts the
// server on a free port. When running as root the server runs as the
// `postgres` system user (PostgreSQL refuses root), created if needed.
func StartPostgres(ctx context.Context, opt PGOptions) (*Postgres, error) {
	bin, err := PGBinDir()
	if err != nil {
		return nil, err
	}
	pg := &Postgres{BinDir: bin}
	if os.Geteuid() == 0 {
		pg.asUser = "postgres"
		if _, err := user.Lookup(pg.asUser); err != nil {
			if out, err := exec.Command("useradd", "--system", "--no-create-home", pg.asUser).CombinedOutput(); err != nil {
				return nil, fmt.Errorf("useradd postgres: %v: %s", err, out)
			}
		}
	}
	if pg.Dir, err = os.MkdirTemp("", "weirtest-pg-"); err != nil {
		return nil, err
	}
	if pg.asUser != "" {
		u, err := user.Lookup(pg.asUser)
		if err != nil {
			return nil, err
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(pg.Dir, uid, gid); err != nil {
			return nil, err
		}
	}
	data := filepath.Join(pg.Dir, "data")
	if out, err := pg.run(ctx, "initdb", "-D", data, "-U", "weir", "-A", "trust", "-E", "UTF8",
		"--locale=C", "--no-sync"); err != nil {
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		if pg.Port, err = FreePort(); err != nil {
			return nil, err
		}
		o := []string{
			"-p", strconv.Itoa(pg.Port), "-k", pg.Dir,
			"-c", "listen_addresses=127.0.0.1",
			"-c", "max_connections=200",
			"-c", "timezone=UTC",
		}
		if !opt.Fsync {
			o = append(o, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
		}
		for _, s := range opt.Settings {
			o = append(o, "-c", s)
		}
		out, err := pg.run(ctx, "pg_ctl", "-D", data, "-l", pg.LogPath(), "-w", "-t", "60",
			"-o", strings.Join(o, " "), "start")
		if err == nil {
			if err := pg.waitConnect(ctx); err != nil {
				pg.Stop()
				return nil, err
			}
			return pg, nil
		}
		lastErr = fmt.Errorf("pg_ctl start: %v\n%s\nlog:\n%s", err, out, tail(pg.LogPath(), 3000))
		if !strings.Contains(tail(pg.LogPath(), 3000), "already in use") {
			break
		}
	}
	return nil, lastErr
}

func (pg *Postgres) run(ctx context.Context, prog string, args ...string) ([]byte, error) {
	path := filepath.Join(pg.BinDir, prog)
	var cmd *exec.Cmd
	if pg.asUser != "" {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", pg.asUser, "--", path}, args...)...)
	} else {
		cmd = exec.CommandContext(ctx, path, args...)
	}
	cmd.Dir = pg.Dir
	return cmd.CombinedOutput()
}

func (pg *Postgres) waitConnect(ctx context.Context) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := pgx.Connect(ctx, pg.DSN("postgres"))
		if err == nil {
			_, err = c.Exec(ctx, "CREATE DATABASE weir")
			c.Close(ctx)
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("postgres not accepting connections: %v\nlog:\n%s", err, tail(pg.LogPath(), 3000))
		}
		time.Sleep(50 * time.Millisecond) // poll interval, bounded by the deadline
	}
}

// LogPath is the server log.
func (pg *Postgres) LogPath() string { return filepath.Join(pg.Dir, "postgres.log") }

// DSN is a libpq URL for db as user weir over TCP.
func (pg *Postgres) DSN(db string) string {
	return fmt.Sprintf("postgres://weir@127.0.0.1:%d/%s?sslmode=disable&connect_timeout=10", pg.Port, db)
}

// CreateDB creates a fresh database (dropping one of that name first).
func (pg *Postgres) CreateDB(ctx context.Context, name string) error {
	c, err := pgx.Connect(ctx, pg.DSN("postgres"))
	if err != nil {
		return err
	}
	defer c.Close(ctx)
	ident := pgx.Identifier{name}.Sanitize()
	if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); err != nil {
		return err
	}
	_, err = c.Exec(ctx, "CREATE DATABASE "+ident)
	return err
}

// Stop shuts the server down (fast mode) and removes its directory.
func (pg *Postgres) Stop() error {
	if pg.stopped {
		return nil
	}
	pg.stopped = true
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := pg.run(ctx, "pg_ctl", "-D", filepath.Join(pg.Dir, "data"), "-m", "fast", "-w", "stop")
	if err != nil {
		return fmt.Errorf("pg_ctl stop: %v\n%s", err, out)
	}
	return os.RemoveAll(pg.Dir)
}
