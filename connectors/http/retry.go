package http

import (
	"context"
	"math/rand/v2"
	nethttp "net/http"
	"strconv"
	"strings"
	"time"
)

// jitter is the wait before retry n (0 for the first): "full jitter",
// uniform between zero and a ceiling that doubles from s.backoff up to
// s.maxBackoff, so that sinks failing together do not retry together.
func (s *sink) jitter(n int) time.Duration {
	ceil := s.backoff
	for ; n > 0 && ceil < s.maxBackoff; n-- {
		ceil *= 2
	}
	return rand.N(min(ceil, s.maxBackoff) + 1)
}

// retryAfter reads a Retry-After header (seconds, or an HTTP date) as a
// wait from now; -1 when there is none or it cannot be read.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return -1
	}
	if secs, err := strconv.ParseUint(v, 10, 64); err == nil {
		return time.Duration(min(secs, 1<<32)) * time.Second
	}
	if t, err := nethttp.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return -1
}

// sleep waits d, or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
