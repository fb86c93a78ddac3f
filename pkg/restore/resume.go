package restore

import (
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"
)

// resumeState is what SaveResume is given, as JSON.
type resumeState struct {
	Format int    `json:"format"` // 1
	Key    string `json:"key"`    // Options.ResumeKey
	// DoneBelow: every key numbered below it is done (written, skipped,
	// filtered). Done: the keys done above it.
	DoneBelow int64   `json:"done_below"`
	Done      []int64 `json:"done"`
	// Horizon: no key numbered at or above it has been sent.
	Horizon  int64  `json:"horizon"`
	Complete bool   `json:"complete"`
	Keys     int64  `json:"keys_written"` // over all runs, for the summary
	Updated  string `json:"updated"`
}

// tracker numbers keys and knows which are done.
type tracker struct {
	mu        sync.Mutex
	doneBelow int64
	done      map[int64]bool // above doneBelow
	horizon   int64          // saved: nothing at or above it was sent
	step      int64          // how far each saved horizon reaches ahead
	prevKeys  int64          // keys written by earlier runs

	// From the state a resumed run starts with.
	resumedBelow int64
	resumedDone  map[int64]bool
	uncertainTo  int64 // keys in [resumedBelow, uncertainTo) not done: may exist

	key   string
	save  func([]byte) error
	saved time.Time
	keys  func() int64
}

func newTracker(o *Options, step int64, keys func() int64) (*tracker, error) {
	t := &tracker{done: map[int64]bool{}, step: step, key: o.ResumeKey, save: o.SaveResume, keys: keys}
	if len(o.Resume) == 0 {
		return t, nil
	}
	var st resumeState
	if err := json.Unmarshal(o.Resume, &st); err != nil {
		return nil, &ResumeError{Msg: "not a resume state: " + err.Error()}
	}
	if st.Format != 1 {
		return nil, &ResumeError{Msg: fmt.Sprintf("format %d, want 1", st.Format)}
	}
	if st.Key != o.ResumeKey {
		return nil, &ResumeError{Msg: fmt.Sprintf("it was saved by another restore (%s), not this one (%s)", st.Key, o.ResumeKey)}
	}
	if st.DoneBelow < 0 || st.Horizon < st.DoneBelow {
		return nil, &ResumeError{Msg: "inconsistent numbers"}
	}
	t.resumedBelow, t.uncertainTo, t.prevKeys = st.DoneBelow, st.Horizon, st.Keys
	// Keys the cut-off run may have written stay uncertain in every state
	// saved from now on, until this run has dealt with them.
	t.horizon = st.Horizon
	t.resumedDone = map[int64]bool{}
	for _, n := range st.Done {
		t.resumedDone[n] = true
	}
	if st.Complete {
		t.resumedBelow, t.uncertainTo = 1<<62, 1<<62
	}
	return t, nil
}

// previously reports whether a resumed run's predecessor finished key n.
func (t *tracker) previously(n int64) bool {
	return n < t.resumedBelow || t.resumedDone[n]
}

// uncertain reports whether key n may have been written by the run that was
// cut off without its reply arriving.
func (t *tracker) uncertain(n int64) bool {
	return n >= t.resumedBelow && n < t.uncertainTo && !t.resumedDone[n]
}

// finish marks key n done. Without a state to save, nothing needs to know:
// a key a second costs a lock and a map entry otherwise.
func (t *tracker) finish(n int64) {
	if t.save == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if n < t.doneBelow {
		return
	}
	t.done[n] = true
	for t.done[t.doneBelow] {
		delete(t.done, t.doneBelow)
		t.doneBelow++
	}
}

// beforeSend is called before key n is sent: it saves a new horizon first
// when n is at or beyond the saved one.
func (t *tracker) beforeSend(n int64) error {
	if t.save == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if n < t.horizon {
		return nil
	}
	t.horizon = n + t.step
	return t.saveLocked(false, false)
}

// maybeSave saves when a second has passed since the last save.
func (t *tracker) maybeSave() error {
	if t.save == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if time.Since(t.saved) < time.Second {
		return nil
	}
	return t.saveLocked(false, false)
}

// final saves the state at the end of a run: complete, or with the horizon
// brought down to what was really sent (sentBelow) so that a resumed run
// treats as uncertain only the keys that were in flight.
func (t *tracker) final(complete bool, sentBelow int64) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if sentBelow < t.horizon {
		floor := t.doneBelow
		if t.uncertainTo < 1<<62 {
			floor = max(floor, t.uncertainTo)
		}
		t.horizon = max(sentBelow, floor)
	}
	return t.saveLocked(complete, true)
}

func (t *tracker) saveLocked(complete, force bool) error {
	if t.save == nil {
		return nil
	}
	st := resumeState{Format: 1, Key: t.key, DoneBelow: t.doneBelow, Horizon: max(t.horizon, t.doneBelow),
		Complete: complete, Keys: t.prevKeys + t.keys(), Updated: time.Now().UTC().Format(time.RFC3339)}
	for n := range t.done {
		st.Done = append(st.Done, n)
	}
	slices.Sort(st.Done)
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	t.saved = time.Now()
	if err := t.save(append(b, '\n')); err != nil {
		return fmt.Errorf("saving the resume state: %w", err)
	}
	return nil
}

// ResumeComplete reports whether a saved state says the restore finished.
func ResumeComplete(state []byte) bool {
	var st resumeState
	return json.Unmarshal(state, &st) == nil && st.Complete
}
