// Command rdbtool verifies, inspects and converts Redis/Valkey RDB and AOF files
// offline. See docs/cli.md.
package main

import (
	"context"
	"os"
	"os/signal"
)

// version is set at release time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	go func() {
		// After the first Ctrl-C, let a second one kill the process at once.
		<-ctx.Done()
		stop()
	}()
	stopProfile := startProfile(os.Stderr)
	code := run(ctx, os.Args, os.Stdin, os.Stdout, os.Stderr)
	stopProfile()
	stop()
	os.Exit(code)
}
