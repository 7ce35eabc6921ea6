package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/jackc/pgx/v5"
)

var (
	durabilityRows = flag.Int("durability-rows", 500_000, "rows COPYed through the view in each run of the cost-of-durability figure")
	durabilityReps = flag.Int("durability-reps", 2, "runs of each mode in the cost-of-durability figure, alternating (the best of each is reported)")
)

// (8) the cost of durability: the GROUP BY view figure (COPY of
// -durability-rows rows through a count/sum view of -groups groups) with
// every commit fsynced before it returns, and with synchronous_commit =
// off; the runs alternate between the two (ABBA: on, off, off, on, ...),
// each on fresh tables, and the best of each mode counts, so that neither a
// neighbour's burst on a shared machine nor a drift decides the ratio. Issue 3's figure is the ratio (target >=
// 0.90). PostgreSQL's own ratio, of the same runs of COPY + REFRESH, is the
// second reference.
func durabilityFigure(ctx context.Context, s *side, c *pgx.Conn, step func(keys []string, f func(ctx context.Context) error)) {
	type mode struct{ key, setting string }
	synced, unsynced := mode{"dur_sync", "on"}, mode{"dur_async", "off"}
	for rep := range *durabilityReps {
		order := []mode{synced, unsynced}
		if rep%2 == 1 {
			order = []mode{unsynced, synced}
		}
		for _, m := range order {
			run := fmt.Sprintf("%s_%d", m.key, rep+1)
			ev, gv := "ev_"+run, "gv_"+run
			step([]string{m.key, "dur_ratio"}, func(ctx context.Context) error {
				if err := execAll(ctx, c, "SET synchronous_commit = "+m.setting); err != nil {
					return err
				}
				if err := groupByFigure(ctx, s, c, ev, gv, *durabilityRows, *groupsLarge, run); err != nil {
					return err
				}
				if v := s.vals[run]; v > s.vals[m.key] {
					s.set(m.key, v)
				}
				delete(s.vals, run)
				return nil
			})
			dropBoth(ctx, s, c, gv, ev)
		}
	}
	if err := execAll(ctx, c, "RESET synchronous_commit"); err != nil {
		s.notes = append(s.notes, fmt.Sprintf("durability figure: %v", err))
	}
	on, ok1 := s.vals[synced.key]
	off, ok2 := s.vals[unsynced.key]
	if ok1 && ok2 && off > 0 && s.errs["dur_ratio"] == "" {
		s.set("dur_ratio", on/off)
		logf(s.name, "durability: fsynced %.0f rows/s, synchronous_commit off %.0f rows/s (best of %d each): %.3f", on, off, *durabilityReps, on/off)
	}
}
