package main

import (
	"context"
	"fmt"
	"testing"

	"github.com/rdbtool/rdbtool/pkg/aof"
	"github.com/rdbtool/rdbtool/pkg/convert"
	"github.com/rdbtool/rdbtool/pkg/engine"
	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// TestExitCodeEveryPackage: the errors of every package map to the same exit
// codes without the CLI translating them (issue 9 item 11: a manifest error
// gave 3 in verify but 1 in convert, invalid input caught by the writer 1).
func TestExitCodeEveryPackage(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("appendonly.aof: %w", err) }
	cases := []struct {
		name string
		err  error
		want int
	}{
		{"aof corrupt", &aof.ParseError{Offset: 3, Op: "record", Err: aof.ErrCorrupt}, exitInvalid},
		{"aof truncated", wrap(&aof.ParseError{Offset: 3, Op: "argument", Err: aof.ErrTruncated}), exitInvalid},
		{"aof too large", &aof.ParseError{Err: aof.ErrArgTooLarge}, exitUnsupported},
		{"manifest", wrap(&aof.ManifestError{Line: 2, Err: aof.ErrCorrupt, Detail: "bad line"}), exitInvalid},
		{"manifest I/O", &aof.ManifestError{Err: fmt.Errorf("read: input/output error")}, exitFailure},
		{"engine unsupported", wrap(&engine.UnsupportedError{What: "x"}), exitUnsupported},
		{"engine unknown command", wrap(&engine.UnknownCommandError{Name: "FOO"}), exitUnsupported},
		{"writer invalid value", &rdb.WriteError{Op: "set member", Err: rdb.ErrInvalidValue}, exitInvalid},
		{"writer duplicate", &rdb.WriteError{Op: "hash field", Err: rdb.ErrDuplicate}, exitInvalid},
		{"writer unsupported", &rdb.WriteError{Err: &rdb.UnsupportedError{What: "field TTLs"}}, exitUnsupported},
		{"writer I/O", &rdb.WriteError{Err: fmt.Errorf("write: no space left on device")}, exitFailure},
		{"JSON line", &convert.JSONError{Line: 4, Msg: "bad"}, exitInvalid},
		{"JSON read error", &convert.JSONError{Line: 4, Msg: "x", Err: fmt.Errorf("read: input/output error")}, exitFailure},
		{"interrupted JSON read", &convert.JSONError{Line: 4, Msg: "x", Err: fmt.Errorf("interrupted: %w", context.Canceled)}, exitInterrupted},
		{"interrupted inside a parse error", &rdb.ParseError{Err: fmt.Errorf("interrupted: %w", context.Canceled)}, exitInterrupted},
	}
	for _, c := range cases {
		if got := exitCode(c.err); got != c.want {
			t.Errorf("%s: exitCode(%v) = %d, want %d", c.name, c.err, got, c.want)
		}
	}
}
