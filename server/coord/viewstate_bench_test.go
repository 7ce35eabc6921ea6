package coord

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// BenchmarkViewRestart measures the start of a server holding a count/sum
// GROUP BY view over 1M rows, with 1M and with 1,000 groups: restoring the
// view's saved operator state, and (its state dropped) backfilling it from
// its input and saving the state again.
func BenchmarkViewRestart(b *testing.B) {
	for _, groups := range []int{1_000_000, 1_000} {
		b.Run(fmt.Sprintf("groups=%d", groups), func(b *testing.B) { benchViewRestart(b, groups) })
	}
}

func benchViewRestart(b *testing.B, groups int) {
	const rows = 1_000_000
	dir := b.TempDir()
	h := newHarness(&testing.T{}, dir)
	s := h.session()
	if _, err := run(&testing.T{}, s, "CREATE TABLE ev (id BIGINT PRIMARY KEY, grp BIGINT, v INT)"); err != nil {
		b.Fatal(err)
	}
	for lo := 0; lo < rows; lo += 100_000 {
		var sb strings.Builder
		for i := lo; i < lo+100_000; i++ {
			fmt.Fprintf(&sb, "%d\t%d\t%d\n", i, (i*7919)%groups, i%100)
		}
		if _, err := feedCopy(&testing.T{}, s, "COPY ev FROM STDIN", sb.String()); err != nil {
			b.Fatal(err)
		}
	}
	start := time.Now()
	if _, err := run(&testing.T{}, s, "CREATE MATERIALIZED VIEW per_grp AS SELECT grp, count(*) AS n, sum(v) AS total FROM ev GROUP BY grp"); err != nil {
		b.Fatal(err)
	}
	b.Logf("CREATE (backfill + save) took %v", time.Since(start))
	s.Close()
	h.close()
	restart := func(b *testing.B, wantRestored bool) {
		h := newHarness(&testing.T{}, dir)
		defer h.close()
		if got := h.c.views.restored.Load() == 1; got != wantRestored {
			b.Fatalf("restored %v, want %v", got, wantRestored)
		}
	}
	b.Run("restore", func(b *testing.B) {
		for b.Loop() {
			restart(b, true)
		}
	})
	b.Run("backfill", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			h := newHarness(&testing.T{}, dir)
			rel, err := h.c.lookup("", "per_grp")
			if err != nil {
				b.Fatal(err)
			}
			txn := h.db.Begin()
			if err := txn.DropState(rel.ID); err != nil {
				b.Fatal(err)
			}
			if err := txn.Commit(context.Background()); err != nil {
				b.Fatal(err)
			}
			h.close()
			b.StartTimer()
			restart(b, false)
		}
	})
}
