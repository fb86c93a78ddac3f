package engine_test

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/rdbtool/rdbtool/internal/canon"
	"github.com/rdbtool/rdbtool/internal/redistest"
	"github.com/rdbtool/rdbtool/pkg/convert"
	"github.com/rdbtool/rdbtool/pkg/engine"
	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// TestAOFDifferential is the end-to-end check of AOF replay: seeded random
// command streams go to a real redis-server 7.0 with appendonly yes (with an
// AOF rewrite half way, so the folder has an RDB base and an incr file); its
// AOF folder is converted offline to an RDB, and real Redis loading our RDB
// must hold exactly what real Redis holds after loading that same AOF folder
// (not the live server: 7.0 itself does not reproduce some stream state from
// its own AOF). RDBTOOL_AOF_SEEDS sets how many seeds run (default 12).
func TestAOFDifferential(t *testing.T) {
	seeds := 12
	if s, err := strconv.Atoi(os.Getenv("RDBTOOL_AOF_SEEDS")); err == nil && s > 0 {
		seeds = s
	}
	aofDifferential(t, seeds, false)
}

// TestAOFDifferentialLarge is TestAOFDifferential with the differential
// test's large collections (their RDB base holds the large encodings; our RDB
// is written from the engine's large forms); a quarter of the seeds.
func TestAOFDifferentialLarge(t *testing.T) {
	seeds := 3
	if s, err := strconv.Atoi(os.Getenv("RDBTOOL_AOF_SEEDS")); err == nil && s > 0 {
		seeds = max(1, s/4)
	}
	aofDifferential(t, seeds, true)
}

func aofDifferential(t *testing.T, seeds int, big bool) {
	redistest.Require(t)
	commands := 0
	for seed := uint64(1); seed <= uint64(seeds); seed++ {
		dir := t.TempDir()
		srv := redistest.Start(t, redistest.Options{Dir: dir, Args: []string{
			"--appendonly", "yes", "--aof-use-rdb-preamble", "yes", "--appendfsync", "always",
			"--auto-aof-rewrite-percentage", "0", "--enable-debug-command", "yes"}})
		c := srv.Client(t)
		blocks := randomCommands(seed, 400, big)
		for i, block := range blocks {
			if i == len(blocks)/2 {
				if _, err := c.Do("BGREWRITEAOF"); err != nil {
					t.Fatal(err)
				}
				waitRewrite(t, c)
			}
			for _, args := range block {
				if string(args[0]) == "__DUMPRESTORE" {
					payload, err := redistest.ToBytes(c.Do("DUMP", string(args[1])))
					if err != nil || payload == nil {
						continue
					}
					args = append([][]byte{[]byte("RESTORE"), args[2], []byte("0"), payload}, args[3:]...)
				}
				anyArgs := make([]any, len(args))
				for j, a := range args {
					anyArgs[j] = a
				}
				if _, err := c.Do(anyArgs...); err != nil {
					var re redistest.Error
					if !errors.As(err, &re) {
						t.Fatalf("seed %d: %v", seed, err)
					}
				}
				commands++
			}
		}
		c.Do("DISCARD") // a transaction left open by the last block
		if err := srv.Stop(); err != nil {
			t.Fatal(err)
		}
		aofDir := filepath.Join(dir, "appendonlydir")

		// Ours: replay offline, write RDB 10.
		files, err := convert.AOFFiles(aofDir)
		if err != nil {
			t.Fatal(err)
		}
		from := convert.DetectServer(files, nil)
		eng := engine.New(engine.Options{Version: from.Version, Valkey: from.Valkey})
		if _, err := convert.ReplayAOF(files, eng, convert.ReplayOptions{}); err != nil {
			t.Fatalf("seed %d: replay: %v", seed, err)
		}
		opts, _ := rdb.TargetVersion("redis:7.0")
		var buf bytes.Buffer
		if err := convert.WriteEngine(eng, rdb.NewWriter(&buf, opts), convert.Filter{}); err != nil {
			t.Fatalf("seed %d: write: %v", seed, err)
		}
		ours := filepath.Join(t.TempDir(), "dump.rdb")
		if err := os.WriteFile(ours, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		got := redistest.Start(t, redistest.Options{RDB: ours}).Snapshot(t, redistest.SnapshotOptions{})
		want := redistest.Start(t, redistest.Options{AOFDir: aofDir}).Snapshot(t, redistest.SnapshotOptions{})
		// Distances stored by GEO ... STOREDIST may differ in their last bit
		// (glibc's sin/cos against the engine's correctly rounded ones): compared
		// to 12 digits, as in the live differential test.
		for _, lines := range [][]string{want, got} {
			for i := range lines {
				lines[i] = roundDistances(lines[i])
			}
		}
		if d := canon.Diff(want, got); d != "" {
			t.Fatalf("seed %d: Redis loading our RDB differs from Redis loading the AOF:\n%s", seed, d)
		}
	}
	t.Logf("%d seeds, %d commands: Redis holds the same dataset from our RDB as from its own AOF", seeds, commands)
}

// waitRewrite waits for a background AOF rewrite to finish.
func waitRewrite(t *testing.T, c *redistest.Client) {
	t.Helper()
	for i := 0; i < 500; i++ {
		info, err := redistest.ToBytes(c.Do("INFO", "persistence"))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(info, []byte("aof_rewrite_in_progress:0")) && bytes.Contains(info, []byte("aof_rewrite_scheduled:0")) {
			return
		}
		sleepMs(20)
	}
	t.Fatal("AOF rewrite did not finish")
}

func sleepMs(ms int) { time.Sleep(time.Duration(ms) * time.Millisecond) }

// randomCommands is the differential test's generator (diff_test.go), as
// blocks: a command, or a MULTI ... EXEC/DISCARD transaction.
func randomCommands(seed uint64, blocks int, big bool) [][][][]byte {
	g := &gen{r: rand.New(rand.NewPCG(seed, seed*7919)), big: big}
	out := make([][][][]byte, blocks)
	for i := range out {
		out[i] = resetErrno(g.next())
	}
	return out
}
