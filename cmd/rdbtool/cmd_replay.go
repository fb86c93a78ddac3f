package main

import (
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/rdbtool/rdbtool/pkg/convert"
	"github.com/rdbtool/rdbtool/pkg/engine"
	"github.com/urfave/cli/v2"
)

func init() { register(replayCommand) }

const replayDescription = `Loads an RDB file, an AOF file, an AOF folder or a Redis data folder into
the built-in engine, as a server would at startup, prints a summary (keys per
database and type), and answers read-only commands against the result with
--exec (repeatable), printed the way redis-cli prints replies. Every read-only
command of the data types is answered with the reply shape of the server the
input came from (--server-version to choose another):

   keys     EXISTS TYPE TTL PTTL EXPIRETIME PEXPIRETIME TOUCH DBSIZE KEYS SCAN
            RANDOMKEY OBJECT ENCODING SELECT PING ECHO
   strings  GET MGET STRLEN GETRANGE SUBSTR GETBIT BITCOUNT BITPOS BITFIELD_RO
            PFCOUNT
   lists    LLEN LINDEX LRANGE LPOS
   sets     SCARD SISMEMBER SMISMEMBER SMEMBERS SRANDMEMBER SINTER SUNION SDIFF
            SINTERCARD SSCAN
   zsets    ZCARD ZSCORE ZMSCORE ZRANK ZREVRANK ZCOUNT ZLEXCOUNT ZRANGE
            ZREVRANGE ZRANGEBYSCORE ZREVRANGEBYSCORE ZRANGEBYLEX ZREVRANGEBYLEX
            ZRANDMEMBER ZSCAN ZUNION ZINTER ZDIFF ZINTERCARD GEOPOS GEODIST
            GEOHASH
   hashes   HGET HMGET HGETALL HKEYS HVALS HLEN HEXISTS HSTRLEN HRANDFIELD HSCAN
            HTTL HPTTL HEXPIRETIME HPEXPIRETIME
   streams  XLEN XRANGE XREVRANGE XREAD XINFO STREAM|GROUPS|CONSUMERS XPENDING

The dataset is evaluated at --now (Unix ms, default the current time): keys and
hash fields whose expiry time has passed are absent, TTLs count from it. The
point-in-time options of "rdbtool convert" apply to AOF inputs. A progress bar
is shown on a terminal.

Examples:
   rdbtool replay dump.rdb
   rdbtool replay --exec 'HGETALL user:1' --exec 'TTL user:1' appendonlydir
   rdbtool replay --until-command FLUSHALL --exec DBSIZE appendonly.aof
   rdbtool replay --exec 'XINFO GROUPS orders' --exec 'XPENDING orders billing' dump.rdb`

func replayCommand() *cli.Command {
	return &cli.Command{
		Name:        "replay",
		Usage:       "load an RDB or AOF into the built-in engine and answer read-only commands",
		UsageText:   "rdbtool replay [--exec CMD]... [--now MS] [--until T] [--until-offset N] [--until-command NAME] [--server-version SERVER] [--strict] PATH",
		Description: replayDescription,
		ArgsUsage:   "PATH",
		Flags: append([]cli.Flag{
			&cli.StringSliceFlag{Name: "exec", Usage: "answer the read-only command `CMD` (repeatable), e.g. --exec 'HGETALL user:1'"},
			&cli.Int64Flag{Name: "now", Usage: "evaluate expiry times at Unix `MS` (default: now)"},
			noProgressFlag(),
		}, replayFlags()...),
		Action: runReplay,
	}
}

func runReplay(c *cli.Context) error {
	if c.NArg() != 1 {
		return usagef("replay", "replay needs one PATH, got %d arguments", c.NArg())
	}
	if err := checkPaths(c, c.Args().Slice()); err != nil {
		return err
	}
	var cmds [][][]byte
	for _, line := range c.StringSlice("exec") {
		args, err := splitCommand(line)
		if err == nil && len(args) == 0 {
			err = fmt.Errorf("empty command")
		}
		if err != nil {
			return usagef("replay", "--exec %q: %v", line, err)
		}
		cmds = append(cmds, args)
	}
	// An RDB file goes through the same loader as an AOF's RDB base: read as
	// a stream, key by key, into the engine's compact form.
	e, st, _, _, err := replayForCLI(c, c.Args().First())
	if err != nil {
		return err
	}
	out := c.App.Writer
	fmt.Fprintf(out, "replayed %s: %d keys from RDB parts, %d commands", plural(int64(st.Files), "file", "files"), st.RDBKeys, st.Commands)
	if st.Stopped != "" {
		fmt.Fprintf(out, ", stopped %s", st.Stopped)
	}
	if st.TornTail {
		fmt.Fprintf(out, ", a torn tail at offset %d dropped", st.TornOffset)
	}
	fmt.Fprintln(out)
	writeSummary(out, e.Summary())
	for i, args := range cmds {
		fmt.Fprintf(out, "%d> %s\n", e.Selected(), c.StringSlice("exec")[i])
		io.WriteString(out, formatReply(e.Exec(args), ""))
	}
	return nil
}

func writeSummary(w io.Writer, dbs []engine.DBSummary) {
	if len(dbs) == 0 {
		fmt.Fprintln(w, "the dataset is empty")
	}
	for _, s := range dbs {
		kinds := make([]string, 0, len(s.ByKind))
		for k, n := range s.ByKind {
			kinds = append(kinds, fmt.Sprintf("%s %d", k, n))
		}
		slices.Sort(kinds)
		fmt.Fprintf(w, "db%d: %d keys (%s), %d with a TTL\n", s.DB, s.Keys, strings.Join(kinds, ", "), s.WithTTL)
	}
}

// replayClock is the engine's clock: --now when given.
func replayClock(c *cli.Context) func() int64 {
	if now := c.Int64("now"); now != 0 {
		return func() int64 { return now }
	}
	return nil
}

// replayWithProgress replays files into e, with a progress bar over the bytes
// read when stderr is a terminal, and a garbage collector that keeps the heap
// near the dataset: the engine's values are pointer-free byte slices, so a
// collection costs little, and the default (a heap twice the live data before
// each) would be most of the peak memory. GOGC and GOMEMLIMIT in the
// environment are left alone.
func replayWithProgress(c *cli.Context, files []convert.AOFFile, e *engine.Engine, o convert.ReplayOptions) (convert.ReplayStats, error) {
	var total int64
	for _, f := range files {
		if st, err := os.Stat(f.Path); err == nil {
			total += st.Size()
		}
	}
	var read storedRead
	if o.Open != nil {
		o.Open = read.counting(o.Open)
	}
	label := "replay"
	if len(files) > 0 {
		label = files[len(files)-1].Path
	}
	prog := startProgress(!c.Bool("no-progress") && isTerminal(c.App.ErrWriter), c.App.ErrWriter, label, total, read.done)
	defer prog.Stop()
	if os.Getenv("GOGC") == "" && os.Getenv("GOMEMLIMIT") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(replayGCPercent))
	}
	return convert.ReplayAOF(files, e, o)
}

// storedRead counts the bytes a replay has read of its files as they are
// stored, which is what the progress bar's total adds up: of a gzip or zstd
// file, the compressed bytes, not what they decompress to.
type storedRead struct {
	finished atomic.Int64          // the sizes of the files read before the current one
	current  atomic.Pointer[input] // the file being read
}

// counting returns open, counting what is read of the files it opens (the
// replay reads them one after the other).
func (s *storedRead) counting(open func(string) (io.ReadCloser, error)) func(string) (io.ReadCloser, error) {
	return func(path string) (io.ReadCloser, error) {
		rc, err := open(path)
		if in, ok := rc.(*input); ok && err == nil {
			if prev := s.current.Swap(in); prev != nil {
				s.finished.Add(prev.Done())
			}
		}
		return rc, err
	}
}

// done is the bytes read so far; it may be called from any goroutine.
func (s *storedRead) done() int64 {
	n := s.finished.Load()
	if in := s.current.Load(); in != nil {
		n += in.Done()
	}
	return n
}

// replayGCPercent is GOGC while a replay builds the dataset.
const replayGCPercent = 20

// splitCommand splits a command line like redis-cli: spaces separate
// arguments; double quotes allow spaces and \n, \t, \r, \", \\ and \xHH
// escapes; single quotes take everything literally but \'.
func splitCommand(s string) ([][]byte, error) {
	var args [][]byte
	for i := 0; i < len(s); {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		if i >= len(s) {
			break
		}
		var arg []byte
		switch s[i] {
		case '"':
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
					case 'a':
						arg = append(arg, '\a')
					case 'b':
						arg = append(arg, '\b')
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
		case '\'':
			i++
			for ; i < len(s) && s[i] != '\''; i++ {
				if s[i] == '\\' && i+1 < len(s) && s[i+1] == '\'' {
					i++
				}
				arg = append(arg, s[i])
			}
			if i >= len(s) {
				return nil, fmt.Errorf("unbalanced quotes")
			}
			i++
		default:
			for ; i < len(s) && s[i] != ' ' && s[i] != '\t'; i++ {
				arg = append(arg, s[i])
			}
		}
		if arg == nil {
			arg = []byte{}
		}
		args = append(args, arg)
	}
	return args, nil
}

// formatReply prints a reply as redis-cli does on a terminal
// (cliFormatReplyTTY): strings quoted with non-printable bytes escaped,
// "(integer) n", "(nil)", "(error) ...", arrays numbered with nested arrays
// indented under their number.
func formatReply(r engine.Reply, prefix string) string {
	switch r.Kind {
	case engine.ReplyStatus:
		return string(r.Str) + "\n"
	case engine.ReplyError:
		return "(error) " + string(r.Str) + "\n"
	case engine.ReplyInt:
		return "(integer) " + strconv.FormatInt(r.Int, 10) + "\n"
	case engine.ReplyBulk:
		return quoteRepr(r.Str) + "\n"
	case engine.ReplyArray:
		if len(r.Elems) == 0 {
			return "(empty array)\n"
		}
		width := len(strconv.Itoa(len(r.Elems)))
		inner := prefix + strings.Repeat(" ", width+2)
		var b strings.Builder
		for i, el := range r.Elems {
			if i > 0 {
				b.WriteString(prefix)
			}
			fmt.Fprintf(&b, "%*d) ", width, i+1)
			b.WriteString(formatReply(el, inner))
		}
		return b.String()
	}
	return "(nil)\n"
}

// quoteRepr is sds.c sdscatrepr: a double-quoted string with \\, \", \n,
// \r, \t, \a, \b escaped and other non-printable bytes as \xHH.
func quoteRepr(s []byte) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, c := range s {
		switch c {
		case '\\', '"':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\a':
			b.WriteString(`\a`)
		case '\b':
			b.WriteString(`\b`)
		default:
			if c >= 0x20 && c < 0x7f {
				b.WriteByte(c)
			} else {
				fmt.Fprintf(&b, `\x%02x`, c)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}
