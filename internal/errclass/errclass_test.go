package errclass_test

import (
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/rdbtool/rdbtool/internal/errclass"
)

func TestSentinelClasses(t *testing.T) {
	corrupt := errclass.New(errclass.ErrInvalid, "corrupt data")
	other := errclass.New(errclass.ErrInvalid, "corrupt data")
	tooLarge := errclass.New(errclass.ErrUnsupported, "value too large")
	wrapped := fmt.Errorf("offset 12: %w", corrupt)
	cases := []struct {
		err  error
		want error
	}{
		{corrupt, errclass.ErrInvalid},
		{wrapped, errclass.ErrInvalid},
		{tooLarge, errclass.ErrUnsupported},
		{fmt.Errorf("x: %w", tooLarge), errclass.ErrUnsupported},
		{io.ErrUnexpectedEOF, nil},
		{nil, nil},
	}
	for _, c := range cases {
		if got := errclass.Of(c.err); got != c.want {
			t.Errorf("Of(%v) = %v, want %v", c.err, got, c.want)
		}
	}
	if errors.Is(corrupt, other) {
		t.Error("two sentinels with the same text compare equal")
	}
	if !errors.Is(wrapped, corrupt) {
		t.Error("a wrapped sentinel is no longer itself")
	}
	if corrupt.Error() != "corrupt data" {
		t.Errorf("text %q", corrupt.Error())
	}
}

func ExampleNew() {
	errCorrupt := errclass.New(errclass.ErrInvalid, "corrupt data")
	err := fmt.Errorf("offset 7: %w", errCorrupt)
	fmt.Println(err, errors.Is(err, errCorrupt), errors.Is(err, errclass.ErrInvalid), errors.Is(err, errclass.ErrUnsupported))
	// Output: offset 7: corrupt data true true false
}
