package main

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// (8) the cost of durability: the GROUP BY view figure (COPY through a
// count/sum view of -groups groups) with every commit fsynced before it
// returns, then with synchronous_commit = off, on fresh tables, back to
// back. Issue 3's figure is the ratio (target >= 0.90). PostgreSQL's own
// ratio, of the same pair of runs of COPY + REFRESH, is the second
// reference.
func durabilityFigure(ctx context.Context, s *side, c *pgx.Conn, step func(keys []string, f func(ctx context.Context) error)) {
	for _, m := range []struct{ key, setting string }{{"dur_sync", "on"}, {"dur_async", "off"}} {
		ev, gv := "ev_"+m.key, "gv_"+m.key
		step([]string{m.key, "dur_ratio"}, func(ctx context.Context) error {
			if err := execAll(ctx, c, "SET synchronous_commit = "+m.setting); err != nil {
				return err
			}
			return groupByFigure(ctx, s, c, ev, gv, *groupsLarge, m.key)
		})
		dropBoth(ctx, s, c, gv, ev)
	}
	if err := execAll(ctx, c, "RESET synchronous_commit"); err != nil {
		s.notes = append(s.notes, fmt.Sprintf("durability figure: %v", err))
	}
	synced, ok1 := s.vals["dur_sync"]
	unsynced, ok2 := s.vals["dur_async"]
	if ok1 && ok2 && unsynced > 0 {
		s.set("dur_ratio", synced/unsynced)
		logf(s.name, "durability: fsynced %.0f rows/s, synchronous_commit off %.0f rows/s: %.3f", synced, unsynced, synced/unsynced)
	}
}
