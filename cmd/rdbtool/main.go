// Command rdbtool verifies, inspects and converts Redis/Valkey RDB and AOF files
// offline. See docs/cli.md.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// version is set at release time with -ldflags "-X main.version=...".
var version = "dev"

// interruptGrace is how long a command has, after SIGINT, SIGTERM or SIGHUP,
// to stop on its own (every reader and writer checks the context); then the
// temporary files are removed and the process exits regardless, so that no
// code path can make an interrupt wait. A second signal does not wait.
const interruptGrace = 600 * time.Millisecond

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		<-signals
		cancel()
		select {
		case <-signals:
		case <-time.After(interruptGrace):
		}
		exitOnInterrupt()
	}()
	stopProfile := startProfile(os.Stderr)
	code := run(ctx, os.Args, os.Stdin, os.Stdout, os.Stderr)
	stopProfile()
	os.Exit(code)
}

// exitOnInterrupt ends a process whose command did not stop in time: it waits
// for a rename in progress to finish (commitGate), then removes every
// temporary file and exits with exitInterrupted. It never returns, and holds
// commitGate to the end so that no commit starts meanwhile.
func exitOnInterrupt() {
	commitGate.Lock()
	removeTemps()
	fmt.Fprintln(os.Stderr, interruptMessage+" (stopped by the interrupt handler)")
	os.Exit(exitInterrupted)
}

// interruptMessage is what an interrupted command says, whether it stopped on
// its own or was stopped after interruptGrace.
const interruptMessage = "rdbtool: interrupted: stopped; temporary files removed, outputs left as they were"
