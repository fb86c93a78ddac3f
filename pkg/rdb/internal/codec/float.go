package codec

import (
	"encoding/binary"
	"math"
	"math/bits"
	"strconv"
)

// float64pow10 holds the powers of ten that are exact in a float64.
var float64pow10 = [...]float64{
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9,
	1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
	1e20, 1e21, 1e22,
}

// pow10u64 holds the powers of ten that fit a uint64.
var pow10u64 = [...]uint64{
	1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9,
	1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
}

// ParseFloat returns what strconv.ParseFloat(string(b), 64) returns, value
// and error alike, for every b, without allocating for the usual spellings of
// sorted-set scores. Scores are decimal text in listpacks and ziplists:
// "3.25", "-0.5", "1e-07", or the 17 significant digits of the shortest
// spelling of an arbitrary double. Those of at most 19 significant digits
// with a decimal exponent within ±19 are converted here, exactly rounded by
// integer arithmetic; anything else goes to strconv.
func ParseFloat(b []byte) (float64, error) {
	if f, ok := parseSimpleFloat(b); ok {
		return f, nil
	}
	return strconv.ParseFloat(string(b), 64)
}

// parseSimpleFloat converts [-]digits[.digits][(e|E)[+|-]digits] when the
// digits, without the point and leading zeros, are at most 19 and the
// decimal exponent that applies to them is within ±19 (±22 for values that
// are exact in a float64); it reports false for anything else.
func parseSimpleFloat(b []byte) (float64, bool) {
	i := 0
	neg := false
	if len(b) > 0 && b[0] == '-' {
		neg = true
		i = 1
	}
	// The digits are accumulated without a test each: mant is exact (and
	// used) only when there are at most 19 significant digits, which is
	// checked afterwards.
	start := i
	mant, i := appendDigits(0, b, i)
	if i == start {
		return 0, false // no digit before the point
	}
	exp, ndigits := 0, i-start
	if i < len(b) && b[i] == '.' {
		i++
		frac := i
		mant, i = appendDigits(mant, b, i)
		if i == frac {
			return 0, false // no digit after the point
		}
		exp = frac - i
		ndigits += i - frac
	}
	if ndigits > 19 && significantDigits(b[start:i]) > 19 {
		return 0, false
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		eneg := false
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			eneg = b[i] == '-'
			i++
		}
		e, edigits := 0, 0
		for ; i < len(b) && b[i]-'0' <= 9; i++ {
			if edigits == 3 {
				return 0, false
			}
			e = e*10 + int(b[i]-'0')
			edigits++
		}
		if edigits == 0 {
			return 0, false
		}
		if eneg {
			e = -e
		}
		exp += e
	}
	if i != len(b) {
		return 0, false
	}
	var f float64
	switch {
	case mant == 0:
	case mant <= 1<<53 && exp >= -22 && exp <= 22:
		// Both operands are exact, so one IEEE operation rounds right.
		f = float64(mant)
		if exp > 0 {
			f *= float64pow10[exp]
		} else if exp < 0 {
			f /= float64pow10[-exp]
		}
	case exp >= 0 && exp <= 19:
		f = mulPow10(mant, exp)
	case exp < 0 && exp >= -19:
		f = divPow10(mant, -exp)
	default:
		return 0, false
	}
	if neg {
		f = math.Copysign(f, -1)
	}
	return f, true
}

// appendDigits reads the run of decimal digits at b[i:] into mant (wrapping
// around past 19 digits) and returns where the run ends.
func appendDigits(mant uint64, b []byte, i int) (uint64, int) {
	// Eight bytes at a time while eight remain: a score's "468737.0916845"
	// takes one look for its six integer digits and one for the next eight.
	// The arithmetic wraps exactly as digit by digit would.
	for i+8 <= len(b) {
		v := binary.LittleEndian.Uint64(b[i:])
		d := v - 0x3030303030303030
		// A byte's top bit in d flags one below '0', in v+0x46 one above
		// '9'. The first flagged byte (the lowest) is the first that is not
		// a digit: the bytes below it are digits, which neither borrow nor
		// carry into it.
		nondigit := ((v + 0x4646464646464646) | d) & 0x8080808080808080
		if nondigit == 0 {
			mant = mant*100000000 + eightDigits(d)
			i += 8
			continue
		}
		k := bits.TrailingZeros64(nondigit) >> 3 // digits before it
		if k > 0 {
			// The k digits, moved to the top bytes with zeros below them:
			// leading zeros, read as eight digits.
			mant = mant*pow10u64[k] + eightDigits(d<<(64-8*k))
		}
		return mant, i + k
	}
	for i < len(b) && b[i]-'0' <= 9 {
		mant = mant*10 + uint64(b[i]-'0')
		i++
	}
	return mant, i
}

// eightDigits is the value of the eight decimal digits d holds, one a byte
// (already minus '0'), the first in the lowest byte.
func eightDigits(d uint64) uint64 {
	d = d*10 + d>>8                                // pairs: 10·a + b in the odd bytes
	d = (d&0x000000FF000000FF)*(100+1000000<<32) + // pairs 1 and 3
		(d>>16&0x000000FF000000FF)*(1+10000<<32) // pairs 2 and 4
	return d >> 32
}

// significantDigits counts the digits of b (digits and a point) from its
// first nonzero one.
func significantDigits(b []byte) int {
	n, seen := 0, false
	for _, c := range b {
		if c == '.' {
			continue
		}
		seen = seen || c != '0'
		if seen {
			n++
		}
	}
	return n
}

// mulPow10 returns m×10^e rounded to the nearest double: the product is
// exact in 128 bits.
func mulPow10(m uint64, e int) float64 {
	hi, lo := bits.Mul64(m, pow10u64[e])
	if hi == 0 {
		return float64(lo) // Go rounds integer conversions to nearest even
	}
	n := uint(bits.LeadingZeros64(hi))
	q := hi<<n | lo>>(64-n) // n < 64; a shift by 64 gives 0, as wanted for n = 0
	return roundScaled(q, lo<<n != 0, 64-int(n))
}

// divPow10 returns m/10^k, m > 0, rounded to the nearest double: the
// quotient of m·2^s by 10^k is computed to 64 bits, with the remainder as
// sticky bit.
func divPow10(m uint64, k int) float64 {
	d := pow10u64[k]
	nm, nd := bits.LeadingZeros64(m), bits.LeadingZeros64(d)
	// Scale so that the quotient has exactly 64 bits: m·2^s in
	// [d·2^63, d·2^64).
	s := 63 - nd + nm
	if m<<uint(nm) < d<<uint(nd) {
		s++
	}
	var hi, lo uint64
	if s >= 64 {
		hi, lo = m<<uint(s-64), 0
	} else {
		hi, lo = m>>uint(64-s), m<<uint(s)
	}
	q, r := bits.Div64(hi, lo, d)
	return roundScaled(q, r != 0, -s)
}

// roundScaled returns (q + δ)·2^exp2 rounded to the nearest double (ties to
// even), where q has its top bit set and δ in [0, 1) is nonzero exactly when
// sticky is set. The result must be a normal double, which it is for every
// caller: their values lie between 1e-19 and 2^128.
func roundScaled(q uint64, sticky bool, exp2 int) float64 {
	const drop = 64 - 53
	mant := q >> drop // 53 bits, the top one set
	rest := q & (1<<drop - 1)
	const half = 1 << (drop - 1)
	if rest > half || rest == half && (sticky || mant&1 == 1) {
		mant++
		if mant == 1<<53 {
			mant >>= 1
			exp2++
		}
	}
	// mant·2^(exp2+drop) = 1.fraction·2^(52+exp2+drop).
	biased := uint64(52 + exp2 + drop + 1023)
	return math.Float64frombits(biased<<52 | mant&(1<<52-1))
}
