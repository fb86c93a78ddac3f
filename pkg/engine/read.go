package engine

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/rdbtool/rdbtool/internal/glob"
	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// Read-only commands. Exec answers a command that reads the dataset with the
// reply a Redis server of the emulated version would send (RESP2 shapes:
// doubles are bulk strings), without changing anything: not the data, not
// the caches Redis keeps beside it (PFCOUNT's cached cardinality, LRU
// clocks). Keys and hash fields whose expiry time is at or before the clock
// are absent, as a client of a serving server sees them, whatever the Mode.
// The commands are in read_keys.go, read_types.go, read_zset.go and
// read_stream.go.

// ReplyKind is the RESP type of a Reply.
type ReplyKind uint8

const (
	ReplyNil    ReplyKind = iota // a null bulk string or array (redis-cli prints "(nil)")
	ReplyStatus                  // a simple string such as OK
	ReplyError                   // an error; Str is its text
	ReplyInt
	ReplyBulk
	ReplyArray
)

// Reply is a command's reply. Str is the text of a status, an error or a
// bulk string (its own copy), Int an integer's value, Elems an array's
// elements.
type Reply struct {
	Kind  ReplyKind
	Str   []byte
	Int   int64
	Elems []Reply
}

func rInt(n int64) Reply                { return Reply{Kind: ReplyInt, Int: n} }
func rBool(b bool) Reply                { return rInt(int64(b2u8(b))) }
func rBulk(b []byte) Reply              { return Reply{Kind: ReplyBulk, Str: clone(b)} }
func rBulkStr(s string) Reply           { return Reply{Kind: ReplyBulk, Str: []byte(s)} }
func rStatus(s string) Reply            { return Reply{Kind: ReplyStatus, Str: []byte(s)} }
func rArray(el ...Reply) Reply          { return Reply{Kind: ReplyArray, Elems: el} }
func rEmpty() Reply                     { return Reply{Kind: ReplyArray, Elems: []Reply{}} }
func rBulks(b [][]byte) []Reply         { return mapReplies(b, rBulk) }
func rBulkInt(n int64) Reply            { return rBulkStr(strconv.FormatInt(n, 10)) }
func rErr(err error) Reply              { return Reply{Kind: ReplyError, Str: []byte(err.Error())} }
func rErrStr(msg string) Reply          { return Reply{Kind: ReplyError, Str: []byte(msg)} }
func rNil() Reply                       { return Reply{Kind: ReplyNil} }
func rWrongType() Reply                 { return rErr(ErrWrongType) }
func rSyntax() Reply                    { return rErr(ErrSyntax) }
func rNotInt() Reply                    { return rErr(ErrNotInteger) }
func rArity(name string) Reply          { return rErr(errArity(name)) }
func rScore(e *Engine, f float64) Reply { return Reply{Kind: ReplyBulk, Str: e.formatDouble(f)} }

func mapReplies[T any](in []T, f func(T) Reply) []Reply {
	out := make([]Reply, len(in))
	for i, x := range in {
		out[i] = f(x)
	}
	return out
}

// readCommand is an entry of the table of read-only commands.
type readCommand struct {
	name  string
	arity int
	fn    func(e *Engine, a [][]byte) Reply
	subs  map[string]*readCommand
}

var readCommands = map[string]*readCommand{}

func registerRead(name string, arity int, fn func(e *Engine, a [][]byte) Reply) {
	readCommands[name] = &readCommand{name: name, arity: arity, fn: fn}
}

func registerReadSub(parent, name string, arity int, fn func(e *Engine, a [][]byte) Reply) {
	p := readCommands[parent]
	if p == nil {
		p = &readCommand{name: parent, arity: -2, subs: map[string]*readCommand{}}
		readCommands[parent] = p
	}
	p.subs[name] = &readCommand{name: parent + "|" + name, arity: arity, fn: fn}
}

func findReadCommand(m map[string]*readCommand, name []byte) *readCommand {
	if len(name) > maxCommandName {
		return nil
	}
	return m[strings.ToLower(string(name))]
}

func init() {
	registerKeyReads()
	registerStringReads()
	registerListReads()
	registerSetReads()
	registerHashReads()
	registerZSetReads()
	registerStreamReads()
}

// Exec executes one read-only command (name in any case) against the
// selected database and returns its reply: an error reply for a command
// Redis would refuse, and for commands that write ("ERR ... is not a
// read-only command"). SELECT changes the selected database, as for Apply.
// Nothing else changes; Exec must not be called inside MULTI.
func (e *Engine) Exec(args [][]byte) Reply {
	if len(args) == 0 {
		return rErrStr("ERR empty command")
	}
	c := findReadCommand(readCommands, args[0])
	if c == nil {
		if w := findCommand(commands, args[0]); w != nil && !w.control {
			return rErrStr("ERR '" + strings.ToLower(string(args[0])) + "' changes the dataset: only read-only commands are answered")
		}
		return rErr(&UnknownCommandError{Name: string(args[0])})
	}
	if c.subs != nil {
		if len(args) < 2 {
			return rArity(c.name)
		}
		sub := findReadCommand(c.subs, args[1])
		if sub == nil {
			return rErr(&UnknownCommandError{Name: string(args[0]), Sub: string(args[1])})
		}
		c = sub
	}
	if (c.arity > 0 && len(args) != c.arity) || len(args) < -c.arity {
		return rArity(c.name)
	}
	return c.fn(e, args)
}

// IsReadOnly reports whether Exec answers the command named name.
func IsReadOnly(name string) bool { return findReadCommand(readCommands, []byte(name)) != nil }

// readKey returns the object of key in the selected database as a client
// sees it at the clock's time: nil when absent or expired. A string held in
// the arena comes as a temporary object aliasing it.
func (e *Engine) readKey(key []byte) *object {
	db := e.db()
	slot, _, ok := db.find(key)
	if !ok {
		return nil
	}
	en := db.entryAt(slot)
	if _, _, live := e.entryLive(db, &en, e.now()); !live {
		return nil
	}
	if en.flags&fRef != 0 {
		return db.objs[en.idx]
	}
	o := &object{kind: rdb.KindString, str: en.val()}
	o.hasTTL, o.expireAt = en.ttl()
	return o
}

// hashHasLiveField reports whether a hash has a field that has not expired.
func (e *Engine) hashHasLiveField(h *hash) bool {
	now := e.now()
	live := false
	h.each(func(_, _ []byte, ttl int64) bool {
		live = ttl == 0 || ttl > now
		return !live
	})
	return live
}

// readKind is readKey with a type check: the object (nil when absent) and
// whether the type is wrong.
func (e *Engine) readKind(key []byte, k rdb.Kind) (*object, bool) {
	o := e.readKey(key)
	if o != nil && o.kind != k {
		return nil, true
	}
	return o, false
}

// formatDouble is addReplyDouble in RESP2: "%.17g" before Redis 7.2, the
// shortest representation (d2string) from 7.2 on; inf and -inf by name.
func (e *Engine) formatDouble(f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return []byte("inf")
	case math.IsInf(f, -1):
		return []byte("-inf")
	case e.version() < 702:
		return strconv.AppendFloat(nil, f, 'g', 17, 64)
	}
	return d2string(f)
}

// d2string is util.c d2string of Redis 7.2: integral values as integers,
// others in fpconv_dtoa's shortest form.
func d2string(f float64) []byte {
	switch {
	case math.IsNaN(f):
		return []byte("nan")
	case f == 0:
		if math.Signbit(f) {
			return []byte("-0")
		}
		return []byte("0")
	}
	if v, ok := double2ll(f); ok {
		return strconv.AppendInt(nil, v, 10)
	}
	return fpconvDtoa(f)
}

// double2ll is util.h double2ll: the integer of an integral double within
// half of the int64 range.
func double2ll(f float64) (int64, bool) {
	if f < -math.MaxInt64/2 || f > math.MaxInt64/2 || f != math.Trunc(f) {
		return 0, false
	}
	return int64(f), true
}

// listpackScore is a score as a listpack holds it, and ZSCAN of a small
// sorted set replies: an integer when double2ll takes it, else as the
// version's d2string wrote it.
func (e *Engine) listpackScore(f float64) []byte {
	if v, ok := double2ll(f); ok {
		return strconv.AppendInt(nil, v, 10)
	}
	return e.formatDouble(f)
}

// fpconvDtoa formats f as fpconv_dtoa does: its shortest digits, as a plain
// integer, a plain decimal, or d.ddde±x (no padding of the exponent).
func fpconvDtoa(f float64) []byte {
	var out []byte
	if f < 0 {
		out = append(out, '-')
		f = -f
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // d.ddde±xx
	mant, expS, _ := strings.Cut(e, "e")
	digits := strings.Replace(mant, ".", "", 1)
	exp10, _ := strconv.Atoi(expS)
	nd := len(digits)
	k := exp10 - (nd - 1) // the exponent of the last digit
	exp := k + nd - 1
	if exp < 0 {
		exp = -exp
	}
	switch {
	case k >= 0 && exp < nd+7:
		out = append(out, digits...)
		for range k {
			out = append(out, '0')
		}
		return out
	case k < 0 && (k > -7 || exp < 4):
		off := nd + k
		if off <= 0 {
			out = append(out, '0', '.')
			for range -off {
				out = append(out, '0')
			}
			return append(out, digits...)
		}
		out = append(out, digits[:off]...)
		out = append(out, '.')
		return append(out, digits[off:]...)
	}
	neg := 0
	if len(out) > 0 {
		neg = 1
	}
	nd = min(nd, 18-neg)
	out = append(out, digits[0])
	if nd > 1 {
		out = append(out, '.')
		out = append(out, digits[1:nd]...)
	}
	out = append(out, 'e')
	if k+len(digits)-1 < 0 {
		out = append(out, '-')
	} else {
		out = append(out, '+')
	}
	return strconv.AppendInt(out, int64(exp), 10)
}

// keyMatch is Redis's glob matching (util.c stringmatchlen) for KEYS, SCAN
// and the *SCAN commands' MATCH: *, ?, [...] with ranges and ^, and \
// escapes. It is the one place the engine matches patterns.
func keyMatch(pattern, s []byte) bool { return glob.Match(pattern, s) }

// randIndex picks an index for RANDOMKEY, SRANDMEMBER and the like.
func (e *Engine) randIndex(n int) int {
	if e.rng == nil {
		e.rng = rand.New(rand.NewPCG(uint64(e.now()), 0x9e3779b97f4a7c15))
	}
	return e.rng.IntN(n)
}

// DBSummary counts the keys of a database by type.
type DBSummary struct {
	DB      int
	Keys    int
	WithTTL int
	ByKind  map[rdb.Kind]int
}

// Summary counts the keys of each database that holds any, as a client sees
// them at the clock's time (expired keys left out). It walks the arena in
// order and allocates nothing per key.
func (e *Engine) Summary() []DBSummary {
	var out []DBSummary
	now := e.now()
	for i, db := range e.dbs {
		var byKind [rdb.KindModule + 1]int
		s := DBSummary{DB: i}
		db.eachEntry(func(en entry) {
			kind, hasTTL, live := e.entryLive(db, &en, now)
			if !live {
				return
			}
			s.Keys++
			byKind[kind]++
			if hasTTL {
				s.WithTTL++
			}
		})
		if s.Keys == 0 {
			continue
		}
		s.ByKind = map[rdb.Kind]int{}
		for k, n := range byKind {
			if n > 0 {
				s.ByKind[rdb.Kind(k)] = n
			}
		}
		out = append(out, s)
	}
	return out
}
