package parser

import (
	"strings"

	"github.com/weirdb/weir/sql/ast"
	"github.com/weirdb/weir/sql/sqlerr"
)

// gp is the hand-written recursive-descent grammar for the PostgreSQL- and
// Weir-specific statements (DDL, SET/SHOW, transactions, COPY...). toks ends
// with a tEOF token.
type gp struct {
	src  string
	toks []token
	i    int
}

func (p *gp) peek() token { return p.toks[min(p.i, len(p.toks)-1)] }

func (p *gp) peekAt(k int) token { return p.toks[min(p.i+k, len(p.toks)-1)] }

func (p *gp) errHere() error { return syntaxErrorAt(p.src, p.peek().pos) }

func (p *gp) atEnd() bool { return p.peek().kind == tEOF }

func (p *gp) end() error {
	if !p.atEnd() {
		return p.errHere()
	}
	return nil
}

// accept consumes the keywords kws if they all come next.
func (p *gp) accept(kws ...string) bool {
	for k, kw := range kws {
		if !p.peekAt(k).is(kw) {
			return false
		}
	}
	p.i += len(kws)
	return true
}

func (p *gp) acceptP(s string) bool {
	if p.peek().isP(s) {
		p.i++
		return true
	}
	return false
}

func (p *gp) expect(kws ...string) error {
	if !p.accept(kws...) {
		return p.errHere()
	}
	return nil
}

func (p *gp) expectP(s string) error {
	if !p.acceptP(s) {
		return p.errHere()
	}
	return nil
}

func (p *gp) ident() (string, error) {
	t := p.peek()
	if t.kind != tIdent && t.kind != tQIdent {
		return "", p.errHere()
	}
	p.i++
	return t.val, nil
}

func (p *gp) qualifiedName() (*ast.TableName, error) {
	n, err := p.ident()
	if err != nil {
		return nil, err
	}
	if p.acceptP(".") {
		m, err := p.ident()
		if err != nil {
			return nil, err
		}
		return &ast.TableName{Schema: n, Name: m}, nil
	}
	return &ast.TableName{Name: n}, nil
}

// nameList parses ( a, b, c ).
func (p *gp) nameList() ([]string, error) {
	if err := p.expectP("("); err != nil {
		return nil, err
	}
	var out []string
	for {
		n, err := p.ident()
		if err != nil {
			return nil, err
		}
		out = append(out, n)
		if p.acceptP(")") {
			return out, nil
		}
		if err := p.expectP(","); err != nil {
			return nil, err
		}
	}
}

func (p *gp) unsupported(what string, noop bool) (ast.Statement, error) {
	return &ast.Unsupported{Construct: what, Noop: noop}, nil
}

// rest returns the remaining tokens (with the final tEOF) as a statement.
func (p *gp) rest() []token { return p.toks[p.i:] }

func (p *gp) statement() (ast.Statement, error) {
	t := p.peek()
	p.i++
	switch t.val {
	case "create":
		return p.create()
	case "drop":
		return p.drop()
	case "show":
		return p.show()
	case "set":
		return p.set()
	case "reset":
		if p.accept("all") {
			return &ast.Set{Name: "all", Reset: true}, p.end()
		}
		name, err := p.settingName()
		if err != nil {
			return nil, err
		}
		return &ast.Set{Name: name, Reset: true}, p.end()
	case "begin", "start":
		if t.val == "start" {
			if err := p.expect("transaction"); err != nil {
				return nil, err
			}
		} else if !p.accept("work") {
			p.accept("transaction")
		}
		if err := p.txModes(); err != nil {
			return nil, err
		}
		return &ast.Transaction{Kind: ast.TxBegin}, nil
	case "commit", "end":
		if t.val == "commit" && p.peek().is("prepared") {
			return p.unsupported("COMMIT PREPARED", false)
		}
		if !p.accept("work") {
			p.accept("transaction")
		}
		p.accept("and", "no", "chain")
		return &ast.Transaction{Kind: ast.TxCommit}, p.end()
	case "rollback", "abort":
		if !p.accept("work") {
			p.accept("transaction")
		}
		if p.peek().is("to") {
			return p.unsupported("ROLLBACK TO SAVEPOINT", false)
		}
		if p.peek().is("prepared") {
			return p.unsupported("ROLLBACK PREPARED", false)
		}
		p.accept("and", "no", "chain")
		return &ast.Transaction{Kind: ast.TxRollback}, p.end()
	case "explain":
		return p.explain()
	case "copy":
		return p.copyStmt()
	case "truncate":
		p.accept("table")
		p.accept("only")
		tr := &ast.Truncate{}
		for {
			n, err := p.qualifiedName()
			if err != nil {
				return nil, err
			}
			tr.Tables = append(tr.Tables, n)
			if !p.acceptP(",") {
				break
			}
		}
		if p.accept("restart", "identity") || p.accept("continue", "identity") {
		}
		if p.accept("cascade") {
			return p.unsupported("TRUNCATE ... CASCADE", false)
		}
		p.accept("restrict")
		return tr, p.end()
	case "flush":
		return &ast.Flush{}, p.end()
	case "checkpoint":
		return &ast.Checkpoint{}, p.end()
	case "discard":
		w := p.peek()
		switch w.val {
		case "all", "plans", "sequences", "temp", "temporary":
			p.i++
			return &ast.Discard{What: w.val, All: w.val == "all"}, p.end()
		}
		return nil, p.errHere()
	case "deallocate":
		p.accept("prepare")
		if p.accept("all") {
			return &ast.Discard{What: "deallocate", All: true}, p.end()
		}
		n, err := p.ident()
		if err != nil {
			return nil, err
		}
		return &ast.Discard{What: "deallocate", Name: n}, p.end()
	case "alter":
		if p.accept("sink") {
			name, err := p.qualifiedName()
			if err != nil {
				return nil, err
			}
			if err := p.expect("retry", "dead", "letters"); err != nil {
				return nil, err
			}
			return &ast.AlterSink{Name: name}, p.end()
		}
		return p.unsupported("ALTER", false)
	case "listen", "notify", "grant", "revoke", "savepoint", "release", "prepare", "execute",
		"vacuum", "analyze", "comment", "lock", "do", "call", "declare",
		"fetch", "move", "reindex", "cluster", "refresh", "security", "import", "load", "reassign":
		return p.unsupported(strings.ToUpper(t.val), false)
	case "unlisten", "close":
		return p.unsupported(strings.ToUpper(t.val), true)
	}
	p.i--
	return nil, p.errHere()
}

// txModes skips transaction modes: ISOLATION LEVEL ..., READ WRITE|ONLY,
// [NOT] DEFERRABLE, separated by optional commas.
func (p *gp) txModes() error {
	for !p.atEnd() {
		switch {
		case p.accept("isolation", "level"):
			switch {
			case p.accept("serializable"), p.accept("repeatable", "read"),
				p.accept("read", "committed"), p.accept("read", "uncommitted"):
			default:
				return p.errHere()
			}
		case p.accept("read", "write"), p.accept("read", "only"), p.accept("deferrable"),
			p.accept("not", "deferrable"), p.acceptP(","):
		default:
			return p.errHere()
		}
	}
	return nil
}

func (p *gp) settingName() (string, error) {
	n, err := p.ident()
	if err != nil {
		return "", err
	}
	for p.acceptP(".") {
		m, err := p.ident()
		if err != nil {
			return "", err
		}
		n += "." + m
	}
	return n, nil
}

func (p *gp) show() (ast.Statement, error) {
	kinds := []struct {
		words []string
		kind  ast.ObjectKind
	}{
		{[]string{"tables"}, ast.ObjTable}, {[]string{"sources"}, ast.ObjSource},
		{[]string{"streams"}, ast.ObjStream}, {[]string{"materialized", "views"}, ast.ObjMaterializedView},
		{[]string{"views"}, ast.ObjView}, {[]string{"sinks"}, ast.ObjSink},
	}
	for _, k := range kinds {
		if p.accept(k.words...) {
			return &ast.ShowObjects{Kind: k.kind}, p.end()
		}
	}
	switch {
	case p.accept("all"):
		return &ast.Show{Name: "all"}, p.end()
	case p.accept("time", "zone"):
		return &ast.Show{Name: "timezone"}, p.end()
	case p.accept("transaction", "isolation", "level"):
		return &ast.Show{Name: "transaction_isolation"}, p.end()
	case p.accept("session", "authorization"):
		return &ast.Show{Name: "session_authorization"}, p.end()
	}
	n, err := p.settingName()
	if err != nil {
		return nil, err
	}
	return &ast.Show{Name: n}, p.end()
}

func (p *gp) set() (ast.Statement, error) {
	local := false
	if p.accept("local") {
		local = true
	} else {
		p.accept("session")
	}
	switch {
	case p.peek().is("characteristics") || p.peek().is("transaction"):
		return p.unsupported("SET TRANSACTION", true)
	case p.accept("time", "zone"):
		v, reset, err := p.setValue()
		if err != nil {
			return nil, err
		}
		return &ast.Set{Name: "timezone", Value: v, Local: local, Reset: reset, Default: reset}, nil
	case p.accept("names"):
		v, reset, err := p.setValue()
		if err != nil {
			return nil, err
		}
		return &ast.Set{Name: "client_encoding", Value: v, Local: local, Reset: reset, Default: reset}, nil
	case p.peek().is("schema") && p.peekAt(1).kind == tString:
		p.i++
		v, _, err := p.setValue()
		if err != nil {
			return nil, err
		}
		return &ast.Set{Name: "search_path", Value: v, Local: local}, nil
	case p.peek().is("role") || p.peek().is("session") && p.peekAt(1).is("authorization"):
		return p.unsupported("SET ROLE", false)
	}
	name, err := p.settingName()
	if err != nil {
		return nil, err
	}
	if !p.accept("to") && !p.acceptP("=") {
		return nil, p.errHere()
	}
	v, reset, err := p.setValue()
	if err != nil {
		return nil, err
	}
	return &ast.Set{Name: name, Value: v, Local: local, Reset: reset, Default: reset}, nil
}

// setValue parses a SET value list up to the end of the statement. reset is
// true for DEFAULT.
func (p *gp) setValue() (string, bool, error) {
	if p.accept("default") {
		return "", true, p.end()
	}
	if p.peek().is("local") && p.peekAt(1).kind == tEOF {
		p.i++
		return "", true, nil
	}
	var vals []string
	for {
		t := p.peek()
		switch {
		case t.kind == tString, t.kind == tIdent, t.kind == tQIdent, t.kind == tNumber:
			p.i++
			v := t.val
			if t.is("interval") && p.peek().kind == tString {
				v = p.peek().val
				p.i++
			}
			vals = append(vals, v)
		case t.kind == tOp && (t.val == "-" || t.val == "+") && p.peekAt(1).kind == tNumber:
			p.i += 2
			vals = append(vals, t.val+p.toks[p.i-1].val)
		default:
			return "", false, p.errHere()
		}
		if p.acceptP(",") {
			continue
		}
		return strings.Join(vals, ", "), false, p.end()
	}
}

func (p *gp) explain() (ast.Statement, error) {
	ex := &ast.Explain{}
	if p.peek().isP("(") {
		p.i++
		for {
			opt, err := p.ident()
			if err != nil {
				return nil, err
			}
			val := true
			switch t := p.peek(); {
			case t.is("true") || t.is("on") || t.kind == tNumber && t.val == "1":
				p.i++
			case t.is("false") || t.is("off") || t.kind == tNumber && t.val == "0":
				p.i++
				val = false
			case t.kind == tIdent && !t.isP(","):
				p.i++
			}
			if opt == "analyze" {
				ex.Analyze = val
			}
			if p.acceptP(")") {
				break
			}
			if err := p.expectP(","); err != nil {
				return nil, err
			}
		}
	} else {
		if p.accept("analyze") || p.accept("analyse") {
			ex.Analyze = true
		}
		p.accept("verbose")
	}
	if p.atEnd() {
		return nil, p.errHere()
	}
	st, err := parseStatement(p.src, p.rest())
	if err != nil {
		return nil, err
	}
	switch st.(type) {
	case *ast.Explain, *ast.Set, *ast.Show, *ast.Transaction, *ast.Unsupported:
		return nil, syntaxErrorAt(p.src, p.rest()[0].pos)
	}
	ex.Stmt = st
	return ex, nil
}

// ---- COPY ----

func (p *gp) copyStmt() (ast.Statement, error) {
	cp := &ast.Copy{}
	if p.peek().isP("(") {
		open := p.i
		close := p.matchParen(open)
		if close < 0 {
			return nil, p.errHere()
		}
		q, err := parseQueryToks(p.src, withEOF(p.toks[open+1:close], p.toks[close].pos))
		if err != nil {
			return nil, err
		}
		cp.Query = q
		p.i = close + 1
	} else {
		n, err := p.qualifiedName()
		if err != nil {
			return nil, err
		}
		cp.Table = n
		if p.peek().isP("(") {
			if cp.Columns, err = p.nameList(); err != nil {
				return nil, err
			}
		}
	}
	switch {
	case p.accept("from"):
		cp.From = true
		if cp.Query != nil {
			return nil, syntaxErrorAt(p.src, p.toks[p.i-1].pos)
		}
		if !p.accept("stdin") {
			if p.peek().kind == tString || p.accept("program") {
				return nil, sqlerr.Unsupported("COPY from a file is not supported; use COPY FROM STDIN").WithPosition(charPos(p.src, p.peek().pos))
			}
			return nil, p.errHere()
		}
	case p.accept("to"):
		if !p.accept("stdout") {
			if p.peek().kind == tString || p.accept("program") {
				return nil, sqlerr.Unsupported("COPY to a file is not supported; use COPY TO STDOUT").WithPosition(charPos(p.src, p.peek().pos))
			}
			return nil, p.errHere()
		}
	default:
		return nil, p.errHere()
	}
	p.accept("with")
	if p.acceptP("(") {
		for {
			opt, err := p.ident()
			if err != nil {
				return nil, err
			}
			val := ""
			if t := p.peek(); !t.isP(",") && !t.isP(")") {
				if t.kind != tString && t.kind != tIdent && t.kind != tNumber {
					return nil, p.errHere()
				}
				val = t.val
				p.i++
			}
			if err := p.copyOption(cp, opt, val, true); err != nil {
				return nil, err
			}
			if p.acceptP(")") {
				break
			}
			if err := p.expectP(","); err != nil {
				return nil, err
			}
		}
		return cp, p.end()
	}
	// pre-9.0 syntax: [BINARY] [DELIMITER [AS] 'x'] [NULL [AS] 'x'] [CSV [HEADER] [QUOTE [AS] 'q'] [ESCAPE [AS] 'e'] ...]
	for !p.atEnd() {
		t := p.peek()
		p.i++
		switch t.val {
		case "binary", "csv", "header":
			if err := p.copyOption(cp, map[string]string{"binary": "format", "csv": "format", "header": "header"}[t.val], map[string]string{"binary": "binary", "csv": "csv", "header": "true"}[t.val], false); err != nil {
				return nil, err
			}
		case "delimiter", "null", "quote", "escape":
			p.accept("as")
			v := p.peek()
			if v.kind != tString {
				return nil, p.errHere()
			}
			p.i++
			if err := p.copyOption(cp, t.val, v.val, false); err != nil {
				return nil, err
			}
		case "force":
			return nil, sqlerr.Unsupported("COPY ... FORCE is not supported").WithPosition(charPos(p.src, t.pos))
		default:
			p.i--
			return nil, p.errHere()
		}
	}
	return cp, nil
}

func (p *gp) copyOption(cp *ast.Copy, opt, val string, modern bool) error {
	pos := charPos(p.src, p.toks[max(p.i-1, 0)].pos)
	switch opt {
	case "format":
		switch strings.ToLower(val) {
		case "text":
			cp.Format = ast.CopyText
		case "csv":
			cp.Format = ast.CopyCSV
		case "binary":
			cp.Format = ast.CopyBinary
		default:
			return sqlerr.New(sqlerr.InvalidParameterValue, "COPY format %q not recognized", val).WithPosition(pos)
		}
	case "header":
		switch strings.ToLower(val) {
		case "", "true", "on", "1", "match":
			cp.Header = true
		case "false", "off", "0":
			cp.Header = false
		default:
			return sqlerr.New(sqlerr.InvalidParameterValue, "header requires a Boolean value or \"match\"").WithPosition(pos)
		}
	case "delimiter":
		cp.Delimiter = val
	case "null":
		cp.Null, cp.HasNull = val, true
	case "quote":
		cp.Quote = val
	case "escape":
		cp.Escape = val
	case "encoding", "freeze", "oids":
	default:
		return sqlerr.New(sqlerr.SyntaxError, "option %q not recognized", opt).WithPosition(pos)
	}
	return nil
}

func (p *gp) matchParen(i int) int {
	depth := 0
	for j := i; j < len(p.toks); j++ {
		switch {
		case p.toks[j].isP("("):
			depth++
		case p.toks[j].isP(")"):
			depth--
			if depth == 0 {
				return j
			}
		}
	}
	return -1
}

// ---- DROP ----

func (p *gp) drop() (ast.Statement, error) {
	var kind ast.ObjectKind
	switch {
	case p.accept("table"):
		kind = ast.ObjTable
	case p.accept("source"):
		kind = ast.ObjSource
	case p.accept("stream"):
		kind = ast.ObjStream
	case p.accept("materialized", "view"):
		kind = ast.ObjMaterializedView
	case p.accept("view"):
		kind = ast.ObjView
	case p.accept("sink"):
		kind = ast.ObjSink
	case p.accept("index"):
		kind = ast.ObjIndex
	case p.accept("secret"):
		kind = ast.ObjSecret
	default:
		if p.peek().kind == tIdent {
			return p.unsupported("DROP "+strings.ToUpper(p.peek().val), false)
		}
		return nil, p.errHere()
	}
	d := &ast.Drop{Kind: kind}
	d.IfExists = p.accept("if", "exists")
	for {
		n, err := p.qualifiedName()
		if err != nil {
			return nil, err
		}
		d.Names = append(d.Names, n)
		if !p.acceptP(",") {
			break
		}
	}
	if p.accept("cascade") {
		d.Cascade = true
	} else {
		p.accept("restrict")
	}
	return d, p.end()
}

// ---- CREATE ----

func (p *gp) create() (ast.Statement, error) {
	orReplace := p.accept("or", "replace")
	switch {
	case p.accept("table"):
		return p.createTable()
	case p.accept("source"):
		return p.createSource(false)
	case p.accept("stream"):
		return p.createStream()
	case p.accept("materialized", "view"):
		return p.createMV(orReplace)
	case p.accept("view"):
		return p.createView(orReplace)
	case p.accept("sink"):
		return p.createSink()
	case p.accept("secret"):
		cs := &ast.CreateSecret{IfNotExists: p.ifNotExists()}
		var err error
		if cs.Name, err = p.ident(); err != nil {
			return nil, err
		}
		if err := p.expect("as"); err != nil {
			return nil, err
		}
		t := p.peek()
		if t.kind != tString {
			return nil, p.errHere()
		}
		p.i++
		cs.Value = t.val
		return cs, p.end()
	case p.peek().is("temp") || p.peek().is("temporary") || p.peek().is("unlogged"):
		return p.unsupported("CREATE "+strings.ToUpper(p.peek().val)+" TABLE", false)
	}
	if p.peek().is("unique") {
		return p.unsupported("CREATE UNIQUE INDEX", false)
	}
	if p.peek().kind == tIdent {
		return p.unsupported("CREATE "+strings.ToUpper(p.peek().val), false)
	}
	return nil, p.errHere()
}

func (p *gp) ifNotExists() bool { return p.accept("if", "not", "exists") }

// queryAfterAS parses AS query [WITH (...)] to the end of the statement. The
// trailing WITH (options) is returned separately (CREATE SINK ... AS q WITH).
func (p *gp) queryAfterAS(trailingOpts bool) (*ast.Query, []*ast.Option, error) {
	if err := p.expect("as"); err != nil {
		return nil, nil, err
	}
	eof := len(p.toks) - 1
	end := eof
	if trailingOpts {
		if w := topIndex(p.toks, p.i+1, eof, func(i int) bool { return p.toks[i].is("with") && p.toks[i+1].isP("(") }); w >= 0 {
			end = w
		}
	}
	eowc := false
	if k := end - 4; k > p.i && p.toks[k].is("emit") && p.toks[k+1].is("on") && p.toks[k+2].is("window") && p.toks[k+3].is("close") {
		eowc, end = true, k
	}
	if p.i >= end {
		return nil, nil, p.errHere()
	}
	q, err := parseQueryToks(p.src, withEOF(p.toks[p.i:end], p.toks[end].pos))
	if err != nil {
		return nil, nil, err
	}
	if eowc {
		q.EmitOnWindowClose = true
		end += 4
	}
	// ksqlDB ends a persistent query in EMIT CHANGES: what every view,
	// stream and sink does anyway (EMIT FINAL is EMIT ON WINDOW CLOSE).
	q.EmitChanges = false
	p.i = end
	var opts []*ast.Option
	if end != eof {
		p.i++
		if opts, err = p.options(); err != nil {
			return nil, nil, err
		}
	}
	return q, opts, p.end()
}

// options parses ( key = value, ... ).
func (p *gp) options() ([]*ast.Option, error) {
	if err := p.expectP("("); err != nil {
		return nil, err
	}
	var out []*ast.Option
	if p.acceptP(")") {
		return out, nil
	}
	for {
		t := p.peek()
		var key string
		switch t.kind {
		case tIdent:
			key = strings.ToLower(p.src[t.pos:t.end])
			p.i++
			for p.peek().isP(".") && (p.peekAt(1).kind == tIdent || p.peekAt(1).kind == tQIdent) {
				k := p.peekAt(1)
				part := k.val
				if k.kind == tIdent {
					part = p.src[k.pos:k.end]
				}
				key += "." + part
				p.i += 2
			}
		case tQIdent, tString:
			key = t.val
			p.i++
		default:
			return nil, p.errHere()
		}
		if !p.acceptP("=") {
			return nil, p.errHere()
		}
		v := p.peek()
		var val string
		switch {
		case v.kind == tString, v.kind == tNumber, v.kind == tIdent, v.kind == tQIdent:
			val = v.val
			p.i++
		case v.kind == tOp && v.val == "-" && p.peekAt(1).kind == tNumber:
			val = "-" + p.peekAt(1).val
			p.i += 2
		default:
			return nil, p.errHere()
		}
		out = append(out, &ast.Option{Key: key, Value: val})
		if p.acceptP(")") {
			return out, nil
		}
		if err := p.expectP(","); err != nil {
			return nil, err
		}
	}
}

// tableElements parses ( column defs and constraints ).
func (p *gp) tableElements(allowWatermark bool) (cols []*ast.ColumnDef, pk []string, wm *ast.Watermark, err error) {
	if err := p.expectP("("); err != nil {
		return nil, nil, nil, err
	}
	if p.acceptP(")") {
		return nil, nil, nil, nil
	}
	for {
		switch {
		case p.peek().is("primary") && p.peekAt(1).is("key") && p.peekAt(2).isP("("):
			p.i += 2
			if pk != nil {
				return nil, nil, nil, sqlerr.New(sqlerr.InvalidTableDefinition, "multiple primary keys for table are not allowed").WithPosition(charPos(p.src, p.peek().pos))
			}
			if pk, err = p.nameList(); err != nil {
				return nil, nil, nil, err
			}
		case p.peek().is("watermark") && p.peekAt(1).is("for"):
			if !allowWatermark {
				return nil, nil, nil, p.errHere()
			}
			p.i += 2
			col, err := p.ident()
			if err != nil {
				return nil, nil, nil, err
			}
			if err := p.expect("as"); err != nil {
				return nil, nil, nil, err
			}
			end := p.elementEnd()
			e, err := parseExprToks(p.src, p.toks, p.i, end)
			if err != nil {
				return nil, nil, nil, err
			}
			text := p.src[p.toks[p.i].pos:p.toks[end-1].end]
			p.i = end
			wm = &ast.Watermark{Column: col, Expr: e, Text: text}
		case p.peek().is("unique") && p.peekAt(1).isP("("):
			p.i++
			if _, err := p.nameList(); err != nil {
				return nil, nil, nil, err
			}
		case p.peek().is("constraint") || p.peek().is("foreign") || p.peek().is("check") || p.peek().is("exclude"):
			return nil, nil, nil, sqlerr.Unsupported("table constraint %s is not supported", strings.ToUpper(p.peek().val)).WithPosition(charPos(p.src, p.peek().pos))
		default:
			col, err := p.columnDef()
			if err != nil {
				return nil, nil, nil, err
			}
			if col.PrimaryKey {
				if pk != nil {
					return nil, nil, nil, sqlerr.New(sqlerr.InvalidTableDefinition, "multiple primary keys for table are not allowed")
				}
				pk = []string{col.Name}
			}
			cols = append(cols, col)
		}
		if p.acceptP(")") {
			return cols, pk, wm, nil
		}
		if err := p.expectP(","); err != nil {
			return nil, nil, nil, err
		}
	}
}

// elementEnd is the index of the ',' or ')' ending the current table element.
func (p *gp) elementEnd() int {
	depth := 0
	for j := p.i; j < len(p.toks); j++ {
		t := p.toks[j]
		switch {
		case t.kind == tEOF:
			return j
		case t.isP("(") || t.isP("["):
			depth++
		case t.isP(")") || t.isP("]"):
			if depth == 0 {
				return j
			}
			depth--
		case depth == 0 && t.isP(","):
			return j
		}
	}
	return len(p.toks) - 1
}

var constraintWords = map[string]bool{
	"not": true, "null": true, "primary": true, "unique": true, "constraint": true, "check": true,
	"references": true, "default": true, "collate": true, "generated": true, "key": true,
}

func (p *gp) columnDef() (*ast.ColumnDef, error) {
	name, err := p.ident()
	if err != nil {
		return nil, err
	}
	typ, tname, next, err := parseTypeTokens(p.src, p.toks, p.i)
	if err != nil {
		return nil, err
	}
	p.i = next
	col := &ast.ColumnDef{Name: name, Type: typ}
	switch tname {
	case "serial", "bigserial", "smallserial", "serial2", "serial4", "serial8":
		col.Serial, col.NotNull = true, true
	}
	for {
		t := p.peek()
		switch {
		case p.accept("not", "null"):
			col.NotNull = true
		case p.accept("null"):
			col.NotNull = false
		case p.accept("primary", "key"):
			col.PrimaryKey, col.NotNull = true, true
		case p.accept("key"): // ksqlDB: id VARCHAR KEY
			col.PrimaryKey, col.NotNull = true, true
		case p.accept("unique"):
			col.Unique = true
		case p.accept("constraint"):
			if _, err := p.ident(); err != nil {
				return nil, err
			}
		case p.accept("collate"):
			if _, err := p.ident(); err != nil {
				return nil, err
			}
		case p.accept("default"):
			end := p.i + 1
			depth := 0
			for ; end < len(p.toks); end++ {
				u := p.toks[end]
				if u.kind == tEOF {
					break
				}
				if u.isP("(") {
					depth++
				} else if u.isP(")") {
					if depth == 0 {
						break
					}
					depth--
				} else if depth == 0 && (u.isP(",") || u.kind == tIdent && constraintWords[u.val]) {
					break
				}
			}
			e, err := parseExprToks(p.src, p.toks, p.i, end)
			if err != nil {
				return nil, err
			}
			col.Default = e
			col.DefaultText = p.src[p.toks[p.i].pos:p.toks[end-1].end]
			p.i = end
		case t.is("check") || t.is("references") || t.is("generated"):
			return nil, sqlerr.Unsupported("column constraint %s is not supported", strings.ToUpper(t.val)).WithPosition(charPos(p.src, t.pos))
		default:
			return col, nil
		}
	}
}

func (p *gp) createTable() (ast.Statement, error) {
	ine := p.ifNotExists()
	name, err := p.qualifiedName()
	if err != nil {
		return nil, err
	}
	// ksqlDB / CTAS: CREATE TABLE t [WITH (...)] AS SELECT ...
	if p.peek().is("as") || (p.peek().is("with") && p.hasTopAS()) {
		if p.accept("with") {
			if _, err := p.options(); err != nil {
				return nil, err
			}
		}
		q, _, err := p.queryAfterAS(false)
		if err != nil {
			return nil, err
		}
		return &ast.CreateMaterializedView{Name: name, IfNotExists: ine, Query: q, Ksql: true}, nil
	}
	ct := &ast.CreateTable{Name: name, IfNotExists: ine}
	if ct.Columns, ct.PrimaryKey, ct.Watermark, err = p.tableElements(true); err != nil {
		return nil, err
	}
	if p.accept("with") {
		if ct.Options, err = p.options(); err != nil {
			return nil, err
		}
	}
	return ct, p.end()
}

// hasTopAS reports whether AS follows a WITH (...) at the current position.
func (p *gp) hasTopAS() bool {
	if !p.peekAt(1).isP("(") {
		return false
	}
	close := p.matchParen(p.i + 1)
	return close > 0 && close+1 < len(p.toks) && p.toks[close+1].is("as")
}

func (p *gp) createSource(ksql bool) (ast.Statement, error) {
	cs := &ast.CreateSource{Ksql: ksql}
	cs.IfNotExists = p.ifNotExists()
	var err error
	if cs.Name, err = p.qualifiedName(); err != nil {
		return nil, err
	}
	if p.peek().isP("(") {
		if cs.Columns, cs.PrimaryKey, cs.Watermark, err = p.tableElements(true); err != nil {
			return nil, err
		}
	}
	if err := p.expect("with"); err != nil {
		return nil, err
	}
	if cs.Options, err = p.options(); err != nil {
		return nil, err
	}
	// ksqlDB lets a CREATE STREAM of a topic end in EMIT CHANGES, which
	// means nothing more there.
	if ksql && p.accept("emit") {
		if err := p.expect("changes"); err != nil {
			return nil, err
		}
	}
	return cs, p.end()
}

func (p *gp) createStream() (ast.Statement, error) {
	save := p.i
	ine := p.ifNotExists()
	name, err := p.qualifiedName()
	if err != nil {
		return nil, err
	}
	// CREATE STREAM s (cols) WITH (...), or without columns (taken from
	// the schema registry): a stream of a topic, not AS SELECT.
	if p.peek().isP("(") || p.peek().is("with") && !p.hasTopAS() {
		p.i = save
		return p.createSource(true)
	}
	cs := &ast.CreateStream{Name: name, IfNotExists: ine}
	if p.accept("with") {
		if cs.Options, err = p.options(); err != nil {
			return nil, err
		}
	}
	q, opts, err := p.queryAfterAS(true)
	if err != nil {
		return nil, err
	}
	cs.Query = q
	cs.Options = append(cs.Options, opts...)
	return cs, nil
}

func (p *gp) createMV(orReplace bool) (ast.Statement, error) {
	mv := &ast.CreateMaterializedView{OrReplace: orReplace}
	mv.IfNotExists = p.ifNotExists()
	var err error
	if mv.Name, err = p.qualifiedName(); err != nil {
		return nil, err
	}
	if p.peek().isP("(") {
		if mv.Columns, err = p.nameList(); err != nil {
			return nil, err
		}
	}
	if p.accept("with") {
		if _, err := p.options(); err != nil {
			return nil, err
		}
	}
	if mv.Query, _, err = p.queryAfterAS(false); err != nil {
		return nil, err
	}
	return mv, nil
}

func (p *gp) createView(orReplace bool) (ast.Statement, error) {
	v := &ast.CreateView{OrReplace: orReplace}
	var err error
	if v.Name, err = p.qualifiedName(); err != nil {
		return nil, err
	}
	if p.peek().isP("(") {
		if v.Columns, err = p.nameList(); err != nil {
			return nil, err
		}
	}
	if v.Query, _, err = p.queryAfterAS(false); err != nil {
		return nil, err
	}
	return v, nil
}

func (p *gp) createSink() (ast.Statement, error) {
	s := &ast.CreateSink{}
	s.IfNotExists = p.ifNotExists()
	var err error
	if s.Name, err = p.qualifiedName(); err != nil {
		return nil, err
	}
	if p.accept("from") {
		if s.From, err = p.qualifiedName(); err != nil {
			return nil, err
		}
		if err := p.expect("with"); err != nil {
			return nil, err
		}
		if s.Options, err = p.options(); err != nil {
			return nil, err
		}
		return s, p.end()
	}
	if s.Query, s.Options, err = p.queryAfterAS(true); err != nil {
		return nil, err
	}
	return s, nil
}
