package server

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// errShutdown is returned by connReader.Read when the server drains while
// the connection waits for its next message.
var errShutdown = errors.New("server shutting down")

const (
	// readChunk is the size of one read of the watcher.
	readChunk = 16 << 10
	// maxAhead bounds what the watcher reads ahead of the connection: a
	// client that pipelines without reading results is throttled by TCP,
	// not by server memory.
	maxAhead = 8 * readChunk
	// watchDelay is how long a statement runs before a watcher reads the
	// socket to notice a client that went away.
	watchDelay = 20 * time.Millisecond
)

// aLongTimeAgo is a read deadline that makes a pending read return at once.
var aLongTimeAgo = time.Unix(1, 0)

// connReader is the connection's reader of the socket. The connection's
// goroutine reads it itself, so that a message costs no hand-off between
// goroutines (a reader goroutine of its own cost a third of the server's
// CPU per pull query). Two things need a read the connection's goroutine
// does not make:
//
//   - A client that goes away while a statement runs must cancel it. A
//     statement that runs longer than watchDelay starts a watcher: a
//     goroutine that reads ahead, at most maxAhead bytes, and calls onClose
//     when the socket fails. The next Read stops it (with a past read
//     deadline) and returns what it read first.
//   - Drain (interrupt) makes a read that waits for the next message
//     (interruptible) fail with errShutdown, at once if one is blocked.
//
// Read, startStatement, endStatement and close are called by the
// connection's goroutine; interrupt and the watcher's timer from others.
type connReader struct {
	nc      net.Conn
	onClose func(error) // called once, when the socket fails

	// interruptible is set by the connection's goroutine while it reads
	// the first byte of its next message.
	interruptible bool

	mu       sync.Mutex
	ahead    []byte        // read by the watcher, not yet returned by Read
	err      error         // the socket's error, returned once ahead is used up
	running  bool          // a statement runs: a watcher may start
	reading  bool          // the connection's goroutine is in nc.Read
	waiting  bool          // ... for its next message (interruptible)
	watching chan struct{} // non-nil while a watcher runs; closed when it ends
	timer    *time.Timer   // starts the watcher watchDelay into a statement
	draining bool
	past     bool // the read deadline is in the past (interrupt or stopped watcher)
}

func newConnReader(nc net.Conn, onClose func(error)) *connReader {
	return &connReader{nc: nc, onClose: onClose}
}

// Read implements io.Reader for pgproto3.Backend.
func (r *connReader) Read(p []byte) (int, error) {
	r.mu.Lock()
	r.stopWatcherLocked()
	if len(r.ahead) > 0 {
		n := copy(p, r.ahead)
		r.ahead = r.ahead[n:]
		if len(r.ahead) == 0 {
			r.ahead = nil
		}
		r.mu.Unlock()
		return n, nil
	}
	if r.err != nil {
		err := r.err
		r.mu.Unlock()
		return 0, err
	}
	if r.interruptible && r.draining {
		r.mu.Unlock()
		return 0, errShutdown
	}
	if r.past {
		_ = r.nc.SetReadDeadline(time.Time{})
		r.past = false
	}
	r.reading, r.waiting = true, r.interruptible
	r.mu.Unlock()

	n, err := r.nc.Read(p)

	r.mu.Lock()
	defer r.mu.Unlock()
	r.reading, r.waiting = false, false
	if err != nil {
		if r.draining && errors.Is(err, os.ErrDeadlineExceeded) {
			return n, errShutdown
		}
		r.failLocked(err)
		return n, r.err
	}
	if r.running {
		// A read inside a statement (COPY FROM STDIN data) noticed the
		// client; watch again from here.
		r.timer.Reset(watchDelay)
	}
	return n, nil
}

// failLocked records the socket's error and reports it, once.
func (r *connReader) failLocked(err error) {
	if r.err != nil {
		return
	}
	if errors.Is(err, net.ErrClosed) {
		err = io.EOF
	}
	r.err = err
	r.onClose(err)
}

// startStatement arms the watcher for a statement that starts running.
func (r *connReader) startStatement() {
	r.mu.Lock()
	r.running = true
	if r.timer == nil {
		r.timer = time.AfterFunc(watchDelay, r.startWatcher)
	} else {
		r.timer.Reset(watchDelay)
	}
	r.mu.Unlock()
}

// endStatement disarms the watcher; one already running goes on until the
// next Read.
func (r *connReader) endStatement() {
	r.mu.Lock()
	r.running = false
	r.timer.Stop()
	r.mu.Unlock()
}

// startWatcher runs on the timer's goroutine, watchDelay into a statement.
func (r *connReader) startWatcher() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.running || r.reading || r.watching != nil || r.err != nil || len(r.ahead) >= maxAhead {
		return
	}
	if r.past {
		_ = r.nc.SetReadDeadline(time.Time{})
		r.past = false
	}
	done := make(chan struct{})
	r.watching = done
	go r.watch(done)
}

// watch is the watcher's body: it reads ahead until the socket fails, it
// has read maxAhead, or stopWatcherLocked sets a past deadline.
func (r *connReader) watch(done chan struct{}) {
	defer close(done)
	buf := make([]byte, readChunk)
	for {
		n, err := r.nc.Read(buf)
		r.mu.Lock()
		r.ahead = append(r.ahead, buf[:n]...)
		stop := err != nil || len(r.ahead) >= maxAhead
		if err != nil && !(r.past && errors.Is(err, os.ErrDeadlineExceeded)) {
			r.failLocked(err)
		}
		if stop {
			r.watching = nil
		}
		r.mu.Unlock()
		if stop {
			return
		}
	}
}

// stopWatcherLocked stops the watcher, if one runs, and waits for it to
// end. r.mu is held on entry and on return, released while waiting.
func (r *connReader) stopWatcherLocked() {
	for r.watching != nil {
		done := r.watching
		_ = r.nc.SetReadDeadline(aLongTimeAgo)
		r.past = true
		r.mu.Unlock()
		<-done
		r.mu.Lock()
	}
}

// interrupt makes reads for the next message fail with errShutdown from
// now on, and a pending one at once.
func (r *connReader) interrupt() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.draining = true
	if r.waiting {
		_ = r.nc.SetReadDeadline(aLongTimeAgo)
		r.past = true
	}
}

// close stops the watcher and waits for it; the socket is closed first.
func (r *connReader) close() {
	r.mu.Lock()
	if r.timer != nil {
		r.timer.Stop()
	}
	r.running = false
	r.stopWatcherLocked()
	r.mu.Unlock()
}
