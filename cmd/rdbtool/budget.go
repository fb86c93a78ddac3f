package main

import (
	"github.com/rdbtool/rdbtool/internal/membudget"
	"github.com/urfave/cli/v2"
)

// maxMemoryFlag is --max-memory, accepted before the command (for every
// command) and after it.
func maxMemoryFlag() cli.Flag {
	return &cli.StringFlag{
		Name:    "max-memory",
		EnvVars: []string{"RDBTOOL_MAX_MEMORY"},
		Usage: "memory `SIZE` rdbtool may use (4GiB, 512M, 75%; default: half of the machine's or container's memory): " +
			"growth an input asks for (SETRANGE far into a string, a huge JSON line) is refused beyond it with exit 1, " +
			"and the Go runtime keeps its heap under it",
	}
}

// applyMemoryBudget sets the process's memory budget from --max-memory.
func applyMemoryBudget(c *cli.Context) error {
	n := membudget.Default()
	v := ""
	for _, ctx := range c.Lineage() { // the command's own flag, else the global one
		if ctx.IsSet("max-memory") {
			v = ctx.String("max-memory")
			break
		}
	}
	if v != "" {
		var err error
		if n, err = membudget.Parse(v); err != nil {
			name := ""
			if c.Command != nil {
				name = c.Command.Name
			}
			return usagef(name, "--max-memory %v", err)
		}
	}
	membudget.SetLimit(n)
	return nil
}

// jsonLineLimit is the longest JSON line the budget can decode: a line of n
// bytes takes about six times n while it is decoded (the line, the decoded
// tree, the values).
func jsonLineLimit() int {
	const decodeFactor = 6
	n := int64(1 << 30)
	if l := membudget.Limit(); l > 0 {
		n = min(n, l/decodeFactor)
	}
	return int(max(n, 1<<20))
}
