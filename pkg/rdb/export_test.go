package rdb

// SetBatchLimits changes how many values (and bytes) a parallel batch holds
// and how many batches each worker may have in flight, for tests; it returns a
// function restoring the defaults.
func SetBatchLimits(jobs, bytes, perWorker int) (restore func()) {
	j, b, w := batchMaxJobs, batchMaxBytes, pendingPerWorker
	batchMaxJobs, batchMaxBytes, pendingPerWorker = jobs, bytes, perWorker
	return func() { batchMaxJobs, batchMaxBytes, pendingPerWorker = j, b, w }
}
