package codec

import (
	"math"
	"strconv"
	"testing"
)

func TestParseCanonicalInt(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true},
		{"1", 1, true},
		{"-1", -1, true},
		{"12345", 12345, true},
		{"9223372036854775807", math.MaxInt64, true},
		{"-9223372036854775808", math.MinInt64, true},
		{"9223372036854775808", 0, false},
		{"-9223372036854775809", 0, false},
		{"18446744073709551615", 0, false},
		{"18446744073709551616", 0, false},
		{"99999999999999999999", 0, false},
		{"-99999999999999999999", 0, false}, // 21 bytes
		{"", 0, false},
		{"-", 0, false},
		{"-0", 0, false},
		{"00", 0, false},
		{"007", 0, false},
		{"-07", 0, false},
		{"+7", 0, false},
		{" 7", 0, false},
		{"7 ", 0, false},
		{"1e3", 0, false},
		{"1_000", 0, false},
		{"0x10", 0, false},
		{"1.0", 0, false},
		{"--1", 0, false},
		{"12a", 0, false},
	}
	for _, tt := range tests {
		got, ok := ParseCanonicalInt([]byte(tt.in))
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseCanonicalInt(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestAppendInt(t *testing.T) {
	for _, v := range []int64{0, 1, -1, 127, -4096, math.MaxInt64, math.MinInt64} {
		got := string(AppendInt([]byte("x"), v))
		if want := "x" + strconv.FormatInt(v, 10); got != want {
			t.Errorf("AppendInt(%d) = %q, want %q", v, got, want)
		}
	}
}

func TestFormatError(t *testing.T) {
	err := error(&FormatError{Offset: 12, Reason: "bad entry"})
	if got, want := err.Error(), "offset 12 in blob: bad entry"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

// FuzzParseCanonicalInt checks the defining property: b is accepted exactly
// when it is the decimal spelling of an int64, and then the value matches.
func FuzzParseCanonicalInt(f *testing.F) {
	for _, s := range []string{"0", "-0", "007", "+1", "-9223372036854775808", "9223372036854775808", "", "-"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, ok := ParseCanonicalInt(b)
		want, err := strconv.ParseInt(string(b), 10, 64)
		wantOK := err == nil && strconv.FormatInt(want, 10) == string(b)
		if ok != wantOK || (ok && got != want) {
			t.Fatalf("ParseCanonicalInt(%q) = %d, %v; want %d, %v", b, got, ok, want, wantOK)
		}
	})
}

func BenchmarkParseCanonicalInt(b *testing.B) {
	in := []byte("-1234567890123")
	for b.Loop() {
		ParseCanonicalInt(in)
	}
}
