package memory

import "math/bits"

// sizeClass is the usable size jemalloc 5.3 gives a request of n bytes on
// x86-64 with its default 16-byte quantum and 4 KiB pages (Debian's
// libjemalloc2, which Debian's redis-server links): 8, 16, 32, 48, 64, then
// four classes per doubling (80, 96, 112, 128, 160, ...), small and large
// alike. zmalloc_size and so MEMORY USAGE report these sizes. Redis's bundled
// jemalloc is built with an 8-byte quantum instead (24, 40, 56 exist there);
// the model follows the Debian build it is tested against.
func sizeClass(n int64) int64 {
	switch {
	case n <= 8:
		return 8
	case n <= 64:
		return (n + 15) &^ 15
	}
	// n in (2^k, 2^(k+1)]: classes are 2^(k-2) apart.
	k := 63 - bits.LeadingZeros64(uint64(n-1))
	step := int64(1) << (k - 2)
	return (n + step - 1) / step * step
}

// sdsAlloc is the allocation of an sds string of length n made by sdsnewlen:
// the smallest header type that holds n, the bytes and a terminating NUL.
func sdsAlloc(n int) int64 {
	hdr := 17
	switch {
	case n == 0:
		hdr = 3 // an empty sds is never type 5
	case n < 1<<5:
		hdr = 1
	case n < 1<<8:
		hdr = 3
	case n < 1<<16:
		hdr = 5
	case uint64(n) < 1<<32:
		hdr = 9
	}
	return sizeClass(int64(hdr + n + 1))
}
