package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/rdbtool/rdbtool/pkg/convert"
	"github.com/rdbtool/rdbtool/pkg/rdb"
	"github.com/urfave/cli/v2"
)

func init() { register(replayCommand) }

const replayDescription = `Loads an RDB file, an AOF file, an AOF folder or a Redis data folder into
the built-in engine, as a server would at startup, prints a summary (keys per
database and type), and answers read commands against the result with --exec
(repeatable), printed the way redis-cli prints replies:

   GET key | TYPE key | TTL key | PTTL key | EXISTS key... | DBSIZE
   KEYS pattern | SCAN cursor [MATCH pattern] [COUNT n]
   HGETALL key | LRANGE key start stop | SMEMBERS key
   ZRANGE key start stop [WITHSCORES] | XRANGE key start end [COUNT n]
   XINFO STREAM key | SELECT db

TTLs are computed against --now (Unix ms, default the current time). The point-
in-time options of "rdbtool convert" apply to AOF inputs.

Examples:
   rdbtool replay dump.rdb
   rdbtool replay --exec 'GET user:1' --exec 'TTL user:1' appendonlydir
   rdbtool replay --until-command FLUSHALL --exec DBSIZE appendonly.aof`

func replayCommand() *cli.Command {
	return &cli.Command{
		Name:        "replay",
		Usage:       "load an RDB or AOF into the built-in engine and answer read commands",
		UsageText:   "rdbtool replay [--exec CMD]... [--until T] [--until-command NAME] PATH",
		Description: replayDescription,
		ArgsUsage:   "PATH",
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "exec", Usage: "run the read command `CMD` (repeatable), e.g. --exec 'HGETALL user:1'"},
			&cli.Int64Flag{Name: "now", Usage: "the time TTLs are computed against, Unix `MS` (default: now)"},
			&cli.Int64Flag{Name: "until", Usage: "AOF input: stop at the first #TS: annotation later than `T`"},
			&cli.Int64Flag{Name: "until-offset", Usage: "AOF input: stop before the command at or after byte `N` of the last file"},
			&cli.StringFlag{Name: "until-command", Usage: "AOF input: stop just before the first `NAME` command"},
			serverVersionFlag(),
			strictRepliesFlag(),
		},
		Action: runReplay,
	}
}

// keyspace is the replayed dataset, indexed for read commands.
type keyspace struct {
	dbs map[int]map[string]*keyEntry
}

type keyEntry struct {
	e *rdb.Entry
	v *rdb.Value
}

func runReplay(c *cli.Context) error {
	if c.NArg() != 1 {
		return usagef("replay", "replay needs one PATH, got %d arguments", c.NArg())
	}
	if err := checkPaths(c, c.Args().Slice()); err != nil {
		return err
	}
	path := c.Args().First()
	out := c.App.Writer
	ks := &keyspace{dbs: map[int]map[string]*keyEntry{}}
	add := func(db int, e *rdb.Entry, v *rdb.Value) {
		m := ks.dbs[db]
		if m == nil {
			m = map[string]*keyEntry{}
			ks.dbs[db] = m
		}
		ec := *e
		ec.Key = bytes.Clone(e.Key)
		m[string(ec.Key)] = &keyEntry{&ec, v}
	}
	if isRDBFile(path) {
		in, err := openInput(c.Context, path, c.App.Reader)
		if err != nil {
			return newFileError(path, nil, err)
		}
		defer in.Close()
		r := rdb.NewReader(in, rdb.ReaderOptions{})
		defer r.Close()
		for {
			e, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return newFileError(path, nil, err)
			}
			if e.Kind == rdb.EntryKey {
				v, err := r.ReadValue(0)
				if err != nil {
					return newFileError(path, nil, err)
				}
				add(e.DB, e, v)
			}
		}
	} else {
		e, st, _, _, err := replayForCLI(c, path)
		if err != nil {
			return err
		}
		if err := e.Each(func(db int, _ []byte, ent *rdb.Entry, v *rdb.Value) error {
			add(db, ent, v)
			return nil
		}); err != nil {
			return err
		}
		fmt.Fprintf(out, "replayed %s: %d keys from RDB parts, %d commands", plural(int64(st.Files), "file", "files"), st.RDBKeys, st.Commands)
		if st.Stopped != "" {
			fmt.Fprintf(out, ", stopped %s", st.Stopped)
		}
		fmt.Fprintln(out)
	}
	ks.summary(out)
	now := c.Int64("now")
	if now == 0 {
		now = nowMs()
	}
	db := 0
	for _, line := range c.StringSlice("exec") {
		args, err := splitCommand(line)
		if err != nil || len(args) == 0 {
			return usagef("replay", "--exec %q: %v", line, err)
		}
		fmt.Fprintf(out, "%d> %s\n", db, line)
		reply, newDB := ks.exec(db, args, now)
		db = newDB
		fmt.Fprint(out, reply)
	}
	return nil
}

func isRDBFile(path string) bool {
	if path == "-" || namedAOF(path) {
		return false
	}
	st, err := os.Stat(path)
	if err != nil || !st.Mode().IsRegular() {
		return false
	}
	in, err := openInput(context.Background(), path, nil) // gzip and zstd too
	if err != nil {
		return false
	}
	defer in.Close()
	head, _ := in.Peek(6)
	return sniffFormat(head) == "rdb"
}

func (ks *keyspace) summary(w io.Writer) {
	dbs := make([]int, 0, len(ks.dbs))
	for db := range ks.dbs {
		dbs = append(dbs, db)
	}
	sort.Ints(dbs)
	if len(dbs) == 0 {
		fmt.Fprintln(w, "the dataset is empty")
	}
	for _, db := range dbs {
		byType := map[string]int{}
		expires := 0
		for _, k := range ks.dbs[db] {
			byType[k.v.Kind.String()]++
			if k.e.HasExpire {
				expires++
			}
		}
		types := make([]string, 0, len(byType))
		for t, n := range byType {
			types = append(types, fmt.Sprintf("%s %d", t, n))
		}
		sort.Strings(types)
		fmt.Fprintf(w, "db%d: %d keys (%s), %d with a TTL\n", db, len(ks.dbs[db]), strings.Join(types, ", "), expires)
	}
}

// splitCommand splits a command line like redis-cli: spaces separate
// arguments; double quotes allow spaces and \n, \t, \", \\ and \xHH escapes.
func splitCommand(s string) ([][]byte, error) {
	var args [][]byte
	for i := 0; i < len(s); {
		for i < len(s) && s[i] == ' ' {
			i++
		}
		if i >= len(s) {
			break
		}
		var arg []byte
		if s[i] == '"' {
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
					switch s[i] {
					case 'n':
						arg = append(arg, '\n')
					case 't':
						arg = append(arg, '\t')
					case 'r':
						arg = append(arg, '\r')
					case 'x':
						if i+2 < len(s) {
							if v, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
								arg = append(arg, byte(v))
								i += 2
								continue
							}
						}
						arg = append(arg, 'x')
					default:
						arg = append(arg, s[i])
					}
					continue
				}
				arg = append(arg, s[i])
			}
			if i >= len(s) {
				return nil, fmt.Errorf("unbalanced quotes")
			}
			i++
		} else {
			for ; i < len(s) && s[i] != ' '; i++ {
				arg = append(arg, s[i])
			}
		}
		args = append(args, arg)
	}
	return args, nil
}

// Replies, formatted as redis-cli formats them.
func bulk(b []byte) string   { return strconv.Quote(string(b)) + "\n" }
func integer(n int64) string { return "(integer) " + strconv.FormatInt(n, 10) + "\n" }
func nilReply() string       { return "(nil)\n" }
func errReply(msg string) string {
	return "(error) " + msg + "\n"
}
func array(items []string) string {
	if len(items) == 0 {
		return "(empty array)\n"
	}
	var b strings.Builder
	w := len(strconv.Itoa(len(items)))
	for i, it := range items {
		fmt.Fprintf(&b, "%*d) %s", w, i+1, it)
	}
	return b.String()
}

// nested indents a multi-line reply that follows an item number.
func nested(reply, indent string) string {
	return strings.ReplaceAll(strings.TrimSuffix(reply, "\n"), "\n", "\n"+indent) + "\n"
}

func quoted(items [][]byte) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = bulk(it)
	}
	return out
}

func formatScore(f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return []byte("inf")
	case math.IsInf(f, -1):
		return []byte("-inf")
	}
	return strconv.AppendFloat(nil, f, 'g', 17, 64)
}

// rangeIdx turns Redis's inclusive, possibly negative start/stop into [a, b).
func rangeIdx(startS, stopS []byte, n int) (int, int, bool) {
	start, err1 := strconv.Atoi(string(startS))
	stop, err2 := strconv.Atoi(string(stopS))
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	if start < 0 {
		start += n
	}
	if stop < 0 {
		stop += n
	}
	start = max(start, 0)
	stop = min(stop, n-1)
	if start > stop {
		return 0, 0, true
	}
	return start, stop + 1, true
}

// exec answers one read command against the dataset in db.
func (ks *keyspace) exec(db int, args [][]byte, now int64) (string, int) {
	name := strings.ToUpper(string(args[0]))
	live := func(key []byte) *keyEntry {
		k := ks.dbs[db][string(key)]
		if k == nil || (k.e.HasExpire && k.e.ExpireAtMs <= now) {
			return nil
		}
		return k
	}
	need := func(n int) bool { return len(args) >= n }
	wrongType := errReply("WRONGTYPE Operation against a key holding the wrong kind of value")
	switch name {
	case "SELECT":
		if !need(2) {
			break
		}
		n, err := strconv.Atoi(string(args[1]))
		if err != nil || n < 0 {
			return errReply("ERR DB index is out of range"), db
		}
		return "OK\n", n
	case "DBSIZE":
		n := 0
		for k := range ks.dbs[db] {
			if live([]byte(k)) != nil {
				n++
			}
		}
		return integer(int64(n)), db
	case "EXISTS":
		n := 0
		for _, k := range args[1:] {
			if live(k) != nil {
				n++
			}
		}
		return integer(int64(n)), db
	case "TYPE":
		if !need(2) {
			break
		}
		if k := live(args[1]); k != nil {
			return k.v.Kind.String() + "\n", db
		}
		return "none\n", db
	case "TTL", "PTTL":
		if !need(2) {
			break
		}
		k := live(args[1])
		switch {
		case k == nil:
			return integer(-2), db
		case !k.e.HasExpire:
			return integer(-1), db
		}
		ms := k.e.ExpireAtMs - now
		if name == "TTL" {
			return integer((ms + 500) / 1000), db
		}
		return integer(ms), db
	case "GET":
		if !need(2) {
			break
		}
		k := live(args[1])
		switch {
		case k == nil:
			return nilReply(), db
		case k.v.Kind != rdb.KindString:
			return wrongType, db
		}
		return bulk(k.v.String), db
	case "KEYS", "SCAN":
		pattern := "*"
		if name == "KEYS" && need(2) {
			pattern = string(args[1])
		}
		for i := 2; name == "SCAN" && i+1 < len(args); i += 2 {
			if strings.EqualFold(string(args[i]), "MATCH") {
				pattern = string(args[i+1])
			}
		}
		var keys []string
		for k := range ks.dbs[db] {
			if live([]byte(k)) != nil && convert.GlobMatch(pattern, []byte(k)) {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		items := make([]string, len(keys))
		for i, k := range keys {
			items[i] = bulk([]byte(k))
		}
		if name == "SCAN" { // one pass: cursor 0 and every key
			return "1) \"0\"\n2) " + nested(array(items), "   "), db
		}
		return array(items), db
	case "HGETALL":
		if !need(2) {
			break
		}
		k := live(args[1])
		if k == nil {
			return array(nil), db
		}
		if k.v.Kind != rdb.KindHash {
			return wrongType, db
		}
		var items [][]byte
		for _, f := range k.v.Hash {
			if f.ExpireAtMs == 0 || f.ExpireAtMs > now {
				items = append(items, f.Field, f.Value)
			}
		}
		return array(quoted(items)), db
	case "LRANGE":
		if !need(4) {
			break
		}
		k := live(args[1])
		if k == nil {
			return array(nil), db
		}
		if k.v.Kind != rdb.KindList {
			return wrongType, db
		}
		a, b, ok := rangeIdx(args[2], args[3], len(k.v.List))
		if !ok {
			return errReply("ERR value is not an integer or out of range"), db
		}
		return array(quoted(k.v.List[a:b])), db
	case "SMEMBERS":
		if !need(2) {
			break
		}
		k := live(args[1])
		if k == nil {
			return array(nil), db
		}
		if k.v.Kind != rdb.KindSet {
			return wrongType, db
		}
		return array(quoted(k.v.Set)), db
	case "ZRANGE":
		if !need(4) {
			break
		}
		k := live(args[1])
		if k == nil {
			return array(nil), db
		}
		if k.v.Kind != rdb.KindZSet {
			return wrongType, db
		}
		z := append([]rdb.ZMember(nil), k.v.ZSet...)
		sort.SliceStable(z, func(i, j int) bool {
			if z[i].Score != z[j].Score {
				return z[i].Score < z[j].Score
			}
			return bytes.Compare(z[i].Member, z[j].Member) < 0
		})
		a, b, ok := rangeIdx(args[2], args[3], len(z))
		if !ok {
			return errReply("ERR value is not an integer or out of range"), db
		}
		with := len(args) > 4 && strings.EqualFold(string(args[4]), "WITHSCORES")
		var items [][]byte
		for _, m := range z[a:b] {
			items = append(items, m.Member)
			if with {
				items = append(items, formatScore(m.Score))
			}
		}
		return array(quoted(items)), db
	case "XRANGE":
		if !need(4) {
			break
		}
		k := live(args[1])
		if k == nil {
			return array(nil), db
		}
		if k.v.Kind != rdb.KindStream {
			return wrongType, db
		}
		lo, hi := parseRangeID(args[2], false), parseRangeID(args[3], true)
		limit := -1
		if len(args) > 5 && strings.EqualFold(string(args[4]), "COUNT") {
			limit, _ = strconv.Atoi(string(args[5]))
		}
		var items []string
		for _, e := range k.v.Stream.Entries {
			if e.ID.Less(lo) || hi.Less(e.ID) || (limit >= 0 && len(items) >= limit) {
				continue
			}
			items = append(items, "1) "+bulk([]byte(e.ID.String()))+"   2) "+nested(array(quoted(e.Fields)), "      "))
		}
		return array(items), db
	case "XINFO":
		if !need(3) || !strings.EqualFold(string(args[1]), "STREAM") {
			break
		}
		k := live(args[2])
		if k == nil {
			return errReply("ERR no such key"), db
		}
		if k.v.Kind != rdb.KindStream {
			return wrongType, db
		}
		s := k.v.Stream
		return array([]string{bulk([]byte("length")), integer(int64(len(s.Entries))),
			bulk([]byte("last-generated-id")), bulk([]byte(s.LastID.String())),
			bulk([]byte("max-deleted-entry-id")), bulk([]byte(s.MaxDeletedID.String())),
			bulk([]byte("entries-added")), integer(int64(s.EntriesAdded)),
			bulk([]byte("groups")), integer(int64(len(s.Groups)))}), db
	default:
		return errReply(fmt.Sprintf("ERR replay answers read commands only (GET, TYPE, TTL, PTTL, EXISTS, DBSIZE, KEYS, SCAN, HGETALL, LRANGE, SMEMBERS, ZRANGE, XRANGE, XINFO STREAM, SELECT), not '%s'", args[0])), db
	}
	return errReply(fmt.Sprintf("ERR wrong number of arguments for '%s' command", strings.ToLower(name))), db
}

// parseRangeID parses an XRANGE bound: "-", "+", "ms" or "ms-seq".
func parseRangeID(b []byte, high bool) rdb.StreamID {
	switch string(b) {
	case "-":
		return rdb.StreamID{}
	case "+":
		return rdb.StreamID{Ms: math.MaxUint64, Seq: math.MaxUint64}
	}
	id, err := convert.ParseStreamID(string(b))
	if err != nil {
		ms, _ := strconv.ParseUint(string(b), 10, 64)
		id = rdb.StreamID{Ms: ms}
		if high {
			id.Seq = math.MaxUint64
		}
	}
	return id
}

func nowMs() int64 { return time.Now().UnixMilli() }
