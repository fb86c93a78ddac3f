package engine

import (
	"math/rand/v2"
	"time"

	"github.com/rdbtool/rdbtool/internal/lualib"
	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// Mode says which server situation the engine reproduces.
type Mode uint8

const (
	// ModeLoading is a server loading an AOF (the default): nothing expires
	// while commands are applied, and an absolute expiry time in the past is
	// stored as it is (expire.c checkAlreadyExpired is false while loading).
	// This is what replaying an AOF must do to reach the state Redis reaches.
	ModeLoading Mode = iota
	// ModeLive is a server executing clients' commands: keys and hash fields
	// whose time has come by the clock are absent when accessed (lazy expiry),
	// and expiry times already in the past delete at once.
	ModeLive
)

func (m Mode) String() string {
	if m == ModeLive {
		return "live"
	}
	return "loading"
}

// ExpiredPolicy decides what Each does with keys and hash fields whose expiry
// time is at or before the clock.
type ExpiredPolicy uint8

const (
	// ExpiredKeep exports them with their expiry (the default): what the server
	// holds right after loading, before its expiry cycle runs, and what an AOF
	// rewrite or a replica would carry.
	ExpiredKeep ExpiredPolicy = iota
	// ExpiredDrop leaves them out: what a client of the server would see.
	ExpiredDrop
)

func (p ExpiredPolicy) String() string {
	if p == ExpiredDrop {
		return "drop"
	}
	return "keep"
}

// Options configure an Engine. The zero value is a 16-database server loading
// an AOF with the newest known semantics.
type Options struct {
	// Databases is the number of databases (redis.conf "databases"); default 16.
	Databases int
	// Clock returns the current Unix time in ms. It is read for relative TTLs
	// (EXPIRE, SET EX, GETEX EX...), stream auto IDs (XADD *), delivery and
	// seen times, IDLE arguments, lazy expiry in ModeLive and ExpiredDrop.
	// An AOF written by Redis 7+ carries absolute times only, so its replay in
	// ModeLoading with ExpiredKeep does not depend on the clock. Default: the
	// wall clock (set it for reproducible output).
	Clock func() int64
	// Mode is ModeLoading (default) or ModeLive.
	Mode Mode
	// Expired is the policy of Each for expired keys and fields.
	Expired ExpiredPolicy
	// SkipUnknown makes Apply skip (and count, see Skipped) commands it does not
	// know instead of failing with an *UnknownCommandError.
	SkipUnknown bool
	// Version selects the behaviour where Redis versions differ, as
	// major*100+minor (700 = Redis 7.0). 0 means the newest known (7.4).
	// Differences: 7.0's XCLAIM creates the consumer only when it claims an
	// entry, 7.2+ always; 7.2 added listpack-encoded sets and small lists
	// and formats doubles in replies in their shortest form; 7.4 checks
	// XSETID against the max deleted ID and has hash-field expiry.
	Version int
	// Valkey makes the engine emulate Valkey: Version is then Valkey's (800
	// for 8.0; 0 the newest known). Valkey forked from Redis 7.2.4 and
	// behaves like it but where noted (a new sorted set's encoding follows
	// the longest member of the whole ZADD, not the first).
	Valkey bool
}

// Engine is an in-memory Redis keyspace that applies write commands.
//
// An Engine is not safe for concurrent use.
type Engine struct {
	opts    Options
	now     func() int64
	dbs     []*DB
	cur     int // the selected database
	multi   *multiState
	libs    lualib.Set // function libraries (functions.go)
	skipped int
	sink    uint64    // Prefetch adds what it reads here, so that the reads are kept
	scratch *argIndex // see argIndex
	// prepared is what Prepare worked out about the ZADD that ApplyPrepared
	// is applying, taken (and cleared) by zadd as it starts.
	prepared *Prepared
	rng      *rand.Rand // RANDOMKEY, SRANDMEMBER...: see randIndex
}

// object is a key's value and expiry.
type object struct {
	kind     rdb.Kind
	expireAt int64 // absolute Unix ms, valid when hasTTL
	hasTTL   bool
	// rawStr: a string a command has changed in place (APPEND, SETRANGE,
	// SETBIT...), which Redis keeps in the raw encoding.
	rawStr bool

	str    []byte
	list   *qlist
	set    *set
	zset   *zset
	hash   *hash
	stream *stream
}

// New returns an empty engine.
func New(opts Options) *Engine {
	if opts.Databases <= 0 {
		opts.Databases = 16
	}
	e := &Engine{opts: opts, now: opts.Clock}
	if e.now == nil {
		e.now = func() int64 { return time.Now().UnixMilli() }
	}
	e.dbs = make([]*DB, opts.Databases)
	for i := range e.dbs {
		e.dbs[i] = newDB()
	}
	return e
}

// DB returns database i, or nil when i is out of range.
func (e *Engine) DB(i int) *DB {
	if i < 0 || i >= len(e.dbs) {
		return nil
	}
	return e.dbs[i]
}

// Selected is the database the next command applies to (as set by SELECT).
func (e *Engine) Selected() int { return e.cur }

// Skipped is the number of unknown commands skipped under Options.SkipUnknown.
func (e *Engine) Skipped() int { return e.skipped }

// InMulti reports whether a MULTI is open: its queued commands have not been
// applied. Redis drops such a transaction at the end of an AOF.
func (e *Engine) InMulti() bool { return e.multi != nil }

// version is the Redis release whose behaviour the engine follows: Valkey
// behaves as the Redis 7.2 it forked from.
func (e *Engine) version() int {
	switch {
	case e.opts.Valkey:
		return 702
	case e.opts.Version == 0:
		return 704
	}
	return e.opts.Version
}

// valkey reports whether the emulated server is Valkey.
func (e *Engine) valkey() bool { return e.opts.Valkey }

func (e *Engine) live() bool { return e.opts.Mode == ModeLive }

// find locates key in db: the slot holding it, or else the empty slot where
// it would go, and its hash (see DB.find). In ModeLive a key whose time has
// come, or a hash whose fields have all expired, is deleted first and reported
// absent (lazy expiry). The slot is valid until db changes.
func (e *Engine) find(db *DB, key []byte) (slot int, h uint64, ok bool) {
	slot, h, ok = db.find(key)
	if !ok || !e.live() {
		return slot, h, ok
	}
	now := e.now()
	expired := false
	if has, at := db.ttlAt(slot); has && at <= now {
		expired = true
	} else if en := db.entryAt(slot); en.flags&fRef != 0 {
		if o := db.objs[en.idx]; o.kind == rdb.KindHash {
			o.hash.purgeExpired(now)
			expired = o.hash.len() == 0
		}
	}
	if !expired {
		return slot, h, true
	}
	db.removeSlot(slot)
	return db.find(key)
}

// exists reports whether key is in db (after lazy expiry).
func (e *Engine) exists(db *DB, key []byte) bool {
	_, _, ok := e.find(db, key)
	return ok
}

// lookup returns the live object of key in db, deleting it first when it has
// expired (ModeLive only). An inline string becomes an object, which the
// caller may change in place.
func (e *Engine) lookup(db *DB, key []byte) *object {
	slot, _, ok := e.find(db, key)
	if !ok {
		return nil
	}
	return db.objectAt(slot)
}

// view is lookup without promotion: the key's object, except that an inline
// string comes as a temporary object whose str aliases the arena, for
// reading only (before the database changes) or for a type check.
func (e *Engine) view(db *DB, key []byte) *object {
	slot, _, ok := e.find(db, key)
	if !ok {
		return nil
	}
	en := db.entryAt(slot)
	if en.flags&fRef != 0 {
		return db.objs[en.idx]
	}
	o := &object{kind: rdb.KindString, str: en.val()}
	o.hasTTL, o.expireAt = en.ttl()
	return o
}

// lookupKind returns the object of key if it has kind k, nil if the key is
// absent, and ErrWrongType otherwise.
func (e *Engine) lookupKind(db *DB, key []byte, k rdb.Kind) (*object, error) {
	slot, _, ok := e.find(db, key)
	if !ok {
		return nil, nil
	}
	if db.kindAt(slot) != k {
		return nil, ErrWrongType
	}
	return db.objectAt(slot), nil
}

// db is the selected database.
func (e *Engine) db() *DB { return e.dbs[e.cur] }

// setKey stores o under key, replacing any value; the old TTL survives only
// with keepTTL (db.c setKey).
func (e *Engine) setKey(db *DB, key []byte, o *object, keepTTL bool) {
	slot, h, ok := e.find(db, key)
	o.hasTTL, o.expireAt = false, 0
	if keepTTL && ok {
		o.hasTTL, o.expireAt = db.ttlAt(slot)
	}
	db.putObject(slot, h, ok, key, o)
}

// del removes key and reports whether a live key was there.
func (e *Engine) del(db *DB, key []byte) bool {
	slot, _, ok := e.find(db, key)
	if ok {
		db.removeSlot(slot)
	}
	return ok
}

// command is an entry of the command table.
type command struct {
	name    string // lower case, as in Redis's error messages
	arity   int    // Redis arity: exact when positive, minimum when negative
	fn      func(e *Engine, args [][]byte) error
	subs    map[string]*command
	control bool // executed at once inside MULTI (multiControl)
}

var commands map[string]*command

func register(name string, arity int, fn func(e *Engine, args [][]byte) error) {
	if len(name) > maxCommandName {
		panic("engine: command name too long: " + name)
	}
	commands[name] = &command{name: name, arity: arity, fn: fn, control: multiControl[name]}
}

func registerSub(parent, name string, arity int, fn func(e *Engine, args [][]byte) error) {
	p := commands[parent]
	if p == nil {
		p = &command{name: parent, arity: -2, subs: map[string]*command{}}
		commands[parent] = p
	}
	if len(name) > maxCommandName {
		panic("engine: subcommand name too long: " + name)
	}
	p.subs[name] = &command{name: parent + "|" + name, arity: arity, fn: fn}
}

func init() {
	commands = map[string]*command{}
	registerKeys()
	registerStrings()
	registerLists()
	registerSets()
	registerZSets()
	registerHashes()
	registerStreams()
	registerMulti()
	registerFunctions()
	registerSort()
	registerRestore()
	registerGeo()
}

// maxCommandName bounds the length of command and subcommand names (checked
// by register).
const maxCommandName = 32

// findCommand looks name up in m ignoring ASCII case, as Redis's
// case-insensitive command table does (strcasecmp), without allocating.
func findCommand(m map[string]*command, name []byte) *command {
	var buf [maxCommandName]byte
	if len(name) > len(buf) {
		return nil
	}
	for i, b := range name {
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		buf[i] = b
	}
	return m[string(buf[:len(name)])]
}

// resolve finds the command for args and checks its arity, as processCommand
// does before a command runs or is queued.
func resolve(args [][]byte) (*command, error) {
	c := findCommand(commands, args[0])
	if c == nil {
		return nil, &UnknownCommandError{Name: string(args[0])}
	}
	if c.subs != nil {
		if len(args) < 2 {
			return nil, errArity(c.name)
		}
		sub := findCommand(c.subs, args[1])
		if sub == nil {
			return nil, &UnknownCommandError{Name: string(args[0]), Sub: string(args[1])}
		}
		c = sub
	}
	if (c.arity > 0 && len(args) != c.arity) || len(args) < -c.arity {
		return nil, errArity(c.name)
	}
	return c, nil
}

// Apply executes one command, args[0] being its name (any case), as a server
// would execute it (in the Mode of the options). It returns nil on success,
// an *Error with Redis's reply text when Redis would reply with an error (and
// then nothing changed), an *ExecError from an EXEC whose queued commands
// partly failed, an *UnknownCommandError, or an *UnsupportedError.
//
// Inside MULTI, commands are checked (name, arity) and queued; they are applied
// by EXEC. The engine does not keep args after Apply returns.
func (e *Engine) Apply(args [][]byte) error {
	if len(args) == 0 {
		return &Error{"ERR empty command"}
	}
	c, err := resolve(args)
	if err != nil {
		var u *UnknownCommandError
		if e.opts.SkipUnknown && asUnknown(err, &u) {
			e.skipped++
			return nil
		}
		if e.multi != nil {
			e.multi.dirty = true // processCommand's flagTransaction
		}
		return err
	}
	if e.multi != nil && !c.control {
		e.multi.queue = append(e.multi.queue, queued{cmd: c, args: copyArgs(args)})
		return nil
	}
	err = c.fn(e, args)
	e.settle()
	return err
}

// settle runs the arena compactions the command made due: between commands,
// so that no command sees its entries move under slices it holds.
func (e *Engine) settle() {
	for _, d := range e.dbs {
		d.settle()
	}
}

// Prefetch hints that keys of database db are about to be looked up (by
// commands on them, whose args[1] is the key of most write commands, or by
// Load): it reads the parts of the database's hash table where they would be,
// all together, so that the cache misses overlap rather than come one after
// the other as the commands are applied. It changes nothing. A caller holding
// a batch of commands calls it for a few of them (16, say) before applying
// them; a db out of range is ignored.
func (e *Engine) Prefetch(db int, keys [][]byte) {
	d := e.DB(db)
	if d == nil {
		return
	}
	var homes [16]uint64
	for len(keys) > 0 {
		n := min(len(homes), len(keys))
		for i, k := range keys[:n] {
			homes[i] = hashKey(k) >> d.shift
		}
		var sum uint64
		for _, h := range homes[:n] {
			sum += d.slots[h]
		}
		e.sink += sum
		keys = keys[n:]
	}
}

func asUnknown(err error, u **UnknownCommandError) bool {
	x, ok := err.(*UnknownCommandError)
	if ok {
		*u = x
	}
	return ok
}
