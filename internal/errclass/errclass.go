// Package errclass holds the classes every rdbtool error falls into, so that
// a command line maps the errors of pkg/rdb, pkg/aof, pkg/engine and
// pkg/convert to exit codes with errors.Is alone, whichever package found
// the problem and however it was wrapped.
//
// It is a leaf: it imports nothing of rdbtool, so that packages which may not
// import each other (rdb and aof) can share it. A package makes its sentinel
// errors with New and gives its error types an Unwrap (or Is) that leads to
// a class; callers then ask errors.Is(err, errclass.ErrInvalid).
//
// An error of no class is a failure of the environment (I/O, a bug, a limit
// of the machine). Interrupts are context.Canceled, not a class of their own.
package errclass

import "errors"

// The classes. Each is documented with the exit code rdbtool gives it.
var (
	// ErrInvalid means the input contradicts its format: corrupt, truncated,
	// checksum mismatch, a manifest Redis rejects, JSON that no server could
	// hold. Exit code 3.
	ErrInvalid = errors.New("invalid input")
	// ErrUnsupported means the input may be valid but rdbtool does not handle
	// it: a future format version, a command the engine does not implement,
	// an element over a configured size limit. Exit code 4.
	ErrUnsupported = errors.New("unsupported input")
)

// New returns a sentinel error with its own text that belongs to class:
// errors.Is(New(ErrInvalid, "corrupt data"), ErrInvalid) is true, and the sentinel
// still compares equal only to itself.
func New(class error, text string) error {
	return &sentinel{text: text, class: class}
}

type sentinel struct {
	text  string
	class error
}

func (s *sentinel) Error() string { return s.text }
func (s *sentinel) Unwrap() error { return s.class }

// Of returns the class of err (ErrInvalid or ErrUnsupported), or nil when it has
// none. ErrInvalid wins when an error somehow carries both.
func Of(err error) error {
	switch {
	case errors.Is(err, ErrInvalid):
		return ErrInvalid
	case errors.Is(err, ErrUnsupported):
		return ErrUnsupported
	}
	return nil
}
