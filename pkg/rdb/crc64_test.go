package rdb

import "testing"

func TestCRC64CheckValue(t *testing.T) {
	// Redis's own crc64 self-test value.
	if got := CRC64([]byte("123456789")); got != 0xE9C6D914C4B8D9CA {
		t.Fatalf("crc64(123456789) = %#x", got)
	}
	if got := UpdateCRC64(CRC64([]byte("1234")), []byte("56789")); got != 0xE9C6D914C4B8D9CA {
		t.Fatalf("incremental crc64 = %#x", got)
	}
}

func TestCRC64MatchesReference(t *testing.T) {
	// Bit-at-a-time reference: reflected polynomial, init 0, xorout 0.
	ref := func(p []byte) uint64 {
		var crc uint64
		for _, b := range p {
			crc ^= uint64(b)
			for i := 0; i < 8; i++ {
				if crc&1 != 0 {
					crc = crc>>1 ^ 0x95AC9329AC4BC9B5
				} else {
					crc >>= 1
				}
			}
		}
		return crc
	}
	data := make([]byte, 20<<10)
	for i := range data {
		data[i] = byte(i*131 + i>>3)
	}
	for n := 0; n <= len(data); n += 37 + n/3 {
		if got, want := CRC64(data[:n]), ref(data[:n]); got != want {
			t.Fatalf("len %d: %#x, want %#x", n, got, want)
		}
	}
}

func BenchmarkCRC64(b *testing.B) {
	buf := make([]byte, 1<<20)
	b.SetBytes(int64(len(buf)))
	for i := 0; i < b.N; i++ {
		CRC64(buf)
	}
}

// emptyReader returns (0, nil) forever.
type emptyReader struct{}

func (emptyReader) Read([]byte) (int, error) { return 0, nil }

func TestReaderThatReturnsNothing(t *testing.T) {
	r := NewReader(emptyReader{}, ReaderOptions{})
	defer r.Close()
	if _, err := r.Next(); err == nil {
		t.Fatal("a reader returning (0, nil) forever must end in an error, not a hang")
	}
}
