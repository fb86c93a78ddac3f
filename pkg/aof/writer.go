package aof

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Writer writes RESP commands and annotations in the form Redis writes them:
// "*<argc>\r\n" then "$<len>\r\n<bytes>\r\n" per argument, "#<text>\r\n" per
// annotation. What it writes reads back through Reader, Strict or not, as the
// same records; writing the same records twice gives the same bytes.
//
// Output is buffered: call Flush at the end. Errors from the underlying writer
// are sticky.
type Writer struct {
	w       io.Writer
	buf     []byte
	n       int64 // bytes accepted so far (flushed or buffered)
	err     error // sticky write error
	argLeft int64 // arguments still owed to the open command
	payLeft int64 // bytes still owed to the argument begun by BeginArg
	inArg   bool
}

const writerBufSize = 64 << 10

// NewWriter returns a Writer to w.
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: w, buf: make([]byte, 0, writerBufSize)}
}

// Offset is the number of bytes written so far, buffered ones included: the
// offset in the output where the next record starts.
func (w *Writer) Offset() int64 { return w.n }

// WriteCommand writes a complete command. It needs at least one argument.
func (w *Writer) WriteCommand(args ...[]byte) error {
	if err := w.BeginCommand(len(args)); err != nil {
		return err
	}
	for _, a := range args {
		if err := w.WriteArg(a); err != nil {
			return err
		}
	}
	return nil
}

// BeginCommand starts a command of argc arguments, to be given by WriteArg or
// BeginArg; the previous command must be complete.
func (w *Writer) BeginCommand(argc int) error {
	if w.err != nil {
		return w.err
	}
	if w.argLeft != 0 || w.inArg {
		return usage("BeginCommand: the previous command still needs " + strconv.FormatInt(w.argLeft, 10) + " arguments")
	}
	if argc < 1 {
		return usage("BeginCommand: a command needs at least one argument (Redis rejects *0)")
	}
	w.argLeft = int64(argc)
	w.header('*', int64(argc))
	return w.maybeFlush()
}

// WriteArg writes the next argument of the open command.
func (w *Writer) WriteArg(p []byte) error {
	if err := w.BeginArg(int64(len(p))); err != nil {
		return err
	}
	_, err := w.Write(p)
	return err
}

// BeginArg starts the next argument of the open command, of size bytes, whose
// payload follows through Write, in as many pieces as convenient: an argument
// of hundreds of megabytes never needs to be in memory at once. The line
// ending is added when size bytes have been written.
func (w *Writer) BeginArg(size int64) error {
	if w.err != nil {
		return w.err
	}
	if w.inArg {
		return usage("BeginArg: the previous argument still needs " + strconv.FormatInt(w.payLeft, 10) + " bytes")
	}
	if w.argLeft == 0 {
		return usage("BeginArg: no command is open (call BeginCommand)")
	}
	if size < 0 {
		return usage("BeginArg: negative size")
	}
	w.argLeft--
	w.header('$', size)
	w.inArg, w.payLeft = true, size
	if size == 0 {
		w.endArg()
	}
	return w.maybeFlush()
}

// Write writes payload bytes of the argument begun by BeginArg. Writing more
// than the announced size is an error.
func (w *Writer) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	if !w.inArg {
		return 0, usage("Write: no argument is open (call BeginArg)")
	}
	if int64(len(p)) > w.payLeft {
		return 0, usage("Write: " + strconv.Itoa(len(p)) + " bytes for an argument that needs " + strconv.FormatInt(w.payLeft, 10))
	}
	if len(p) >= writerBufSize {
		// Big payloads go straight through, not via the buffer.
		if err := w.flush(); err != nil {
			return 0, err
		}
		k, err := w.w.Write(p)
		w.n += int64(k)
		w.payLeft -= int64(k)
		if err == nil && k < len(p) {
			err = io.ErrShortWrite
		}
		if err != nil {
			w.err = err
			return k, err
		}
	} else {
		w.buf = append(w.buf, p...)
		w.n += int64(len(p))
		w.payLeft -= int64(len(p))
	}
	if w.payLeft == 0 {
		w.endArg()
	}
	return len(p), w.maybeFlush()
}

func (w *Writer) endArg() {
	w.buf = append(w.buf, '\r', '\n')
	w.n += 2
	w.inArg = false
}

// WriteAnnotation writes "#<text>\r\n" between commands. Redis reads
// annotation lines into a 1024-byte buffer, so text is limited to 1020 bytes,
// and it must not contain CR or LF.
func (w *Writer) WriteAnnotation(text string) error {
	if w.err != nil {
		return w.err
	}
	if w.argLeft != 0 || w.inArg {
		return usage("WriteAnnotation: inside a command")
	}
	if strings.ContainsAny(text, "\r\n") {
		return usage("WriteAnnotation: text contains CR or LF")
	}
	if len(text) > annotationLineMax-3 {
		return usage("WriteAnnotation: text longer than " + strconv.Itoa(annotationLineMax-3) + " bytes (Redis reads 1023-byte lines)")
	}
	w.buf = append(w.buf, '#')
	w.buf = append(w.buf, text...)
	w.buf = append(w.buf, '\r', '\n')
	w.n += int64(len(text)) + 3
	return w.maybeFlush()
}

// WriteTimestamp writes a "#TS:<unix seconds>" annotation, as Redis does with
// aof-timestamp-enabled.
func (w *Writer) WriteTimestamp(unix int64) error {
	return w.WriteAnnotation("TS:" + strconv.FormatInt(unix, 10))
}

// Flush writes buffered data to the underlying writer. It does not check that
// the last command is complete; Complete does.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	return w.flush()
}

// Complete reports whether every begun command has all its arguments.
func (w *Writer) Complete() bool { return w.argLeft == 0 && !w.inArg }

func (w *Writer) header(prefix byte, n int64) {
	start := len(w.buf)
	w.buf = append(w.buf, prefix)
	w.buf = strconv.AppendInt(w.buf, n, 10)
	w.buf = append(w.buf, '\r', '\n')
	w.n += int64(len(w.buf) - start)
}

func (w *Writer) maybeFlush() error {
	if len(w.buf) >= writerBufSize {
		return w.flush()
	}
	return nil
}

func (w *Writer) flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	k, err := w.w.Write(w.buf)
	if err == nil && k < len(w.buf) {
		err = io.ErrShortWrite
	}
	if err != nil {
		w.err = err
		return err
	}
	w.buf = w.buf[:0]
	return nil
}

func usage(msg string) error { return fmt.Errorf("%w: %s", errWriterState, msg) }
