package parser

import "testing"

// TestKsqlWithin checks ksqlDB's JOIN ... WITHIN: the bound goes to
// ast.Join's Within, the ON condition stays as written, and what it does
// not take is refused with a position in the user's text.
func TestKsqlWithin(t *testing.T) {
	for _, c := range []struct{ sql, want string }{
		{"SELECT * FROM clicks c JOIN orders o WITHIN 1 HOUR ON c.user_id = o.user_id",
			`Query{Body:SelectCore{Targets:[Target{Star:true}] From:[Join{Left:TableName{Name:"clicks" Alias:"c"} Right:TableName{Name:"orders" Alias:"o"} On:Binary{Op:"=" L:ColumnRef{Table:"c" Name:"user_id"} R:ColumnRef{Table:"o" Name:"user_id"}} Within:JoinWithin{Before:Cast{X:Literal{Value:'1 hour'} Type:interval} After:Cast{X:Literal{Value:'1 hour'} Type:interval}}}]}}`},
		{"SELECT * FROM clicks AS c LEFT JOIN orders o WITHIN (10 SECONDS, 2 MINUTES) ON c.user_id = o.user_id AND o.n > 1 WHERE c.n = 2",
			`Query{Body:SelectCore{Targets:[Target{Star:true}] From:[Join{Kind:LEFT Left:TableName{Name:"clicks" Alias:"c"} Right:TableName{Name:"orders" Alias:"o"} On:Binary{Op:"AND" L:Binary{Op:"=" L:ColumnRef{Table:"c" Name:"user_id"} R:ColumnRef{Table:"o" Name:"user_id"}} R:Binary{Op:">" L:ColumnRef{Table:"o" Name:"n"} R:Literal{Value:1}}} Within:JoinWithin{Before:Cast{X:Literal{Value:'10 seconds'} Type:interval} After:Cast{X:Literal{Value:'2 minutes'} Type:interval}}}] Where:Binary{Op:"=" L:ColumnRef{Table:"c" Name:"n"} R:Literal{Value:2}}}}`},
		{"SELECT * FROM a JOIN b WITHIN 1 HOUR ON a.k = b.k JOIN c WITHIN 5 MILLISECONDS ON a.k = c.k",
			`Query{Body:SelectCore{Targets:[Target{Star:true}] From:[Join{Left:Join{Left:TableName{Name:"a"} Right:TableName{Name:"b"} On:Binary{Op:"=" L:ColumnRef{Table:"a" Name:"k"} R:ColumnRef{Table:"b" Name:"k"}} Within:JoinWithin{Before:Cast{X:Literal{Value:'1 hour'} Type:interval} After:Cast{X:Literal{Value:'1 hour'} Type:interval}}} Right:TableName{Name:"c"} On:Binary{Op:"=" L:ColumnRef{Table:"a" Name:"k"} R:ColumnRef{Table:"c" Name:"k"}} Within:JoinWithin{Before:Cast{X:Literal{Value:'5 milliseconds'} Type:interval} After:Cast{X:Literal{Value:'5 milliseconds'} Type:interval}}}]}}`},
		{"SELECT * FROM clicks c JOIN orders o WITHIN 1 HOUR GRACE PERIOD 1 MINUTE ON c.user_id = o.user_id",
			`error 0A000 pos 52: GRACE PERIOD is not supported: lateness is set per source, not per query`},
		{"SELECT * FROM clicks c JOIN orders o WITHIN 1 FORTNIGHT ON c.user_id = o.user_id",
			`error 42601 pos 47: unknown time unit "FORTNIGHT" in WITHIN`},
		{"SELECT * FROM clicks c JOIN orders o WITHIN 1 HOUR",
			`error 42601 pos 51: WITHIN must be followed by the join's ON condition`},
		{"SELECT * FROM clicks c FULL JOIN orders o WITHIN 1 HOUR ON c.k = o.k",
			`error 0A000 pos 43: FULL JOIN with WITHIN is not supported`},
		{"SELECT * FROM clicks c JOIN orders o WITHIN (1 HOUR) ON c.k = o.k",
			`error 42601 pos 52: syntax error at or near ")"`},
	} {
		if got := render(c.sql); got != c.want {
			t.Errorf("%s\n got: %s\nwant: %s", c.sql, got, c.want)
		}
	}
}
