package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rdbtool/rdbtool/internal/testenv"
)

// chromium finds Debian's chromium: .ci/run installs it, so under CI its
// absence fails the test; elsewhere the test skips with the reason.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if testenv.InCI() {
		t.Fatal("chromium is not installed (CI installs Debian's chromium package: see .ci/run)")
	}
	t.Skip("skipped: needs Debian's chromium package (apt-get install chromium) to render the HTML report")
	return ""
}

// runChromium renders a local page headless, with no network and a fresh
// profile, and returns what it printed (stdout) and logged (stderr).
func runChromium(t *testing.T, bin string, extra ...string) (string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	args := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
		"--user-data-dir=" + t.TempDir(), "--enable-logging=stderr", "--v=0"}, extra...)
	cmd := exec.CommandContext(ctx, bin, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", extra, err, errOut.String())
	}
	return out.String(), errOut.String()
}

// TestMemoryHTMLInChromium renders the HTML report in a real headless
// Chromium: the script runs without errors and the treemap holds the
// top-level prefixes of the fixture.
func TestMemoryHTMLInChromium(t *testing.T) {
	bin := chromium(t)
	fixture := filepath.Join(moduleRoot(t), "fixtures", "types-7.0.rdb")
	page := filepath.Join(t.TempDir(), "memory.html")
	if code, _, errOut := runCLI(t, nil, "memory", "--no-progress", "--now", fixedNow, "--format", "html", "-o", page, fixture); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	html, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	// Self-contained: nothing is fetched.
	if m := regexp.MustCompile(`(?i)(src|href)\s*=|@import|url\(|https?://`).Find(html); m != nil {
		t.Errorf("the page refers to something outside itself: %q", m)
	}

	dom, log := runChromium(t, bin, "--window-size=1280,1000", "--dump-dom", "file://"+page)
	if !strings.Contains(dom, `data-rendered="ok"`) {
		t.Errorf("the script did not finish rendering; DOM starts:\n%.2000s", dom)
	}
	if m := regexp.MustCompile(`<div id="js-errors">([^<]*)</div>`).FindStringSubmatch(dom); m == nil || m[1] != "" {
		t.Errorf("script errors: %q", m)
	}
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, "CONSOLE") || strings.Contains(line, "Uncaught") {
			t.Errorf("console: %s", line)
		}
	}
	for _, prefix := range []string{"str:*", "list:*", "stream:*", "set:*", "hash:*", "zset:*", "(no separator)"} {
		if !strings.Contains(dom, `class="tm-node`) || !strings.Contains(dom, `data-prefix="`+prefix+`"`) {
			t.Errorf("the treemap has no %s", prefix)
		}
	}
	if n := strings.Count(dom, `class="tm-node`); n < 7 {
		t.Errorf("%d treemap boxes", n)
	}

	shot := filepath.Join(t.TempDir(), "memory.png")
	runChromium(t, bin, "--window-size=1280,900", "--screenshot="+shot, "file://"+page)
	if st, err := os.Stat(shot); err != nil || st.Size() < 10000 {
		t.Errorf("screenshot: %v", err)
	}
	if dst := os.Getenv("RDBTOOL_SCREENSHOT"); dst != "" {
		b, _ := os.ReadFile(shot)
		os.WriteFile(dst, b, 0o644)
	}
}
