package format

import (
	"context"
	"errors"
	"time"

	"github.com/weirdb/weir/connectors/registry"
)

// programs caches, per schema id, what a writer schema compiles to: a
// schema id names one schema forever, so each is fetched and compiled
// once. A schema that cannot be read into the columns is remembered as
// the fault of every record that names it. An id the registry does not
// have is a record fault too (a wrong id must not stall the partition),
// asked again after unknownRetry in case the registry was lagging
// behind a producer that had just registered it.
type programs[P any] struct {
	reg     SchemaRegistry
	what    string // "read into the columns", for errors
	compile func(*avroType) (P, error)
	byID    map[int]*program[P]
	unknown int // entries for unknown ids, bounded by maxUnknown
	now     func() time.Time
}

type program[P any] struct {
	prog P
	err  *Error
	// asked is when an unknown id was last asked for; zero otherwise.
	asked time.Time
}

const (
	unknownRetry = 10 * time.Second
	// maxUnknown bounds the memory garbage with random ids can take.
	maxUnknown = 1024
)

func newPrograms[P any](reg SchemaRegistry, what string, compile func(*avroType) (P, error)) programs[P] {
	return programs[P]{reg: reg, what: what, compile: compile, byID: map[int]*program[P]{}, now: time.Now}
}

// get returns the program of id; an *Error when records of id cannot be
// read, another error when the registry cannot be reached.
func (c *programs[P]) get(ctx context.Context, id int) (P, error) {
	var zero P
	p, ok := c.byID[id]
	if ok && (p.asked.IsZero() || c.now().Sub(p.asked) < unknownRetry) {
		if p.err != nil {
			return zero, p.err
		}
		return p.prog, nil
	}
	text, err := c.reg.SchemaByID(ctx, id)
	switch {
	case errors.Is(err, registry.ErrNotFound):
		if !ok {
			if c.unknown >= maxUnknown {
				c.forgetUnknown()
			}
			c.unknown++
		}
		p = &program[P]{err: errRecord("unknown Avro schema id %d", id), asked: c.now()}
		c.byID[id] = p
		return zero, p.err
	case err != nil:
		return zero, err
	}
	if ok {
		c.unknown--
	}
	p = &program[P]{}
	if w, err := parseAvroSchema(text); err != nil {
		p.err = errRecord("Avro schema id %d: %v", id, err)
	} else if p.prog, err = c.compile(w); err != nil {
		p.err = errRecord("Avro schema id %d cannot be %s: %v", id, c.what, err)
	}
	c.byID[id] = p
	if p.err != nil {
		return zero, p.err
	}
	return p.prog, nil
}

func (c *programs[P]) forgetUnknown() {
	for id, p := range c.byID {
		if !p.asked.IsZero() {
			delete(c.byID, id)
		}
	}
	c.unknown = 0
}
