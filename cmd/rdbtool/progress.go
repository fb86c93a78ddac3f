package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/mattn/go-isatty"
)

// isTerminal reports whether the stream is a terminal (only an *os.File can be).
func isTerminal(stream any) bool {
	f, ok := stream.(*os.File)
	if !ok {
		return false
	}
	return isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())
}

// progress draws a one-line progress bar on a terminal from a byte counter
// that the reading goroutine bumps; the parse loop never calls into it.
type progress struct {
	stopOnce sync.Once
	w        io.Writer
	label    string
	total    int64        // -1 when unknown
	done     func() int64 // bytes consumed so far, safe from any goroutine

	delay    time.Duration // nothing is drawn for files that finish sooner
	interval time.Duration // at most one redraw per interval
	width    int           // columns the line may use

	stop     chan struct{}
	finished sync.WaitGroup
}

const progressWidth = 79

// startProgress starts the bar when enabled and w is a terminal: never into a
// pipe or a log file (cron logs filled with it). A nil *progress is a no-op.
func startProgress(enabled bool, w io.Writer, label string, total int64, done func() int64) *progress {
	if !enabled || !isTerminal(w) {
		return nil
	}
	p := &progress{w: w, label: label, total: total, done: done,
		delay: time.Second, interval: 100 * time.Millisecond, width: progressWidth}
	p.start()
	return p
}

func (p *progress) start() {
	p.stop = make(chan struct{})
	p.finished.Add(1)
	go p.loop(time.Now())
}

func (p *progress) loop(start time.Time) {
	defer p.finished.Done()
	t := time.NewTicker(p.interval)
	defer t.Stop()
	drawn := false
	for {
		select {
		case <-p.stop:
			if drawn {
				// Blank the line so that what follows starts clean.
				fmt.Fprint(p.w, "\r"+strings.Repeat(" ", p.width)+"\r")
			}
			return
		case now := <-t.C:
			elapsed := now.Sub(start)
			if elapsed < p.delay {
				continue
			}
			fmt.Fprint(p.w, "\r"+progressLine(p.label, p.done(), p.total, elapsed, p.width))
			drawn = true
		}
	}
}

// Stop removes the bar; call it before printing the result for the file. It
// may be called more than once.
func (p *progress) Stop() {
	if p == nil {
		return
	}
	p.stopOnce.Do(func() { close(p.stop) })
	p.finished.Wait()
}

// progressLine renders "label [=====>    ]  45% 12.0/26.5 MiB  8.1 MiB/s  ETA 0:02"
// in at most width columns.
func progressLine(label string, done, total int64, elapsed time.Duration, width int) string {
	secs := elapsed.Seconds()
	rate := 0.0
	if secs > 0 {
		rate = float64(done) / secs
	}
	var tail string
	if total > 0 {
		frac := min(float64(done)/float64(total), 1)
		eta := "--:--"
		if rate > 0 {
			eta = clock(time.Duration(float64(total-done) / rate * float64(time.Second)))
		}
		tail = fmt.Sprintf(" %3.0f%% %s/%s %s/s ETA %s", frac*100, humanBytes(done), humanBytes(total), humanBytes(int64(rate)), eta)
		bar := 20
		fill := int(frac * float64(bar))
		b := strings.Repeat("=", fill)
		if fill < bar {
			b += ">" + strings.Repeat(" ", bar-fill-1)
		}
		tail = " [" + b + "]" + tail
	} else {
		tail = fmt.Sprintf(" %s %s/s %s", humanBytes(done), humanBytes(int64(rate)), clock(elapsed))
	}
	room := width - len(tail)
	if room < 8 {
		room = 8
	}
	label = shorten(label, room)
	line := label + tail
	if pad := width - len(line); pad > 0 {
		line += strings.Repeat(" ", pad)
	}
	return line
}

// shorten keeps the end of s (the file name) when it is too long.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return "…" + string(r[len(r)-n+1:])
}

func clock(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}
