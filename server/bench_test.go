package server

import (
	"context"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// BenchmarkPreparedQuery measures the protocol layer's round trip: 8 pgx
// connections over loopback TCP each run a prepared one-row query
// (Bind/Execute/Sync, as pgx's statement cache sends it) against the fake
// engine, so that the figure is the server's and the client's protocol cost
// alone. It reports queries/s, p50 and p99.
func BenchmarkPreparedQuery(b *testing.B) {
	const conns = 8
	srv, _ := testServer(b, Options{})
	ctx := context.Background()
	cs := make([]*pgx.Conn, conns)
	for i := range cs {
		c, err := pgx.Connect(ctx, dsn(srv, ""))
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close(context.Background())
		cs[i] = c
	}
	var next atomic.Int64
	var mu sync.Mutex
	var all []time.Duration
	b.SetParallelism(max(1, conns/runtime.GOMAXPROCS(0)))
	b.ResetTimer()
	cpu0 := processCPU()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		c := cs[next.Add(1)-1]
		var lats []time.Duration
		for i := int64(0); pb.Next(); i++ {
			t := time.Now()
			var sum int64
			if err := c.QueryRow(ctx, "add $1 $2", i, int64(1)).Scan(&sum); err != nil || sum != i+1 {
				panic(err)
			}
			lats = append(lats, time.Since(t))
		}
		mu.Lock()
		all = append(all, lats...)
		mu.Unlock()
	})
	el := time.Since(start)
	cpu := processCPU() - cpu0
	b.StopTimer()
	slices.Sort(all)
	b.ReportMetric(float64(len(all))/el.Seconds(), "queries/s")
	// CPU per query (client and server: one process) is steadier than the
	// rate on a machine shared with other work.
	b.ReportMetric(cpu.Seconds()*1e6/float64(len(all)), "cpu-µs/query")
	if len(all) > 0 {
		b.ReportMetric(float64(all[len(all)/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "p99-µs")
	}
}

// processCPU is the user and system CPU time the process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
