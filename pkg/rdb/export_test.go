package rdb

// ParallelLimits are the tunables of the parallel check, for tests.
type ParallelLimits struct {
	BatchJobs, BatchBytes, PendingPerWorker, MinJobBytes int
}

// SetParallelLimits changes how many values (and bytes) a parallel batch
// holds, how many batches each worker may have in flight and the size under
// which values are checked by the parser; it returns a function restoring
// the defaults.
func SetParallelLimits(l ParallelLimits) (restore func()) {
	j, b, w, m := batchMaxJobs, batchMaxBytes, pendingPerWorker, minJobBytes
	batchMaxJobs, batchMaxBytes, pendingPerWorker, minJobBytes = l.BatchJobs, l.BatchBytes, l.PendingPerWorker, l.MinJobBytes
	return func() { batchMaxJobs, batchMaxBytes, pendingPerWorker, minJobBytes = j, b, w, m }
}

// SetParallelWriteLimits changes the parallel writer's chunk size and the
// size from which strings are compressed in place, for tests; it returns a
// function restoring the defaults.
func SetParallelWriteLimits(chunk, direct int) (restore func()) {
	c, d := parChunkBytes, parDirectBytes
	parChunkBytes, parDirectBytes = chunk, direct
	return func() { parChunkBytes, parDirectBytes = c, d }
}

// WeakenRepeatHash makes the repeat check's 64-bit element hash two bits
// wide, so that the exact comparison behind it decides nearly every time; it
// returns a function restoring the full hash.
func WeakenRepeatHash() (restore func()) {
	elemHashMask = 3
	return func() { elemHashMask = ^uint64(0) }
}
