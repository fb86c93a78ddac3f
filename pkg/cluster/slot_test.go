package cluster

import (
	"fmt"
	"strings"
	"testing"
)

func TestCRC16(t *testing.T) {
	// The check value of CRC16-XMODEM, and the example of the cluster spec.
	if got := CRC16([]byte("123456789")); got != 0x31C3 {
		t.Fatalf("CRC16(123456789) = %#x, want 0x31c3", got)
	}
}

func TestSlot(t *testing.T) {
	for _, tc := range []struct {
		key  string
		same string // a key that must share the slot
		slot int    // -1: not checked
	}{
		{"foo", "", 12182}, // redis-cli CLUSTER KEYSLOT foo
		{"bar", "", 5061},
		{"{user1000}.following", "{user1000}.followers", -1},
		{"foo{}{bar}", "foo{}{bar}", -1},         // "{}" is no tag: the whole key
		{"foo{{bar}}zap", "{bar", -1},            // the tag is "{bar"
		{"foo{bar}{zap}", "bar", -1},             // the first tag only
		{"{}", "{}", 15257},                      // whole key
		{"a{b", "a{b", -1},                       // no closing brace
		{"{a}", "a", 15495},                      // tag "a"
		{"", "", 0},                              // empty key
		{"\xff\x00{\x80}", "\x80", -1},           // binary
		{"{user1000}", "user1000", -1},           // tag is the inside
		{"x}{y}", "y", -1},                       // a '}' before the '{' does not count
		{"{{}}", "{", -1},                        // tag "{"
		{"abc{}def{ghi}", "abc{}def{ghi}", -1},   // the first '{' decides: empty tag
		{"{\r\n}", "\r\n", -1},                   // any bytes
		{"user:{42}:name", "{42}", -1},           // same tag, same slot
		{"{42}", "42", -1},                       // and the tag alone
		{strings.Repeat("k", 1000), "", -1},      // long keys
		{"{" + strings.Repeat("t", 300), "", -1}, // no closing brace in a long key
	} {
		got := Slot([]byte(tc.key))
		if tc.slot >= 0 && got != tc.slot {
			t.Errorf("Slot(%q) = %d, want %d", tc.key, got, tc.slot)
		}
		if tc.same != "" && Slot([]byte(tc.same)) != got {
			t.Errorf("Slot(%q) = %d, Slot(%q) = %d: want the same", tc.key, got, tc.same, Slot([]byte(tc.same)))
		}
		if got < 0 || got >= NumSlots {
			t.Errorf("Slot(%q) = %d", tc.key, got)
		}
	}
}

func TestTag(t *testing.T) {
	longest := 0
	for s := range NumSlots {
		tag := Tag(s)
		if Slot([]byte("{"+tag+"}anything")) != s {
			t.Fatalf("Tag(%d) = %q lands elsewhere", s, tag)
		}
		longest = max(longest, len(tag))
	}
	if longest > 4 {
		t.Errorf("the longest tag has %d bytes", longest)
	}
}

func ExampleSlot() {
	fmt.Println(Slot([]byte("foo")), Slot([]byte("{user1000}.following")) == Slot([]byte("{user1000}.followers")))
	// Output: 12182 true
}
