package rdb_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// payloadTargets are the versions payloads are tested at.
var payloadTargets = []int{7, 9, 10, 11, 12}

// eachKey calls fn for every key of an RDB file, with the Reader positioned
// on its value, which fn may read or leave.
func eachKey(t testing.TB, data []byte, fn func(e *rdb.Entry, r *rdb.Reader)) {
	t.Helper()
	r := rdb.NewReaderBytes(data, rdb.ReaderOptions{})
	defer r.Close()
	for {
		e, err := r.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if e.Kind == rdb.EntryKey {
			fn(e, r)
		}
	}
}

// readValue is r.ReadValue that fails the test.
func readValue(t testing.TB, r *rdb.Reader) *rdb.Value {
	t.Helper()
	v, err := r.ReadValue(0)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// encodeElems makes the payload of the current key of r element by element.
func encodeElems(t testing.TB, p *rdb.PayloadWriter, e *rdb.Entry, r *rdb.Reader) ([]byte, error) {
	t.Helper()
	if err := p.StartKey(e, e.Type.Kind(), rdb.UnknownCount); err != nil {
		return nil, err
	}
	for {
		el, err := r.NextElem()
		if err == io.EOF {
			return p.EndKey()
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := p.WriteElem(el); err != nil {
			return nil, err
		}
	}
}

// TestPayloadWriter encodes every value of the fixtures and corpus dumps at
// each target version, element by element and whole, and checks that the
// two give the same bytes, that the footer holds the version and a good
// CRC-64, and that the value read back from the payload is the one a file
// written for that target holds.
func TestPayloadWriter(t *testing.T) {
	for _, src := range writerSources(t) {
		for _, v := range payloadTargets {
			t.Run(src.name+"/v"+strconv.Itoa(v), func(t *testing.T) {
				t.Parallel()
				opts := lowerOptions(v)
				file, _, err := rdbCopy(src.data, opts, copyValues)
				if err != nil {
					t.Fatal(err)
				}
				var want []string // the values of the file written for v
				eachKey(t, file, func(e *rdb.Entry, r *rdb.Reader) {
					want = append(want, fmt.Sprintf("%q %s", e.Key, valueDump(readValue(t, r))))
				})
				var values []*rdb.Value // the source's values, given whole
				eachKey(t, src.data, func(_ *rdb.Entry, r *rdb.Reader) { values = append(values, readValue(t, r)) })
				byElems, whole := rdb.NewPayloadWriter(opts), rdb.NewPayloadWriter(opts)
				var got []string
				i := 0
				eachKey(t, src.data, func(e *rdb.Entry, r *rdb.Reader) {
					key := bytes.Clone(e.Key)
					payload, err := encodeElems(t, byElems, e, r)
					again, err2 := whole.Encode(&rdb.Entry{Key: key}, values[i])
					i++
					switch {
					case err != nil || err2 != nil:
						t.Fatalf("key %q: by elements: %v, whole: %v", key, err, err2)
					case !bytes.Equal(payload, again):
						t.Fatalf("key %q: the element path and Encode give different payloads", key)
					case payload == nil:
						return // dropped: a stream below 9
					}
					if pv, ok := rdb.PayloadVersion(payload); pv != v || !ok {
						t.Fatalf("key %q: footer version %d, checksum ok %v", key, pv, ok)
					}
					pr, pe, err := rdb.OpenPayload(key, payload, rdb.ReaderOptions{Strict: true})
					if err != nil {
						t.Fatalf("key %q: %v", key, err)
					}
					if !bytes.Equal(pe.Key, key) {
						t.Fatalf("OpenPayload gave key %q, want %q", pe.Key, key)
					}
					back := readValue(t, pr)
					if _, err := pr.Next(); err != io.EOF {
						t.Fatalf("key %q: after the value: %v", key, err)
					}
					pr.Close()
					got = append(got, fmt.Sprintf("%q %s", key, valueDump(back)))
				})
				if d := diffLines(want, got); d != "" {
					t.Errorf("payload values differ from the file's:\n%s", d)
				}
			})
		}
	}
}

// TestPayloadWriterErrors checks refusals, drops and that an error ends only
// its own key.
func TestPayloadWriterErrors(t *testing.T) {
	hashTTL := &rdb.Value{Kind: rdb.KindHash, Hash: []rdb.HashField{{Field: []byte("f"), Value: []byte("v"), ExpireAtMs: 4102444800000}}}
	str := &rdb.Value{Kind: rdb.KindString, String: []byte("hello")}
	stream := &rdb.Value{Kind: rdb.KindStream, Stream: &rdb.Stream{
		Entries:    []rdb.StreamEntry{{ID: rdb.StreamID{Ms: 1, Seq: 1}, Fields: [][]byte{[]byte("a"), []byte("b")}}},
		StreamMeta: rdb.StreamMeta{Length: 1, LastID: rdb.StreamID{Ms: 1, Seq: 1}, FirstID: rdb.StreamID{Ms: 1, Seq: 1}, EntriesAdded: 1}}}

	p := rdb.NewPayloadWriter(rdb.WriterOptions{Version: 11})
	_, err := p.Encode(&rdb.Entry{Key: []byte("h1")}, hashTTL)
	var ue *rdb.UnsupportedError
	if !errors.As(err, &ue) || ue.Feature != rdb.FeatureFieldTTLs || !strings.Contains(err.Error(), `"h1"`) {
		t.Fatalf("field TTLs at 11: %v", err)
	}
	if strings.Contains(err.Error(), "Drop") {
		t.Errorf("error %q names a Go option", err)
	}
	// The next key is encoded as if nothing happened.
	b, err := p.Encode(&rdb.Entry{Key: []byte("s")}, str)
	if err != nil {
		t.Fatalf("a key after a refused one: %v", err)
	}
	if v, ok := rdb.PayloadVersion(b); v != 11 || !ok {
		t.Fatalf("footer %d %v", v, ok)
	}
	// The same through StartKey: WriteElem and EndKey keep returning the error.
	if err := p.StartKey(&rdb.Entry{Key: []byte("h2")}, rdb.KindHash, rdb.UnknownCount); err != nil {
		t.Fatal(err)
	}
	err = p.WriteElem(&rdb.Elem{Kind: rdb.ElemField, Member: []byte("f"), Value: []byte("v"), ExpireAtMs: 1})
	if err == nil {
		// the hash may wait for more fields before it decides its type
		_, err = p.EndKey()
	} else if _, err2 := p.EndKey(); err2 == nil {
		t.Fatal("EndKey after a failed WriteElem succeeded")
	}
	if !errors.As(err, &ue) || ue.Feature != rdb.FeatureFieldTTLs {
		t.Fatalf("field TTLs at 11 by elements: %v", err)
	}
	if _, err := p.Encode(&rdb.Entry{Key: []byte("s")}, str); err != nil {
		t.Fatal(err)
	}

	// Drop flags: the field stays without its TTL; a stream below 9 is dropped.
	p = rdb.NewPayloadWriter(rdb.WriterOptions{Version: 7, DropFieldTTLs: true, DropStreams: true})
	b, err = p.Encode(&rdb.Entry{Key: []byte("h")}, hashTTL)
	if err != nil || b == nil {
		t.Fatalf("dropped field TTLs: %q, %v", b, err)
	}
	if b, err := p.Encode(&rdb.Entry{Key: []byte("x")}, stream); b != nil || err != nil {
		t.Fatalf("a stream at 7 with DropStreams: %q, %v", b, err)
	}
	if d := fmt.Sprint(p.Dropped()); d != "[{field-ttls 1} {streams 1}]" {
		t.Errorf("Dropped = %s", d)
	}

	// Key metadata has no place in a payload.
	p = rdb.NewPayloadWriter(rdb.WriterOptions{Version: 13})
	if _, err := p.Encode(&rdb.Entry{Key: []byte("m"), KeyMeta: []byte{1}}, str); !errors.As(err, &ue) || ue.Feature != rdb.FeatureKeyMeta {
		t.Fatalf("key metadata: %v", err)
	}
	p = rdb.NewPayloadWriter(rdb.WriterOptions{Version: 13, DropKeyMeta: true})
	if _, err := p.Encode(&rdb.Entry{Key: []byte("m"), KeyMeta: []byte{1}}, str); err != nil {
		t.Fatalf("key metadata dropped: %v", err)
	}

	// Bad options are reported by every call.
	p = rdb.NewPayloadWriter(rdb.WriterOptions{Version: 3})
	for range 2 {
		if _, err := p.Encode(&rdb.Entry{Key: []byte("s")}, str); err == nil {
			t.Fatal("version 3 accepted")
		}
	}
}

// TestOpenPayload checks what OpenPayload refuses.
func TestOpenPayload(t *testing.T) {
	p := rdb.NewPayloadWriter(rdb.WriterOptions{Version: 10})
	good, err := p.Encode(&rdb.Entry{Key: []byte("k")}, &rdb.Value{Kind: rdb.KindList, List: [][]byte{[]byte("a"), []byte("1")}})
	if err != nil {
		t.Fatal(err)
	}
	good = append([]byte(nil), good...)
	r, e, err := rdb.OpenPayload([]byte("mykey"), good, rdb.ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	v, err := r.ReadValue(0)
	r.Close()
	if err != nil || string(e.Key) != "mykey" || e.Type != rdb.TypeListQuicklist2 || valueDump(v) != `"a","1",` {
		t.Fatalf("read back %q %v %s, %v", e.Key, e.Type, valueDump(v), err)
	}

	bad := append([]byte(nil), good...)
	bad[1] ^= 1
	future := append([]byte(nil), good[:len(good)-10]...)
	future = binary.LittleEndian.AppendUint16(future, 99)
	future = binary.LittleEndian.AppendUint64(future, rdb.CRC64(future))
	opcode := []byte{0xff}
	opcode = binary.LittleEndian.AppendUint16(opcode, 10)
	opcode = binary.LittleEndian.AppendUint64(opcode, rdb.CRC64(opcode))
	for _, tc := range []struct {
		name    string
		payload []byte
		want    error
	}{
		{"short", good[:5], rdb.ErrCorrupt},
		{"checksum", bad, rdb.ErrCorrupt},
		{"opcode for a type", opcode, rdb.ErrCorrupt},
		{"future version", future, nil},
	} {
		_, _, err := rdb.OpenPayload(nil, tc.payload, rdb.ReaderOptions{})
		var ue *rdb.UnsupportedError
		switch {
		case err == nil:
			t.Errorf("%s: accepted", tc.name)
		case tc.want != nil && !errors.Is(err, tc.want):
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		case tc.want == nil && !errors.As(err, &ue):
			t.Errorf("%s: %v, want an *UnsupportedError", tc.name, err)
		}
	}
}

// ExamplePayloadWriter makes a DUMP payload that a Valkey 8 server's RESTORE
// takes, from a value read from a file of any version.
func ExamplePayloadWriter() {
	opts, err := rdb.TargetVersion("valkey:8.0")
	if err != nil {
		panic(err)
	}
	p := rdb.NewPayloadWriter(opts)
	e := &rdb.Entry{Key: []byte("greeting")}
	payload, err := p.Encode(e, &rdb.Value{Kind: rdb.KindString, String: []byte("hello")})
	if err != nil {
		panic(err)
	}
	version, ok := rdb.PayloadVersion(payload)
	fmt.Printf("%d bytes, RDB %d, checksum ok: %v\n", len(payload), version, ok)
	fmt.Printf("RESTORE %s 0 <payload> ABSTTL\n", e.Key)
	// Output:
	// 17 bytes, RDB 11, checksum ok: true
	// RESTORE greeting 0 <payload> ABSTTL
}
