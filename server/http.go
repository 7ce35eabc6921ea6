package server

import (
	"fmt"
	"net/http"
	"net/http/pprof"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/weirdb/weir/sql/sqlerr"
)

// httpHandler serves the operational endpoints and the API:
//
//	GET /healthz  200 "ok" while the process serves at all
//	GET /readyz   200 "ready" when Options.Ready reports true, else 503
//	GET /metrics  Prometheus exposition of Options.Registry
//	/debug/pprof/ the runtime's profiles, when Options.Pprof is set
//	POST /v1/sql  statements, JSON in and out (httpsql.go)
//	POST /v1/ingest/{relation}  NDJSON rows into a table (httpingest.go)
//	GET|POST /v1/subscribe  a push query's changes as SSE or NDJSON (httpsubscribe.go)
//
// Anything else is 404. With Options.HTTPToken set, every endpoint but
// /healthz and /readyz needs it as a bearer token (httpapi.go); with
// Options.HTTPAllowOrigins, pages of those origins may call /v1 (CORS).
func (s *Server) httpHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/v1/sql", s.apiHandler(s.serveSQL))
	mux.Handle("/v1/ingest/{relation}", s.apiHandler(s.serveIngest))
	mux.Handle("/v1/subscribe", s.apiHandler(s.serveSubscribe, http.MethodGet, http.MethodPost))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprint(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if !s.opts.Ready() {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, "not ready")
			return
		}
		fmt.Fprint(w, "ready")
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.opts.Registry, promhttp.HandlerOpts{
		ErrorLog: httpErrorLog{s},
	}))
	if s.opts.Pprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeAPIError(w, http.StatusNotFound, sqlerr.New(errRequest, "not found: %s %s", r.Method, r.URL.Path).
			WithHint("The endpoints are POST /v1/sql, POST /v1/ingest/<table>, GET /v1/subscribe?q=..., GET /healthz, /readyz and /metrics."))
	})
	var h http.Handler = mux
	if s.opts.HTTPToken != "" {
		h = requireToken(s.opts.HTTPToken, h)
	}
	if len(s.opts.HTTPAllowOrigins) > 0 {
		// Outside the token check: a preflight carries no credentials,
		// and a page must be able to read a 401.
		h = allowOrigins(s.opts.HTTPAllowOrigins, h)
	}
	return h
}

// httpErrorLog adapts the server's logger to promhttp's Logger.
type httpErrorLog struct{ s *Server }

func (l httpErrorLog) Println(v ...any) { l.s.log.Warn("metrics", "err", fmt.Sprint(v...)) }
