package nexmark

import (
	"fmt"
	"math/bits"
	"strings"
	"sync"
)

// The generator picks its strings from tables made once, so that an
// event costs no allocation: a random string is a slice of a long random
// one (the strings of a row share its memory, which is never freed).

var (
	usStates    = []string{"AZ", "CA", "ID", "OR", "WA", "WY"}
	usCities    = []string{"Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland", "Bend", "Redmond", "Seattle", "Kent", "Cheyenne"}
	firstNames  = []string{"Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah", "Deiter", "Walter"}
	lastNames   = []string{"Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones", "Noris"}
	hotChannels = []string{"Google", "Facebook", "Baidu", "Apple"}
	hotURLs     = []string{
		"https://www.nexmark.com/googl/item.htm?query=1",
		"https://www.nexmark.com/meta/item.htm?query=1",
		"https://www.nexmark.com/bidu/item.htm?query=1",
		"https://www.nexmark.com/aapl/item.htm?query=1",
	}
)

const (
	// poolSize is how many offsets a random string may start at;
	// maxPooled the longest random string.
	poolSize  = 1 << 16
	maxPooled = 1024
	// numEmails and numCards are how many distinct e-mail addresses and
	// credit card numbers there are.
	numEmails = 1 << 14
	numCards  = 1 << 14
)

// tables are the generator's strings. They do not depend on the seed.
type tables struct {
	letters string // a-z
	spaced  string // a-z and, one in 13, a space
	names   []string
	emails  []string
	cards   []string
	// channels[i] and urls[i] are channel i's name and URL.
	channels []string
	urls     []string
}

var sharedTables = sync.OnceValue(newTables)

func newTables() *tables {
	r := rng{s: 0x243f6a8885a308d3}
	var t tables
	pool := func(space bool) string {
		var sb strings.Builder
		sb.Grow(poolSize + maxPooled)
		for range poolSize + maxPooled {
			if space && r.intn(13) == 0 {
				sb.WriteByte(' ')
			} else {
				sb.WriteByte(byte('a' + r.intn(26)))
			}
		}
		return sb.String()
	}
	t.letters, t.spaced = pool(false), pool(true)
	for _, f := range firstNames {
		for _, l := range lastNames {
			t.names = append(t.names, f+" "+l)
		}
	}
	t.emails = make([]string, numEmails)
	for i := range t.emails {
		t.emails[i] = t.words(&r, 7) + "@" + t.words(&r, 5) + ".com"
	}
	t.cards = make([]string, numCards)
	for i := range t.cards {
		t.cards[i] = fmt.Sprintf("%04d %04d %04d %04d", r.intn(10000), r.intn(10000), r.intn(10000), r.intn(10000))
	}
	t.channels = make([]string, numChannels)
	t.urls = make([]string, numChannels)
	for i := range numChannels {
		t.channels[i] = fmt.Sprintf("channel-%d", i)
		url := "https://www.nexmark.com/" + t.words(&r, 5) + "/item.htm?query=1"
		if r.intn(10) != 9 {
			// The reference's channel id: the bits of i reversed, as a
			// Java int.
			url += fmt.Sprintf("&channel_id=%d", int32(bits.Reverse32(uint32(i))))
		}
		t.urls[i] = url
	}
	return &t
}
