package rdb

// SetBatchLimits changes how many values (and bytes) a parallel batch holds, for
// tests; it returns a function restoring the defaults.
func SetBatchLimits(jobs, bytes int) (restore func()) {
	j, b := batchMaxJobs, batchMaxBytes
	batchMaxJobs, batchMaxBytes = jobs, bytes
	return func() { batchMaxJobs, batchMaxBytes = j, b }
}

// SetParallelWriteLimits changes the parallel writer's chunk size and the
// size from which strings are compressed in place, for tests; it returns a
// function restoring the defaults.
func SetParallelWriteLimits(chunk, direct int) (restore func()) {
	c, d := parChunkBytes, parDirectBytes
	parChunkBytes, parDirectBytes = chunk, direct
	return func() { parChunkBytes, parDirectBytes = c, d }
}
