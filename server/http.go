package server

import (
	"fmt"
	"net/http"
	"net/http/pprof"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// httpHandler serves the operational endpoints:
//
//	GET /healthz  200 "ok" while the process serves at all
//	GET /readyz   200 "ready" when Options.Ready reports true, else 503
//	GET /metrics  Prometheus exposition of Options.Registry
//	/debug/pprof/ the runtime's profiles, when Options.Pprof is set
//
// Anything else is 404.
func (s *Server) httpHandler() http.Handler {
	mux := http.NewServeMux()
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
		http.Error(w, fmt.Sprintf("404 not found: %s %s (try /healthz, /readyz, /metrics)", r.Method, r.URL.Path), http.StatusNotFound)
	})
	return mux
}

// httpErrorLog adapts the server's logger to promhttp's Logger.
type httpErrorLog struct{ s *Server }

func (l httpErrorLog) Println(v ...any) { l.s.log.Warn("metrics", "err", fmt.Sprint(v...)) }
