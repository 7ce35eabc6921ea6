package server

import (
	"errors"
	"io"
	"net"
)

// errShutdown is returned by connReader.Read when the server drains while
// the connection waits for its next message.
var errShutdown = errors.New("server shutting down")

// readChunk is the size of one socket read.
const readChunk = 16 << 10

// connReader reads the socket in its own goroutine so that the connection
// learns at once when the client goes away — even while a statement runs and
// nobody reads — and cancels that statement (onClose). It buffers at most
// cap(chunks) reads ahead, so a client that pipelines without reading
// results is throttled by TCP, not by server memory.
//
// Read is called only by the connection's goroutine. The connection owns
// the reader goroutine: it closes the socket and stop, then waits on done.
type connReader struct {
	nc      net.Conn
	onClose func(error) // called from the reader goroutine when the socket fails

	chunks chan []byte // filled by run; closed after err is set
	free   chan []byte // spent buffers for reuse
	err    error       // the socket's error; read only after chunks is closed
	stop   chan struct{}
	done   chan struct{}

	cur, curBuf []byte // unread rest of the current chunk, and the chunk

	// drain, when interruptible is set and no data is buffered, makes Read
	// fail with errShutdown instead of blocking.
	drain         <-chan struct{}
	interruptible bool
}

func newConnReader(nc net.Conn, drain <-chan struct{}, onClose func(error)) *connReader {
	return &connReader{
		nc:      nc,
		onClose: onClose,
		chunks:  make(chan []byte, 8),
		free:    make(chan []byte, 9),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
		drain:   drain,
	}
}

// run is the reader goroutine's body.
func (r *connReader) run() {
	defer close(r.done)
	for {
		var buf []byte
		select {
		case buf = <-r.free:
		default:
			buf = make([]byte, readChunk)
		}
		n, err := r.nc.Read(buf[:cap(buf)])
		if n > 0 {
			select {
			case r.chunks <- buf[:n]:
			case <-r.stop:
				return
			}
		}
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				err = io.EOF
			}
			r.err = err
			close(r.chunks)
			r.onClose(err)
			return
		}
	}
}

// Read implements io.Reader for pgproto3.Backend.
func (r *connReader) Read(p []byte) (int, error) {
	if len(r.cur) == 0 {
		if r.curBuf != nil {
			select {
			case r.free <- r.curBuf[:cap(r.curBuf)]:
			default:
			}
			r.curBuf = nil
		}
		var b []byte
		var ok bool
		select {
		case b, ok = <-r.chunks:
		default:
			if r.interruptible {
				select {
				case b, ok = <-r.chunks:
				case <-r.drain:
					return 0, errShutdown
				}
			} else {
				b, ok = <-r.chunks
			}
		}
		if !ok {
			return 0, r.err
		}
		r.cur, r.curBuf = b, b
	}
	n := copy(p, r.cur)
	r.cur = r.cur[n:]
	return n, nil
}
