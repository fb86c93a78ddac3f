package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"
)

// commands holds every subcommand. Each cmd_*.go file adds its own in an init
// function, so a new command is one new file.
var commands []func() *cli.Command

func register(newCmd func() *cli.Command) { commands = append(commands, newCmd) }

const appDescription = `rdbtool reads Redis and Valkey persistence files (RDB snapshots and AOF
logs) without a server. Inputs may be gzip- or zstd-compressed (detected by
their magic bytes) and "-" reads standard input. Offsets in messages are byte
offsets in the decompressed stream.

Examples:
   rdbtool verify dump.rdb                  check one file end to end
   rdbtool verify --format json *.rdb       one JSON object per file, for monitoring
   rdbtool inspect dump.rdb.gz              header, aux fields, key counts, biggest keys
   rdbtool inspect --top 20 --format json - < dump.rdb
   rdbtool help verify                      everything about one command

Exit codes: 0 ok, 1 I/O or other failure, 2 usage error, 3 invalid input
(corrupt, truncated, checksum mismatch), 4 valid but unsupported input.
See docs/cli.md and docs/exit-codes.md.`

// newApp builds the application for one run, writing to the given streams.
func newApp(stdin io.Reader, stdout, stderr io.Writer) *cli.App {
	app := &cli.App{
		Name:        "rdbtool",
		Usage:       "verify, inspect and convert Redis/Valkey RDB and AOF files offline",
		UsageText:   "rdbtool [--version] [--help] COMMAND [command options] [arguments...]",
		Description: appDescription,
		Version:     version,
		Reader:      stdin,
		Writer:      stdout,
		ErrWriter:   stderr,
		// Errors come back to run, which prints them and picks the exit code;
		// urfave/cli must never call os.Exit itself.
		ExitErrHandler: func(*cli.Context, error) {},
		OnUsageError:   onUsageError,
		Flags:          []cli.Flag{maxMemoryFlag()},
		Before:         applyMemoryBudget,
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				return usagef("", "unknown command %q", c.Args().First())
			}
			_ = cli.ShowAppHelp(c)
			return usagef("", "no command given")
		},
	}
	for _, newCmd := range commands {
		cmd := newCmd()
		if cmd.OnUsageError == nil {
			cmd.OnUsageError = onUsageError
		}
		// --max-memory is also accepted after the command (budget.go).
		cmd.Flags = append(cmd.Flags, maxMemoryFlag())
		if cmd.Before == nil {
			cmd.Before = applyMemoryBudget
		}
		app.Commands = append(app.Commands, cmd)
	}
	sort.Slice(app.Commands, func(i, j int) bool { return app.Commands[i].Name < app.Commands[j].Name })
	return app
}

// onUsageError turns urfave/cli's flag-parsing errors into usage errors (exit 2).
func onUsageError(c *cli.Context, err error, isSubcommand bool) error {
	name := ""
	if c.Command != nil && isSubcommand {
		name = c.Command.Name
	}
	return &usageError{cmd: name, msg: err.Error()}
}

// run is the whole program: it parses args (args[0] is the program name), runs
// the command and returns the exit code. main is a thin wrapper around it so
// that tests can call it in-process.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	app := newApp(stdin, stdout, stderr)
	err := app.RunContext(ctx, hoistFlags(app, args))
	code := exitCode(err)
	if err == nil {
		return code
	}
	if code == exitInterrupted {
		fmt.Fprintln(stderr, interruptMessage)
		return code
	}
	var rep *reportedError
	if errors.As(err, &rep) {
		return code
	}
	msg := strings.TrimSpace(err.Error())
	fmt.Fprintf(stderr, "rdbtool: %s\n", msg)
	var ue *usageError
	if errors.As(err, &ue) {
		if ue.cmd != "" {
			fmt.Fprintf(stderr, "Run 'rdbtool %s --help' for usage.\n", ue.cmd)
		} else {
			fmt.Fprintf(stderr, "Run 'rdbtool --help' for usage.\n")
		}
	}
	return code
}

// hoistFlags lets options follow the paths, as users of other command-line
// tools expect ("rdbtool verify dump.rdb --format json"): urfave/cli v2 stops
// reading flags at the first argument, so the command's flags (with the value
// of those that take one) are moved before its other arguments, in their
// order. "--" ends the flags as usual: what follows it stays an argument, which
// is how a file named like an option is given. "-" (standard input) is an
// argument.
func hoistFlags(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	// The command is the first argument that is not a global flag.
	ci := 1
	for ci < len(args) && strings.HasPrefix(args[ci], "-") && args[ci] != "-" {
		ci++
	}
	if ci >= len(args) {
		return args
	}
	cmd := app.Command(args[ci])
	if cmd == nil {
		return args
	}
	takesValue := map[string]bool{}
	for _, f := range cmd.Flags {
		_, isBool := f.(*cli.BoolFlag)
		for _, name := range f.Names() {
			takesValue[name] = !isBool
		}
	}
	var flags, rest []string
	tail := args[ci+1:]
	for i := 0; i < len(tail); i++ {
		a := tail[i]
		switch {
		case a == "--":
			rest = append(rest, tail[i:]...)
			i = len(tail)
		case len(a) > 1 && a[0] == '-':
			flags = append(flags, a)
			name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
			if takesValue[name] && !hasValue && i+1 < len(tail) {
				i++
				flags = append(flags, tail[i])
			}
		default:
			rest = append(rest, a)
		}
	}
	out := append(append([]string{}, args[:ci+1]...), flags...)
	return append(out, rest...)
}

// Flags shared by several commands.

func noProgressFlag() cli.Flag {
	return &cli.BoolFlag{
		Name:  "no-progress",
		Usage: "never show the progress bar (it is shown only when stderr is a terminal and a file takes over a second)",
	}
}

func formatFlag(def string, choices ...string) cli.Flag {
	return &cli.StringFlag{
		Name:  "format",
		Value: def,
		Usage: "output `FORMAT`: " + strings.Join(choices, ", "),
	}
}

// checkFormat validates --format against the command's choices.
func checkFormat(c *cli.Context, choices ...string) (string, error) {
	f := c.String("format")
	for _, ch := range choices {
		if f == ch {
			return f, nil
		}
	}
	return "", usagef(c.Command.Name, "--format %q is not one of: %s", f, strings.Join(choices, ", "))
}

// checkPaths checks the paths of a command. hoistFlags moved every option
// before them, so an argument that still looks like an option came after
// "--": it must be a file named like one, which is read only as ./NAME.
func checkPaths(c *cli.Context, paths []string) error {
	stdin := 0
	for _, p := range paths {
		if p == "-" {
			stdin++
			continue
		}
		if strings.HasPrefix(p, "-") {
			return usagef(c.Command.Name, "%q is not an option of %s here; a file named like an option is written ./%s", p, c.Command.Name, p)
		}
		if p == "" {
			return usagef(c.Command.Name, "empty path")
		}
	}
	if stdin > 1 {
		return usagef(c.Command.Name, `standard input ("-") can be read only once`)
	}
	return nil
}

// defaultWorkers is how many goroutines check values beside the parser: one per
// core the parser and the checksum goroutine leave, and at least one.
func defaultWorkers() int { return max(1, runtime.GOMAXPROCS(0)-1) }
