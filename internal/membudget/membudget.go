// Package membudget is the process's memory budget: the limit set by
// rdbtool's --max-memory (by default a share of the machine's or the
// cgroup's memory), which the Go runtime is told as its soft limit
// (debug.SetMemoryLimit), and which growth that the input asks for is
// checked against before it is allocated: a SETRANGE or SETBIT at a huge
// offset, a long JSON line. Such growth fails with an *Error naming what
// needed the memory, never with the runtime's "out of memory" crash.
//
// The budget is process-wide, like the runtime's limit; Check is safe for
// concurrent use.
package membudget

import (
	"bufio"
	"fmt"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync/atomic"
)

var limit atomic.Int64 // bytes; 0: no budget

// SetLimit sets the budget, and the runtime's soft memory limit with it; 0
// removes both.
func SetLimit(n int64) {
	limit.Store(n)
	if n <= 0 {
		debug.SetMemoryLimit(-1 >> 1) // math.MaxInt64: no limit
		return
	}
	debug.SetMemoryLimit(n)
}

// Limit is the budget in bytes, 0 when there is none.
func Limit() int64 { return limit.Load() }

// minChecked is the smallest growth Check measures: below it the memory
// already held by the input's own bytes dominates, and reading the heap's
// size would cost more than the growth.
const minChecked = 64 << 10

// Error is growth the budget cannot hold.
type Error struct {
	What  string // what asked for the memory ("SETRANGE at offset 81 of a.aof")
	Need  int64  // bytes asked for
	InUse int64  // bytes of heap in use when it asked
	Limit int64
}

func (e *Error) Error() string {
	return fmt.Sprintf("memory budget exceeded: %s needs %s more, with %s of the %s budget in use (raise it with --max-memory)",
		e.What, Bytes(e.Need), Bytes(e.InUse), Bytes(e.Limit))
}

// Check reports whether n more bytes fit the budget; what names what asks
// for them, for the message. Growth under 64 KiB is not measured.
func Check(n int64, what string) error {
	l := limit.Load()
	if l <= 0 || n < minChecked {
		return nil
	}
	inUse := HeapInUse()
	if n > l-inUse {
		return &Error{What: what, Need: n, InUse: inUse, Limit: l}
	}
	return nil
}

// HeapInUse is the memory of heap objects, live or not yet swept.
func HeapInUse() int64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return int64(s[0].Value.Uint64())
}

// Default is the budget when none is given: half of the machine's memory,
// or of the cgroup's limit when that is lower (a container's), and 0 when
// neither can be read.
func Default() int64 {
	total := machineMemory()
	if c := cgroupLimit(); c > 0 && (total == 0 || c < total) {
		total = c
	}
	return total / 2
}

// machineMemory reads MemTotal from /proc/meminfo.
func machineMemory() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
}

// cgroupLimit reads the memory limit of the process's cgroup (v2, else v1);
// 0 when there is none.
func cgroupLimit() int64 {
	for _, p := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		if err == nil && v > 0 && v < 1<<60 { // v1 says "no limit" with a huge number
			return v
		}
	}
	return 0
}

// Parse reads a size: bytes, or a number with a unit (K, M, G, T, with or
// without "B" or "iB"; all binary), or a percentage of the default base
// (the machine's or cgroup's memory): "4GiB", "512M", "75%".
func Parse(s string) (int64, error) {
	t := strings.TrimSpace(s)
	if strings.HasSuffix(t, "%") {
		p, err := strconv.ParseFloat(strings.TrimSuffix(t, "%"), 64)
		if err != nil || p <= 0 || p > 100 {
			return 0, fmt.Errorf("%q: a percentage is between 0 and 100", s)
		}
		return int64(float64(Default()*2) * p / 100), nil
	}
	upper := strings.ToUpper(t)
	upper = strings.TrimSuffix(strings.TrimSuffix(upper, "IB"), "B")
	mult := int64(1)
	if n := len(upper); n > 0 {
		switch upper[n-1] {
		case 'K':
			mult = 1 << 10
		case 'M':
			mult = 1 << 20
		case 'G':
			mult = 1 << 30
		case 'T':
			mult = 1 << 40
		}
		if mult > 1 {
			upper = upper[:n-1]
		}
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(upper), 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("%q is not a size such as 4GiB, 512M or 75%%", s)
	}
	return int64(v * float64(mult)), nil
}

// Bytes renders a size for messages.
func Bytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return strconv.FormatInt(n, 10) + " bytes"
}
