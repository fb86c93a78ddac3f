// Package convert will compose the rdb, aof and engine packages into the
// conversion pipelines (rdb<->json, rdb<->aof, aof->rdb, rewrite). It is part of
// the project layout from the start; nothing here is usable yet.
package convert
