//go:build !unix

package main

import "os"

// mapFile is not available here; callers fall back to reading.
func mapFile(*os.File, int64) (*mapping, bool) { return nil, false }

type mapping struct{ data []byte }

func (m *mapping) release(int64) {}
func (m *mapping) unmap() error  { return nil }
