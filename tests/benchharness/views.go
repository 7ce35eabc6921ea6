package main

// The issue-3 figures: materialized views maintained incrementally (Weir)
// against PostgreSQL's plain MATERIALIZED VIEW + REFRESH, push-query latency
// (against LISTEN/NOTIFY from a row trigger), pull queries on a view under
// writes, and restart time. Each side runs on a fresh server / database.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/weirdb/weir/tests/internal/weirtest"
)

var (
	viewRows      = flag.Int("view-rows", 1_000_000, "rows COPYed through each view (the N of the small-change figure)")
	joinRows      = flag.Int("join-rows", 500_000, "order rows COPYed through each join view")
	copyBatch     = flag.Int("copy-batch", 50_000, "rows per COPY FROM STDIN batch (PostgreSQL refreshes its view after each)")
	groupsSmall   = flag.Int("groups-small", 1000, "groups of the small GROUP BY / join view")
	groupsLarge   = flag.Int("groups", 200_000, "groups of the large GROUP BY / join view, of the pull-query view and of the restart view (issue 3: 1000000)")
	smallChange   = flag.Int("small-change", 100, "rows of the one small INSERT at N rows")
	smallReps     = flag.Int("small-reps", 5, "repetitions of the small change (the median is reported)")
	pushRate      = flag.Int("push-rate", 2000, "changes/s the writer commits during the push-query figure (issue 3: 10000)")
	pushDur       = flag.Duration("push-duration", 4*time.Second, "length of the push-query figure")
	pullDur       = flag.Duration("pull-duration", 4*time.Second, "length of the pull-query figure")
	pullWriteRate = flag.Int("pull-write-rate", 5000, "row changes/s the writer applies during the pull-query figure")
	viewFigs      = flag.String("view-figures", "agg,join,pull,push,durability,footprint,restart", "which view figures to run (agg includes the small change; pull needs agg)")
	stepTimeout   = flag.Duration("view-step-timeout", 3*time.Minute, "give up on one view figure after")
	pullProfile   = flag.String("pull-cpuprofile", "", "write Weir's CPU profile during the pull figure to this file (starts Weir with --pprof)")
)

// side is one server's run of the view figures.
type side struct {
	name  string // weir or postgres
	pg    bool
	dsn   string
	vals  map[string]float64
	errs  map[string]string // figure key -> why it has no value
	notes []string
	pprof string // base URL of Weir's /debug/pprof/, when -pull-cpuprofile is set

	// countGroups is the size of the countNames view on the side's
	// server, 0 if there is none.
	countGroups int
}

func (s *side) set(key string, v float64) { s.vals[key] = v }

func (s *side) fail(keys []string, err error) {
	logf(s.name, "FAILED %s: %v", strings.Join(keys, ","), err)
	for _, k := range keys {
		s.errs[k] = err.Error()
	}
}

func newSide(name, dsn string) *side {
	return &side{name: name, pg: name == "postgres", dsn: dsn, vals: map[string]float64{}, errs: map[string]string{}}
}

func runWeirViews(ctx context.Context, bin string) *side {
	s := newSide("weir", "")
	dir, err := mkTemp()
	if err != nil {
		s.errs["*"] = err.Error()
		return s
	}
	defer removeAll(dir)
	args := []string{"--log-level=info"}
	if *pullProfile != "" {
		args = append(args, "--pprof")
	}
	w, err := weirtest.StartWeir(ctx, bin, filepath.Join(dir, "data"), filepath.Join(dir, "weir.log"), args...)
	if err != nil {
		s.errs["*"] = err.Error()
		return s
	}
	defer w.Stop()
	s.dsn = w.DSN()
	if *pullProfile != "" {
		s.pprof = "http://" + w.HTTPAddr() + "/debug/pprof/"
	}
	viewWorkload(ctx, s)
	if len(s.errs) > 0 {
		logf("weir", "log tail:\n%s", w.LogTail(3000))
	}
	w.Stop()
	footprintServer(ctx, s, bin, dir)
	return s
}

func runPostgresViews(ctx context.Context, pg *weirtest.Postgres) *side {
	s := newSide("postgres", "")
	if err := pg.CreateDB(ctx, "views"); err != nil {
		s.errs["*"] = err.Error()
		return s
	}
	s.dsn = pg.DSN("views")
	viewWorkload(ctx, s)
	footprint(ctx, s, nil)
	return s
}

// mix scatters row i over the groups: a bijection on each block of g rows,
// so that every group has a row once n >= g.
func mix(i, g int) int64 { return int64((uint64(i) * 1000003) % uint64(g)) }

func viewWorkload(ctx context.Context, s *side) {
	c, err := pgx.Connect(ctx, s.dsn)
	if err != nil {
		s.errs["*"] = err.Error()
		return
	}
	defer c.Close(context.Background())
	step := func(keys []string, f func(ctx context.Context) error) {
		sctx, cancel := context.WithTimeout(ctx, *stepTimeout)
		defer cancel()
		if err := f(sctx); err != nil {
			s.fail(keys, err)
		}
	}
	on := func(f string) bool { return slices.Contains(strings.Split(*viewFigs, ","), f) }
	for _, g := range []struct {
		tag    string
		groups int
	}{{"s", *groupsSmall}, {"l", *groupsLarge}} {
		if !on("agg") {
			break
		}
		ev, gv := "ev_"+g.tag, "gv_"+g.tag
		keys := []string{"agg_" + g.tag, "small_" + g.tag}
		step(keys, func(ctx context.Context) error {
			if err := groupByFigure(ctx, s, c, ev, gv, *viewRows, g.groups, "agg_"+g.tag); err != nil {
				return err
			}
			return smallChangeFigure(ctx, s, c, ev, gv, g.groups, "small_"+g.tag)
		})
		if g.tag == "s" {
			dropBoth(ctx, s, c, gv, ev)
		}
	}
	for _, g := range []struct {
		tag    string
		groups int
	}{{"s", *groupsSmall}, {"l", *groupsLarge}} {
		if !on("join") {
			break
		}
		step([]string{"join_" + g.tag}, func(ctx context.Context) error {
			return joinFigure(ctx, s, c, g.tag, g.groups, "join_"+g.tag)
		})
		dropBoth(ctx, s, c, "jv_"+g.tag, "o_"+g.tag, "c_"+g.tag)
	}
	if !on("pull") {
	} else if _, ok := s.vals["agg_l"]; ok {
		step([]string{"pull_qps", "pull_p99"}, func(ctx context.Context) error { return pullFigure(ctx, s, c) })
	} else {
		s.fail([]string{"pull_qps", "pull_p99"}, errors.New("no large GROUP BY view to read"))
	}
	if on("push") {
		step([]string{"push_p50", "push_p99", "push_send_p50", "push_send_p99"}, func(ctx context.Context) error { return pushFigure(ctx, s, c) })
	}
	if on("durability") {
		durabilityFigure(ctx, s, c, step)
	}
}

func dropBoth(ctx context.Context, s *side, c *pgx.Conn, view string, tables ...string) {
	if _, err := c.Exec(ctx, "DROP MATERIALIZED VIEW IF EXISTS "+view); err != nil {
		s.notes = append(s.notes, fmt.Sprintf("DROP MATERIALIZED VIEW %s: %v", view, err))
		return
	}
	for _, t := range tables {
		if _, err := c.Exec(ctx, "DROP TABLE IF EXISTS "+t); err != nil {
			s.notes = append(s.notes, fmt.Sprintf("DROP TABLE %s: %v", t, err))
		}
	}
}

// copyIn COPYs rows [lo, hi) made by gen into table, in batches of
// -copy-batch, calling after (PostgreSQL's REFRESH) after each batch. It
// returns the elapsed time and the time spent in after.
func copyIn(ctx context.Context, c *pgx.Conn, table string, cols []string, lo, hi int, gen func(i int) []any, after func() error) (total, inAfter time.Duration, err error) {
	start := time.Now()
	for b := lo; b < hi; b += *copyBatch {
		e := min(b+*copyBatch, hi)
		n, err := c.CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromSlice(e-b, func(i int) ([]any, error) { return gen(b + i), nil }))
		if err != nil {
			return 0, 0, fmt.Errorf("COPY %s rows %d..%d: %w", table, b, e, err)
		}
		if n != int64(e-b) {
			return 0, 0, fmt.Errorf("COPY %s rows %d..%d: copied %d", table, b, e, n)
		}
		if after != nil {
			t := time.Now()
			if err := after(); err != nil {
				return 0, 0, err
			}
			inAfter += time.Since(t)
		}
	}
	return time.Since(start), inAfter, nil
}

func refresher(ctx context.Context, s *side, c *pgx.Conn, view string) func() error {
	if !s.pg {
		return nil
	}
	return func() error {
		_, err := c.Exec(ctx, "REFRESH MATERIALIZED VIEW "+view)
		return err
	}
}

func execAll(ctx context.Context, c *pgx.Conn, stmts ...string) error {
	for _, q := range stmts {
		if _, err := c.Exec(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}

// (1) row changes/s through a count/sum GROUP BY view fed by COPY.
func groupByFigure(ctx context.Context, s *side, c *pgx.Conn, ev, gv string, rows, groups int, key string) error {
	if err := execAll(ctx, c,
		fmt.Sprintf(`CREATE TABLE %s (id BIGINT PRIMARY KEY, grp BIGINT, v BIGINT)`, ev),
		fmt.Sprintf(`CREATE MATERIALIZED VIEW %s AS SELECT grp, count(*) AS n, sum(v) AS s FROM %s GROUP BY grp`, gv, ev),
	); err != nil {
		return err
	}
	logf(s.name, "COPY %d rows into %s (%d groups) in batches of %d", rows, ev, groups, *copyBatch)
	total, inRefresh, err := copyIn(ctx, c, ev, []string{"id", "grp", "v"}, 0, rows,
		func(i int) []any { return []any{int64(i), mix(i, groups), int64(i % 100)} }, refresher(ctx, s, c, gv))
	if err != nil {
		return err
	}
	s.set(key, float64(rows)/total.Seconds())
	logf(s.name, "%s: %.0f rows/s (%.1f s, of which REFRESH %.1f s)", key, s.vals[key], total.Seconds(), inRefresh.Seconds())
	return checkAgg(ctx, c, gv, groups, rows)
}

func checkAgg(ctx context.Context, c *pgx.Conn, gv string, groups, rows int) error {
	var g, n int64
	if err := c.QueryRow(ctx, fmt.Sprintf(`SELECT count(*), sum(n) FROM %s`, gv)).Scan(&g, &n); err != nil {
		return fmt.Errorf("check %s: %w", gv, err)
	}
	if g != int64(min(groups, rows)) || n != int64(rows) {
		return fmt.Errorf("check %s: %d groups, %d rows; want %d, %d", gv, g, n, min(groups, rows), rows)
	}
	return nil
}

// (3) one small INSERT at N rows: Weir's INSERT (view maintained inside it)
// against PostgreSQL's REFRESH after the same INSERT. Median of -small-reps.
func smallChangeFigure(ctx context.Context, s *side, c *pgx.Conn, ev, gv string, groups int, key string) error {
	var ts, ins []float64
	next := *viewRows
	for rep := 0; rep < *smallReps; rep++ {
		var sb strings.Builder
		fmt.Fprintf(&sb, "INSERT INTO %s VALUES ", ev)
		for i := 0; i < *smallChange; i++ {
			if i > 0 {
				sb.WriteByte(',')
			}
			fmt.Fprintf(&sb, "(%d,%d,%d)", next, mix(next, groups), next%100)
			next++
		}
		t := time.Now()
		if _, err := c.Exec(ctx, sb.String()); err != nil {
			return fmt.Errorf("small INSERT: %w", err)
		}
		d := time.Since(t).Seconds()
		ins = append(ins, d)
		if s.pg {
			t = time.Now()
			if _, err := c.Exec(ctx, "REFRESH MATERIALIZED VIEW "+gv); err != nil {
				return err
			}
			d = time.Since(t).Seconds()
		}
		ts = append(ts, d)
	}
	slices.Sort(ts)
	slices.Sort(ins)
	s.set(key, ts[len(ts)/2]*1e3)
	logf(s.name, "%s: %d-row INSERT %.2f ms; %s %.2f ms (medians)", key, *smallChange, ins[len(ins)/2]*1e3,
		map[bool]string{true: "REFRESH", false: "same"}[s.pg], s.vals[key])
	return checkAgg(ctx, c, gv, groups, next)
}

// (2) the same through a two-table join view.
func joinFigure(ctx context.Context, s *side, c *pgx.Conn, tag string, groups int, key string) error {
	o, cu, jv := "o_"+tag, "c_"+tag, "jv_"+tag
	customers := max(groups, 10_000)
	if err := execAll(ctx, c,
		fmt.Sprintf(`CREATE TABLE %s (id BIGINT PRIMARY KEY, region BIGINT)`, cu),
		fmt.Sprintf(`CREATE TABLE %s (id BIGINT PRIMARY KEY, cid BIGINT, amount BIGINT)`, o),
	); err != nil {
		return err
	}
	if _, _, err := copyIn(ctx, c, cu, []string{"id", "region"}, 0, customers,
		func(i int) []any { return []any{int64(i), mix(i, groups)} }, nil); err != nil {
		return err
	}
	if err := execAll(ctx, c, fmt.Sprintf(`CREATE MATERIALIZED VIEW %s AS SELECT c.region, count(*) AS n, sum(o.amount) AS s FROM %s o JOIN %s c ON o.cid = c.id GROUP BY c.region`, jv, o, cu)); err != nil {
		return err
	}
	logf(s.name, "COPY %d rows into %s (%d customers, %d regions) in batches of %d", *joinRows, o, customers, groups, *copyBatch)
	total, inRefresh, err := copyIn(ctx, c, o, []string{"id", "cid", "amount"}, 0, *joinRows,
		func(i int) []any {
			return []any{int64(i), int64((uint64(i) * 2654435761) % uint64(customers)), int64(i % 100)}
		}, refresher(ctx, s, c, jv))
	if err != nil {
		return err
	}
	s.set(key, float64(*joinRows)/total.Seconds())
	logf(s.name, "%s: %.0f rows/s (%.1f s, of which REFRESH %.1f s)", key, s.vals[key], total.Seconds(), inRefresh.Seconds())
	var n int64
	if err := c.QueryRow(ctx, fmt.Sprintf(`SELECT sum(n) FROM %s`, jv)).Scan(&n); err != nil {
		return err
	}
	if n != int64(*joinRows) {
		return fmt.Errorf("check %s: sum(n) = %d, want %d", jv, n, *joinRows)
	}
	return nil
}

func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return d[min(len(d)-1, int(float64(len(d))*p))]
}

// (5) pull queries by key on the large GROUP BY view from -conns
// connections while one writer INSERTs into its table at -pull-write-rate.
func pullFigure(ctx context.Context, s *side, c *pgx.Conn) error {
	groups := *groupsLarge
	if s.pg { // a lookup by key needs an index on PostgreSQL
		if err := execAll(ctx, c, `CREATE UNIQUE INDEX ON gv_l (grp)`, `ANALYZE gv_l`); err != nil {
			return err
		}
	}
	if rs, err := c.Query(ctx, `EXPLAIN SELECT * FROM gv_l WHERE grp = 1`, pgx.QueryExecModeSimpleProtocol); err == nil {
		var plan []string
		for rs.Next() {
			var line string
			if rs.Scan(&line) == nil {
				plan = append(plan, strings.TrimSpace(line))
			}
		}
		logf(s.name, "pull: EXPLAIN SELECT * FROM gv_l WHERE grp = 1: %s", strings.Join(plan, " | "))
	}
	cs := make([]*pgx.Conn, *conns)
	for i := range cs {
		var err error
		if cs[i], err = pgx.Connect(ctx, s.dsn); err != nil {
			return err
		}
		defer cs[i].Close(context.Background())
	}
	wc, err := pgx.Connect(ctx, s.dsn)
	if err != nil {
		return err
	}
	defer wc.Close(context.Background())
	stop := make(chan struct{})
	var wrote int
	var werr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the writer
		defer wg.Done()
		next := *viewRows + 1_000_000
		wrote, werr = rateWriter(ctx, wc, stop, *pullWriteRate, func(n int) string {
			var sb strings.Builder
			sb.WriteString("INSERT INTO ev_l VALUES ")
			for i := 0; i < n; i++ {
				if i > 0 {
					sb.WriteByte(',')
				}
				fmt.Fprintf(&sb, "(%d,%d,%d)", next, mix(next, groups), next%100)
				next++
			}
			return sb.String()
		}, nil)
	}()
	lats := make([][]time.Duration, len(cs))
	errs := make([]error, len(cs))
	start := time.Now()
	deadline := start.Add(*pullDur)
	if s.pprof != "" {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := saveProfile(ctx, s.pprof, max(1, int(pullDur.Seconds())-1), *pullProfile); err != nil {
				logf(s.name, "pull: CPU profile: %v", err)
			}
		}()
	}
	var rg sync.WaitGroup
	for k := range cs {
		rg.Add(1)
		go func() {
			defer rg.Done()
			var grp, n, sum int64
			for i := 0; time.Now().Before(deadline); i++ {
				want := mix(k*7919+i*104729+1, groups)
				t := time.Now()
				if err := cs[k].QueryRow(ctx, `SELECT * FROM gv_l WHERE grp = $1`, want).Scan(&grp, &n, &sum); err != nil {
					errs[k] = fmt.Errorf("SELECT * FROM gv_l WHERE grp = %d: %w", want, err)
					return
				}
				lats[k] = append(lats[k], time.Since(t))
				if grp != want || n <= 0 {
					errs[k] = fmt.Errorf("SELECT * FROM gv_l WHERE grp = %d: got grp %d n %d", want, grp, n)
					return
				}
			}
		}()
	}
	rg.Wait()
	el := time.Since(start)
	close(stop)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if werr != nil {
		return fmt.Errorf("writer: %w", werr)
	}
	all := slices.Concat(lats...)
	s.set("pull_qps", float64(len(all))/el.Seconds())
	s.set("pull_p99", percentile(all, 0.99).Seconds()*1e3)
	s.notes = append(s.notes, fmt.Sprintf("pull figure: writer applied %.0f row changes/s", float64(wrote)/el.Seconds()))
	logf(s.name, "pull: %.0f queries/s, p50 %.2f ms, p99 %.2f ms; writer %.0f rows/s", s.vals["pull_qps"],
		percentile(all, 0.5).Seconds()*1e3, s.vals["pull_p99"], float64(wrote)/el.Seconds())
	return nil
}

// saveProfile writes the CPU profile of the server whose /debug/pprof/ is at
// base, taken over the next secs seconds, to file.
func saveProfile(ctx context.Context, base string, secs int, file string) error {
	prof, err := httpGet(ctx, fmt.Sprintf("%sprofile?seconds=%d", base, secs))
	if err != nil {
		return err
	}
	return os.WriteFile(file, prof, 0o644)
}

// rateWriter runs stmt(n) every 10 ms with n rows so as to apply rate rows/s
// until stop; committed(n) is called with the time each statement returned.
// It returns the rows written.
func rateWriter(ctx context.Context, c *pgx.Conn, stop chan struct{}, rate int, stmt func(n int) string, committed func(n int, at time.Time)) (int, error) {
	const tick = 10 * time.Millisecond
	per := float64(rate) * tick.Seconds()
	t := time.NewTicker(tick)
	defer t.Stop()
	wrote, owed := 0, 0.0
	for {
		select {
		case <-stop:
			return wrote, nil
		case <-ctx.Done():
			return wrote, ctx.Err()
		case <-t.C:
		}
		owed += per
		n := int(owed)
		if n == 0 {
			continue
		}
		owed -= float64(n)
		if _, err := c.Exec(ctx, stmt(n)); err != nil {
			return wrote, err
		}
		if committed != nil {
			committed(n, time.Now())
		}
		wrote += n
	}
}

// (4) push-query latency: from the writer's INSERT (autocommit) returning to
// the row reaching a subscriber of SELECT * FROM pv EMIT CHANGES, matched by
// key. PostgreSQL's reference: LISTEN on a channel a row trigger NOTIFYs.
func pushFigure(ctx context.Context, s *side, c *pgx.Conn) error {
	if err := execAll(ctx, c, `CREATE TABLE pt (id BIGINT PRIMARY KEY, grp BIGINT, v BIGINT)`); err != nil {
		return err
	}
	if s.pg {
		if err := execAll(ctx, c,
			`CREATE FUNCTION pt_notify() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_notify('pv', NEW.id::text); RETURN NEW; END $$`,
			`CREATE TRIGGER pt_notify AFTER INSERT ON pt FOR EACH ROW EXECUTE FUNCTION pt_notify()`,
		); err != nil {
			return err
		}
	} else if err := execAll(ctx, c, `CREATE MATERIALIZED VIEW pv AS SELECT id, grp, v FROM pt WHERE v >= 0`); err != nil {
		return err
	}
	sub, err := pgx.Connect(ctx, s.dsn)
	if err != nil {
		return err
	}
	defer sub.Close(context.Background())
	subCtx, cancelSub := context.WithCancel(ctx)
	defer cancelSub()

	// the subscriber records when each id arrives
	arrived := map[int64]time.Time{}
	var amu sync.Mutex
	first := make(chan struct{}, 1)
	subDone := make(chan error, 1)
	record := func(id int64) {
		now := time.Now()
		amu.Lock()
		if _, dup := arrived[id]; !dup {
			arrived[id] = now
		}
		amu.Unlock()
		select {
		case first <- struct{}{}:
		default:
		}
	}
	if s.pg {
		if _, err := sub.Exec(ctx, `LISTEN pv`); err != nil {
			return err
		}
		go func() {
			for {
				n, err := sub.WaitForNotification(subCtx)
				if err != nil {
					subDone <- err
					return
				}
				id, err := strconv.ParseInt(n.Payload, 10, 64)
				if err != nil {
					subDone <- err
					return
				}
				record(id)
			}
		}()
	} else {
		// Query runs in the goroutine: with pgx's default exec mode (Bind +
		// Execute, no Describe of the portal) it returns at the first row,
		// and the view is empty until the first marker row.
		go func() {
			rows, err := sub.Query(subCtx, `SELECT * FROM pv EMIT CHANGES`)
			if err != nil {
				subDone <- fmt.Errorf("SELECT * FROM pv EMIT CHANGES: %w", err)
				return
			}
			defer rows.Close()
			for rows.Next() {
				var op string
				var id, grp, v int64
				if err := rows.Scan(&op, &id, &grp, &v); err != nil {
					subDone <- err
					return
				}
				if op == "insert" {
					record(id)
				}
			}
			subDone <- rows.Err()
		}()
	}
	// a marker row until the subscriber sees it: the subscription is live
	for i := int64(-1); ; i-- {
		if _, err := c.Exec(ctx, fmt.Sprintf(`INSERT INTO pt VALUES (%d, 0, 0)`, i)); err != nil {
			return err
		}
		select {
		case <-first:
		case err := <-subDone:
			return fmt.Errorf("subscriber ended: %v", err)
		case <-time.After(2 * time.Second):
			if i > -5 {
				continue
			}
			return errors.New("the subscriber saw none of 5 marker rows in 10 s")
		}
		break
	}
	committed, sent := map[int64]time.Time{}, map[int64]time.Time{}
	next := int64(0)
	stop := make(chan struct{})
	var wrote int
	var werr error
	done := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(done)
		wrote, werr = rateWriter(ctx, c, stop, *pushRate, func(n int) string {
			var sb strings.Builder
			sb.WriteString("INSERT INTO pt VALUES ")
			now := time.Now()
			for i := 0; i < n; i++ {
				if i > 0 {
					sb.WriteByte(',')
				}
				fmt.Fprintf(&sb, "(%d,%d,%d)", next+int64(i), (next+int64(i))%100, next+int64(i))
				sent[next+int64(i)] = now
			}
			return sb.String()
		}, func(n int, at time.Time) {
			for i := 0; i < n; i++ {
				committed[next] = at
				next++
			}
		})
	}()
	time.Sleep(*pushDur)
	close(stop)
	<-done
	el := time.Since(start)
	if werr != nil {
		return fmt.Errorf("writer: %w", werr)
	}
	// wait for the tail to arrive (up to 10 s)
	for t := time.Now(); time.Since(t) < 10*time.Second; time.Sleep(20 * time.Millisecond) {
		amu.Lock()
		_, ok := arrived[next-1]
		n := len(arrived)
		amu.Unlock()
		if ok && n >= int(next) {
			break
		}
	}
	cancelSub()
	amu.Lock()
	defer amu.Unlock()
	var lats, fromSend []time.Duration
	missing, early := 0, 0
	for id, at := range committed {
		got, ok := arrived[id]
		if !ok {
			missing++
			continue
		}
		fromSend = append(fromSend, got.Sub(sent[id]))
		d := got.Sub(at)
		if d < 0 {
			early++
			d = 0
		}
		lats = append(lats, d)
	}
	if missing > 0 {
		return fmt.Errorf("%d of %d committed rows never reached the subscriber", missing, len(committed))
	}
	s.set("push_p50", percentile(lats, 0.5).Seconds()*1e3)
	s.set("push_p99", percentile(lats, 0.99).Seconds()*1e3)
	s.set("push_send_p50", percentile(fromSend, 0.5).Seconds()*1e3)
	s.set("push_send_p99", percentile(fromSend, 0.99).Seconds()*1e3)
	s.notes = append(s.notes, fmt.Sprintf("push figure: %.0f changes/s committed, %d rows arrived before their COMMIT returned (counted as 0)", float64(wrote)/el.Seconds(), early))
	logf(s.name, "push: from COMMIT returned p50 %.2f ms, p99 %.2f ms, max %.2f ms; from INSERT sent p50 %.2f ms p99 %.2f ms; %d changes (%.0f/s)",
		s.vals["push_p50"], s.vals["push_p99"], percentile(lats, 1).Seconds()*1e3, s.vals["push_send_p50"], s.vals["push_send_p99"],
		len(lats), float64(wrote)/el.Seconds())
	return nil
}

// reportViews prints the view figures; it reports whether any failed.
func reportViews(sides map[string]*side) bool {
	w, pg := sides["weir"], sides["postgres"]
	for _, p := range []**side{&w, &pg} {
		if *p == nil {
			*p = &side{vals: map[string]float64{}, errs: map[string]string{}}
		}
	}
	type fig struct{ key, name, unit string }
	g := func(n int) string { return fmt.Sprintf("%d", n) }
	figs := []fig{
		{"agg_s", "GROUP BY view, " + g(*groupsSmall) + " groups: COPY rows/s", "rows/s"},
		{"agg_l", "GROUP BY view, " + g(*groupsLarge) + " groups: COPY rows/s", "rows/s"},
		{"join_s", "join view, " + g(*groupsSmall) + " regions: COPY rows/s", "rows/s"},
		{"join_l", "join view, " + g(*groupsLarge) + " regions: COPY rows/s", "rows/s"},
		{"small_s", fmt.Sprintf("%d-row INSERT at %d rows, %d groups (PG: REFRESH)", *smallChange, *viewRows, *groupsSmall), "ms"},
		{"small_l", fmt.Sprintf("%d-row INSERT at %d rows, %d groups (PG: REFRESH)", *smallChange, *viewRows, *groupsLarge), "ms"},
		{"push_p50", fmt.Sprintf("push p50 from COMMIT returned, %d changes/s (PG: NOTIFY)", *pushRate), "ms"},
		{"push_p99", fmt.Sprintf("push p99 from COMMIT returned, %d changes/s (PG: NOTIFY)", *pushRate), "ms"},
		{"push_send_p50", fmt.Sprintf("push p50 from INSERT sent, %d changes/s (PG: NOTIFY)", *pushRate), "ms"},
		{"push_send_p99", fmt.Sprintf("push p99 from INSERT sent, %d changes/s (PG: NOTIFY)", *pushRate), "ms"},
		{"pull_qps", fmt.Sprintf("pull by key, %d-group view, %d conns + writer", *groupsLarge, *conns), "queries/s"},
		{"pull_p99", fmt.Sprintf("pull by key, %d-group view, p99", *groupsLarge), "ms"},
		{"dur_sync", fmt.Sprintf("GROUP BY view, %d groups: COPY of %d rows, commits fsynced", *groupsLarge, *durabilityRows), "rows/s"},
		{"dur_async", "the same, synchronous_commit = off", "rows/s"},
		{"dur_ratio", "cost of durability: fsynced/off (target >= 0.90)", "ratio"},
		{"fp_disk", "COUNT(*) GROUP BY bigint view, " + g(*groupsLarge) + " groups: disk (target <= 48)", "B/group"},
		{"fp_mem", "the same view in memory, Go heap in use (target <= 150)", "B/group"},
		{"fp_table", "its table of " + g(*groupsLarge) + " rows (id, k) on disk", "B/row"},
		{"restart", fmt.Sprintf("after kill -9, start to a point query answered, %d-group COUNT(*) view (target <= 1.5)", restartSize()), "s"},
	}
	fmt.Printf("\nviews (issue 3): view-rows=%d join-rows=%d copy-batch=%d; PostgreSQL: plain MATERIALIZED VIEW + REFRESH after each batch (fsync on)\n",
		*viewRows, *joinRows, *copyBatch)
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "figure\tWeir\tPostgreSQL\tWeir/PostgreSQL\t")
	get := func(s *side, k string) (float64, bool) {
		v, ok := s.vals[k]
		return v, ok
	}
	cell := func(s *side, k, unit string) string {
		v, ok := get(s, k)
		switch {
		case ok && unit == "s":
			return fmt.Sprintf("%.3f s", v)
		case ok && unit == "ms":
			return fmt.Sprintf("%.2f ms", v)
		case ok && unit == "ratio":
			return fmt.Sprintf("%.3f", v)
		case ok && strings.HasPrefix(unit, "B/"):
			return fmt.Sprintf("%.1f %s", v, unit)
		case ok:
			return fmt.Sprintf("%.0f %s", v, unit)
		case s.errs[k] != "" || s.errs["*"] != "":
			return "FAILED"
		}
		return "-"
	}
	for _, f := range figs {
		ratio := "-"
		a, ok1 := get(w, f.key)
		b, ok2 := get(pg, f.key)
		if ok1 && ok2 && b != 0 && f.unit != "ratio" {
			ratio = fmt.Sprintf("%.3g", a/b)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\n", f.name, cell(w, f.key, f.unit), cell(pg, f.key, f.unit), ratio)
	}
	tw.Flush()
	failed := false
	for _, s := range []*side{w, pg} {
		for _, n := range s.notes {
			fmt.Printf("%s: %s\n", s.name, n)
		}
		keys := make([]string, 0, len(s.errs))
		for k := range s.errs {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			fmt.Printf("%s FAILED %s: %s\n", s.name, k, s.errs[k])
			failed = true
		}
	}
	return failed
}
