package pack

import (
	"errors"
	"strings"
	"testing"
)

// dag returns a value of 2^n paths to leaf through shared slices.
func dag(n int, leaf any) any {
	v := leaf
	for range n {
		v = []any{v, v}
	}
	return v
}

// A slice or map shared by reference is packed once per reference, so a
// few lines of Go can stand for an exponential payload: the cap stops it
// where it is hit.
func TestAppendValuesTooLarge(t *testing.T) {
	prefix := []byte("head")
	out, err := AppendValuesLimit(prefix, 1000, "x", dag(40, []any{1}))
	if !errors.Is(err, ErrTooLarge) || !strings.HasPrefix(err.Error(), "pack: message too large (over 1000 bytes) at args[2][1][1]") {
		t.Fatalf("2^40 copies: %v", err)
	}
	if string(out) != "head" {
		t.Errorf("on error the slice is not b unchanged: %q", out)
	}

	// The default cap is MaxSize (big leaves reach it quickly).
	mb := strings.Repeat("x", 1<<20)
	buf := make([]byte, 0, MaxSize+1<<20) // no growing: keep the test quick
	if _, err := AppendValues(buf, dag(40, mb)); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "(over 67108864 bytes) at args[1][1][1][1][1][1][1]") {
		t.Fatalf("AppendValues, 2^40 copies: %v", err)
	}

	// Strings are checked before they are copied, in every container.
	long := strings.Repeat("x", 600)
	for _, tt := range []struct {
		v    any
		path string
	}{
		{long + long, "args[1]"},
		{[]byte(long + long), "args[1]"},
		{[]any{long, long}, "args[1][2]"},
		{[]string{long, long}, "args[1][2]"},
		{map[string]any{"a": long, "b": long}, "args[1]."},
		{map[string]string{"a": long, "b": long}, "args[1]."},
		{map[any]any{1: long, 2: long}, "args[1]["},
		{map[string]any{long: 1, long + "y": 2}, "args[1].xxx"},
		{map[string]int{long: 1, long + "y": 2}, "args[1].xxx"},
		{map[string]float64{long: 1, long + " y": 2}, "args[1]"},
	} {
		_, err := AppendValuesLimit(nil, 1000, tt.v)
		if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "at "+tt.path) {
			t.Errorf("%T over the cap: %v", tt.v, err)
		}
	}
	// Flat tables of numbers are caught at their end.
	if _, err := AppendValuesLimit(nil, 1000, make([]int64, 2000)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("[]int64 over the cap: %v", err)
	}

	// Up to the cap is fine; max <= 0 means MaxSize.
	b, err := AppendValuesLimit(nil, 1000, long)
	if err != nil || len(b) > 1000 {
		t.Fatalf("under the cap: %d bytes, %v", len(b), err)
	}
	if _, err := AppendValuesLimit(nil, 0, dag(10, []any{1})); err != nil {
		t.Fatalf("2^10 copies under MaxSize: %v", err)
	}
}
