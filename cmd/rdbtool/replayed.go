package main

import (
	"bufio"
	"fmt"
	"io"

	"github.com/rdbtool/rdbtool/pkg/convert"
	"github.com/rdbtool/rdbtool/pkg/engine"
	"github.com/rdbtool/rdbtool/pkg/rdb"
	"github.com/urfave/cli/v2"
)

// The commands that read a dataset (dump, inspect, and convert to JSON) take
// an AOF too: it is replayed with the engine, as convert and replay do, and
// the dataset is handed to them as the RDB file a server would save after
// loading it, streamed through a pipe, so that every output format and filter
// works on it as on any RDB file.

// replayFlags are the flags of a command that replays AOF inputs.
func replayFlags() []cli.Flag {
	return []cli.Flag{
		&cli.Int64Flag{Name: "until", Usage: "AOF input: stop at the first #TS: annotation later than `T` (Unix seconds)"},
		&cli.Int64Flag{Name: "until-offset", Usage: "AOF input: stop before the command at or after byte `N` of the last file"},
		&cli.StringFlag{Name: "until-command", Usage: "AOF input: stop just before the first `NAME` command (e.g. FLUSHALL)"},
		serverVersionFlag(),
		strictRepliesFlag(),
	}
}

// openDataset opens PATH for a command that reads a dataset. An RDB file (or
// anything that is neither an RDB nor an AOF, for the caller's RDB reader to
// refuse) is opened as it is. For an AOF (a file, an RDB-preamble file named
// *.aof, a folder, its manifest or a Redis data folder) in is nil and aof
// true: replayDataset reads it, once the command has checked what else it
// must (its output) before the long work.
func openDataset(c *cli.Context, path string) (in *input, aof bool, err error) {
	if dirOrManifest(path) {
		return nil, true, nil
	}
	in, err = openInput(c.Context, path, c.App.Reader)
	if err != nil {
		return nil, false, newFileError(path, nil, err)
	}
	head, err := in.Peek(9)
	if err != nil && err != io.EOF {
		in.Close()
		return nil, false, newFileError(in.Name, in, err)
	}
	if convert.SniffInput(head, inputName(path)) != convert.InputAOF {
		return in, false, nil
	}
	in.Close()
	if path == "-" {
		return nil, false, usagef(c.Command.Name, "an AOF on standard input cannot be replayed (its files are read more than once): give its PATH")
	}
	return nil, true, nil
}

// replayDataset replays the AOF at path (with the --until*, --server-version
// and --strict flags, and a progress bar on a terminal) and returns an input
// that reads the RDB of the result, at the version the data needs. compress
// keeps LZF compression in that RDB (for inspect, whose sizes are those of
// the file a server would save).
func replayDataset(c *cli.Context, path string, compress bool) (*input, convert.ReplayStats, error) {
	e, st, _, o, err := replayForCLI(c, path)
	if err != nil {
		return nil, st, err
	}
	o.NoCompress = !compress
	return engineInput(c, path, e, o), st, nil
}

// inputName is the name SniffInput judges: "" for standard input.
func inputName(path string) string {
	if path == "-" {
		return ""
	}
	return path
}

// engineInput streams the dataset of e as an RDB file written with o: an
// input named path, whose Close stops the writer and waits for it.
func engineInput(c *cli.Context, path string, e *engine.Engine, o rdb.WriterOptions) *input {
	pr := engineRDB(e, o, convert.Filter{})
	in := &input{Path: path, Name: path, Compression: "none", Size: -1}
	in.raw = &countingReader{r: pr, done: c.Context.Done(), ctx: c.Context}
	in.r = bufio.NewReaderSize(in.raw, inputBufSize)
	in.closers = []func() error{pr.Close}
	return in
}

// engineRDB writes the keys of e that f selects as an RDB file with o, on a
// goroutine, into a pipe. Closing the returned reader stops the writer and
// waits for it; the writer's error, if any, is what the reader returns.
func engineRDB(e *engine.Engine, o rdb.WriterOptions, f convert.Filter) io.ReadCloser {
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		bw := bufio.NewWriterSize(pw, 256<<10)
		err := convert.WriteEngine(e, rdb.NewWriter(bw, o), f)
		if err == nil {
			err = bw.Flush()
		}
		pw.CloseWithError(err)
		done <- err
	}()
	return &pipeReader{PipeReader: pr, done: done}
}

// pipeReader is the reading end of engineRDB's pipe.
type pipeReader struct {
	*io.PipeReader
	done   <-chan error
	closed bool
}

// Close stops the writer (its next write fails) and waits for it to end.
func (p *pipeReader) Close() error {
	if p.closed {
		return nil
	}
	p.closed = true
	p.PipeReader.Close()
	<-p.done
	return nil
}

// replayMessage sums up a replay for standard error.
func replayMessage(st convert.ReplayStats) string {
	msg := fmt.Sprintf("replayed %s: %d keys from RDB parts, %d commands", plural(int64(st.Files), "file", "files"), st.RDBKeys, st.Commands)
	if st.Stopped != "" {
		msg += "; stopped " + st.Stopped
	}
	if st.TornTail {
		msg += fmt.Sprintf("; a torn tail at offset %d of the last file was dropped, as Redis does", st.TornOffset)
	}
	return msg
}
