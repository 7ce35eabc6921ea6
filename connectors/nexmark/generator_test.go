package nexmark

import (
	"strings"
	"testing"

	"github.com/weirdb/weir/sql/types"
)

// collect returns the events from up to to-1 of cfg's sequence.
func collect(cfg Config, from, to int64) []Event {
	var out []Event
	Generate(cfg, from, to, func(e *Event) bool {
		out = append(out, *e)
		return true
	})
	return out
}

func TestBaseTime(t *testing.T) {
	if want := types.DaysFromCivil(2024, 1, 1) * types.MicrosPerDay; BaseTime != want {
		t.Fatalf("BaseTime = %d, want %d (2024-01-01)", BaseTime, want)
	}
}

// TestProportionsAndIDs checks the shape of the sequence: 1 person, 3
// auctions and 46 bids in every 50 events, ids consecutive from 1000,
// date_time at the rate, and references to ids in their ranges.
func TestProportionsAndIDs(t *testing.T) {
	const n = 100_000
	cfg := Config{Seed: 7, Rate: 1000}
	var persons, auctions, bids int64
	var hotAuction, hotBidder int64
	for i, e := range collect(cfg, 0, n) {
		num := int64(i)
		if e.Number != num {
			t.Fatalf("event %d numbered %d", i, e.Number)
		}
		wantKind := KindBid
		switch num % 50 {
		case 0:
			wantKind = KindPerson
		case 1, 2, 3:
			wantKind = KindAuction
		}
		if e.Kind != wantKind {
			t.Fatalf("event %d is a %s, want a %s", num, e.Kind, wantKind)
		}
		wantTime := BaseTime + num*1000 // 1000 events/s: 1 ms apart
		// The ids known at this event: persons and auctions so far.
		maxPerson := FirstPersonID + persons - 1
		maxAuction := FirstAuctionID + auctions - 1
		switch e.Kind {
		case KindPerson:
			p := e.Person
			if p.ID != FirstPersonID+persons || p.DateTime != wantTime {
				t.Fatalf("person %d: id %d, date_time %d; want id %d, date_time %d", persons, p.ID, p.DateTime, FirstPersonID+persons, wantTime)
			}
			if p.Name == "" || !strings.Contains(p.EmailAddress, "@") || len(p.CreditCard) != 19 || p.City == "" || len(p.State) != 2 {
				t.Fatalf("person %+v", p)
			}
			if size := 8 + len(p.Name) + len(p.EmailAddress) + len(p.CreditCard) + len(p.City) + len(p.State) + len(p.Extra); size < 160 || size > 240 {
				t.Fatalf("person of %d bytes, want 200 ± 20%%: %+v", size, p)
			}
			persons++
		case KindAuction:
			a := e.Auction
			if a.ID != FirstAuctionID+auctions || a.DateTime != wantTime {
				t.Fatalf("auction %d: id %d, date_time %d; want id %d, date_time %d", auctions, a.ID, a.DateTime, FirstAuctionID+auctions, wantTime)
			}
			if a.Seller < FirstPersonID || a.Seller > maxPerson+personIDLead {
				t.Fatalf("auction %d: seller %d, persons so far up to %d", a.ID, a.Seller, maxPerson)
			}
			if a.Category < FirstCategoryID || a.Category >= FirstCategoryID+numCategories {
				t.Fatalf("auction %d: category %d", a.ID, a.Category)
			}
			if a.InitialBid < 1 || a.Reserve < a.InitialBid || a.Expires <= a.DateTime || a.ItemName == "" || a.Description == "" {
				t.Fatalf("auction %+v", a)
			}
			auctions++
		case KindBid:
			b := e.Bid
			if b.DateTime != wantTime {
				t.Fatalf("bid %d: date_time %d, want %d", num, b.DateTime, wantTime)
			}
			if b.Auction < FirstAuctionID || b.Auction > maxAuction+auctionIDLead {
				t.Fatalf("bid %d: auction %d, auctions so far up to %d", num, b.Auction, maxAuction)
			}
			if b.Bidder < FirstPersonID || b.Bidder > maxPerson+personIDLead {
				t.Fatalf("bid %d: bidder %d, persons so far up to %d", num, b.Bidder, maxPerson)
			}
			if b.Price < 1 || b.Price > 100_000_000 || b.Channel == "" || !strings.HasPrefix(b.URL, "https://www.nexmark.com/") {
				t.Fatalf("bid %+v", b)
			}
			if size := 32 + len(b.Extra); size < 80 || size > 120 {
				t.Fatalf("bid of %d bytes, want 100 ± 20%%", size)
			}
			if b.Auction == (maxAuction-FirstAuctionID)/hotGroup*hotGroup+FirstAuctionID {
				hotAuction++
			}
			if b.Bidder == (maxPerson-FirstPersonID)/hotGroup*hotGroup+1+FirstPersonID {
				hotBidder++
			}
			bids++
		}
	}
	if persons != n/50 || auctions != 3*n/50 || bids != 46*n/50 {
		t.Fatalf("%d persons, %d auctions, %d bids in %d events", persons, auctions, bids, n)
	}
	// Half the bids go to the hot auction, three quarters come from the
	// hot bidder (and a few more by chance).
	if f := float64(hotAuction) / float64(bids); f < 0.49 || f > 0.53 {
		t.Errorf("%.3f of bids on the hot auction, want about 0.5", f)
	}
	if f := float64(hotBidder) / float64(bids); f < 0.74 || f > 0.77 {
		t.Errorf("%.3f of bids by the hot bidder, want about 0.75", f)
	}
	for k, want := range map[Kind]int64{KindPerson: persons, KindAuction: auctions, KindBid: bids} {
		if got := countOfKind(k, n); got != want {
			t.Errorf("countOfKind(%s, %d) = %d, want %d", k, n, got, want)
		}
	}
}

// TestResume: a run from k yields what a run from 0 yields from k on, and
// the same seed always gives the same events, another seed others.
func TestResume(t *testing.T) {
	cfg := Config{Seed: 42, Events: 20_000}
	all := collect(cfg, 0, 1<<62)
	if len(all) != 20_000 {
		t.Fatalf("%d events, want 20000 (Events)", len(all))
	}
	for _, k := range []int64{1, 49, 50, 51, 4321, 19_999} {
		tail := collect(cfg, k, 1<<62)
		if len(tail) != len(all)-int(k) {
			t.Fatalf("from %d: %d events, want %d", k, len(tail), len(all)-int(k))
		}
		for i := range tail {
			if tail[i] != all[int(k)+i] {
				t.Fatalf("from %d: event %d is\n%+v\nwant\n%+v", k, tail[i].Number, tail[i], all[int(k)+i])
			}
		}
	}
	other := collect(Config{Seed: 43, Events: 20_000}, 0, 1000)
	same := 0
	for i := range other {
		if other[i] == all[i] {
			same++
		}
	}
	if same > 10 {
		t.Errorf("seeds 42 and 43 agree on %d of 1000 events", same)
	}
}

// TestBidsReferenceAuctions: every bid names an auction and a bidder of
// the sequence; most already exist when the bid comes, the others (the
// reference's lead) come within a few hundred events.
func TestBidsReferenceAuctions(t *testing.T) {
	const n = 50_000
	cfg := Config{Seed: 3}
	auctions := map[int64]int64{} // id -> event number
	persons := map[int64]int64{}
	events := collect(cfg, 0, n+500)
	for _, e := range events {
		switch e.Kind {
		case KindAuction:
			auctions[e.Auction.ID] = e.Number
		case KindPerson:
			persons[e.Person.ID] = e.Number
		}
	}
	var bids, before int
	for _, e := range events[:n] {
		switch e.Kind {
		case KindBid:
			at, ok := auctions[e.Bid.Auction]
			if !ok {
				t.Fatalf("bid %d names auction %d, which no event makes", e.Number, e.Bid.Auction)
			}
			if _, ok := persons[e.Bid.Bidder]; !ok {
				t.Fatalf("bid %d names bidder %d, which no event makes", e.Number, e.Bid.Bidder)
			}
			bids++
			if at < e.Number {
				before++
			}
		case KindAuction:
			if _, ok := persons[e.Auction.Seller]; !ok {
				t.Fatalf("auction %d names seller %d, which no event makes", e.Auction.ID, e.Auction.Seller)
			}
		}
	}
	if f := float64(before) / float64(bids); f < 0.95 {
		t.Errorf("only %.3f of bids come after their auction", f)
	}
}

func TestKindArithmetic(t *testing.T) {
	for _, k := range []Kind{KindPerson, KindAuction, KindBid} {
		var count int64
		for n := range int64(200) {
			if got := countOfKind(k, n); got != count {
				t.Fatalf("countOfKind(%s, %d) = %d, want %d", k, n, got, count)
			}
			next := n
			for KindOf(next) != k {
				next++
			}
			if got := nextOfKind(k, n); got != next {
				t.Fatalf("nextOfKind(%s, %d) = %d, want %d", k, n, got, next)
			}
			if KindOf(n) == k {
				count++
			}
		}
	}
}
