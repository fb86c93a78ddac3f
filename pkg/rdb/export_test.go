package rdb

// SetBatchLimits changes how many values (and bytes) a parallel batch holds, for
// tests; it returns a function restoring the defaults.
func SetBatchLimits(jobs, bytes int) (restore func()) {
	j, b := batchMaxJobs, batchMaxBytes
	batchMaxJobs, batchMaxBytes = jobs, bytes
	return func() { batchMaxJobs, batchMaxBytes = j, b }
}
