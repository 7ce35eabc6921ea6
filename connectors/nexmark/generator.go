package nexmark

import (
	"math"
	"math/bits"
	"strings"
)

// The shape of the event sequence: the reference generator's constants
// and the defaults of its configuration (NexmarkConfiguration).
const (
	// FirstPersonID and FirstAuctionID are the ids of the first person and
	// the first auction; categories count from FirstCategoryID.
	FirstPersonID   = 1000
	FirstAuctionID  = 1000
	FirstCategoryID = 10

	// DefaultRate is the rate (events per second) that date_time advances
	// by when none is given.
	DefaultRate = 10_000

	// Of every blockSize events (numbered from 0), the first is a person,
	// the next three auctions, and the other 46 bids.
	personsPerBlock  = 1
	auctionsPerBlock = 3
	bidsPerBlock     = 46
	blockSize        = personsPerBlock + auctionsPerBlock + bidsPerBlock

	// One bid in hotAuctionRatio goes to a random recent auction, the
	// others to the hot one (the first of the last hotGroup auctions);
	// likewise for bidders and sellers among persons.
	hotAuctionRatio = 2
	hotBidderRatio  = 4
	hotSellerRatio  = 4
	hotGroup        = 100

	// Random picks choose among the last numInFlightAuctions auctions and
	// numActivePeople persons, plus a lead of ids not generated yet (a bid
	// may come before its auction, as in the reference).
	numInFlightAuctions = 100
	numActivePeople     = 1000
	auctionIDLead       = 10
	personIDLead        = 10

	numCategories = 5

	// The extra column pads each kind of event to these average sizes.
	avgPersonBytes  = 200
	avgAuctionBytes = 500
	avgBidBytes     = 100

	// One bid in hotChannelRatio comes from one of numChannels channels,
	// the others from one of the hot ones.
	hotChannelRatio = 100
	numChannels     = 10_000
)

// BaseTime is the date_time of event 0: 2024-01-01 00:00:00, in Weir's
// timestamp unit (microseconds since 2000-01-01). A fixed base makes the
// sequence a function of Config alone, across restarts and processes.
const BaseTime int64 = 8766 * 24 * 3600 * 1_000_000

// Config chooses an event sequence.
type Config struct {
	// Seed picks the sequence; the same seed gives the same events.
	Seed int64
	// Events is how many events the sequence has (0: endless).
	Events int64
	// Rate is how many events per second date_time advances by (0:
	// DefaultRate). It does not pace anything: Generate runs as fast as it
	// can.
	Rate int64
	// Base is the date_time of event 0, in microseconds since 2000-01-01
	// (0: BaseTime).
	Base int64
}

// Kind is what an event is.
type Kind uint8

const (
	KindPerson Kind = iota
	KindAuction
	KindBid
)

func (k Kind) String() string { return [...]string{"person", "auction", "bid"}[k] }

// Person is a person event: a new user.
type Person struct {
	ID           int64
	Name         string
	EmailAddress string
	CreditCard   string
	City         string
	State        string
	DateTime     int64 // microseconds since 2000-01-01, as a TIMESTAMP
	Extra        string
}

// Auction is an auction event: a new item for sale.
type Auction struct {
	ID          int64
	ItemName    string
	Description string
	InitialBid  int64
	Reserve     int64
	DateTime    int64
	Expires     int64
	Seller      int64
	Category    int64
	Extra       string
}

// Bid is a bid event.
type Bid struct {
	Auction  int64
	Bidder   int64
	Price    int64
	Channel  string
	URL      string
	DateTime int64
	Extra    string
}

// Event is event number Number of a sequence: of its three records, the
// one Kind names is set, the others are zero.
type Event struct {
	Number  int64
	Kind    Kind
	Person  Person
	Auction Auction
	Bid     Bid
}

// KindOf is the kind of event number n.
func KindOf(n int64) Kind {
	switch off := n % blockSize; {
	case off < personsPerBlock:
		return KindPerson
	case off < personsPerBlock+auctionsPerBlock:
		return KindAuction
	}
	return KindBid
}

// kindRange is where events of kind k sit in a block: offsets lo to
// lo+count-1.
func kindRange(k Kind) (lo, count int64) {
	switch k {
	case KindPerson:
		return 0, personsPerBlock
	case KindAuction:
		return personsPerBlock, auctionsPerBlock
	}
	return personsPerBlock + auctionsPerBlock, bidsPerBlock
}

// nextOfKind is the first event number at or after n of kind k.
func nextOfKind(k Kind, n int64) int64 {
	lo, count := kindRange(k)
	switch off := n % blockSize; {
	case off < lo:
		return n - off + lo
	case off >= lo+count:
		return n - off + blockSize + lo
	}
	return n
}

// countOfKind is how many events of kind k are numbered below n.
func countOfKind(k Kind, n int64) int64 {
	lo, count := kindRange(k)
	return n/blockSize*count + min(max(n%blockSize-lo, 0), count)
}

// Generate calls yield with events from up to to-1 of cfg's sequence (to
// is clipped to cfg.Events, when set), in order, until yield returns
// false. The Event is reused: it is valid only during the call. Each
// event depends on cfg and its number alone, so that a run from k yields
// exactly what a run from 0 yields from k on.
func Generate(cfg Config, from, to int64, yield func(*Event) bool) {
	g := newGenerator(cfg)
	if cfg.Events > 0 {
		to = min(to, cfg.Events)
	}
	var e Event
	for n := max(from, 0); n < to; n++ {
		e = Event{Number: n, Kind: KindOf(n)}
		switch e.Kind {
		case KindPerson:
			g.person(n, &e.Person)
		case KindAuction:
			g.auction(n, &e.Auction)
		default:
			g.bid(n, &e.Bid)
		}
		if !yield(&e) {
			return
		}
	}
}

// generator makes the events of one Config. It is immutable, so safe
// for concurrent use.
type generator struct {
	seed uint64 // the seed, hashed
	rate int64
	base int64
	t    *tables
}

func newGenerator(cfg Config) *generator {
	rate := cfg.Rate
	if rate <= 0 {
		rate = DefaultRate
	}
	base := cfg.Base
	if base == 0 {
		base = BaseTime
	}
	return &generator{seed: mix(uint64(cfg.Seed) ^ 0x6a09e667f3bcc909), rate: rate, base: base, t: sharedTables()}
}

// dateTime is the date_time of event n: n inter-event delays after the
// base, without overflow for any n.
func (g *generator) dateTime(n int64) int64 {
	return g.base + n/g.rate*1_000_000 + n%g.rate*1_000_000/g.rate
}

// lastPerson is the base-0 id of the last person at event n: its own id
// when n is a person.
func lastPerson(n int64) int64 {
	return n/blockSize*personsPerBlock + min(n%blockSize, personsPerBlock-1)
}

// lastAuction is the base-0 id of the last auction at event n: its own
// id when n is an auction (-1 before the first).
func lastAuction(n int64) int64 {
	block, off := n/blockSize, n%blockSize
	switch {
	case off < personsPerBlock:
		block--
		off = auctionsPerBlock - 1
	case off >= personsPerBlock+auctionsPerBlock:
		off = auctionsPerBlock - 1
	default:
		off -= personsPerBlock
	}
	return block*auctionsPerBlock + off
}

// randomPerson is a base-0 person id among the active persons at event
// n, or a few ahead.
func randomPerson(n int64, r *rng) int64 {
	people := lastPerson(n) + 1
	active := min(people, numActivePeople)
	return people - active + r.intn(active+personIDLead)
}

// randomAuction is a base-0 auction id among the auctions in flight at
// event n, or a few ahead.
func randomAuction(n int64, r *rng) int64 {
	last := lastAuction(n)
	first := max(last-numInFlightAuctions, 0)
	return first + r.intn(last-first+1+auctionIDLead)
}

func (g *generator) person(n int64, p *Person) {
	r := g.rng(n)
	t := g.t
	p.ID = lastPerson(n) + FirstPersonID
	p.Name = t.names[r.intn(int64(len(t.names)))]
	p.EmailAddress = t.emails[r.intn(int64(len(t.emails)))]
	p.CreditCard = t.cards[r.intn(int64(len(t.cards)))]
	p.City = usCities[r.intn(int64(len(usCities)))]
	p.State = usStates[r.intn(int64(len(usStates)))]
	p.DateTime = g.dateTime(n)
	size := 8 + len(p.Name) + len(p.EmailAddress) + len(p.CreditCard) + len(p.City) + len(p.State)
	p.Extra = t.extra(&r, size, avgPersonBytes)
}

func (g *generator) auction(n int64, a *Auction) {
	r := g.rng(n)
	t := g.t
	a.ID = lastAuction(n) + FirstAuctionID
	if r.intn(hotSellerRatio) > 0 {
		a.Seller = lastPerson(n) / hotGroup * hotGroup
	} else {
		a.Seller = randomPerson(n, &r)
	}
	a.Seller += FirstPersonID
	a.Category = FirstCategoryID + r.intn(numCategories)
	a.InitialBid = price(&r)
	a.DateTime = g.dateTime(n)
	// An auction lasts on average as long as it takes to generate
	// numInFlightAuctions more.
	horizon := g.dateTime(n+numInFlightAuctions*blockSize/auctionsPerBlock) - a.DateTime
	a.Expires = a.DateTime + 1 + r.intn(max(2*horizon, 1))
	a.ItemName = t.words(&r, 20)
	a.Description = t.words(&r, 100)
	a.Reserve = a.InitialBid + price(&r)
	size := 8 + len(a.ItemName) + len(a.Description) + 5*8
	a.Extra = t.extra(&r, size, avgAuctionBytes)
}

func (g *generator) bid(n int64, b *Bid) {
	r := g.rng(n)
	t := g.t
	if r.intn(hotAuctionRatio) > 0 {
		b.Auction = lastAuction(n) / hotGroup * hotGroup
	} else {
		b.Auction = randomAuction(n, &r)
	}
	b.Auction += FirstAuctionID
	if r.intn(hotBidderRatio) > 0 {
		// The second of the group, so that hot bidders are not hot sellers.
		b.Bidder = lastPerson(n)/hotGroup*hotGroup + 1
	} else {
		b.Bidder = randomPerson(n, &r)
	}
	b.Bidder += FirstPersonID
	b.Price = price(&r)
	if ch := r.intn(numChannels); r.intn(hotChannelRatio) == hotChannelRatio-1 {
		b.Channel, b.URL = t.channels[ch], t.urls[ch]
	} else {
		h := r.intn(int64(len(hotChannels)))
		b.Channel, b.URL = hotChannels[h], hotURLs[h]
	}
	b.DateTime = g.dateTime(n)
	b.Extra = t.extra(&r, 4*8, avgBidBytes)
}

// price is a price in cents, log-uniform from $0.01 to $10,000.
func price(r *rng) int64 {
	return int64(math.Round(math.Exp(r.float()*6*math.Ln10) * 100))
}

// rng is event n's random stream: splitmix64 started at a hash of the
// seed and n, so that events can be made in any order.
func (g *generator) rng(n int64) rng {
	return rng{s: mix(g.seed + uint64(n)*golden)}
}

const golden = 0x9e3779b97f4a7c15

type rng struct{ s uint64 }

func mix(z uint64) uint64 {
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

func (r *rng) next() uint64 {
	r.s += golden
	return mix(r.s)
}

// intn is uniform in [0, n), n > 0.
func (r *rng) intn(n int64) int64 {
	hi, _ := bits.Mul64(r.next(), uint64(n))
	return int64(hi)
}

// float is uniform in [0, 1).
func (r *rng) float() float64 { return float64(r.next()>>11) / (1 << 53) }

// extra is a string of letters that brings a record of size bytes to
// avg bytes on average, within ±20%.
func (t *tables) extra(r *rng, size, avg int) string {
	if size > avg {
		return ""
	}
	want := avg - size
	delta := (2*want + 5) / 10 // want/5, rounded
	n := want - delta
	if delta > 0 {
		n += int(r.intn(int64(2 * delta)))
	}
	off := r.intn(poolSize)
	return t.letters[off : off+int64(n)]
}

// words is a string of 3 to maxLen-1 letters and spaces (one in 13),
// trimmed.
func (t *tables) words(r *rng, maxLen int64) string {
	n := 3 + r.intn(maxLen-3)
	off := r.intn(poolSize)
	return strings.Trim(t.spaced[off:off+n], " ")
}
