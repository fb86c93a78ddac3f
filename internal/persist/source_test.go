package persist

import (
	"bytes"
	"errors"
	"io"
	"math"
	"testing"
	"testing/iotest"
)

// lying claims to have read more than the buffer it was given.
type lying struct{}

func (lying) Read(p []byte) (int, error) { return len(p) + 1, nil }

// negative claims a negative count.
type negative struct{}

func (negative) Read([]byte) (int, error) { return -1, nil }

// silent returns nothing, forever, without an error.
type silent struct{}

func (silent) Read([]byte) (int, error) { return 0, nil }

func TestSourceDistrustsReaders(t *testing.T) {
	for _, c := range []struct {
		name string
		r    io.Reader
		want error
	}{
		{"count past the buffer", lying{}, io.ErrShortBuffer},
		{"negative count", negative{}, io.ErrShortBuffer},
		{"no progress", silent{}, io.ErrNoProgress},
	} {
		t.Run(c.name, func(t *testing.T) {
			var s Source
			s.Init(c.r, 0, 16, 64)
			if err := s.Fill(4); !errors.Is(err, c.want) {
				t.Fatalf("Fill: %v, want %v", err, c.want)
			}
			if s.End > len(s.Buf) || s.End < 0 {
				t.Fatalf("End %d outside the window of %d", s.End, len(s.Buf))
			}
			if err := s.Fill(1); !errors.Is(err, c.want) {
				t.Fatalf("the error is not sticky: %v", err)
			}
		})
	}
}

func TestSourceReads(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef\n"), 5000)
	for _, shape := range []struct {
		name string
		r    func() io.Reader
	}{
		{"whole reads", func() io.Reader { return bytes.NewReader(data) }},
		{"one byte", func() io.Reader { return iotest.OneByteReader(bytes.NewReader(data)) }},
		{"half", func() io.Reader { return iotest.HalfReader(bytes.NewReader(data)) }},
	} {
		t.Run(shape.name, func(t *testing.T) {
			var s Source
			s.Init(shape.r(), 100, 16, 1024)
			var got []byte
			for i := 0; ; i++ {
				if i%3 == 0 {
					line, complete, err := s.Line(64)
					if err != nil {
						if err != io.ErrUnexpectedEOF || len(line) != 0 {
							t.Fatal(len(line), err)
						}
						break
					}
					if !complete || line[len(line)-1] != '\n' {
						t.Fatalf("line %q complete=%v", line, complete)
					}
				}
				b, err := s.ReadByte()
				if err == io.ErrUnexpectedEOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, b)
				p, err := s.Next(16)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, p...)
			}
			if !bytes.Equal(got, data) {
				t.Fatalf("read %d bytes, want %d", len(got), len(data))
			}
			if s.Offset() != 100+int64(len(data)) {
				t.Fatalf("offset %d", s.Offset())
			}
		})
	}
}

func TestSourceShrinksAfterAHugeItem(t *testing.T) {
	huge := 4 * FullSize
	data := append(bytes.Repeat([]byte{'x'}, huge), bytes.Repeat([]byte{'y'}, 1000)...)
	var s Source
	s.Init(bytes.NewReader(data), 0, 16, 2*FullSize)
	if _, err := s.Next(huge); err != nil {
		t.Fatal(err)
	}
	if err := s.Skip(999); err != nil {
		t.Fatal(err)
	}
	if b, err := s.ReadByte(); err != nil || b != 'y' {
		t.Fatal(b, err)
	}
	if _, err := s.ReadByte(); err != io.ErrUnexpectedEOF {
		t.Fatal(err)
	}
	if len(s.Buf) > FullSize {
		t.Fatalf("the window stayed at %d", len(s.Buf))
	}
}

func TestSourceBeforeCompact(t *testing.T) {
	data := bytes.Repeat([]byte("z"), 10000)
	var s Source
	s.Init(iotest.HalfReader(bytes.NewReader(data)), 0, 16, 1<<20)
	var handed []byte
	s.BeforeCompact = func() error {
		handed = append(handed, s.Buf[len(handed)-int(s.Base):s.Pos]...)
		return nil
	}
	for {
		if _, err := s.Next(7); err != nil {
			break
		}
	}
	// Consumed bytes are handed over before every move: all but the
	// short tail that Next could not take.
	if want := len(data) - len(data)%7; len(handed) != want {
		t.Fatalf("handed %d bytes before compaction, want %d", len(handed), want)
	}
	stop := errors.New("sink failed")
	s.BeforeCompact = func() error { return stop }
	s.Pos = 0
	if err := s.Fill(s.End + 1); err != stop {
		t.Fatalf("Fill: %v, want the hook's error", err)
	}
}

func TestSourceRest(t *testing.T) {
	var s Source
	s.Init(bytes.NewReader([]byte("headbody")), 0, 16, 64)
	if _, err := s.Next(4); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(s.Rest())
	if string(rest) != "body" {
		t.Fatalf("rest %q", rest)
	}
	s.InitBytes([]byte("headbody"), 0)
	s.Pos = 4
	rest, _ = io.ReadAll(s.Rest())
	if string(rest) != "body" {
		t.Fatalf("whole rest %q", rest)
	}
}

func TestCompareZ(t *testing.T) {
	for _, c := range []struct {
		s1   float64
		m1   string
		s2   float64
		m2   string
		want int
	}{
		{1, "b", 2, "a", -1},
		{2, "a", 1, "b", 1},
		{1, "a", 1, "b", -1},
		{1, "ab", 1, "a", 1},
		{0, "a", math.Copysign(0, -1), "a", 0},
	} {
		if got := CompareZ(c.s1, []byte(c.m1), c.s2, []byte(c.m2)); got != c.want {
			t.Errorf("CompareZ(%v %q, %v %q) = %d, want %d", c.s1, c.m1, c.s2, c.m2, got, c.want)
		}
	}
}

func TestQuoteBytes(t *testing.T) {
	if got := QuoteBytes([]byte("a\x00b")); got != `"a\x00b"` {
		t.Errorf("got %s", got)
	}
	long := QuoteBytes(bytes.Repeat([]byte("k"), 200))
	if want := `"` + string(bytes.Repeat([]byte("k"), 80)) + `"...200 bytes`; long != want {
		t.Errorf("got %s", long)
	}
}
