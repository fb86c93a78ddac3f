package engine

import (
	"math"
	"math/big"
	"strconv"
	"strings"
	"unsafe"
)

// Argument parsing with Redis's exact acceptance rules (util.c string2ll,
// strtod/strtold checks of object.c), which are stricter or looser than Go's
// strconv in places: no '+' and no leading zeros for integers; hex floats
// without an exponent, "infinity", but no NaN for floats.

func clone(b []byte) []byte { return append([]byte{}, b...) }

// is reports whether arg equals the upper-case option word opt, ignoring case.
func is(arg []byte, opt string) bool {
	return len(arg) == len(opt) && strings.EqualFold(string(arg), opt)
}

// parseInt is util.c string2ll.
func parseInt(b []byte) (int64, bool) {
	n := len(b)
	if n == 0 || n >= 21 {
		return 0, false
	}
	if n == 1 && b[0] == '0' {
		return 0, true
	}
	i, neg := 0, false
	if b[0] == '-' {
		neg = true
		i++
		if i == n {
			return 0, false
		}
	}
	if b[i] < '1' || b[i] > '9' {
		return 0, false
	}
	var v uint64
	for ; i < n; i++ {
		c := b[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if v > math.MaxUint64/10 {
			return 0, false
		}
		v *= 10
		if v > math.MaxUint64-uint64(c-'0') {
			return 0, false
		}
		v += uint64(c - '0')
	}
	if neg {
		if v > uint64(math.MaxInt64)+1 {
			return 0, false
		}
		return int64(-v), true
	}
	if v > math.MaxInt64 {
		return 0, false
	}
	return int64(v), true
}

func argInt(b []byte) (int64, error) {
	v, ok := parseInt(b)
	if !ok {
		return 0, ErrNotInteger
	}
	return v, nil
}

// argIntMsg is getLongLongFromObjectOrReply with a custom message.
func argIntMsg(b []byte, msg string) (int64, error) {
	v, ok := parseInt(b)
	if !ok {
		return 0, &Error{"ERR " + msg}
	}
	return v, nil
}

// argLong is getLongFromObjectOrReply (long is 64 bits on the servers we mimic).
func argLong(b []byte) (int64, error) { return argInt(b) }

// argPositive is getPositiveLongFromObjectOrReply: one message for both a
// non-integer and a negative value.
func argPositive(b []byte) (int64, error) {
	v, ok := parseInt(b)
	if !ok || v < 0 {
		return 0, ErrNotPositive
	}
	return v, nil
}

// argInt32 is getIntFromObjectOrReply; msg, when set, replaces both errors.
func argInt32(b []byte, msg string) (int64, error) {
	v, ok := parseInt(b)
	if !ok {
		if msg != "" {
			return 0, &Error{"ERR " + msg}
		}
		return 0, ErrNotInteger
	}
	if v < math.MinInt32 || v > math.MaxInt32 {
		if msg != "" {
			return 0, &Error{"ERR " + msg}
		}
		return 0, &Error{"ERR value is out of range, value must between -2147483648 and 2147483647"}
	}
	return v, nil
}

// cFloatSyntax prepares a C strtod input for strconv.ParseFloat, reporting
// whether it can be valid at all: no leading space, no trailing garbage (the
// caller checks), no underscores, and hex mantissas get the exponent C lets
// them omit.
func cFloatSyntax(s string) (string, bool) {
	if s == "" || strings.ContainsRune(s, '_') {
		return "", false
	}
	switch s[0] {
	case ' ', '\t', '\n', '\v', '\f', '\r':
		return "", false
	}
	body := strings.TrimLeft(s, "+-")
	if len(s)-len(body) > 1 {
		return "", false
	}
	lb := strings.ToLower(body)
	switch lb {
	case "inf", "infinity":
		return s[:len(s)-len(body)] + "inf", true
	case "nan":
		return "", false
	}
	if strings.HasPrefix(lb, "0x") && !strings.ContainsAny(lb, "p") {
		return s + "p0", true
	}
	if strings.HasPrefix(lb, "nan") || strings.HasPrefix(lb, "inf") {
		return "", false
	}
	return s, true
}

// parseFloat is strtod as getDoubleFromObject uses it: the whole string must
// parse, NaN is refused, and so are overflow and underflow to zero.
func parseFloat(b []byte) (float64, bool) {
	if v, ok := parseInt(b); ok && v > -1<<53 && v < 1<<53 {
		return float64(v), true // exact: the common case, without strconv
	}
	if plainDecimal(b) {
		// The other common case, where strtod and strconv agree: no copy of
		// b (strconv keeps nothing of it), none of cFloatSyntax's checks.
		f, err := strconv.ParseFloat(unsafe.String(unsafe.SliceData(b), len(b)), 64)
		if err != nil {
			return 0, false // ERANGE overflow
		}
		if f == 0 && hasNonZeroMantissa(string(b)) {
			return 0, false // ERANGE underflow to zero
		}
		return f, true
	}
	s, ok := cFloatSyntax(string(b))
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, false // syntax, or ERANGE overflow (HUGE_VAL)
	}
	if f == 0 && hasNonZeroMantissa(s) {
		return 0, false // ERANGE underflow to zero
	}
	return f, true
}

// plainDecimal reports whether b is [+-]digits[.digits][(e|E)[+-]digits]
// with a digit before or after the point: a float literal that C's strtod
// and strconv.ParseFloat read alike.
func plainDecimal(b []byte) bool {
	i := 0
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		i++
	}
	digits := 0
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		digits++
	}
	if i < len(b) && b[i] == '.' {
		for i++; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
			digits++
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		exp := i
		for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		}
		if i == exp {
			return false
		}
	}
	return i == len(b)
}

// hasNonZeroMantissa reports whether a float literal has a non-zero digit
// before its exponent.
func hasNonZeroMantissa(s string) bool {
	s = strings.ToLower(s)
	hex := strings.Contains(s, "0x")
	if hex {
		s = s[strings.Index(s, "0x")+2:]
		if i := strings.IndexByte(s, 'p'); i >= 0 {
			s = s[:i]
		}
		return strings.ContainsAny(s, "123456789abcdef")
	}
	if i := strings.IndexByte(s, 'e'); i >= 0 {
		s = s[:i]
	}
	return strings.ContainsAny(s, "123456789")
}

func argFloat(b []byte) (float64, error) {
	f, ok := parseFloat(b)
	if !ok {
		return 0, ErrNotFloat
	}
	return f, nil
}

// longDoublePrec is the mantissa of x87 extended precision, the long double
// of the x86-64 servers whose AOFs we replay.
const longDoublePrec = 64

// parseLongDouble is strtold as getLongDoubleFromObject uses it.
func parseLongDouble(b []byte) (*big.Float, bool) {
	if len(b) > 5*1024 { // MAX_LONG_DOUBLE_CHARS
		return nil, false
	}
	s, ok := cFloatSyntax(string(b))
	if !ok {
		return nil, false
	}
	// big.ParseFloat also takes what strtold does not: a binary exponent
	// after a decimal mantissa ("1p5") and 0b / 0o prefixes.
	body := strings.ToLower(strings.TrimLeft(s, "+-"))
	if strings.HasPrefix(body, "0b") || strings.HasPrefix(body, "0o") ||
		!strings.HasPrefix(body, "0x") && strings.ContainsRune(body, 'p') {
		return nil, false
	}
	f, _, err := big.ParseFloat(s, 0, longDoublePrec, big.ToNearestEven)
	if err != nil {
		return nil, false
	}
	if f.IsInf() {
		return f, true
	}
	if f.Sign() == 0 && hasNonZeroMantissa(s) {
		return nil, false
	}
	// The x87 exponent range: beyond it strtold overflows (ERANGE, HUGE_VALL).
	if f.Sign() != 0 && f.MantExp(nil) > 16384 {
		return nil, false
	}
	return f, true
}

// addLongDouble adds two long doubles, reporting false when the sum is not
// finite (INCRBYFLOAT's "increment would produce NaN or Infinity").
func addLongDouble(a, b *big.Float) (*big.Float, bool) {
	if a.IsInf() || b.IsInf() {
		return nil, false
	}
	s := new(big.Float).SetPrec(longDoublePrec).SetMode(big.ToNearestEven).Add(a, b)
	if s.Sign() != 0 && s.MantExp(nil) > 16384 {
		return nil, false
	}
	return s, true
}

// formatLongDouble is util.c ld2string in LD_STR_HUMAN mode: "%.17Lf" with
// the trailing zeros (and a bare '.') removed, and "-0" printed as "0".
func formatLongDouble(f *big.Float) []byte {
	s := f.Text('f', 17)
	if strings.IndexByte(s, '.') >= 0 {
		s = strings.TrimRight(s, "0")
		s = strings.TrimSuffix(s, ".")
	}
	if s == "-0" {
		s = "0"
	}
	return []byte(s)
}

// formatInt is the decimal text Redis stores for an integer result.
func formatInt(v int64) []byte { return strconv.AppendInt(nil, v, 10) }
