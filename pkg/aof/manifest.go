package aof

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"math"
	"strconv"
	"strings"
)

// FileType is the type of a file listed in a manifest.
//
// Wire format: the byte written in the manifest; never renumber.
type FileType byte

const (
	TypeBase    FileType = 'b' // AOF_FILE_TYPE_BASE: an RDB or RESP snapshot, loaded first
	TypeHistory FileType = 'h' // AOF_FILE_TYPE_HIST: replaced by a rewrite, never loaded
	TypeIncr    FileType = 'i' // AOF_FILE_TYPE_INCR: RESP commands, loaded in manifest order
)

func (t FileType) String() string {
	switch t {
	case TypeBase:
		return "base"
	case TypeHistory:
		return "history"
	case TypeIncr:
		return "incr"
	}
	return "FileType(" + strconv.Quote(string(rune(t))) + ")"
}

// ManifestFile is one line of a manifest.
type ManifestFile struct {
	Name string   // a bare file name in the AOF directory
	Seq  int64    // sequence number, never 0
	Type FileType // only the first character of the type value counts
	// Extra holds the key/value pairs Redis does not know, in line order, so
	// that a manifest written by a newer server (Redis 8.2 adds startoffset and
	// endoffset) survives a read-write cycle.
	Extra []KeyValue
	Line  int // 1-based line in the parsed manifest; 0 when built in memory
}

// KeyValue is an unknown key/value pair of a manifest line.
type KeyValue struct {
	Key, Value string
}

// Manifest is a multi-part AOF manifest (appendonly.aof.manifest), in Redis's
// own model: at most one base, history files, and incr files in load order.
type Manifest struct {
	Base    *ManifestFile
	History []ManifestFile
	Incr    []ManifestFile
}

// LoadOrder lists the files a server loads: the base (if any), then every incr
// file in manifest order. History files are not loaded.
func (m *Manifest) LoadOrder() []ManifestFile {
	var files []ManifestFile
	if m.Base != nil {
		files = append(files, *m.Base)
	}
	return append(files, m.Incr...)
}

// Manifest parsing limits: Redis reads lines with fgets into a 1025-byte
// buffer (MANIFEST_MAX_LINE 1024); the size bound is ours, as every entry is
// kept in memory and real manifests are a few hundred bytes.
const (
	manifestLineMax = 1024
	// MaxManifestSize bounds the manifest ParseManifest reads; a larger one
	// fails with ErrArgTooLarge.
	MaxManifestSize = 16 << 20
)

// ParseManifest reads a manifest with the rules of Redis's
// aofLoadManifestFromFile: a line whose first byte is '#' is a comment; any
// other line must end in '\n' within 1024 bytes, must not be blank, and is
// split like redis-cli arguments (sdssplitargs) into an even number, at least
// six, of key/value tokens. Keys are case-insensitive: file (a bare name, no
// '/' or '\\'), seq (atoll, non-zero), type (first byte b, h or i); others are
// kept in Extra. There is at most one base, and incr sequence numbers strictly
// increase. An empty manifest is an error; one with only comments is not.
//
// Failures are *ManifestError values wrapping ErrCorrupt (with Redis's
// message as Detail), ErrArgTooLarge, or the reader's error.
func ParseManifest(r io.Reader) (*Manifest, error) {
	br := bufio.NewReaderSize(r, 4096)
	m := &Manifest{}
	var (
		linenum int
		offset  int64
		maxSeq  int64
	)
	for {
		chunk, err := fgets(br, manifestLineMax)
		if len(chunk) == 0 {
			if err != nil && err != io.EOF {
				return nil, &ManifestError{Line: linenum + 1, Offset: offset, Err: err}
			}
			if linenum == 0 {
				return nil, &ManifestError{Err: ErrCorrupt, Detail: "Found an empty AOF manifest"}
			}
			return m, nil
		}
		linenum++
		lineOff := offset
		offset += int64(len(chunk))
		if offset > MaxManifestSize {
			return nil, &ManifestError{Line: linenum, Offset: lineOff, Err: ErrArgTooLarge,
				Detail: "manifest larger than " + strconv.Itoa(MaxManifestSize) + " bytes"}
		}
		bad := func(detail string) error {
			return &ManifestError{Line: linenum, Offset: lineOff, Err: ErrCorrupt, Detail: detail}
		}
		if chunk[0] == '#' {
			continue
		}
		// Redis handles the line as a C string: it ends at a NUL byte.
		if i := bytes.IndexByte(chunk, 0); i >= 0 {
			chunk = chunk[:i]
		}
		if bytes.IndexByte(chunk, '\n') < 0 {
			return nil, bad("The AOF manifest file contains too long line")
		}
		line := bytes.Trim(chunk, " \t\r\n")
		if len(line) == 0 {
			return nil, bad("Invalid AOF manifest file format")
		}
		argv, ok := splitArgs(line)
		if !ok || len(argv) < 6 || len(argv)%2 != 0 {
			return nil, bad("Invalid AOF manifest file format")
		}
		f := ManifestFile{Line: linenum}
		hasName := false
		for i := 0; i < len(argv); i += 2 {
			key, val := argv[i], argv[i+1]
			switch {
			case strings.EqualFold(cstring(key), "file"):
				f.Name, hasName = cstring(val), true
				if strings.ContainsAny(f.Name, `/\`) {
					return nil, bad("File can't be a path, just a filename")
				}
			case strings.EqualFold(cstring(key), "seq"):
				f.Seq = atoll(cstring(val))
			case strings.EqualFold(cstring(key), "type"):
				f.Type = 0
				if len(val) > 0 {
					f.Type = FileType(val[0])
				}
			default:
				f.Extra = append(f.Extra, KeyValue{key, val})
			}
		}
		if !hasName || f.Seq == 0 || f.Type == 0 {
			return nil, bad("Invalid AOF manifest file format")
		}
		switch f.Type {
		case TypeBase:
			if m.Base != nil {
				return nil, bad("Found duplicate base file information")
			}
			m.Base = &f
		case TypeHistory:
			m.History = append(m.History, f)
		case TypeIncr:
			if f.Seq <= maxSeq {
				return nil, bad("Found a non-monotonic sequence number")
			}
			maxSeq = f.Seq
			m.Incr = append(m.Incr, f)
		default:
			return nil, bad("Unknown AOF file type")
		}
	}
}

// fgets reads like C's fgets with a buffer of max+1 bytes: up to and
// including the next '\n', at most max bytes.
func fgets(br *bufio.Reader, max int) ([]byte, error) {
	b, err := br.Peek(max)
	if len(b) == 0 {
		return nil, err
	}
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = b[:i+1]
	}
	out := append([]byte(nil), b...)
	br.Discard(len(b))
	return out, nil // a read error shows on the next call, with no data
}

// cstring is s up to its first NUL byte, as C code that gets it sees it.
func cstring(s string) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return s[:i]
	}
	return s
}

// atoll is C's atoll as glibc implements it: leading white space, a sign,
// digits, anything after ignored, saturating on overflow.
func atoll(s string) int64 {
	i := 0
	for i < len(s) && isStrtolSpace(s[i]) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	var n uint64
	for ; i < len(s) && s[i]-'0' <= 9; i++ {
		d := uint64(s[i] - '0')
		if n > (math.MaxUint64-d)/10 {
			n = math.MaxUint64
		} else {
			n = n*10 + d
		}
	}
	if neg {
		if n > 1<<63 {
			return math.MinInt64
		}
		return int64(-n)
	}
	if n > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(n)
}

// splitArgs splits a line like Redis's sdssplitargs: blanks separate tokens;
// "double quotes" know \n \r \t \b \a \xHH and \<any>; 'single quotes' know
// only \'; a closing quote must be followed by a blank or the end of the line.
// line holds no NUL byte.
func splitArgs(line []byte) ([]string, bool) {
	at := func(i int) byte {
		if i < len(line) {
			return line[i]
		}
		return 0
	}
	var argv []string
	var cur []byte
	p := 0
	for {
		for p < len(line) && isStrtolSpace(line[p]) {
			p++
		}
		if p >= len(line) {
			return argv, true
		}
		cur = cur[:0]
		inq, insq, done := false, false, false
		for !done {
			c := at(p)
			switch {
			case inq:
				switch {
				case c == '\\' && at(p+1) == 'x' && isHex(at(p+2)) && isHex(at(p+3)):
					cur = append(cur, unhex(at(p+2))<<4|unhex(at(p+3)))
					p += 3
				case c == '\\' && at(p+1) != 0:
					p++
					switch e := at(p); e {
					case 'n':
						cur = append(cur, '\n')
					case 'r':
						cur = append(cur, '\r')
					case 't':
						cur = append(cur, '\t')
					case 'b':
						cur = append(cur, '\b')
					case 'a':
						cur = append(cur, '\a')
					default:
						cur = append(cur, e)
					}
				case c == '"':
					if n := at(p + 1); n != 0 && !isStrtolSpace(n) {
						return nil, false
					}
					done = true
				case c == 0:
					return nil, false // unterminated quotes
				default:
					cur = append(cur, c)
				}
			case insq:
				switch {
				case c == '\\' && at(p+1) == '\'':
					p++
					cur = append(cur, '\'')
				case c == '\'':
					if n := at(p + 1); n != 0 && !isStrtolSpace(n) {
						return nil, false
					}
					done = true
				case c == 0:
					return nil, false
				default:
					cur = append(cur, c)
				}
			default:
				switch c {
				case ' ', '\n', '\r', '\t', 0:
					done = true
				case '"':
					inq = true
				case '\'':
					insq = true
				default:
					cur = append(cur, c)
				}
			}
			if at(p) != 0 {
				p++
			}
		}
		argv = append(argv, string(cur))
	}
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

// Validate checks the rules a server applies when loading, so that WriteTo
// never writes a manifest Redis would refuse: at least one file (Redis refuses
// an empty manifest), a base of type b, history of type h, incr of type i with
// strictly increasing sequence numbers, non-zero sequence numbers, names that
// are non-empty bare file names without NUL bytes (Redis cuts names at a
// NUL), and lines that fit Redis's 1024-byte line buffer once written.
func (m *Manifest) Validate() error {
	if m.Base == nil && len(m.History) == 0 && len(m.Incr) == 0 {
		return &ManifestError{Err: ErrCorrupt, Detail: "the manifest lists no file (Redis refuses an empty manifest)"}
	}
	check := func(f *ManifestFile, want FileType) error {
		switch {
		case f.Type != want:
			return &ManifestError{Line: f.Line, Err: ErrCorrupt, Detail: "file " + strconv.Quote(f.Name) + " of type " + f.Type.String() + " listed as " + want.String()}
		case f.Name == "" || strings.ContainsAny(f.Name, "/\\\x00"):
			return &ManifestError{Line: f.Line, Err: ErrCorrupt, Detail: "file name " + strconv.Quote(f.Name) + " is not a bare file name"}
		case f.Seq == 0:
			return &ManifestError{Line: f.Line, Err: ErrCorrupt, Detail: "file " + strconv.Quote(f.Name) + " has sequence number 0"}
		}
		for _, kv := range f.Extra {
			if k := cstring(kv.Key); strings.EqualFold(k, "file") || strings.EqualFold(k, "seq") || strings.EqualFold(k, "type") {
				return &ManifestError{Line: f.Line, Err: ErrCorrupt, Detail: "extra key " + strconv.Quote(kv.Key) + " would be read as a known key"}
			}
		}
		if n := len(appendManifestLine(nil, f)); n > manifestLineMax {
			return &ManifestError{Line: f.Line, Err: ErrCorrupt, Detail: "the line for file " + strconv.Quote(f.Name) + " would be " +
				strconv.Itoa(n) + " bytes, more than Redis reads (" + strconv.Itoa(manifestLineMax) + ")"}
		}
		return nil
	}
	if m.Base != nil {
		if err := check(m.Base, TypeBase); err != nil {
			return err
		}
	}
	for i := range m.History {
		if err := check(&m.History[i], TypeHistory); err != nil {
			return err
		}
	}
	var maxSeq int64
	for i := range m.Incr {
		if err := check(&m.Incr[i], TypeIncr); err != nil {
			return err
		}
		if m.Incr[i].Seq <= maxSeq {
			return &ManifestError{Line: m.Incr[i].Line, Err: ErrCorrupt, Detail: "incr sequence numbers must increase strictly"}
		}
		maxSeq = m.Incr[i].Seq
	}
	return nil
}

// WriteTo writes the manifest as Redis does (getAofManifestAsString): base,
// then history, then incr, one "file <name> seq <n> type <t>\n" line each,
// extra pairs after them; a name or extra token is quoted exactly as
// sdscatrepr quotes it when sdsneedsrepr says it must be (and when it holds a
// single quote, which Redis itself would write bare and then fail to read). It
// refuses (with Validate's error) to write a manifest Redis would not load.
func (m *Manifest) WriteTo(w io.Writer) (int64, error) {
	if err := m.Validate(); err != nil {
		return 0, err
	}
	var b []byte
	if m.Base != nil {
		b = appendManifestLine(b, m.Base)
	}
	for i := range m.History {
		b = appendManifestLine(b, &m.History[i])
	}
	for i := range m.Incr {
		b = appendManifestLine(b, &m.Incr[i])
	}
	n, err := w.Write(b)
	if err == nil && n < len(b) {
		err = io.ErrShortWrite
	}
	return int64(n), err
}

// appendManifestLine appends the line of one file, as aofInfoFormat writes it.
func appendManifestLine(b []byte, f *ManifestFile) []byte {
	b = append(b, "file "...)
	b = appendToken(b, f.Name)
	b = append(b, " seq "...)
	b = strconv.AppendInt(b, f.Seq, 10)
	b = append(b, " type "...)
	b = append(b, byte(f.Type))
	for _, kv := range f.Extra {
		b = append(b, ' ')
		b = appendToken(b, kv.Key)
		b = append(b, ' ')
		b = appendToken(b, kv.Value)
	}
	return append(b, '\n')
}

// appendToken appends s, quoted when Redis would quote it. An empty token must
// be quoted too, or it would vanish (Redis never writes one). So must a token
// holding a single quote, which sdsneedsrepr lets through: written bare, it
// opens a quoted section that sdssplitargs never sees closed, and Redis could
// not read back the manifest it wrote.
func appendToken(b []byte, s string) []byte {
	if s != "" && !needsRepr(s) && !strings.Contains(s, "'") {
		return append(b, s...)
	}
	return appendRepr(b, s)
}

// needsRepr is sdsneedsrepr: backslash, quote, control, non-ASCII or blank.
func needsRepr(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\\' || c == '"' || !isPrint(c) || isStrtolSpace(c) {
			return true
		}
	}
	return false
}

func isPrint(c byte) bool { return c >= 0x20 && c <= 0x7e }

// appendRepr is sdscatrepr.
func appendRepr(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\', '"':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		case '\a':
			b = append(b, '\\', 'a')
		case '\b':
			b = append(b, '\\', 'b')
		default:
			if isPrint(c) {
				b = append(b, c)
			} else {
				b = append(b, '\\', 'x', hexDigits[c>>4], hexDigits[c&15])
			}
		}
	}
	return append(b, '"')
}

// errNoManifest is wrapped when a directory has no manifest to read.
var errNoManifest = errors.New("no manifest")
