// Package nexmark is the nexmark connector: a source that generates the
// events of the Nexmark benchmark (persons, auctions and bids of an
// online auction site), and Generate, the same events for Go code that
// computes reference results.
//
// # The event sequence
//
// Events are numbered from 0. Of every 50, the first is a person, the
// next 3 auctions and the other 46 bids. Ids are derived from the event
// number as in the reference generator (Apache Beam's NEXMark, Flink's
// nexmark): persons and auctions are numbered from 1000 in the order
// they come; an auction's seller and a bid's auction and bidder are, with
// the reference's default skew, mostly the hot ones of the recent ids
// (3 sellers in 4 the first of the last 100 persons, 1 bid in 2 on the
// first of the last 100 auctions, 3 bidders in 4 the second of the last
// 100 persons), else random among the last 100 auctions and 1000 persons,
// or up to 10 ids ahead: like the reference, a bid may name an auction
// that comes a little later in the sequence. date_time is BaseTime plus
// the event number over the rate (Config.Rate, default 10,000 events/s),
// so it grows with the event number; an auction expires within twice the
// time 100 more auctions take to come.
//
// Each event is made from the seed and its number alone (a splitmix64
// stream started at their hash; the reference's java.util.Random is not
// reproduced, so the values differ from other systems' while their
// distributions are the reference's), and its strings are slices of
// tables made once: a source resumed at event k yields exactly what an
// uninterrupted one does from k on, and an event costs no allocation but
// its row.
//
// # The source
//
//	nexmark.table      bid, auction or person (required)
//	nexmark.events     events in the sequence, of all kinds (default 0: endless)
//	nexmark.rate       events of the sequence per second (default 0: as fast as
//	                   the engine takes them); also what date_time advances by
//	nexmark.seed       picks the sequence (default 0)
//	poll.max_records   rows per batch at most (default 4096)
//
// A source of table bid yields the bids of the sequence, one row each;
// sources of the three tables with the same seed and events see one
// sequence. Its offset (one partition, named after the table) is the
// number of the next event: a source resumes where its last committed
// epoch ends. A paced source releases events as the wall clock reaches
// them, counted from its first poll (a restarted one from where it
// resumed), at most every 10 ms; one that falls behind catches up in
// full batches. After the last event Poll waits, as on a quiet topic.
//
// The columns need not be declared (Connector.InferColumns gives the
// table's); declared ones must each be a column of the table with its
// type, and may leave some out. Every table's event time is date_time,
// with a watermark 4 seconds behind (Connector.DefaultWatermark).
package nexmark
