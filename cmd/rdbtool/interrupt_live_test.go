//go:build unix

package main

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/rdbtool/rdbtool/internal/redistest"
)

// TestInterruptsLive is the interrupt suite for the commands that talk to a
// live server (Debian's Redis 7.0). restore writes no OUT: after an
// interrupted run the target holds only whole keys, each as the source has
// it (docs: every key appears whole or not at all), and the same command
// with --resume then finishes the job. pull writes OUT as every command
// does, and the server it read from keeps its data and answers.
func TestInterruptsLive(t *testing.T) {
	bin := buildRdbtool(t)
	in := makeBigInputs(t, 40_000)
	inputsBefore := treeState(t, in.dir)
	runs := t.TempDir()
	want := expectedOf(t, in.rdb, false)

	// Each restore case has its own target: the cases run in parallel.
	restoreCase := func(name string, extra ...string) interruptCase {
		target := startLive(t, redistest.Require(t), "")
		state := filepath.Join(t.TempDir(), "restore.state")
		args := func(in bigInputs, _ string) []string {
			return append(append([]string{"restore", "--no-progress", "--resume", state}, extra...), in.rdb, target.url())
		}
		return interruptCase{name: name, out: "none", args: args,
			before: func(t *testing.T) {
				target.flush(t)
				os.Remove(state)
			},
			after: func(t *testing.T, code int) {
				got := target.snapshot(t)
				if code == exitInterrupted {
					for _, l := range got {
						if _, ok := slices.BinarySearch(want, l); !ok {
							t.Errorf("after the interrupt the target holds a key that is not the source's: %.200s", l)
							break
						}
					}
					t.Logf("%s: %d of %d keys were written before the interrupt", name, len(got), len(want))
					if code, o, e := runCLI(t, nil, args(in, "")...); code != 0 {
						t.Fatalf("the resumed run: exit %d\n%s%s", code, o, e)
					}
					got = target.snapshot(t)
				}
				sameDataset(t, name, want, got)
			},
		}
	}

	// The source of pull: the same dataset, saved slowly (10 µs a key) so
	// that a signal finds the transfer under way.
	source := startLive(t, redistest.Require(t), "", "--repl-diskless-sync-delay", "0", "--rdb-key-save-delay", "10")
	if code, o, e := runCLI(t, nil, "restore", "--no-progress", in.rdb, source.url()); code != 0 {
		t.Fatalf("loading the pull source: exit %d\n%s%s", code, o, e)
	}
	pullCase := interruptCase{name: "pull", out: "file",
		args: func(_ bigInputs, out string) []string { return []string{"pull", "--force", source.url(), out} },
		after: func(t *testing.T, _ int) {
			if n, err := redistest.ToInt(source.client(t).Do("DBSIZE")); err != nil || n != int64(len(want)) {
				t.Errorf("the pulled server: DBSIZE %d, %v; want %d", n, err, len(want))
			}
		},
	}
	runInterruptCases(t, bin, in, runs, nil, []interruptCase{
		restoreCase("restore"),
		restoreCase("restore-as-commands", "--as-commands"),
		pullCase,
	})
	sameState(t, "the inputs", inputsBefore, treeState(t, in.dir))
}
