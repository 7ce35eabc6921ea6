// Package weirtest starts and stops the real bin/weir binary and a real
// PostgreSQL server for the end-to-end tests and the benchmark harness. It
// knows nothing of Weir's internals: it talks to processes, ports and files.
package weirtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// BinPath returns the weir binary to test: $WEIR_BIN, else bin/weir found by
// walking up from the working directory. It fails with a message naming
// `make build` when there is none.
func BinPath() (string, error) {
	if p := os.Getenv("WEIR_BIN"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("WEIR_BIN=%s: %w (run `make build`)", p, err)
		}
		return filepath.Abs(p)
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, "bin", "weir")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return "", fmt.Errorf("no weir binary at %s: run `make build` first (or set WEIR_BIN)", p)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no bin/weir found: run `make build` first (or set WEIR_BIN)")
		}
		dir = parent
	}
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Weir is one bin/weir process (or a stopped one that can be restarted on the
// same data directory). Not safe for concurrent use.
type Weir struct {
	Bin      string
	DataDir  string
	LogPath  string // stdout and stderr of every run, appended
	PGPort   int
	HTTPPort int
	Args     []string // extra flags

	cmd     *exec.Cmd
	done    chan struct{}
	waitErr error
}

// StartWeir starts bin/weir on free ports with dataDir, logging to logPath,
// and waits until /readyz answers 200.
func StartWeir(ctx context.Context, bin, dataDir, logPath string, args ...string) (*Weir, error) {
	w := &Weir{Bin: bin, DataDir: dataDir, LogPath: logPath, Args: args}
	return w, w.Start(ctx)
}

// PGAddr is host:port of the PostgreSQL wire listener.
func (w *Weir) PGAddr() string { return fmt.Sprintf("127.0.0.1:%d", w.PGPort) }

// HTTPAddr is host:port of the HTTP listener.
func (w *Weir) HTTPAddr() string { return fmt.Sprintf("127.0.0.1:%d", w.HTTPPort) }

// DSN is a libpq URL for database weir as user weir.
func (w *Weir) DSN() string {
	return fmt.Sprintf("postgres://weir@127.0.0.1:%d/weir?sslmode=disable&connect_timeout=10", w.PGPort)
}

// Running reports whether the process is alive.
func (w *Weir) Running() bool {
	if w.done == nil {
		return false
	}
	select {
	case <-w.done:
		return false
	default:
		return true
	}
}

// Start starts the process (again, on the same data directory, on fresh
// ports) and waits for /readyz. A port taken between choosing and binding is
// retried with other ports.
func (w *Weir) Start(ctx context.Context) error {
	if w.Running() {
		return errors.New("weir already running")
	}
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		if err = w.startOnce(ctx); err == nil {
			return nil
		}
		if !strings.Contains(w.LogTail(4096), "address already in use") {
			return err
		}
	}
	return err
}

func (w *Weir) startOnce(ctx context.Context) error {
	var err error
	if w.PGPort, err = FreePort(); err != nil {
		return err
	}
	if w.HTTPPort, err = FreePort(); err != nil {
		return err
	}
	logf, err := os.OpenFile(w.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	fmt.Fprintf(logf, "==== weirtest: starting %s pg=%d http=%d data=%s at %s\n",
		w.Bin, w.PGPort, w.HTTPPort, w.DataDir, time.Now().Format(time.RFC3339Nano))
	args := append([]string{
		"--data-dir=" + w.DataDir,
		"--pg-addr=" + w.PGAddr(),
		"--http-addr=" + w.HTTPAddr(),
		"--log-level=debug",
	}, w.Args...)
	cmd := exec.Command(w.Bin, args...)
	cmd.Stdout = logf
	cmd.Stderr = logf
	cmd.Env = withoutWeirEnv(os.Environ())
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start %s: %w", w.Bin, err)
	}
	w.cmd = cmd
	w.done = make(chan struct{})
	go func() {
		w.waitErr = cmd.Wait()
		logf.Close()
		close(w.done)
	}()
	if err := w.waitReady(ctx, 30*time.Second); err != nil {
		w.Kill()
		return err
	}
	return nil
}

// withoutWeirEnv drops WEIR_* variables (but WEIR_BIN) so that the flags
// alone configure the child.
func withoutWeirEnv(env []string) []string {
	out := env[:0:0]
	for _, e := range env {
		if strings.HasPrefix(e, "WEIR_") {
			continue
		}
		out = append(out, e)
	}
	return out
}

func (w *Weir) waitReady(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: time.Second}
	url := "http://" + w.HTTPAddr() + "/readyz"
	var last string
	for {
		select {
		case <-w.done:
			return fmt.Errorf("weir exited before ready (%v); log %s:\n%s", w.waitErr, w.LogPath, w.LogTail(4000))
		default:
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("weir not ready at %s after %v (last: %s); log:\n%s", url, timeout, last, w.LogTail(4000))
		}
		time.Sleep(25 * time.Millisecond) // poll interval, bounded by the deadline above
	}
}

// Stop sends SIGTERM and waits (up to 30s) for the exit; it returns the exit
// code (-1 if killed by a signal). A process that does not exit is killed and
// an error returned.
func (w *Weir) Stop() (int, error) {
	if w.done == nil {
		return 0, errors.New("weir not started")
	}
	select {
	case <-w.done:
		return w.cmd.ProcessState.ExitCode(), fmt.Errorf("weir had already exited: %v", w.waitErr)
	default:
	}
	_ = w.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-w.done:
		return w.cmd.ProcessState.ExitCode(), nil
	case <-time.After(30 * time.Second):
		w.Kill()
		return -1, errors.New("weir did not exit within 30s of SIGTERM")
	}
}

// Kill sends SIGKILL and waits for the process to be gone.
func (w *Weir) Kill() {
	if w.done == nil {
		return
	}
	_ = w.cmd.Process.Signal(syscall.SIGKILL)
	<-w.done
}

// Restart stops (SIGTERM) and starts again on the same data directory.
func (w *Weir) Restart(ctx context.Context) (int, error) {
	code, err := w.Stop()
	if err != nil {
		return code, err
	}
	return code, w.Start(ctx)
}

// LogTail returns the last n bytes of the log.
func (w *Weir) LogTail(n int) string { return tail(w.LogPath, n) }

func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	if len(b) > n {
		b = b[len(b)-n:]
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
		return "...\n" + string(b)
	}
	return string(b)
}

// CPUTime returns the user and system CPU time the running process has
// used, from /proc/<pid>/stat (Linux; USER_HZ is 100 there).
func (w *Weir) CPUTime() (time.Duration, error) {
	if !w.Running() {
		return 0, errors.New("weir not running")
	}
	return procCPUTime(w.cmd.Process.Pid)
}

func procCPUTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) is in parentheses and may hold spaces:
	// the fields that follow start after the last ')', with state (3).
	i := bytes.LastIndexByte(b, ')')
	f := strings.Fields(string(b[i+1:]))
	if i < 0 || len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected %q", pid, b)
	}
	var ticks int64
	for _, s := range f[11:13] { // utime (14) and stime (15)
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
		}
		ticks += v
	}
	return time.Duration(ticks) * (time.Second / 100), nil
}

// Memory returns the running process's resident set size and its peak
// since it started (VmRSS and VmHWM of /proc/<pid>/status, Linux), in
// bytes.
func (w *Weir) Memory() (rss, peak int64, err error) {
	if !w.Running() {
		return 0, 0, errors.New("weir not running")
	}
	pid := w.cmd.Process.Pid
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	found := 0
	for _, line := range strings.Split(string(b), "\n") {
		name, v, ok := strings.Cut(line, ":")
		if !ok || name != "VmRSS" && name != "VmHWM" {
			continue
		}
		f := strings.Fields(v) // "123456 kB"
		if len(f) != 2 || f[1] != "kB" {
			return 0, 0, fmt.Errorf("/proc/%d/status: %q", pid, line)
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("/proc/%d/status: %q", pid, line)
		}
		if name == "VmRSS" {
			rss = kb << 10
		} else {
			peak = kb << 10
		}
		found++
	}
	if found != 2 {
		return 0, 0, fmt.Errorf("/proc/%d/status has no VmRSS and VmHWM", pid)
	}
	return rss, peak, nil
}
