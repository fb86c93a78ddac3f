package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rdbtool/rdbtool/internal/canon"
	"github.com/rdbtool/rdbtool/internal/redistest"
	"github.com/rdbtool/rdbtool/pkg/cluster"
)

// testCluster is a Redis Cluster of masters made by redis-cli --cluster
// create, on loopback ports, every node wanting one password.
type testCluster struct {
	bin   redistest.Binaries
	args  []string
	pass  string
	nodes []*redistest.Server
}

func startCluster(t *testing.T, masters int, extra ...string) *testCluster {
	t.Helper()
	cl := &testCluster{bin: redistest.Require(t), pass: "cluster-pw",
		args: append([]string{"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"}, extra...)}
	var addrs []string
	for range masters {
		s := redistest.Start(t, redistest.Options{Binaries: cl.bin, Args: cl.args})
		cl.nodes = append(cl.nodes, s)
		cl.secure(t, s)
		addrs = append(addrs, s.Addr())
	}
	cl.cli(t, append(append([]string{"--cluster", "create"}, addrs...), "--cluster-replicas", "0", "--cluster-yes")...)
	cl.waitOK(t)
	return cl
}

// secure sets the password (a server started with requirepass would not
// answer redistest's PING).
func (cl *testCluster) secure(t *testing.T, s *redistest.Server) {
	t.Helper()
	c, err := s.Dial()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Do("CONFIG", "SET", "requirepass", cl.pass); err != nil {
		t.Fatal(err)
	}
}

func (cl *testCluster) cli(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(cl.bin.CLI, append([]string{"-a", cl.pass, "--no-auth-warning"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("redis-cli %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func (cl *testCluster) client(t *testing.T, i int) *redistest.Client {
	t.Helper()
	c := cl.nodes[i].Client(t)
	if _, err := c.Do("AUTH", cl.pass); err != nil {
		t.Fatal(err)
	}
	return c
}

func (cl *testCluster) url(i int) string { return "redis://:" + cl.pass + "@" + cl.nodes[i].Addr() }

// waitOK waits until every node says cluster_state:ok and knows every
// other node at its current address.
func (cl *testCluster) waitOK(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ok := true
		for i, s := range cl.nodes {
			c, err := s.Dial()
			if err != nil {
				ok = false
				break
			}
			c.Do("AUTH", cl.pass)
			info, err1 := redistest.ToString(c.Do("CLUSTER", "INFO"))
			nodes, err2 := redistest.ToString(c.Do("CLUSTER", "NODES"))
			c.Close()
			if err1 != nil || err2 != nil || !strings.Contains(info, "cluster_state:ok") {
				ok = false
				break
			}
			for j, o := range cl.nodes {
				if j != i && !strings.Contains(nodes, " "+o.Addr()+"@") {
					ok = false
				}
			}
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the cluster is not ok after a minute:\n%s", cl.cli(t, "--cluster", "check", cl.nodes[0].Addr()))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (cl *testCluster) id(t *testing.T, i int) string {
	t.Helper()
	id, err := redistest.ToString(cl.client(t, i).Do("CLUSTER", "MYID"))
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// restart starts node i again from its folder (on a new port: the others
// learn it by gossip), with rdbFile as its dump.rdb when given.
func (cl *testCluster) restart(t *testing.T, i int, rdbFile string) {
	t.Helper()
	old := cl.nodes[i]
	old.Stop()
	o := redistest.Options{Dir: old.Dir(), Args: cl.args}
	if rdbFile != "" {
		o.RDB = rdbFile
	}
	s, err := redistest.Launch(cl.bin, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop() })
	cl.nodes[i] = s
	cl.secure(t, s)
	cl.waitOK(t)
}

// dataset is every master's keys (database 0) as one sorted list, and each
// master's function line.
func (cl *testCluster) dataset(t *testing.T) (keys []string, funcs []string) {
	t.Helper()
	for i := range cl.nodes {
		lines, err := redistest.Snapshot(cl.client(t, i), redistest.SnapshotOptions{DBs: []int{0}})
		if err != nil {
			t.Fatal(err)
		}
		f := ""
		for _, l := range lines {
			if strings.HasPrefix(l, `{"functions"`) {
				f = l
			} else {
				keys = append(keys, l)
			}
		}
		funcs = append(funcs, f)
	}
	canon.Sort(keys)
	return keys, funcs
}

// checkDataset compares the cluster with the expected lines of a source.
func (cl *testCluster) checkDataset(t *testing.T, what string, want []string) {
	t.Helper()
	var wantKeys []string
	wantFuncs := ""
	for _, l := range want {
		if strings.HasPrefix(l, `{"functions"`) {
			wantFuncs = l
		} else {
			wantKeys = append(wantKeys, l)
		}
	}
	keys, funcs := cl.dataset(t)
	sameDataset(t, what, wantKeys, alignMigratedTTLs(t, wantKeys, keys))
	for i, f := range funcs {
		if f != wantFuncs {
			t.Errorf("%s: master %s has functions %.200s, want %.200s", what, cl.nodes[i].Addr(), f, wantFuncs)
		}
	}
}

var expireRE = regexp.MustCompile(`"expire_at_ms":(\d+)`)

// alignMigratedTTLs forgives keys that redis-cli moved during a reshard a
// TTL a few milliseconds off: MIGRATE sends a TTL relative to its clock,
// which the importing node adds to its own.
func alignMigratedTTLs(t *testing.T, want, got []string) []string {
	t.Helper()
	byBody := map[string]string{}
	for _, l := range want {
		byBody[expireRE.ReplaceAllString(l, "")] = l
	}
	out := make([]string, len(got))
	for i, l := range got {
		out[i] = l
		w, ok := byBody[expireRE.ReplaceAllString(l, "")]
		if !ok || w == l {
			continue
		}
		a, b := expireRE.FindStringSubmatch(w), expireRE.FindStringSubmatch(l)
		if a == nil || b == nil {
			continue
		}
		x, _ := strconv.ParseInt(a[1], 10, 64)
		y, _ := strconv.ParseInt(b[1], 10, 64)
		if d := x - y; d >= -2000 && d <= 2000 {
			out[i] = w
		}
	}
	return out
}

// TestCluster restores into a 3-master cluster while redis-cli moves 2,000
// slots from one master to another (the restore must follow MOVED and ASK,
// and count them); then splits a corpus dataset by the cluster's slots and
// has each master load its part.
func TestCluster(t *testing.T) {
	t.Parallel() // mostly waits for redis-cli and for the rate limit
	corpus := corpusDir(t)
	cl := startCluster(t, 3)

	// Our slots are the server's.
	c := cl.client(t, 0)
	for _, k := range []string{"foo", "{user1000}.following", "a{b}c", "{}x", "x{}{y}", "\xff\x00", "k:{" + cluster.Tag(77) + "}:1"} {
		n, err := redistest.ToInt(c.Do("CLUSTER", "KEYSLOT", k))
		if err != nil || int(n) != cluster.Slot([]byte(k)) {
			t.Errorf("CLUSTER KEYSLOT %q = %d, cluster.Slot = %d (%v)", k, n, cluster.Slot([]byte(k)), err)
		}
	}

	// The keys live in the slots that move: every one of them is sent
	// while its slot may be migrating, or after it moved.
	dir := t.TempDir()
	src := filepath.Join(dir, "src.rdb")
	small := filepath.Join(corpus, "generated", "redis-7.0.15", "small", "dump.rdb")
	keys, rate, moving := 30000, "6000", 2000
	if bigLiveTests() {
		keys, rate = 300000, "40000"
	}
	bigDataset(t, src, keys, moving, cluster.Tag, small)
	want := expectedOf(t, src, false)

	reshard := exec.Command(cl.bin.CLI, "-a", cl.pass, "--no-auth-warning", "--cluster", "reshard", cl.nodes[0].Addr(),
		"--cluster-from", cl.id(t, 0), "--cluster-to", cl.id(t, 1), "--cluster-slots", fmt.Sprint(moving), "--cluster-yes")
	var reshardOut bytes.Buffer
	reshard.Stdout, reshard.Stderr = &reshardOut, &reshardOut
	if err := reshard.Start(); err != nil {
		t.Fatal(err)
	}
	reshardDone := make(chan error, 1)
	go func() { reshardDone <- reshard.Wait() }()
	t.Cleanup(func() { reshard.Process.Kill() })
	time.Sleep(300 * time.Millisecond)

	j := restoreRun(t, 0, "--rate", rate, src, cl.url(2))
	select {
	case err := <-reshardDone:
		if err != nil {
			t.Fatalf("reshard: %v\n%s", err, reshardOut.String())
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("reshard did not finish")
	}
	t.Logf("restore during reshard: %d keys, %d MOVED, %d ASK, %d TRYAGAIN, %d CLUSTERDOWN, %.1fs; masters %+v", j.Keys, j.Moved, j.Ask, j.TryAgain, j.ClusterDown, j.Seconds, j.Masters)
	// MOVED comes for sure (every slot moved after the map was read); ASK
	// only for a key sent while its slot was migrating, which the next part
	// arranges for sure.
	if !j.Cluster || len(j.Masters) != 3 || j.Moved == 0 {
		t.Errorf("no MOVED: %+v", j)
	}
	if int(j.Functions) != 3*2 {
		t.Errorf("%d function libraries restored, want 2 on each of 3 masters", j.Functions)
	}

	// A slot caught migrating, by hand: RESTORE goes to the importing node
	// behind ASKING; a transaction (the value sent as commands) is refused
	// there with TRYAGAIN until the slot has moved, then MOVED sends it on.
	ids := []string{cl.id(t, 0), cl.id(t, 1), cl.id(t, 2)}
	slot := 16000 // owned by the third master; empty ones, as nothing is migrated
	for _, mode := range []string{"payload", "commands"} {
		for ; ; slot++ {
			n, err := redistest.ToInt(cl.client(t, 2).Do("CLUSTER", "COUNTKEYSINSLOT", slot))
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				break
			}
		}
		setslot := func(node int, args ...string) {
			if _, err := cl.client(t, node).Do(append([]any{"CLUSTER", "SETSLOT", fmt.Sprint(slot)}, toAny(args)...)...); err != nil {
				t.Fatal(err)
			}
		}
		setslot(0, "IMPORTING", ids[2])
		setslot(2, "MIGRATING", ids[0])
		part := filepath.Join(dir, mode+".rdb")
		bigDataset(t, part, 200, 1, func(int) string { return cluster.Tag(slot) })
		args := []string{part, cl.url(1)}
		if mode == "commands" {
			args = append([]string{"--as-commands"}, args...)
			time.AfterFunc(time.Second, func() {
				for n := range cl.nodes {
					setslot(n, "NODE", ids[0])
				}
			})
		}
		j := restoreRun(t, 0, args...)
		t.Logf("%s into a migrating slot: %d keys, %d as commands, %d ASK, %d TRYAGAIN, %d MOVED", mode, j.Keys, j.AsCommands, j.Ask, j.TryAgain, j.Moved)
		if j.Keys != 200 || j.Ask < 200 || (mode == "commands") != (j.TryAgain > 0 && j.Moved > 0 && j.AsCommands == 200) {
			t.Errorf("%s: %+v", mode, j)
		}
		if mode == "payload" {
			for n := range cl.nodes {
				setslot(n, "NODE", ids[0])
			}
		}
		for _, l := range expectedOf(t, part, false) {
			if !strings.HasPrefix(l, `{"functions"`) { // the same library as src's
				want = append(want, l)
			}
		}
		slot++
	}
	canon.Sort(want)
	cl.checkDataset(t, "restored during the reshard and into migrating slots", want)

	// Split the medium corpus dataset by the cluster's slots as they are
	// now, and have each master load its part.
	medium := filepath.Join(corpus, "generated", "redis-7.0.15", "medium", "dump.rdb")
	parts := filepath.Join(dir, "parts")
	code, stdout, errOut := runCLI(t, nil, "split", "--no-progress", "--db", "0", "--cluster", cl.url(0), medium, parts)
	if code != 0 {
		t.Fatalf("split: exit %d\n%s", code, errOut)
	}
	t.Logf("split:\n%s%s", stdout, errOut)
	for i, s := range cl.nodes {
		part := filepath.Join(parts, strings.ReplaceAll(s.Addr(), ":", "-")+".rdb")
		if _, err := os.Stat(part); err != nil {
			t.Fatalf("no part for %s: %v", s.Addr(), err)
		}
		cl.restart(t, i, part)
		if log := cl.nodes[i].Log(); strings.Contains(log, "I have keys for") || strings.Contains(log, "assigned to another node") {
			t.Errorf("%s loaded keys of slots it does not serve:\n%s", cl.nodes[i].Addr(), cl.nodes[i].LogTail(20))
		}
	}
	var wantMedium []string
	for _, l := range expectedOf(t, medium, false) {
		if strings.HasPrefix(l, `{"db":0,`) || strings.HasPrefix(l, `{"functions"`) {
			wantMedium = append(wantMedium, l)
		}
	}
	cl.checkDataset(t, "split parts loaded by their nodes", wantMedium)
}

func toAny(s []string) []any {
	a := make([]any, len(s))
	for i, v := range s {
		a[i] = v
	}
	return a
}

// TestClusterMasterKilled kills a master in the middle of a restore: the
// run stops, says what was written; the master comes back (from its AOF,
// fsynced at every write), and --resume finishes the job exactly.
func TestClusterMasterKilled(t *testing.T) {
	t.Parallel()
	cl := startCluster(t, 3, "--appendonly", "yes", "--appendfsync", "always")
	dir := t.TempDir()
	src := filepath.Join(dir, "src.rdb")
	keys, rate := 30000, "8000"
	if bigLiveTests() {
		keys, rate = 300000, "30000"
	}
	bigDataset(t, src, keys, cluster.NumSlots, cluster.Tag)
	want := expectedOf(t, src, false)
	state := filepath.Join(dir, "restore.state")

	// Kill the second master once it holds a tenth of its share.
	victim := cl.nodes[1]
	vc := cl.client(t, 1)
	go func() {
		for {
			n, err := redistest.ToInt(vc.Do("DBSIZE"))
			if err != nil || n >= int64(keys/30) {
				syscall.Kill(victim.PID(), syscall.SIGKILL)
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"rdbtool", "restore", "--no-progress", "--rate", rate, "--resume", state, src, cl.url(0)}, nil, &out, &errOut)
	msg := errOut.String()
	t.Logf("the run that lost a master:\n%s", msg)
	if code != 1 || !strings.Contains(msg, victim.Addr()) || !strings.Contains(msg, "failed:") || !strings.Contains(msg, "run the same command again") {
		t.Fatalf("exit %d", code)
	}
	cl.restart(t, 1, "")

	j := restoreRun(t, 0, "--resume", state, src, cl.url(0))
	t.Logf("resumed: %d keys written, %d done before, %d found written by the cut-off run", j.Keys, j.Resumed, j.Present)
	if j.Keys+j.Resumed+j.Present != int64(keys) || j.Resumed == 0 {
		t.Errorf("resumed run: %+v", j)
	}
	cl.checkDataset(t, "after the resumed run", want)
	if got, _ := cl.dataset(t); len(got) != keys || slices.ContainsFunc(got, func(l string) bool { return strings.Contains(l, "rdbtool:restore:tmp") }) {
		t.Errorf("%d keys in the cluster", len(got))
	}
}
