package main

import (
	"errors"
	"io"
)

func writeMemoryHTML(w io.Writer, v *memoryView) error { return errors.New("html: not yet") }
