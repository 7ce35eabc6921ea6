package server

import (
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
)

// DefaultMaxMessageSize is the default limit on the length of one frontend
// message (256 MiB). PostgreSQL accepts up to 1 GiB; a smaller default keeps
// a hostile or buggy client from making the server allocate a gigabyte per
// connection while still fitting any reasonable bulk COPY chunk or large
// parameter.
const DefaultMaxMessageSize = 256 << 20

// maxMessageSizeLimit is PostgreSQL's own limit (MaxAllocSize).
const maxMessageSizeLimit = 1<<30 - 1

// Options configure a Server. EnsureDefaults fills the zero fields; Validate
// reports what cannot work.
type Options struct {
	// PGAddr is the TCP address of the PostgreSQL protocol listener.
	// Default "127.0.0.1:5432"; a ":0" port picks a free one (see
	// Server.PGAddr).
	PGAddr string
	// HTTPAddr is the TCP address of the HTTP listener (the /v1 API,
	// /healthz, /readyz, /metrics). Empty disables HTTP.
	HTTPAddr string
	// Logger receives connection-level events. Default: discard.
	Logger *slog.Logger
	// Registry holds the server's metrics and is what /metrics serves. The
	// Go runtime and process collectors are added to it unless already
	// present. Default: a new, private registry.
	Registry *prometheus.Registry
	// MaxMessageSize bounds the length of one frontend message in bytes; a
	// longer one is a protocol violation that closes the connection.
	// Default DefaultMaxMessageSize; at most 1 GiB.
	MaxMessageSize int
	// HTTPToken, when set, is the bearer token every HTTP endpoint but
	// /healthz and /readyz requires (Authorization: Bearer <token>; on
	// GET /v1/subscribe also ?access_token=<token>, which is all a
	// browser's EventSource can send).
	HTTPToken string
	// HTTPAllowOrigins are the origins (scheme://host[:port]) whose pages
	// may call the /v1 API from a browser (CORS); "*" allows any. Default:
	// none, and no CORS headers are sent.
	HTTPAllowOrigins []string
	// Ready reports readiness for /readyz. Default: always ready.
	Ready func() bool
	// Pprof serves the Go runtime's profiles under /debug/pprof/ on the
	// HTTP listener. Off by default: a CPU profile costs the server while
	// it runs, and the endpoints expose its internals to whoever reaches
	// the HTTP address.
	Pprof bool
}

// EnsureDefaults fills unset fields with their documented defaults and
// returns o.
func (o *Options) EnsureDefaults() *Options {
	if o.PGAddr == "" {
		o.PGAddr = "127.0.0.1:5432"
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Registry == nil {
		o.Registry = prometheus.NewRegistry()
	}
	if o.MaxMessageSize == 0 {
		o.MaxMessageSize = DefaultMaxMessageSize
	}
	if o.Ready == nil {
		o.Ready = func() bool { return true }
	}
	return o
}

// Validate reports an error for options that cannot work. Call it after
// EnsureDefaults.
func (o *Options) Validate() error {
	if o.MaxMessageSize < 1024 || o.MaxMessageSize > maxMessageSizeLimit {
		return fmt.Errorf("server: MaxMessageSize %d out of range [1024, %d]", o.MaxMessageSize, maxMessageSizeLimit)
	}
	for _, origin := range o.HTTPAllowOrigins {
		if origin != "*" && !validOrigin(origin) {
			return fmt.Errorf("server: allowed origin %q: want scheme://host[:port] or *", origin)
		}
	}
	if o.Logger == nil || o.Registry == nil || o.Ready == nil {
		return fmt.Errorf("server: options not defaulted (call EnsureDefaults)")
	}
	return nil
}
