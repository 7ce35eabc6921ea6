package server

import (
	"github.com/prometheus/client_golang/prometheus"

	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/weirdb/weir/sql/sqlerr"
)

// Server accepts PostgreSQL protocol connections and serves HTTP. Create it
// with New, then Start; Shutdown stops it. Its methods are safe for
// concurrent use.
//
// Lock order: Server.mu before conn.mu and connReader.mu.
type Server struct {
	opts Options
	eng  Engine
	log  *slog.Logger
	met  *metrics

	pgLn    net.Listener
	httpLn  net.Listener
	httpSrv *http.Server

	// base is the parent of every connection's context; cancelling it
	// (forced shutdown) cancels every statement.
	base       context.Context
	baseCancel context.CancelCauseFunc

	// draining is closed when Shutdown starts; Shutdown also interrupts
	// every connection's reader, so that idle connections waiting for
	// their next message end with FATAL 57P01.
	draining chan struct{}

	mu       sync.Mutex
	conns    map[uint32]*conn // by process id, for CancelRequest and Shutdown
	nextPID  uint32
	started  bool
	shutdown bool

	wg sync.WaitGroup // accept loop, HTTP server, every connection
}

// errAdminShutdown is the cause with which Shutdown cancels statements and
// the FATAL message idle connections receive.
var errAdminShutdown = &sqlerr.Error{Code: sqlerr.AdminShutdown, Severity: "FATAL",
	Message: "terminating connection due to administrator command"}

// New returns a Server that will serve eng. It fills opts' defaults and
// validates them, and registers the server's metrics on opts.Registry.
func New(opts Options, eng Engine) (*Server, error) {
	if eng == nil {
		return nil, errors.New("server: nil Engine")
	}
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	met, err := newMetrics(opts.Registry)
	if err != nil {
		return nil, fmt.Errorf("server: registering metrics: %w", err)
	}
	if pr, ok := eng.(PipelineReporter); ok {
		register[prometheus.Collector](opts.Registry, newPipelineCollector(pr), &err)
		if err != nil {
			return nil, fmt.Errorf("server: registering metrics: %w", err)
		}
	}
	var seed [4]byte
	_, _ = rand.Read(seed[:])
	return &Server{
		opts:     opts,
		eng:      eng,
		log:      opts.Logger,
		met:      met,
		draining: make(chan struct{}),
		conns:    make(map[uint32]*conn),
		// Process ids look like PostgreSQL's (positive int32) and are not
		// guessable from one server start to the next.
		nextPID: 1000 + binary.BigEndian.Uint32(seed[:])%(1<<24),
	}, nil
}

// Start opens the listeners and begins serving in background goroutines
// owned by s. ctx bounds only the listening itself: the server runs until
// Shutdown. The bound addresses are then available from PGAddr and
// HTTPAddr (useful with ":0" ports).
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return errors.New("server: already started")
	}
	var lc net.ListenConfig
	pgLn, err := lc.Listen(ctx, "tcp", s.opts.PGAddr)
	if err != nil {
		return fmt.Errorf("server: pgwire listen on %s: %w", s.opts.PGAddr, err)
	}
	var httpLn net.Listener
	if s.opts.HTTPAddr != "" {
		httpLn, err = lc.Listen(ctx, "tcp", s.opts.HTTPAddr)
		if err != nil {
			pgLn.Close()
			return fmt.Errorf("server: http listen on %s: %w", s.opts.HTTPAddr, err)
		}
	}
	s.started = true
	s.pgLn, s.httpLn = pgLn, httpLn
	s.base, s.baseCancel = context.WithCancelCause(context.WithoutCancel(ctx))

	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.acceptLoop()
	}()
	if httpLn != nil {
		s.httpSrv = &http.Server{
			Handler:           s.httpHandler(),
			ReadHeaderTimeout: 10 * time.Second,
			ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if err := s.httpSrv.Serve(httpLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.log.Error("http server stopped", "err", err)
			}
		}()
	}
	s.log.Info("listening", "pg", pgLn.Addr().String(), "http", addrString(httpLn))
	return nil
}

func addrString(ln net.Listener) string {
	if ln == nil {
		return ""
	}
	return ln.Addr().String()
}

// PGAddr is the PostgreSQL listener's address; nil before Start.
func (s *Server) PGAddr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pgLn == nil {
		return nil
	}
	return s.pgLn.Addr()
}

// HTTPAddr is the HTTP listener's address; nil before Start or when HTTP is
// disabled.
func (s *Server) HTTPAddr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.httpLn == nil {
		return nil
	}
	return s.httpLn.Addr()
}

func (s *Server) acceptLoop() {
	var delay time.Duration
	for {
		nc, err := s.pgLn.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Temporary failures (EMFILE...): back off as net/http does.
			if delay == 0 {
				delay = 5 * time.Millisecond
			} else if delay *= 2; delay > time.Second {
				delay = time.Second
			}
			s.log.Warn("accept failed", "err", err, "retry_in", delay)
			select {
			case <-time.After(delay):
			case <-s.draining:
				return
			}
			continue
		}
		delay = 0
		if !s.serveConn(nc) {
			nc.Close()
		}
	}
}

// serveConn registers a connection and starts its goroutine; false when the
// server is shutting down.
func (s *Server) serveConn(nc net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shutdown {
		return false
	}
	c := newConn(s, nc)
	for s.conns[s.nextPID] != nil || s.nextPID == 0 || s.nextPID > 1<<31-1 {
		s.nextPID++
		if s.nextPID > 1<<31-1 {
			s.nextPID = 1000
		}
	}
	c.pid = s.nextPID
	s.nextPID++
	s.conns[c.pid] = c
	s.met.connections.Inc()
	s.met.connectionsTotal.Inc()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer func() {
			s.mu.Lock()
			delete(s.conns, c.pid)
			s.mu.Unlock()
			s.met.connections.Dec()
		}()
		c.serve()
	}()
	return true
}

// cancelRequest cancels the running statement of the session with pid if
// secret matches; anything else is silently ignored, as in PostgreSQL.
func (s *Server) cancelRequest(pid uint32, secret []byte) {
	s.mu.Lock()
	c := s.conns[pid]
	s.mu.Unlock()
	if c == nil || !c.secretMatches(secret) {
		s.log.Debug("cancel request ignored", "pid", pid)
		return
	}
	c.cancelStatement(errCanceledByUser)
}

// Shutdown stops accepting connections, lets running statements finish,
// ends idle connections with FATAL 57P01 (admin_shutdown), and stops the
// HTTP server. If ctx ends first, it cancels the remaining statements,
// closes their connections, waits for their goroutines and returns
// ctx.Err(). Shutdown before Start is a no-op; calling it twice is safe.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if !s.started || s.shutdown {
		s.mu.Unlock()
		return nil
	}
	s.shutdown = true
	close(s.draining)
	for _, c := range s.conns {
		c.rd.interrupt()
	}
	s.mu.Unlock()

	s.pgLn.Close()
	var httpErr error
	if s.httpSrv != nil {
		httpErr = s.httpSrv.Shutdown(ctx)
	}

	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		s.baseCancel(nil)
		return httpErr
	case <-ctx.Done():
	}
	// Grace is over: cancel whatever still runs and cut the connections.
	s.baseCancel(errAdminShutdown)
	s.mu.Lock()
	for _, c := range s.conns {
		c.nc.Close()
	}
	s.mu.Unlock()
	if s.httpSrv != nil {
		s.httpSrv.Close()
	}
	<-done
	return ctx.Err()
}
