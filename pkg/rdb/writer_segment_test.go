package rdb_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"

	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// segmentCopy copies src with every key encoded by one of three
// SegmentWriters, taken in turn, a segment being 1 to 5 keys (cut at random
// with seed), spliced with WriteSegment; the other records go to the Writer
// between segments.
func segmentCopy(src []byte, opts rdb.WriterOptions, seed uint64) ([]byte, error) {
	r := rdb.NewReaderBytes(src, rdb.ReaderOptions{})
	defer r.Close()
	var out bytes.Buffer
	w := rdb.NewWriter(&out, opts)
	segs := []*rdb.SegmentWriter{w.NewSegmentWriter(), w.NewSegmentWriter(), w.NewSegmentWriter()}
	rng := rand.New(rand.NewPCG(seed, 1))
	cur, left := 0, 0
	splice := func() error {
		s := segs[cur]
		err := w.WriteSegment(s)
		s.Reset()
		cur = (cur + 1) % len(segs)
		left = 0
		return err
	}
	for {
		e, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if e.Kind != rdb.EntryKey {
			if err := splice(); err != nil {
				return nil, err
			}
			if err := w.WriteEntry(e); err != nil {
				return nil, err
			}
			continue
		}
		v, err := r.ReadValue(0)
		if err != nil {
			return nil, err
		}
		if left == 0 {
			left = 1 + rng.IntN(5)
		}
		if err := segs[cur].WriteKey(e, v); err != nil {
			return nil, err // WriteSegment must return it too; checked in TestSegmentError
		}
		if left--; left == 0 {
			if err := splice(); err != nil {
				return nil, err
			}
		}
	}
	if err := splice(); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// TestSegmentWriteMatchesSequential copies every fixture and corpus RDB file
// with its keys encoded in segments (SegmentWriter, WriteSegment), with and
// without compression workers on the Writer, and requires the bytes of the
// sequential Writer, at the file's own version and at version 10.
func TestSegmentWriteMatchesSequential(t *testing.T) {
	files := 0
	for _, c := range copySources(t) {
		p, src, own := c.path, c.src, c.own
		for _, opts := range []rdb.WriterOptions{own, lowerOptions(10)} {
			want, _, err := rdbCopy(src, opts, copyValues)
			if err != nil {
				continue // refused either way
			}
			files++
			for _, workers := range []int{0, 2} {
				o := opts
				o.CompressWorkers = workers
				got, err := segmentCopy(src, o, uint64(files))
				if err != nil {
					t.Fatalf("%s: %d workers: %v", p, workers, err)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("%s: %d workers: %d bytes differ from the sequential %d at byte %d",
						p, workers, len(got), len(want), firstDiff(got, want))
				}
			}
		}
	}
	t.Logf("%d copies compared", files)
}

// segmentKeys makes n keys of every kind, in databases 0, 1 and 3, some
// with a TTL, some compressible and some big.
func segmentKeys(n int) ([]rdb.Entry, []rdb.Value) {
	rng := rand.New(rand.NewPCG(7, 7))
	ents := make([]rdb.Entry, n)
	vals := make([]rdb.Value, n)
	word := func() []byte {
		return bytes.Repeat([]byte(strconv.Itoa(rng.IntN(1000))), 1+rng.IntN(40))
	}
	for i := range n {
		ents[i] = rdb.Entry{Kind: rdb.EntryKey, DB: []int{0, 1, 3}[i/7%3], Key: []byte("key:" + strconv.Itoa(i))}
		if i%5 == 0 {
			ents[i].HasExpire, ents[i].ExpireAtMs = true, 1e12+int64(i)
		}
		m := 1 + rng.IntN(20)
		if i%11 == 0 {
			m = 600 // past the compact encodings
		}
		var v rdb.Value
		switch i % 5 {
		case 0:
			v = rdb.Value{Kind: rdb.KindString, String: word()}
		case 1:
			v.Kind = rdb.KindList
			for range m {
				v.List = append(v.List, word())
			}
		case 2:
			v.Kind = rdb.KindSet
			for j := range m {
				v.Set = append(v.Set, append([]byte(strconv.Itoa(j)+":"), word()...))
			}
		case 3:
			v.Kind = rdb.KindZSet
			for j := range m {
				v.ZSet = append(v.ZSet, rdb.ZMember{Member: []byte("m" + strconv.Itoa(j)), Score: rng.Float64() * 100})
			}
		case 4:
			v.Kind = rdb.KindHash
			for j := range m {
				v.Hash = append(v.Hash, rdb.HashField{Field: []byte("f" + strconv.Itoa(j)), Value: word()})
			}
		}
		vals[i] = v
	}
	return ents, vals
}

// TestSegmentWritersConcurrently encodes segments of keys of every kind on
// goroutines of their own and splices them in order: the file is the
// sequential Writer's, byte for byte.
func TestSegmentWritersConcurrently(t *testing.T) {
	ents, vals := segmentKeys(3000)
	opts := rdb.WriterOptions{Version: 11}
	var want bytes.Buffer
	w := rdb.NewWriter(&want, opts)
	for i := range ents {
		if err := w.WriteKey(&ents[i], &vals[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	for _, size := range []int{1, 7, 100} {
		var got bytes.Buffer
		w := rdb.NewWriter(&got, opts)
		var segs []*rdb.SegmentWriter
		var wg sync.WaitGroup
		for from := 0; from < len(ents); from += size {
			s := w.NewSegmentWriter()
			segs = append(segs, s)
			wg.Add(1)
			go func(from int) {
				defer wg.Done()
				for i := from; i < min(from+size, len(ents)); i++ {
					if s.WriteKey(&ents[i], &vals[i]) != nil {
						return // WriteSegment reports it
					}
				}
			}(from)
		}
		wg.Wait()
		for _, s := range segs {
			if err := w.WriteSegment(s); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Fatalf("segments of %d keys: %d bytes differ from the sequential %d at byte %d",
				size, got.Len(), want.Len(), firstDiff(got.Bytes(), want.Bytes()))
		}
	}
}

// TestSegmentError: a key the segment refuses fails WriteSegment, and the
// Writer, with the same error the Writer would have given (naming the key);
// the drop counts of the segments spliced are the Writer's.
func TestSegmentError(t *testing.T) {
	var out bytes.Buffer
	w := rdb.NewWriter(&out, rdb.WriterOptions{Version: 8, DropStreams: true})
	s := w.NewSegmentWriter()
	stream := &rdb.Value{Kind: rdb.KindStream, Stream: &rdb.Stream{}}
	if err := s.WriteKey(&rdb.Entry{Kind: rdb.EntryKey, Key: []byte("s")}, stream); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteSegment(s); err != nil {
		t.Fatal(err)
	}
	s.Reset()
	if got := fmt.Sprint(w.Dropped()); got != fmt.Sprint([]rdb.DropCount{{Feature: rdb.FeatureStreams, Count: 1}}) {
		t.Errorf("Dropped after a segment: %s", got)
	}
	empty := &rdb.Value{Kind: rdb.KindList}
	segErr := s.WriteKey(&rdb.Entry{Kind: rdb.EntryKey, Key: []byte("empty")}, empty)
	if segErr == nil {
		t.Fatal("an empty list was encoded")
	}
	err := w.WriteSegment(s)
	var we *rdb.WriteError
	if !errors.As(err, &we) || string(we.Key) != "empty" || err != segErr {
		t.Fatalf("WriteSegment: %v, want the segment's error %v", err, segErr)
	}
	if w.Err() != err || w.Close() != err {
		t.Errorf("the Writer's error: %v, Close %v", w.Err(), w.Close())
	}
}
