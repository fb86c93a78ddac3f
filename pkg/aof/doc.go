// Package aof will read and write Redis append-only files (RESP commands,
// multi-part manifests, #TS annotations). It is part of the project layout from
// the start; its implementation is tracked by the AOF issue and nothing here is
// usable yet.
package aof
