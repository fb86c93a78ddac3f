// Package convert composes the rdb, aof and engine packages into the
// pipelines behind rdbtool's commands. Each takes readers and writers of those
// packages, never paths (AOFFiles resolves what a server would load in an
// fs.FS, and a replay opens the files there or through the caller's opener),
// and never prints:
//
//	rdb.Reader -> DumpJSON / DumpCSV        lossless JSON lines (docs/json.md), CSV report
//	JSONReader -> rdb.Writer                 the dump's JSON back into an RDB
//	rdb.Reader -> RDBToAOF -> aof.Writer     commands that rebuild every key, or RESTORE payloads
//	AOFFiles -> ReplayAOF -> engine.Engine   offline replay of an AOF file or folder
//	engine.Engine -> WriteEngine -> rdb.Writer  the replayed dataset as an RDB
//
// Filter selects keys (database, glob, regex, type, expiry) the same way in
// every pipeline.
//
// Output is a pure function of the input and the options: the same input gives
// the same bytes, whatever DumpOptions.Workers is (the parallel dump renders
// lines on worker goroutines and writes them in file order) and whatever the
// Writer's CompressWorkers are (WriteEngine encodes parts of the dataset on
// that many goroutines and splices them in order). Memory stays
// bounded by the largest element for the RDB pipelines; a replay holds the
// replayed dataset in the engine.
package convert
