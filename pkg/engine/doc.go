// Package engine will hold the in-memory Redis data model that replays AOF
// commands offline. It is part of the project layout from the start; its
// implementation is tracked by the engine issue and nothing here is usable yet.
package engine
