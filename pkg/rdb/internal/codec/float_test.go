package codec

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

// sameAsStrconv reports how ParseFloat differs from strconv.ParseFloat on s.
func sameAsStrconv(t *testing.T, s string) {
	t.Helper()
	got, gerr := ParseFloat([]byte(s))
	want, werr := strconv.ParseFloat(s, 64)
	if math.Float64bits(got) != math.Float64bits(want) && !(math.IsNaN(got) && math.IsNaN(want)) {
		t.Fatalf("ParseFloat(%q) = %v (%#x), strconv %v (%#x)", s, got, math.Float64bits(got), want, math.Float64bits(want))
	}
	if (gerr == nil) != (werr == nil) || gerr != nil && gerr.Error() != werr.Error() {
		t.Fatalf("ParseFloat(%q) error %v, strconv %v", s, gerr, werr)
	}
}

func TestParseFloat(t *testing.T) {
	for _, s := range []string{
		"0", "-0", "0.0", "-0.0", "1", "-1", "3.25", "-0.5", "1e-07", "1E+22", "1e22", "1e23", "9007199254740992",
		"9007199254740993", "0.1", "0.30000000000000004", "123456789012345678", "1234567890123456789",
		"12345678901234567890", "1.7976931348623157e308", "5e-324", "1e-400", "1e400", "-1e400", "inf", "-inf",
		"+inf", "Infinity", "nan", "NaN", "", "-", ".", "1.", ".5", "-.5", "+1", "1e", "1e+", "e5", "1.5e-22",
		"1.5e-23", "0e999", "-0e-999", "1e999", "0x1p-2", "1_000", "00012.500", "0.000000000000000000000001",
		"1 ", " 1", "1..2", "1e5.5", "--1", "1e0001", "4.4501477170144023e-308",
	} {
		sameAsStrconv(t, s)
	}
}

// TestParseFloatScores compares with strconv on the spellings servers write
// for scores (shortest round trip, as Redis 7 does, and %.17g, as older
// versions did) of many doubles, and on random decimal text.
func TestParseFloatScores(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200000 {
		var f float64
		switch rng.IntN(4) {
		case 0:
			f = float64(rng.IntN(2_000_000)-1_000_000) / 1000
		case 1:
			f = rng.NormFloat64() * math.Pow(10, float64(rng.IntN(40)-20))
		case 2:
			f = math.Float64frombits(rng.Uint64())
		default:
			f = float64(rng.Int64N(1<<54) - 1<<53)
		}
		sameAsStrconv(t, strconv.FormatFloat(f, 'g', -1, 64))
		sameAsStrconv(t, strconv.FormatFloat(f, 'g', 17, 64))
		sameAsStrconv(t, strconv.FormatFloat(f, 'f', -1, 64))
		sameAsStrconv(t, strconv.FormatFloat(f, 'e', rng.IntN(20), 64))
	}
	for range 200000 {
		// Integers halfway between two doubles, with up to 19 digits, and
		// the same digits under decimal exponents: the ties of rounding.
		j := 1 + rng.IntN(10)
		m := (1<<52|rng.Uint64N(1<<52))<<j | 1<<(j-1)
		if m >= 1e19 {
			continue
		}
		digits := strconv.FormatUint(m, 10)
		sameAsStrconv(t, digits)
		sameAsStrconv(t, digits+"e"+strconv.Itoa(rng.IntN(39)-19))
		sameAsStrconv(t, digits[:1]+"."+digits[1:]+"e"+strconv.Itoa(rng.IntN(39)-19))
	}
	const alphabet = "0123456789.-+eE"
	for range 200000 {
		b := make([]byte, rng.IntN(25))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		sameAsStrconv(t, string(b))
	}
}

// TestParseFloatDigitRuns: digits are read eight bytes at a time, so a run
// of them is cut by every kind of byte at every position of the eight,
// including bytes that borrow or carry in the word arithmetic.
func TestParseFloatDigitRuns(t *testing.T) {
	const digits = "9081726354453627189"
	for n := 1; n <= len(digits); n++ {
		for pos := 0; pos <= n; pos++ {
			for _, c := range []byte{'.', 'e', '/', ':', '-', 0, 0x7f, 0x80, 0xb9, 0xba, 0xff} {
				s := digits[:pos] + string([]byte{c}) + digits[pos:n]
				sameAsStrconv(t, s)
				sameAsStrconv(t, "-"+s)
				sameAsStrconv(t, "1."+s)
				sameAsStrconv(t, s+"5")
			}
		}
	}
}

func TestParseFloatNoAllocs(t *testing.T) {
	b := []byte("-1234.5625")
	if n := testing.AllocsPerRun(100, func() { ParseFloat(b) }); n != 0 {
		t.Fatalf("%v allocations", n)
	}
}

func FuzzParseFloat(f *testing.F) {
	for _, s := range []string{"3.25", "-0", "1e-07", "9007199254740993", "inf", "1e23", "0.1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { sameAsStrconv(t, s) })
}

func BenchmarkParseFloat(b *testing.B) {
	// Short spellings, and the 17 digits of %.17g that Redis 7.0 writes.
	scores := [][]byte{[]byte("3.25"), []byte("-1234.5625"), []byte("0.001"), []byte("1.5e-07"),
		[]byte("0.10000000000000001"), []byte("-738264.43788170814"), []byte("1234567.8901234567")}
	b.Run("codec", func(b *testing.B) {
		for b.Loop() {
			for _, s := range scores {
				ParseFloat(s)
			}
		}
	})
	b.Run("strconv", func(b *testing.B) {
		for b.Loop() {
			for _, s := range scores {
				strconv.ParseFloat(string(s), 64)
			}
		}
	})
}
