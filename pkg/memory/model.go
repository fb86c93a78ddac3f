package memory

import (
	"io"

	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// ModelName names the model Estimator implements, for reports: the server
// whose MEMORY USAGE it predicts. Files written by other servers (Valkey,
// Redis 7.2 and later) are measured as Redis 7.0 would hold their data.
const ModelName = "redis-7.0-jemalloc"

// Config holds the server settings that decide how a loading Redis 7.0
// encodes values. The zero value is not useful; start from Redis70.
type Config struct {
	HashMaxListpackEntries int // hash-max-listpack-entries
	HashMaxListpackValue   int // hash-max-listpack-value
	ZSetMaxListpackEntries int // zset-max-listpack-entries
	ZSetMaxListpackValue   int // zset-max-listpack-value
	SetMaxIntsetEntries    int // set-max-intset-entries
	// ListMaxListpackSize is list-max-listpack-size: negative, a node size
	// limit (-1 4 KiB ... -5 64 KiB); positive, an element count.
	ListMaxListpackSize int
}

// Redis70 is the configuration of a Redis 7.0 server started without a
// config file: its built-in defaults (the redis.conf shipped with it lowers
// hash-max-listpack-entries to 128).
func Redis70() Config {
	return Config{
		HashMaxListpackEntries: 512,
		HashMaxListpackValue:   64,
		ZSetMaxListpackEntries: 128,
		ZSetMaxListpackValue:   64,
		SetMaxIntsetEntries:    512,
		ListMaxListpackSize:    -2,
	}
}

// Usage is the model's figure for one key.
type Usage struct {
	// Bytes is what MEMORY USAGE key SAMPLES 0 would report after a Redis
	// 7.0 server loaded the file: the key's and the value's allocations.
	Bytes int64
	// Encoding is what OBJECT ENCODING would report after the load: int,
	// embstr, raw, listpack, quicklist, intset, hashtable, skiplist, stream,
	// or module (whose memory only the module knows: Bytes is then the
	// serialized size plus the key's overhead).
	Encoding string
	// Elements is the number of elements (1 for a string, entries for a
	// stream); LargestElement is the size of the largest one (see ElemSize).
	Elements       uint64
	LargestElement int
}

// ElemSize is the size of one element as reports count it: a string's length,
// a member's, a hash field's and value's together, a stream entry's fields
// and values together.
func ElemSize(el *rdb.Elem) int {
	switch el.Kind {
	case rdb.ElemStreamEntry:
		n := 0
		for _, f := range el.Fields {
			n += len(f)
		}
		return n
	case rdb.ElemModule:
		return len(el.Module.Raw)
	}
	return len(el.Member) + len(el.Value)
}

// Estimator computes Usage one key at a time from the elements an rdb.Reader
// delivers. Its memory does not depend on the size of a key. An Estimator is
// not safe for concurrent use; give each goroutine its own.
type Estimator struct {
	cfg Config
	// OnElement, when set, is called with every element and its size, after
	// the estimator has used it.
	OnElement func(el *rdb.Elem, size int)

	t    rdb.Type
	key  int
	u    Usage
	elem int64 // value elements seen (for pairs: pairs)

	// Containers as stored (listpack/ziplist/intset/zipmap blobs, quicklist
	// and stream nodes).
	curOff    int64
	haveCur   bool
	curSize   int
	curLP     int64 // listpack bytes of the current ziplist node once converted
	nodes     int64
	nodeBytes int64 // sum of sizeClass over finished containers

	// Values a load rebuilds element by element.
	lpBytes     int64 // the listpack the elements make (from an empty one)
	maxElem     int   // longest member/field/value (listpack value limits)
	totElem     int64 // member bytes (zset listpack safety check)
	htBytes     int64 // hashtable/skiplist per-element allocations
	allInts     bool
	intsetWidth int
	intsBefore  int64 // set: integer members before the first non-integer
	convertAt   int64 // hash: the pair that forced the hashtable (-1: none)

	// quicklistPushTail simulation (types 1 and 10).
	qlTailBytes int64
	qlTailCount int
	qlNodes     int64
	qlBytes     int64

	st *streamEst // streams only; kept across keys
}

// streamEst is the part of an Estimator only streams use.
type streamEst struct {
	rax       raxCounter
	groups    int64
	pelRax    raxCounter
	inGroup   bool
	pending   int64
	consRax   raxCounter
	inCons    bool
	streamOut int64 // group and consumer memory finished so far
	idBuf     [16]byte
}

// NewEstimator returns an Estimator for a server with the given settings.
func NewEstimator(cfg Config) *Estimator { return &Estimator{cfg: cfg} }

// Measure reads the value of key entry e (the Reader's current key) to its end
// and returns the key's Usage.
func (est *Estimator) Measure(r *rdb.Reader, e *rdb.Entry) (Usage, error) {
	est.Start(e.Key, e.Type)
	for {
		el, err := r.NextElem()
		if err == io.EOF {
			return est.Finish(), nil
		}
		if err != nil {
			return Usage{}, err
		}
		c, ok := r.ElemContainer()
		est.Add(el, c, ok)
	}
}

// Start begins a key.
func (est *Estimator) Start(key []byte, t rdb.Type) {
	st := est.st
	*est = Estimator{cfg: est.cfg, OnElement: est.OnElement, t: t, key: len(key),
		allInts: true, intsetWidth: 2, convertAt: -1, lpBytes: lpEmptySize, st: st}
	if t.Kind() == rdb.KindStream {
		if est.st == nil {
			est.st = &streamEst{}
		}
		*est.st = streamEst{rax: newRaxCounter()}
	}
}

// Add takes the next element of the key's value; c and inContainer are what
// rdb.Reader.ElemContainer reported for it.
func (est *Estimator) Add(el *rdb.Elem, c rdb.Container, inContainer bool) {
	size := ElemSize(el)
	switch el.Kind {
	case rdb.ElemString, rdb.ElemMember, rdb.ElemZMember, rdb.ElemField, rdb.ElemStreamEntry, rdb.ElemModule:
		est.u.Elements++
		est.u.LargestElement = max(est.u.LargestElement, size)
	}
	if inContainer && (!est.haveCur || c.Offset != est.curOff) {
		est.finishContainer()
		est.haveCur, est.curOff, est.curSize = true, c.Offset, c.Size
		est.nodes++
		if el.Kind == rdb.ElemStreamEntry {
			est.st.rax.insert(streamKey(&est.st.idBuf, c.StreamNode))
		}
	}
	switch el.Kind {
	case rdb.ElemString:
		est.addString(el.Member)
	case rdb.ElemMember:
		est.addMember(el.Member, inContainer)
	case rdb.ElemZMember:
		est.addZMember(el.Member, el.Score)
	case rdb.ElemField:
		est.addField(el.Member, el.Value)
	case rdb.ElemModule:
		est.u.Bytes = robjSize + int64(len(el.Module.Raw))
	case rdb.ElemStreamGroup:
		est.finishGroup()
		est.st.groups++
		est.st.inGroup = true
		est.st.pelRax = newRaxCounter()
		est.st.pending = 0
	case rdb.ElemStreamPending:
		est.st.pelRax.insert(streamKey(&est.st.idBuf, el.Pending.ID))
		est.st.pending++
	case rdb.ElemStreamConsumer:
		est.finishConsumer()
		est.st.inCons = true
		est.st.consRax = newRaxCounter()
		est.st.streamOut += streamConsumer + int64(len(el.Consumer.Name))
	case rdb.ElemStreamConsumerPending:
		est.st.consRax.insert(streamKey(&est.st.idBuf, el.ID))
	}
	if est.OnElement != nil {
		est.OnElement(el, size)
	}
}

func streamKey(buf *[16]byte, id rdb.StreamID) []byte {
	for i := 0; i < 8; i++ {
		buf[i] = byte(id.Ms >> (56 - 8*i))
		buf[8+i] = byte(id.Seq >> (56 - 8*i))
	}
	return buf[:]
}

func (est *Estimator) finishGroup() {
	est.finishConsumer()
	if est.st.inGroup {
		est.st.streamOut += streamCGSize + est.st.pelRax.memoryUsage() + streamNACKSize*est.st.pending
		est.st.inGroup = false
	}
}

func (est *Estimator) finishConsumer() {
	if est.st.inCons {
		est.st.streamOut += est.st.consRax.memoryUsage()
		est.st.inCons = false
	}
}

// finishContainer closes the current stored container.
func (est *Estimator) finishContainer() {
	if !est.haveCur {
		return
	}
	if est.t == rdb.TypeListQuicklist {
		// A ziplist node becomes a listpack of exactly its entries.
		est.nodeBytes += sizeClass(est.curLP)
		est.curLP = lpEmptySize
	} else {
		est.nodeBytes += sizeClass(int64(est.curSize))
	}
	est.haveCur = false
}

func (est *Estimator) addString(v []byte) {
	switch {
	case len(v) <= 20 && isLong(v):
		est.u.Bytes, est.u.Encoding = robjSize, "int"
	case len(v) <= 44:
		est.u.Bytes, est.u.Encoding = sizeClass(int64(robjSize+3+len(v)+1)), "embstr"
	default:
		est.u.Bytes, est.u.Encoding = robjSize+sdsAlloc(len(v)), "raw"
	}
}

func isLong(v []byte) bool {
	_, ok := string2ll(v)
	return ok
}

func (est *Estimator) addMember(m []byte, inContainer bool) {
	est.elem++
	switch est.t.Kind() {
	case rdb.KindList:
		switch est.t {
		case rdb.TypeListQuicklist:
			if est.curLP == 0 {
				est.curLP = lpEmptySize
			}
			est.curLP += int64(lpEntry(m))
		case rdb.TypeListQuicklist2:
			if !inContainer { // a PLAIN node: one element in its own allocation
				est.nodes++
				est.nodeBytes += sizeClass(int64(len(m)))
			}
		default: // types 1 and 10: pushed one by one
			est.pushTail(m)
		}
	case rdb.KindSet:
		est.htBytes += dictEntrySize + sdsAlloc(len(m))
		if est.allInts {
			if v, ok := string2ll(m); ok {
				est.intsetWidth = max(est.intsetWidth, intsetWidth(v))
				est.intsBefore++
			} else {
				est.allInts = false
			}
		}
	}
}

// pushTail is quicklistPushTail with the configured fill.
func (est *Estimator) pushTail(m []byte) {
	entry := int64(lpEntry(m))
	if est.qlTailCount > 0 && est.allowInsert(len(m)) {
		est.qlTailBytes += entry
		est.qlTailCount++
		return
	}
	est.closeTail()
	est.qlTailBytes, est.qlTailCount = lpEmptySize+entry, 1
}

func (est *Estimator) closeTail() {
	if est.qlTailCount > 0 {
		est.qlNodes++
		est.qlBytes += sizeClass(est.qlTailBytes)
	}
}

// allowInsert is _quicklistNodeAllowInsert for the tail node.
func (est *Estimator) allowInsert(sz int) bool {
	const safetyLimit = 8192
	newSize := est.qlTailBytes + int64(sz) + 8 // SIZE_ESTIMATE_OVERHEAD
	fill := est.cfg.ListMaxListpackSize
	if fill < 0 {
		levels := []int64{4096, 8192, 16384, 32768, 65536}
		if off := -fill - 1; off < len(levels) {
			return newSize <= levels[off]
		}
		return false
	}
	if newSize > safetyLimit {
		return false
	}
	return est.qlTailCount < fill
}

func (est *Estimator) addZMember(m []byte, score float64) {
	est.elem++
	est.lpBytes += int64(lpEntry(m) + lpScoreEntry(score))
	est.maxElem = max(est.maxElem, len(m))
	est.totElem += int64(len(m))
	est.htBytes += sdsAlloc(len(m)) + dictEntrySize
}

func (est *Estimator) addField(f, v []byte) {
	est.elem++
	if est.convertAt < 0 && (len(f) > est.cfg.HashMaxListpackValue || len(v) > est.cfg.HashMaxListpackValue) {
		est.convertAt = est.elem - 1
	}
	est.maxElem = max(est.maxElem, len(f), len(v))
	est.lpBytes += int64(lpEntry(f) + lpEntry(v))
	est.htBytes += sdsAlloc(len(f)) + sdsAlloc(len(v)) + dictEntrySize
}

// Finish returns the Usage of the key.
func (est *Estimator) Finish() Usage {
	est.finishContainer()
	keyBytes := sdsAlloc(est.key) + dictEntrySize
	u := est.u
	n := est.elem
	switch est.t.Kind() {
	case rdb.KindString:
		// set by addString
	case rdb.KindList:
		u.Encoding = "quicklist"
		nodes, bytes := est.nodes, est.nodeBytes
		if est.t == rdb.TypeList || est.t == rdb.TypeListZiplist {
			est.closeTail()
			nodes, bytes = est.qlNodes, est.qlBytes
		}
		// objectComputeSize averages the sampled nodes in floating point.
		elesize := bytes + quicklistNodeSize*nodes
		u.Bytes = robjSize + quicklistSize
		if nodes > 0 {
			u.Bytes = int64(float64(u.Bytes) + float64(elesize)/float64(nodes)*float64(nodes))
		}
	case rdb.KindSet:
		u.Bytes, u.Encoding = est.finishSet(n)
	case rdb.KindZSet:
		u.Bytes, u.Encoding = est.finishZSet(n)
	case rdb.KindHash:
		u.Bytes, u.Encoding = est.finishHash(n)
	case rdb.KindStream:
		est.finishGroup()
		u.Encoding = "stream"
		u.Bytes = robjSize + streamSize + est.st.rax.memoryUsage() + est.nodeBytes + est.st.streamOut
	case rdb.KindModule:
		u.Encoding = "module"
	}
	u.Bytes += keyBytes
	return u
}

// hashtable is the MEMORY USAGE of a set or hash in a dict: the dict, its
// buckets, and the average element (in floating point, as Redis computes it)
// times the element count.
func hashtable(d *dictTables, elemBytes, n int64) int64 {
	b := float64(robjSize + dictSize + 8*d.slots())
	if n > 0 {
		b += float64(elemBytes) / float64(n) * float64(n)
	}
	return int64(b)
}

func (est *Estimator) finishSet(n int64) (int64, string) {
	switch est.t {
	case rdb.TypeSetIntset:
		if n <= int64(est.cfg.SetMaxIntsetEntries) {
			return robjSize + est.nodeBytes, "intset"
		}
		// setTypeConvert: a dict sized for the members, filled.
		var d dictTables
		d.expand(n)
		for range n {
			d.add()
		}
		return hashtable(&d, est.htBytes, n), "hashtable"
	}
	// Types 2 and 20: members are added one by one to an intset while they
	// are integers and fit, else to a dict.
	maxIntset := int64(min(est.cfg.SetMaxIntsetEntries, 1<<30))
	if n <= maxIntset && est.allInts {
		return robjSize + sizeClass(intsetHeader+int64(est.intsetWidth)*n), "intset"
	}
	var d dictTables
	if n > maxIntset {
		if n > dictInitialSize {
			d.expand(n)
		}
		for range n {
			d.add()
		}
	} else {
		k := est.intsBefore // converted at the first non-integer
		d.expand(k)
		for range k {
			d.add()
		}
		d.expand(n)
		for range n - k {
			d.add()
		}
	}
	return hashtable(&d, est.htBytes, n), "hashtable"
}

func (est *Estimator) finishZSet(n int64) (int64, string) {
	var d dictTables
	switch est.t {
	case rdb.TypeZSetListpack, rdb.TypeZSetZiplist:
		if n <= int64(est.cfg.ZSetMaxListpackEntries) {
			if est.t == rdb.TypeZSetListpack {
				return robjSize + est.nodeBytes, "listpack"
			}
			return robjSize + sizeClass(est.lpBytes), "listpack"
		}
		// zsetConvert to a skiplist: a dict grown one member at a time.
		for range n {
			d.add()
		}
	default:
		// Types 3 and 5 load into a skiplist and a dict sized for them, then
		// become a listpack when small enough.
		if n <= int64(est.cfg.ZSetMaxListpackEntries) && est.maxElem <= est.cfg.ZSetMaxListpackValue && est.totElem <= lpSafetySize {
			return robjSize + sizeClass(est.lpBytes), "listpack"
		}
		if n > dictInitialSize {
			d.expand(n)
		}
		for range n {
			d.add()
		}
	}
	b := float64(robjSize + zsetSize + zskiplistSize + dictSize + 8*d.slots() + zslHeaderAlloc)
	if n > 0 {
		elems := float64(est.htBytes) + float64(n)*expectedZslNode
		b += elems / float64(n) * float64(n)
	}
	return int64(b), "skiplist"
}

// lpSafetySize is LISTPACK_MAX_SAFETY_SIZE (lpSafeToAdd).
const lpSafetySize = 1 << 30

// expectedZslNode is the expected allocation of a skiplist node: a node of
// level k (24 + 16k bytes) has probability 0.75 * 0.25^(k-1), levels capped
// at 32. zslRandomLevel is random (seeded by time and pid), so no exact
// figure exists; over many members the sum converges to this.
var expectedZslNode = func() float64 {
	e, p := 0.0, 0.75
	for k := 1; k < 32; k++ {
		e += p * float64(sizeClass(int64(zslNodeBase+zslLevelSize*k)))
		p *= 0.25
	}
	return e + p/0.75*float64(sizeClass(zslNodeBase+zslLevelSize*32))
}()

func (est *Estimator) finishHash(n int64) (int64, string) {
	maxEntries := int64(est.cfg.HashMaxListpackEntries)
	var d dictTables
	switch est.t {
	case rdb.TypeHashListpack:
		if n <= maxEntries {
			return robjSize + est.nodeBytes, "listpack"
		}
		d.expand(n)
		for range n {
			d.add()
		}
		return hashtable(&d, est.htBytes, n), "hashtable"
	case rdb.TypeHashZiplist, rdb.TypeHashZipmap:
		tooLong := est.t == rdb.TypeHashZipmap && est.maxElem > est.cfg.HashMaxListpackValue
		if n <= maxEntries && !tooLong {
			return robjSize + sizeClass(est.lpBytes), "listpack"
		}
		d.expand(n)
		for range n {
			d.add()
		}
		return hashtable(&d, est.htBytes, n), "hashtable"
	}
	// Type 4 (and the field-TTL hashes of newer servers, as 7.0 would hold
	// them without TTLs): pairs go into a listpack until one is too long or
	// there are too many.
	if n <= maxEntries && est.convertAt < 0 {
		return robjSize + sizeClass(est.lpBytes), "listpack"
	}
	if n > maxEntries {
		if n > dictInitialSize {
			d.expand(n)
		}
		for range n {
			d.add()
		}
	} else {
		m := est.convertAt // pairs already in the listpack
		d.expand(m)        // hashTypeConvert pre-sizes for them
		for range m + 1 {
			d.add()
		}
		if rest := n - m - 1; rest > dictInitialSize {
			d.expand(rest)
		}
		for range n - m - 1 {
			d.add()
		}
	}
	return hashtable(&d, est.htBytes, n), "hashtable"
}
