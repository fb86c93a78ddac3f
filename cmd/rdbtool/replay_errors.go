package main

import (
	"fmt"

	"github.com/rdbtool/rdbtool/pkg/convert"
	"github.com/urfave/cli/v2"
)

// strictRepliesFlag is --strict of the commands that replay an AOF.
func strictRepliesFlag() cli.Flag {
	return &cli.BoolFlag{
		Name: "strict",
		Usage: "AOF input: stop (exit 3) at a command that returns an error reply, such as a RENAME of a missing key; " +
			"by default it is skipped and counted, as Redis does while loading an AOF",
	}
}

// reportErrorReplies says on standard error how many commands of a replay
// returned an error reply, and which were the first.
func reportErrorReplies(c *cli.Context, st convert.ReplayStats) {
	if s := st.ErrorRepliesSummary(); s != "" {
		fmt.Fprintln(c.App.ErrWriter, "rdbtool: warning: "+s)
	}
}
