package kafka

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/weirdb/weir/executor"
	"github.com/weirdb/weir/sql/types"
)

// A sink whose cluster is gone says so while its Write still waits to
// give up.
func TestSinkHealthReportsLostCluster(t *testing.T) {
	c := newCluster(t)
	s := openTestSink(t, &Connector{Brokers: c.ListenAddrs()}, "h", 1)
	row := types.Row{types.NewInt64(1), types.NewText("a")}
	if err := s.Write(context.Background(), 1, []executor.Change{{Op: executor.ChangeInsert, After: row}}); err != nil {
		t.Fatal(err)
	}
	h := s.(executor.HealthReporter)
	if err := h.Health(); err != nil {
		t.Fatalf("healthy sink: %v", err)
	}
	c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.Write(ctx, 2, []executor.Change{{Op: executor.ChangeInsert, After: row}})
	}()
	defer func() { cancel(); <-done }()
	for h.Health() == nil {
		if ctx.Err() != nil {
			t.Fatal("no health error while the write waits on a lost cluster")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := h.Health(); !strings.Contains(err.Error(), "cannot connect to broker") {
		t.Fatalf("health: %v", err)
	}
}
