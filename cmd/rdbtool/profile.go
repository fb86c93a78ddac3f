package main

import (
	"fmt"
	"io"
	"os"
	"runtime/pprof"
)

// startProfile writes a CPU profile to the file named by RDBTOOL_CPUPROFILE,
// when set, until the returned function is called. It is meant for the
// benchmarks in docs/benchmarks.md, not for everyday use, hence an
// environment variable rather than a flag in every command's help.
func startProfile(stderr io.Writer) func() {
	path := os.Getenv("RDBTOOL_CPUPROFILE")
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintf(stderr, "rdbtool: RDBTOOL_CPUPROFILE: %v\n", err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintf(stderr, "rdbtool: RDBTOOL_CPUPROFILE: %v\n", err)
		f.Close()
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}
