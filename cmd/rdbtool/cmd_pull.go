package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/rdbtool/rdbtool/pkg/resp"
	"github.com/urfave/cli/v2"
)

func init() { register(pullCommand) }

const pullDescription = `Takes a fresh RDB snapshot out of a live server over the replication
protocol, as a replica does (REPLCONF capa eof capa psync2, then PSYNC ? -1,
or SYNC on servers without PSYNC), checks it as "rdbtool verify" does while it
arrives, and writes it to OUT. Both transfers are read: the disk-based one
(the master saves a file and sends its length first) and the diskless one
(repl-diskless-sync yes: the master streams the RDB and ends it with a
40-byte EOF mark, which is not written to OUT).

` + urlHelp + `

The user needs the permissions a replica needs (SYNC/PSYNC and REPLCONF; an
ACL user: +psync +replconf +sync). OUT is written to a temporary file beside
it and renamed only when the whole snapshot has arrived and verified; an
existing OUT is replaced only with --force. "-" writes to standard output.
The verdict line goes to standard error: this is redis-cli --rdb with a
verdict. "rdbtool verify URL" does the same and keeps nothing.

Examples:
   rdbtool pull redis://127.0.0.1:6379 backup.rdb
   REDISCLI_AUTH=secret rdbtool pull rediss://backup@cache:6380 - | zstd > backup.rdb.zst
   rdbtool verify redis://replica-3:6379`

func pullCommand() *cli.Command {
	return &cli.Command{
		Name:        "pull",
		Usage:       "take a fresh RDB from a live server over replication, verified, into a file",
		UsageText:   "rdbtool pull [options] URL OUT",
		Description: pullDescription,
		ArgsUsage:   "URL OUT",
		Flags: append([]cli.Flag{
			&cli.BoolFlag{Name: "force", Usage: "replace OUT if it exists"},
			&cli.DurationFlag{Name: "idle-timeout", Value: 5 * time.Minute, Usage: "give up when the server sends nothing for this long (it may take a while to fork)"},
			noProgressFlag(),
		}, tlsFlags()...),
		Action: runPull,
	}
}

func runPull(c *cli.Context) error {
	if c.NArg() != 2 {
		return usagef("pull", "pull needs URL and OUT, got %d arguments", c.NArg())
	}
	rawURL, outPath := c.Args().Get(0), c.Args().Get(1)
	if err := checkPaths(c, []string{outPath}); err != nil {
		return err
	}
	srv, err := parseServer(c, rawURL)
	if err != nil {
		return err
	}
	out, err := createOutput(c, outPath)
	if err != nil {
		return err
	}
	defer out.Abort()
	o := verifyOptions{progress: !c.Bool("no-progress") && isTerminal(c.App.ErrWriter), stderr: c.App.ErrWriter}
	res, err := pullVerified(c.Context, srv, out, o, c.Duration("idle-timeout"))
	line := res.line()
	if err == nil {
		if err = out.Commit(); err != nil {
			return err
		}
		line += " -> " + outPath + " (" + res.Source + ")"
	}
	fmt.Fprintln(c.App.ErrWriter, line)
	if err != nil {
		return &reportedError{Err: err}
	}
	return nil
}

// pullVerified takes a snapshot from srv into w, verifying it as it comes,
// and returns verify's result for it.
func pullVerified(ctx context.Context, srv server, w io.Writer, o verifyOptions, idle time.Duration) (res verifyResult, err error) {
	start := time.Now()
	res = verifyResult{Path: srv.url.String(), Status: "ok", Format: "rdb", Compression: "none", Checksum: "unknown", Warnings: []string{}, name: srv.url.String()}
	defer func() {
		res.Seconds = float64(time.Since(start).Milliseconds()) / 1000
		if err != nil {
			res.Status, res.err = statusWord(err), err
			f := describe(err)
			res.Offset, res.Error = f.Offset, f.What
		}
	}()
	return res, verifyURL(ctx, srv, w, o, &res, idle)
}

// verifyURL runs a full synchronization with the server and passes the
// payload through the RDB verifier, copying it to w as it is read.
func verifyURL(ctx context.Context, srv server, w io.Writer, o verifyOptions, res *verifyResult, idle time.Duration) (err error) {
	defer func() {
		// An interrupt closes the connection: the failed read is its doing.
		if err != nil && ctx.Err() != nil {
			err = ctx.Err()
		}
	}()
	conn, err := srv.dial(ctx, "")
	if err != nil {
		return fmt.Errorf("connecting: %w", err)
	}
	defer conn.Close()
	t, err := conn.FullSync(resp.SyncOptions{Idle: idle})
	if err != nil {
		return err
	}
	kind := "disk transfer"
	if t.Diskless() {
		kind = "diskless transfer"
	}
	in, err := openInput(ctx, "-", io.TeeReader(t, w))
	if err != nil {
		return err
	}
	defer in.Close()
	in.Name, in.Size = srv.url.String(), t.Size
	if err := sniffRDB(in); err != nil {
		return err
	}
	if err := verifyRDBStream(in, o, res, false); err != nil {
		return err
	}
	res.Source = kind + " after " + t.Command
	return nil
}

// verifyServer is "rdbtool verify URL": TLS settings come from the URL.
func verifyServer(ctx context.Context, rawURL string, o verifyOptions, res *verifyResult) error {
	srv, err := parseServer(nil, rawURL)
	if err != nil {
		return err
	}
	res.name = srv.url.String()
	res.Path = strings.Replace(res.Path, rawURL, res.name, 1)
	return verifyURL(ctx, srv, io.Discard, o, res, 5*time.Minute)
}
