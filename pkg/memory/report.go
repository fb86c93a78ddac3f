package memory

import (
	"bytes"
	"container/heap"
	"context"
	"io"
	"math"
	"slices"
	"sort"

	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// KeyRecord is one key of a report. Its byte slices belong to the caller of
// OnKey only during the call (copy them to keep them), except in a Report,
// which owns its records.
type KeyRecord struct {
	DB         int
	Key        []byte
	Type       rdb.Type // as stored in the file
	Usage      Usage
	ExpireAtMs int64 // valid when HasExpire
	HasExpire  bool
	// LargestElement is the start of the largest element (a member, a
	// field, a string's first bytes), at most MaxPreview bytes.
	LargestElement []byte
}

// MaxPreview bounds the element bytes a report keeps for its largest
// elements.
const MaxPreview = 64

// ReportOptions tune Analyze. The zero value reports everything with the
// defaults listed with each field.
type ReportOptions struct {
	Config Config // default Redis70()
	// Match selects keys; nil selects every key. Keys left out are skipped
	// without being measured.
	Match func(*rdb.Entry) bool
	// OnKey, when set, receives every measured key in file order.
	OnKey func(*KeyRecord) error
	// TopKeys and TopElements are how many of the largest keys and elements
	// to keep (default 20 each; negative: none).
	TopKeys, TopElements int
	// Separators split keys into prefixes (default ":"); PrefixDepth is how
	// many levels to aggregate (default 2; negative: none).
	Separators  []string
	PrefixDepth int
	// MaxPrefixes bounds the prefixes held at once (default 100000). Beyond
	// it the smallest are pruned, and the report says by how much the
	// figures may then be low (PrefixStats.Pruned).
	MaxPrefixes int
	// NowMs is the time TTLs are bucketed against (Unix ms).
	NowMs int64
	// Context, when set, is checked between keys: once it is done, Analyze
	// stops with its error (Ctrl-C).
	Context context.Context
	// Workers, for a Reader over an in-memory input (rdb.NewReaderBytes),
	// is how many goroutines measure values while the Reader moves on; 0
	// measures everything on the calling goroutine. The report and the
	// order of OnKey calls are the same.
	Workers int
}

func (o *ReportOptions) defaults() {
	if o.Config == (Config{}) {
		o.Config = Redis70()
	}
	if o.TopKeys == 0 {
		o.TopKeys = 20
	}
	if o.TopElements == 0 {
		o.TopElements = 20
	}
	if len(o.Separators) == 0 {
		o.Separators = []string{":"}
	}
	if o.PrefixDepth == 0 {
		o.PrefixDepth = 2
	}
	if o.MaxPrefixes <= 0 {
		o.MaxPrefixes = 100000
	}
}

// Totals sums keys.
type Totals struct {
	Keys     int64
	Bytes    int64
	Elements int64
}

func (t *Totals) add(k *KeyRecord) {
	t.Keys++
	t.Bytes += k.Usage.Bytes
	t.Elements += int64(k.Usage.Elements)
}

// DBStats is one database.
type DBStats struct {
	DB int
	Totals
	Expires int64 // keys with a TTL
}

// TypeStats is one logical type in one encoding (after a Redis 7.0 load).
type TypeStats struct {
	Type     rdb.Kind
	Encoding string
	Totals
}

// Bucket is one range of a distribution: [Min, Max] (Max is math.MaxInt64
// for the open-ended last one).
type Bucket struct {
	Label    string
	Min, Max int64
	Count    int64 // keys, or elements for element sizes
	Bytes    int64 // memory of those keys, or bytes of those elements
}

// PrefixStats is one key prefix.
type PrefixStats struct {
	Prefix []byte // up to and including the separator
	Depth  int
	Keys   int64
	Bytes  int64
}

// PrefixReport is the prefix breakdown, largest first.
type PrefixReport struct {
	Separators []string
	Depth      int
	Prefixes   []PrefixStats
	// Pruned is set when more distinct prefixes were seen than MaxPrefixes:
	// the smallest were dropped along the way, so a prefix may be missing
	// or its figures low by up to MaxUndercount bytes (and as many keys as
	// that could be).
	Pruned         bool
	PrunedKeys     int64 // key counts dropped with pruned prefixes
	PrunedBytes    int64
	MaxUndercount  int64
	DistinctPeak   int
	NoPrefixKeys   int64 // keys without any separator
	NoPrefixBytes  int64
	prefixCapacity int
}

// ElementRecord is one of the largest elements.
type ElementRecord struct {
	DB      int
	Key     []byte
	Type    rdb.Kind
	Size    int
	Preview []byte // its first bytes (MaxPreview at most)
}

// Report is what Analyze finds.
type Report struct {
	Model    string
	Config   Config
	Header   rdb.Header
	NowMs    int64
	Total    Totals
	Filtered int64 // keys the filter left out
	DBs      []DBStats
	Types    []TypeStats
	TopKeys  []KeyRecord
	Prefixes PrefixReport
	// Expiry buckets keys by the time left to their TTL at NowMs.
	Expiry []Bucket
	// ElementCounts buckets keys by element count; ElementSizes buckets
	// every element by size.
	ElementCounts   []Bucket
	ElementSizes    []Bucket
	LargestElements []ElementRecord
}

// Analyze measures every key of an RDB file and aggregates the report. It
// streams: memory depends on the options (top lists, prefixes), not on the
// file.
func Analyze(r *rdb.Reader, o ReportOptions) (*Report, error) {
	o.defaults()
	h, err := r.Header()
	if err != nil {
		return nil, err
	}
	a := newAggregator(&o)
	a.rep.Header = h
	est := NewEstimator(o.Config)
	var largest []byte
	var largestSize int
	est.OnElement = func(el *rdb.Elem, size int) {
		a.elemSize(size)
		if size > largestSize {
			largestSize = size
			largest = appendPreview(largest[:0], el)
		}
	}
	rec := &KeyRecord{}
	var par *parallelAnalysis
	if o.Workers > 0 {
		par = newParallelAnalysis(a, r, o.Workers)
		defer par.stop()
	}
	// drainFirst aggregates the keys handed to workers, which come before
	// whatever the caller is about to do; their error is earlier than err.
	drainFirst := func(err error) error {
		if par != nil {
			if perr := par.retire(true); perr != nil {
				return perr
			}
		}
		return err
	}
	for {
		e, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, drainFirst(err)
		}
		if e.Kind != rdb.EntryKey {
			continue
		}
		if o.Context != nil {
			if err := o.Context.Err(); err != nil {
				return nil, drainFirst(err)
			}
		}
		if o.Match != nil && !o.Match(e) {
			a.rep.Filtered++
			if _, err := r.SkipValue(); err != nil {
				return nil, drainFirst(err)
			}
			continue
		}
		if par != nil {
			if par.take() {
				if err := par.retire(false); err != nil {
					return nil, err
				}
				continue
			}
			if err := drainFirst(nil); err != nil {
				return nil, err
			}
		}
		largest, largestSize = largest[:0], -1
		u, err := est.Measure(r, e)
		if err != nil {
			return nil, err
		}
		*rec = KeyRecord{DB: e.DB, Key: e.Key, Type: e.Type, Usage: u, ExpireAtMs: e.ExpireAtMs, HasExpire: e.HasExpire, LargestElement: largest}
		if err := a.add(rec); err != nil {
			return nil, err
		}
	}
	if err := drainFirst(nil); err != nil {
		return nil, err
	}
	return a.finish(), nil
}

// appendPreview appends the start of the element that reports name.
func appendPreview(dst []byte, el *rdb.Elem) []byte {
	var b []byte
	switch el.Kind {
	case rdb.ElemStreamEntry:
		return append(dst, el.ID.String()...)
	case rdb.ElemModule:
		return append(dst, el.Module.Name...)
	default:
		b = el.Member
	}
	return append(dst, b[:min(len(b), MaxPreview)]...)
}

// aggregator folds key records into a Report, in file order.
type aggregator struct {
	o        *ReportOptions
	rep      Report
	dbs      map[int]*DBStats
	types    []*TypeStats // few: a list beats a map keyed by strings
	top      keyHeap
	elems    elemHeap
	prefixes prefixCounter
	seq      int64
}

func newAggregator(o *ReportOptions) *aggregator {
	a := &aggregator{o: o, dbs: map[int]*DBStats{}}
	a.rep.Model, a.rep.Config, a.rep.NowMs = ModelName, o.Config, o.NowMs
	a.rep.Expiry = expiryBuckets()
	a.rep.ElementCounts = countBuckets()
	a.rep.ElementSizes = sizeBuckets()
	a.prefixes = newPrefixCounter(o.Separators, o.PrefixDepth, o.MaxPrefixes)
	return a
}

func (a *aggregator) add(k *KeyRecord) error {
	if a.o.OnKey != nil {
		if err := a.o.OnKey(k); err != nil {
			return err
		}
	}
	a.seq++
	a.rep.Total.add(k)
	d := a.dbs[k.DB]
	if d == nil {
		d = &DBStats{DB: k.DB}
		a.dbs[k.DB] = d
	}
	d.add(k)
	if k.HasExpire {
		d.Expires++
	}
	a.typeStats(k.Type.Kind(), k.Usage.Encoding).add(k)
	addToBucket(a.rep.Expiry, a.ttlLeft(k), k.Usage.Bytes)
	addToBucket(a.rep.ElementCounts, int64(k.Usage.Elements), k.Usage.Bytes)
	if a.o.TopKeys > 0 {
		a.top.offer(k, a.seq, a.o.TopKeys)
	}
	if a.o.TopElements > 0 && k.Usage.Elements > 0 {
		a.elems.offer(k, a.seq, a.o.TopElements)
	}
	if a.o.PrefixDepth > 0 {
		a.prefixes.add(k.Key, k.Usage.Bytes)
	}
	return nil
}

func (a *aggregator) typeStats(kind rdb.Kind, enc string) *TypeStats {
	for _, t := range a.types {
		if t.Type == kind && t.Encoding == enc {
			return t
		}
	}
	t := &TypeStats{Type: kind, Encoding: enc}
	a.types = append(a.types, t)
	return t
}

func (a *aggregator) elemSize(size int) {
	addToBucket(a.rep.ElementSizes, int64(size), int64(size))
}

// ttlLeft maps a key to the value its expiry bucket is found by: -2 for no
// TTL, -1 for a TTL already past, else the milliseconds left.
func (a *aggregator) ttlLeft(k *KeyRecord) int64 {
	if !k.HasExpire {
		return -2
	}
	if k.ExpireAtMs <= a.o.NowMs {
		return -1
	}
	return k.ExpireAtMs - a.o.NowMs
}

func (a *aggregator) finish() *Report {
	rep := &a.rep
	for _, d := range a.dbs {
		rep.DBs = append(rep.DBs, *d)
	}
	sort.Slice(rep.DBs, func(i, j int) bool { return rep.DBs[i].DB < rep.DBs[j].DB })
	for _, t := range a.types {
		rep.Types = append(rep.Types, *t)
	}
	sort.Slice(rep.Types, func(i, j int) bool {
		x, y := rep.Types[i], rep.Types[j]
		if x.Bytes != y.Bytes {
			return x.Bytes > y.Bytes
		}
		if x.Type != y.Type {
			return x.Type < y.Type
		}
		return x.Encoding < y.Encoding
	})
	rep.TopKeys = a.top.sorted()
	rep.LargestElements = a.elems.sorted()
	rep.Prefixes = a.prefixes.report()
	return rep
}

func addToBucket(bs []Bucket, v, bytes int64) {
	for i := range bs {
		if v >= bs[i].Min && v <= bs[i].Max {
			bs[i].Count++
			bs[i].Bytes += bytes
			return
		}
	}
}

func expiryBuckets() []Bucket {
	const h = int64(3600 * 1000)
	return []Bucket{
		{Label: "no TTL", Min: -2, Max: -2},
		{Label: "expired", Min: -1, Max: -1},
		{Label: "< 1 hour", Min: 0, Max: h - 1},
		{Label: "< 1 day", Min: h, Max: 24*h - 1},
		{Label: "< 1 week", Min: 24 * h, Max: 7*24*h - 1},
		{Label: "< 30 days", Min: 7 * 24 * h, Max: 30*24*h - 1},
		{Label: "< 1 year", Min: 30 * 24 * h, Max: 365*24*h - 1},
		{Label: ">= 1 year", Min: 365 * 24 * h, Max: math.MaxInt64},
	}
}

func countBuckets() []Bucket {
	return []Bucket{
		{Label: "1", Min: 0, Max: 1},
		{Label: "2-10", Min: 2, Max: 10},
		{Label: "11-100", Min: 11, Max: 100},
		{Label: "101-1K", Min: 101, Max: 1000},
		{Label: "1K-10K", Min: 1001, Max: 10000},
		{Label: "10K-100K", Min: 10001, Max: 100000},
		{Label: "100K-1M", Min: 100001, Max: 1000000},
		{Label: "> 1M", Min: 1000001, Max: math.MaxInt64},
	}
}

func sizeBuckets() []Bucket {
	return []Bucket{
		{Label: "0-8 B", Min: 0, Max: 8},
		{Label: "9-16 B", Min: 9, Max: 16},
		{Label: "17-32 B", Min: 17, Max: 32},
		{Label: "33-64 B", Min: 33, Max: 64},
		{Label: "65-128 B", Min: 65, Max: 128},
		{Label: "129-512 B", Min: 129, Max: 512},
		{Label: "513 B-4 KiB", Min: 513, Max: 4096},
		{Label: "4-64 KiB", Min: 4097, Max: 65536},
		{Label: "64 KiB-1 MiB", Min: 65537, Max: 1 << 20},
		{Label: "> 1 MiB", Min: 1<<20 + 1, Max: math.MaxInt64},
	}
}

// keyHeap keeps the n largest keys; among equal sizes the earlier key in the
// file wins, so the result does not depend on anything but the input.
type keyHeap struct {
	items []heapKey
}

type heapKey struct {
	rec KeyRecord
	seq int64
}

func (h *keyHeap) Len() int { return len(h.items) }
func (h *keyHeap) Less(i, j int) bool {
	a, b := &h.items[i], &h.items[j]
	if a.rec.Usage.Bytes != b.rec.Usage.Bytes {
		return a.rec.Usage.Bytes < b.rec.Usage.Bytes
	}
	return a.seq > b.seq
}
func (h *keyHeap) Swap(i, j int) { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *keyHeap) Push(x any)    { h.items = append(h.items, x.(heapKey)) }
func (h *keyHeap) Pop() any {
	x := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return x
}

func (h *keyHeap) offer(k *KeyRecord, seq int64, n int) {
	if len(h.items) == n {
		min := &h.items[0]
		if k.Usage.Bytes <= min.rec.Usage.Bytes {
			return
		}
		// Reuse the smallest one's storage.
		min.rec.Key = append(min.rec.Key[:0], k.Key...)
		min.rec.LargestElement = append(min.rec.LargestElement[:0], k.LargestElement...)
		key, le := min.rec.Key, min.rec.LargestElement
		min.rec, min.seq = *k, seq
		min.rec.Key, min.rec.LargestElement = key, le
		heap.Fix(h, 0)
		return
	}
	c := *k
	c.Key = slices.Clone(k.Key)
	c.LargestElement = slices.Clone(k.LargestElement)
	heap.Push(h, heapKey{rec: c, seq: seq})
}

func (h *keyHeap) sorted() []KeyRecord {
	items := slices.Clone(h.items)
	sort.Slice(items, func(i, j int) bool {
		if items[i].rec.Usage.Bytes != items[j].rec.Usage.Bytes {
			return items[i].rec.Usage.Bytes > items[j].rec.Usage.Bytes
		}
		return items[i].seq < items[j].seq
	})
	out := make([]KeyRecord, len(items))
	for i := range items {
		out[i] = items[i].rec
	}
	return out
}

// elemHeap keeps the keys with the n largest elements.
type elemHeap struct{ keyHeap }

func (h *elemHeap) offer(k *KeyRecord, seq int64, n int) {
	// Rank by the largest element: reuse keyHeap with the size in Bytes.
	c := *k
	c.Usage.Bytes = int64(k.Usage.LargestElement)
	h.keyHeap.offer(&c, seq, n)
}

func (h *elemHeap) sorted() []ElementRecord {
	recs := h.keyHeap.sorted()
	out := make([]ElementRecord, len(recs))
	for i, r := range recs {
		out[i] = ElementRecord{DB: r.DB, Key: r.Key, Type: r.Type.Kind(), Size: r.Usage.LargestElement, Preview: r.LargestElement}
	}
	return out
}

// prefixCounter aggregates key prefixes in bounded memory.
type prefixCounter struct {
	seps     [][]byte
	depth    int
	capacity int
	counts   map[string]*prefixCount
	rep      PrefixReport
}

type prefixCount struct {
	keys, bytes int64
	depth       int
}

func newPrefixCounter(seps []string, depth, capacity int) prefixCounter {
	pc := prefixCounter{depth: depth, capacity: capacity, counts: map[string]*prefixCount{}}
	for _, s := range seps {
		if s != "" {
			pc.seps = append(pc.seps, []byte(s))
		}
	}
	pc.rep.Separators, pc.rep.Depth, pc.rep.prefixCapacity = seps, depth, capacity
	return pc
}

// add counts key under each of its prefixes, up to the depth.
func (pc *prefixCounter) add(key []byte, size int64) {
	pos, d := 0, 0
	for d < pc.depth {
		i, n := pc.nextSep(key[pos:])
		if i < 0 {
			break
		}
		pos += i + n
		d++
		c := pc.counts[string(key[:pos])]
		if c == nil {
			c = &prefixCount{depth: d}
			pc.counts[string(key[:pos])] = c
			pc.rep.DistinctPeak = max(pc.rep.DistinctPeak, len(pc.counts))
		}
		c.keys++
		c.bytes += size
	}
	if d == 0 {
		pc.rep.NoPrefixKeys++
		pc.rep.NoPrefixBytes += size
	}
	if len(pc.counts) > pc.capacity {
		pc.prune()
	}
}

// nextSep finds the first separator in b: its index and length.
func (pc *prefixCounter) nextSep(b []byte) (int, int) {
	best, n := -1, 0
	for _, s := range pc.seps {
		if i := bytes.Index(b, s); i >= 0 && (best < 0 || i < best) {
			best, n = i, len(s)
		}
	}
	return best, n
}

// prune drops the smaller half of the prefixes.
func (pc *prefixCounter) prune() {
	sizes := make([]int64, 0, len(pc.counts))
	for _, c := range pc.counts {
		sizes = append(sizes, c.bytes)
	}
	slices.Sort(sizes)
	threshold := sizes[len(sizes)/2]
	for p, c := range pc.counts {
		if c.bytes <= threshold {
			if c.depth == 1 {
				pc.rep.PrunedKeys += c.keys
				pc.rep.PrunedBytes += c.bytes
			}
			delete(pc.counts, p)
		}
	}
	pc.rep.Pruned = true
	pc.rep.MaxUndercount += threshold
}

func (pc *prefixCounter) report() PrefixReport {
	rep := pc.rep
	for p, c := range pc.counts {
		rep.Prefixes = append(rep.Prefixes, PrefixStats{Prefix: []byte(p), Depth: c.depth, Keys: c.keys, Bytes: c.bytes})
	}
	sort.Slice(rep.Prefixes, func(i, j int) bool {
		a, b := rep.Prefixes[i], rep.Prefixes[j]
		if a.Bytes != b.Bytes {
			return a.Bytes > b.Bytes
		}
		return bytes.Compare(a.Prefix, b.Prefix) < 0
	})
	return rep
}
