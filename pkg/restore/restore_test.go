package restore

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/rdbtool/rdbtool/pkg/resp"
)

func TestRDBVersionOf(t *testing.T) {
	for _, tc := range []struct {
		family, version string
		want            int
	}{
		{"redis", "7.0.15", 10}, {"redis", "7.2.4", 11}, {"redis", "6.2.14", 9}, {"redis", "5.0.0", 9},
		{"redis", "4.0.14", 8}, {"redis", "3.2.12", 7}, {"redis", "3.0.7", 6}, {"redis", "2.4.0", 2},
		{"redis", "7.4.1", 12}, {"redis", "8.6.0", 13}, {"redis", "9.1.0", 13},
		{"valkey", "8.0.1", 11}, {"valkey", "9.0.0", 80}, {"valkey", "7.2.5", 11},
		{"redis", "255.255.255", 0}, {"redis", "", 0}, {"redis", "1.2.6", 0},
	} {
		if got := RDBVersionOf(tc.family, tc.version); got != tc.want {
			t.Errorf("RDBVersionOf(%s, %s) = %d, want %d", tc.family, tc.version, got, tc.want)
		}
	}
}

func TestAcceptsPayload(t *testing.T) {
	for _, tc := range []struct {
		src, target int
		want        bool
	}{
		{10, 10, true}, {9, 10, true}, {11, 10, false}, {12, 11, false}, {11, 12, true},
		{12, 80, false}, {11, 80, true}, {80, 80, true}, {80, 12, false}, {80, 13, false}, {3, 9, true},
	} {
		if got := AcceptsPayload(tc.src, tc.target); got != tc.want {
			t.Errorf("AcceptsPayload(%d, %d) = %v", tc.src, tc.target, got)
		}
	}
}

func TestClassify(t *testing.T) {
	errRep := func(s string) resp.Reply { return resp.Reply{Kind: resp.KindError, Str: []byte(s)} }
	for msg, want := range map[string]resultKind{
		"BUSYKEY Target key name already exists.":                    resultExists,
		"MOVED 1 127.0.0.1:7000":                                     resultRedirect,
		"ASK 1 127.0.0.1:7000":                                       resultRedirect,
		"TRYAGAIN Multiple keys request during rehashing of slot":    resultRetry,
		"CLUSTERDOWN The cluster is down":                            resultRetry,
		"LOADING Redis is loading the dataset in memory":             resultRetry,
		"ERR DUMP payload version or checksum are wrong":             resultError,
		"EXECABORT Transaction discarded because of previous errors": resultError,
	} {
		if got := classify(errRep(msg)).kind; got != want {
			t.Errorf("classify(%q) = %d, want %d", msg, got, want)
		}
	}
	u := &unit{renamenx: 2}
	ok := resp.Reply{Kind: resp.KindSimple, Str: []byte("OK")}
	exec := func(e ...resp.Reply) resp.Reply { return resp.Reply{Kind: resp.KindArray, Elems: e} }
	one, zero := resp.Reply{Kind: resp.KindInt, Int: 1}, resp.Reply{Kind: resp.KindInt}
	if k := classifyExec(exec(zero, ok, one, one), u).kind; k != resultOK {
		t.Errorf("renamed: %d", k)
	}
	if k := classifyExec(exec(zero, ok, zero, one), u).kind; k != resultExists {
		t.Errorf("not renamed: %d", k)
	}
	if k := classifyExec(exec(zero, ok, errRep("ERR no such key"), zero), u).kind; k != resultExpired {
		t.Errorf("helper expired: %d", k)
	}
	if k := classifyExec(exec(zero, errRep("WRONGTYPE x"), zero, zero), u).kind; k != resultError {
		t.Errorf("error inside: %d", k)
	}
}

// TestTracker checks the resume bookkeeping: what a cut-off run saves, and
// what the next run makes of it.
func TestTracker(t *testing.T) {
	var saved []byte
	keys := int64(0)
	o := &Options{ResumeKey: "k", SaveResume: func(b []byte) error { saved = append([]byte(nil), b...); return nil }}
	tr, err := newTracker(o, 10, func() int64 { return keys })
	if err != nil {
		t.Fatal(err)
	}
	for n := int64(0); n < 25; n++ {
		if err := tr.beforeSend(n); err != nil {
			t.Fatal(err)
		}
	}
	var st resumeState
	json.Unmarshal(saved, &st)
	if st.Horizon != 30 {
		t.Fatalf("horizon %d, want 30 (24 + 10, saved before key 24 went)", st.Horizon)
	}
	// Keys 0-9 and 12, 14 acknowledged; the rest in flight when it stops.
	for _, n := range []int64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 14} {
		tr.finish(n)
	}
	keys = 12
	if err := tr.final(false, 25); err != nil {
		t.Fatal(err)
	}
	json.Unmarshal(saved, &st)
	if st.DoneBelow != 10 || len(st.Done) != 2 || st.Horizon != 25 || st.Complete || st.Keys != 12 {
		t.Fatalf("%+v", st)
	}

	// The next run: 0-9, 12, 14 done; 10, 11, 13, 15-24 uncertain; 25+ new.
	o.Resume = saved
	tr2, err := newTracker(o, 10, func() int64 { return 0 })
	if err != nil {
		t.Fatal(err)
	}
	for n, want := range map[int64][2]bool{0: {true, false}, 12: {true, false}, 10: {false, true}, 24: {false, true}, 25: {false, false}} {
		if tr2.previously(n) != want[0] || tr2.uncertain(n) != want[1] {
			t.Errorf("key %d: previously %v uncertain %v, want %v", n, tr2.previously(n), tr2.uncertain(n), want)
		}
	}
	// It stops again at once: the old uncertain keys stay uncertain.
	tr2.finish(0)
	if err := tr2.final(false, 1); err != nil {
		t.Fatal(err)
	}
	json.Unmarshal(saved, &st)
	if st.Horizon != 25 {
		t.Fatalf("the uncertain keys were forgotten: %+v", st)
	}
	if err := tr2.final(true, 30); err != nil || !ResumeComplete(saved) {
		t.Fatalf("complete: %v %s", err, saved)
	}

	o.ResumeKey = "other"
	var re *ResumeError
	if _, err := newTracker(o, 10, nil); !errors.As(err, &re) {
		t.Fatalf("another run's state: %v", err)
	}
}

func TestFunctionPayloadShape(t *testing.T) {
	p := functionPayload([]byte("#!lua name=x\nredis.register_function('f', function() return 1 end)"), 10)
	if p[0] != 0xF5 || p[len(p)-10] != 10 || p[len(p)-9] != 0 {
		t.Fatalf("% x", p)
	}
	for _, n := range []uint64{0, 63, 64, 16383, 16384, 1 << 32} {
		b := appendRDBLen(nil, n)
		want := map[uint64]int{0: 1, 63: 1, 64: 2, 16383: 2, 16384: 5, 1 << 32: 9}[n]
		if len(b) != want {
			t.Errorf("appendRDBLen(%d) is %d bytes, want %d", n, len(b), want)
		}
	}
}
