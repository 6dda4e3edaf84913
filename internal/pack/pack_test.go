package pack

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

type T struct{ Name string }

// equal is reflect.DeepEqual except that NaN equals NaN and the sign of
// zero floats matters.
func equal(a, b any) bool {
	switch x := a.(type) {
	case float64:
		y, ok := b.(float64)
		if !ok {
			return false
		}
		if x != x {
			return y != y
		}
		return x == y && math.Signbit(x) == math.Signbit(y)
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equal(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !equal(v, w) {
				return false
			}
		}
		return true
	case map[any]any:
		y, ok := b.(map[any]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !equal(v, w) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want any
	}{
		{"nil", nil, nil},
		{"true", true, true},
		{"false", false, false},
		{"int", 42, int64(42)},
		{"int zero", 0, int64(0)},
		{"int negative", -7, int64(-7)},
		{"int8", int8(-128), int64(-128)},
		{"int16", int16(-300), int64(-300)},
		{"int32", int32(1 << 30), int64(1 << 30)},
		{"int64 max", int64(math.MaxInt64), int64(math.MaxInt64)},
		{"int64 min", int64(math.MinInt64), int64(math.MinInt64)},
		{"uint", uint(7), int64(7)},
		{"uint8", uint8(255), int64(255)},
		{"uint16", uint16(65535), int64(65535)},
		{"uint32", uint32(math.MaxUint32), int64(math.MaxUint32)},
		{"uint64 max int64", uint64(math.MaxInt64), int64(math.MaxInt64)},
		{"float32", float32(1.5), 1.5},
		{"float64", 3.25, 3.25},
		{"float64 integral stays float", 2.0, 2.0},
		{"float NaN", math.NaN(), math.NaN()},
		{"float +Inf", math.Inf(1), math.Inf(1)},
		{"float -Inf", math.Inf(-1), math.Inf(-1)},
		{"float -0", math.Copysign(0, -1), math.Copysign(0, -1)},
		{"float tiny", math.SmallestNonzeroFloat64, math.SmallestNonzeroFloat64},
		{"string empty", "", ""},
		{"string", "hello", "hello"},
		{"string NUL and invalid UTF-8", "a\x00b\xff\xfe\xc3(", "a\x00b\xff\xfe\xc3("},
		{"string long", strings.Repeat("x", 300), strings.Repeat("x", 300)},
		{"bytes", []byte{0, 1, 0xff}, "\x00\x01\xff"},
		{"bytes nil", []byte(nil), ""},
		{"slice any", []any{1, "a", nil, true, 2.5}, []any{int64(1), "a", nil, true, 2.5}},
		{"slice any empty is empty table", []any{}, map[string]any{}},
		{"slice string", []string{"a", "", "c"}, []any{"a", "", "c"}},
		{"slice int", []int{1, -2, 3}, []any{int64(1), int64(-2), int64(3)}},
		{"slice int64", []int64{math.MinInt64}, []any{int64(math.MinInt64)}},
		{"slice float64", []float64{0.5, 1}, []any{0.5, 1.0}},
		{"map string any", map[string]any{"a": 1, "b": "x", "c": nil}, map[string]any{"a": int64(1), "b": "x", "c": nil}},
		{"map string any empty", map[string]any{}, map[string]any{}},
		{"map string string", map[string]string{"k": "v", "\x00": "\xff"}, map[string]any{"k": "v", "\x00": "\xff"}},
		{"map string int", map[string]int{"n": -1}, map[string]any{"n": int64(-1)}},
		{"map string float64", map[string]float64{"f": 0.25}, map[string]any{"f": 0.25}},
		{"map any any", map[any]any{1: "one", "two": 2, true: false, 2.5: "f", uint8(9): nil, "x": "y"},
			map[any]any{int64(1): "one", "two": int64(2), true: false, 2.5: "f", int64(9): nil, "x": "y"}},
		{"map any any string keys only", map[any]any{"a": 1}, map[string]any{"a": int64(1)}},
		{"nested", []any{[]any{map[string]any{"a": []any{1, []string{"deep"}}}}, map[any]any{1: []int{2}}},
			[]any{[]any{map[string]any{"a": []any{int64(1), []any{"deep"}}}}, map[any]any{int64(1): []any{int64(2)}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := AppendValues(nil, "first", tt.in, tt.in)
			if err != nil {
				t.Fatalf("AppendValues: %v", err)
			}
			got, err := DecodeValues(b)
			if err != nil {
				t.Fatalf("DecodeValues(% x): %v", b, err)
			}
			if len(got) != 3 || got[0] != "first" {
				t.Fatalf("got %#v", got)
			}
			for _, g := range got[1:] {
				if !equal(g, tt.want) {
					t.Errorf("got %#v (%T), want %#v (%T)", g, g, tt.want, tt.want)
				}
			}

			// AppendValue encodes the same bytes as one AppendValues element
			// (compare only for deterministic encodings).
			if _, ok := tt.in.(map[any]any); !ok && !strings.HasPrefix(tt.name, "map") {
				one, err := AppendValue(AppendCount(nil, 1), tt.in)
				if err != nil {
					t.Fatal(err)
				}
				two, _ := AppendValues(nil, tt.in)
				if !bytes.Equal(one, two) {
					t.Errorf("AppendValue % x != AppendValues % x", one, two)
				}
			}
		})
	}
}

func TestZeroValues(t *testing.T) {
	b, err := AppendValues(nil)
	if err != nil || !bytes.Equal(b, []byte{0}) {
		t.Fatalf("AppendValues() = % x, %v", b, err)
	}
	got, err := DecodeValues(b)
	if err != nil || len(got) != 0 {
		t.Fatalf("DecodeValues = %#v, %v", got, err)
	}
}

func TestAppendNumber(t *testing.T) {
	tests := []struct {
		f       float64
		wantInt bool
	}{
		{0, true},
		{3, true},
		{-3, true},
		{1 << 53, true},
		{-9223372036854775808, true}, // -2^63 is exactly representable
		{9223372036854775808, false}, // 2^63 is not
		{3.5, false},
		{math.Copysign(0, -1), false},
		{math.NaN(), false},
		{math.Inf(1), false},
		{math.Inf(-1), false},
		{1e300, false},
	}
	for _, tt := range tests {
		b := AppendNumber(nil, tt.f)
		r := NewReader(b)
		k, err := r.Next()
		if err != nil {
			t.Fatalf("%v: %v", tt.f, err)
		}
		if tt.wantInt {
			if k != KindInt || float64(r.Int()) != tt.f {
				t.Errorf("AppendNumber(%v) = %v %v, want int", tt.f, k, r.Int())
			}
		} else {
			if k != KindFloat || !equal(r.Float(), tt.f) {
				t.Errorf("AppendNumber(%v) = %v %v, want float", tt.f, k, r.Float())
			}
		}
		if err := r.Done(); err != nil {
			t.Error(err)
		}
	}
}

func TestWireFormat(t *testing.T) {
	var b []byte
	b = AppendCount(b, 8)
	b = AppendNil(b)
	b = AppendBool(b, false)
	b = AppendBool(b, true)
	b = AppendInt(b, -2)
	b = AppendFloat(b, 1)
	b = AppendString(b, "hi")
	b = AppendBytes(b, []byte{0})
	b = AppendTableStart(b, 1)
	b = AppendInt(b, 5)
	b = AppendString(b, "k")
	b = AppendBool(b, true)
	b = AppendTableEnd(b)
	want := []byte{
		8,
		0,
		1,
		2,
		3, 3, // zigzag(-2) = 3
		4, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f,
		5, 2, 'h', 'i',
		5, 1, 0,
		6, 1, 3, 10, 5, 1, 'k', 2, 7,
	}
	if !bytes.Equal(b, want) {
		t.Fatalf("got  % x\nwant % x", b, want)
	}
	got, err := DecodeValues(b)
	if err != nil {
		t.Fatal(err)
	}
	wantV := []any{nil, false, true, int64(-2), 1.0, "hi", "\x00", map[any]any{int64(1): int64(5), "k": true}}
	if !equal(got, wantV) {
		t.Fatalf("got %#v", got)
	}
}

func TestReader(t *testing.T) {
	b := AppendCount(nil, 3)
	b = AppendString(b, "a\x00b")
	b = AppendTableStart(b, 2)
	b = AppendInt(b, 1)
	b = AppendNil(b)
	b = AppendString(b, "key")
	b = AppendFloat(b, 0.5)
	b = AppendTableEnd(b)
	b = AppendBool(b, true)

	r := NewReader(b)
	if n, err := r.Count(); n != 3 || err != nil {
		t.Fatalf("Count = %d, %v", n, err)
	}
	expect := func(k Kind, err error, want Kind) {
		t.Helper()
		if err != nil || k != want {
			t.Fatalf("got %v, %v; want %v", k, err, want)
		}
	}
	k, err := r.NextValue()
	expect(k, err, KindString)
	s := r.Str()
	if string(s) != "a\x00b" || cap(s) != len(s) || &s[0] != &b[3] {
		t.Fatalf("Str = %q (cap %d), must alias the buffer with a clipped cap", s, cap(s))
	}
	k, err = r.NextValue()
	expect(k, err, KindTable)
	if r.ArrayLen() != 2 {
		t.Fatalf("ArrayLen = %d", r.ArrayLen())
	}
	k, err = r.NextValue()
	expect(k, err, KindInt)
	if r.Int() != 1 {
		t.Fatalf("Int = %d", r.Int())
	}
	k, err = r.NextValue()
	expect(k, err, KindNil)
	k, err = r.NextKey()
	expect(k, err, KindString)
	k, err = r.NextValue()
	expect(k, err, KindFloat)
	if r.Float() != 0.5 {
		t.Fatalf("Float = %v", r.Float())
	}
	k, err = r.NextKey()
	expect(k, err, KindEnd)
	k, err = r.NextValue()
	expect(k, err, KindBool)
	if !r.Bool() {
		t.Fatal("Bool = false")
	}
	if err := r.Done(); err != nil {
		t.Fatal(err)
	}
	if r.Offset() != len(b) {
		t.Fatalf("Offset = %d, want %d", r.Offset(), len(b))
	}
}

func TestUnsupported(t *testing.T) {
	deep := []any{nil}
	deep[0] = deep // self reference: caught by the depth limit
	deepPath := "args[1]" + strings.Repeat("[1]", MaxDepth)

	var nilPtr *T
	tests := []struct {
		name string
		vals []any
		is   error
		msg  string
	}{
		{"pointer in nested path",
			[]any{1, map[string]any{"players": []any{1, map[string]any{"owner": &T{}}}}},
			ErrUnsupported, "pack: unsupported Go type *pack.T at args[2].players[2].owner"},
		{"struct at top", []any{T{}}, ErrUnsupported, "pack: unsupported Go type pack.T at args[1]"},
		{"nil pointer", []any{nil, nilPtr}, ErrUnsupported, "pack: unsupported Go type *pack.T at args[2]"},
		{"func", []any{func() {}}, ErrUnsupported, "pack: unsupported Go type func() at args[1]"},
		{"chan", []any{[]any{make(chan int)}}, ErrUnsupported, "pack: unsupported Go type chan int at args[1][1]"},
		{"complex", []any{complex(1, 2)}, ErrUnsupported, "pack: unsupported Go type complex128 at args[1]"},
		{"unsupported slice type", []any{[]bool{true}}, ErrUnsupported, "pack: unsupported Go type []bool at args[1]"},
		{"non-identifier key", []any{map[string]any{"my key": T{}}}, ErrUnsupported, `pack: unsupported Go type pack.T at args[1]["my key"]`},
		{"keyword key", []any{map[string]any{"end": T{}}}, ErrUnsupported, `pack: unsupported Go type pack.T at args[1]["end"]`},
		{"digit-leading key", []any{map[string]any{"1x": T{}}}, ErrUnsupported, `pack: unsupported Go type pack.T at args[1]["1x"]`},
		{"binary key", []any{map[string]any{"a\x00": T{}}}, ErrUnsupported, `pack: unsupported Go type pack.T at args[1]["a\x00"]`},
		{"underscore key", []any{map[string]any{"_x1": T{}}}, ErrUnsupported, `pack: unsupported Go type pack.T at args[1]._x1`},
		{"bool key", []any{map[any]any{true: T{}}}, ErrUnsupported, "pack: unsupported Go type pack.T at args[1][true]"},
		{"float key", []any{map[any]any{3.5: T{}}}, ErrUnsupported, "pack: unsupported Go type pack.T at args[1][3.5]"},
		{"int key", []any{map[any]any{3: T{}}}, ErrUnsupported, "pack: unsupported Go type pack.T at args[1][3]"},
		{"string key in any map", []any{map[any]any{"k": []any{T{}}}}, ErrUnsupported, "pack: unsupported Go type pack.T at args[1].k[1]"},
		{"unsupported key type", []any{map[any]any{T{}: 1}}, ErrUnsupported, "pack: unsupported Go type pack.T at args[1][<key>]"},
		{"nil key", []any{[]any{map[any]any{nil: 1}}}, ErrInvalidKey, "pack: invalid table key nil at args[1][1]"},
		{"NaN key", []any{map[any]any{math.NaN(): 1}}, ErrInvalidKey, "pack: invalid table key NaN at args[1]"},
		{"NaN float32 key", []any{map[any]any{float32(math.NaN()): 1}}, ErrInvalidKey, "pack: invalid table key NaN at args[1]"},
		{"uint64 overflow", []any{uint64(math.MaxUint64)}, ErrRange, "pack: integer out of int64 range (uint64 18446744073709551615) at args[1]"},
		{"uint overflow", []any{[]any{uint(math.MaxInt64) + 1}}, ErrRange, "pack: integer out of int64 range (uint 9223372036854775808) at args[1][1]"},
		{"uint64 key overflow", []any{map[any]any{uint64(math.MaxUint64): 1}}, ErrRange, "pack: integer out of int64 range (uint64 18446744073709551615) at args[1][<key>]"},
		{"self reference", []any{deep}, ErrTooDeep, "pack: table nesting deeper than 100 at " + deepPath},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			buf := []byte("prefix")
			out, err := AppendValues(buf, tt.vals...)
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, tt.is) {
				t.Errorf("error %v does not wrap %v", err, tt.is)
			}
			if err.Error() != tt.msg {
				t.Errorf("error\n got: %s\nwant: %s", err, tt.msg)
			}
			if string(out) != "prefix" {
				t.Errorf("buffer on error = %q, want it unchanged", out)
			}
		})
	}

	// AppendValue names the root "value".
	_, err := AppendValue(nil, []any{1, T{}})
	if want := "pack: unsupported Go type pack.T at value[2]"; err == nil || err.Error() != want {
		t.Errorf("AppendValue error = %v, want %s", err, want)
	}

	// Exactly MaxDepth levels are fine.
	var v any = 1
	for range MaxDepth {
		v = []any{v}
	}
	if _, err := AppendValues(nil, v); err != nil {
		t.Errorf("MaxDepth nesting: %v", err)
	}
	if _, err := AppendValues(nil, []any{v}); !errors.Is(err, ErrTooDeep) {
		t.Errorf("MaxDepth+1 nesting: %v", err)
	}
}

// frame builds a payload from raw bytes.
func frame(parts ...[]byte) []byte {
	return bytes.Join(parts, nil)
}

func nested(n int) []byte {
	b := []byte{1}
	for i := range n {
		narr := byte(1) // the next table is the only array element
		if i == n-1 {
			narr = 0
		}
		b = append(b, tagTable, narr)
	}
	for range n {
		b = append(b, tagEnd)
	}
	return b
}

func TestCorrupt(t *testing.T) {
	nan := binary.LittleEndian.AppendUint64([]byte{tagFloat}, math.Float64bits(math.NaN()))
	overlong := append([]byte{1, tagInt}, bytes.Repeat([]byte{0xff}, 10)...)
	overlong = append(overlong, 0x7f)
	tests := []struct {
		name string
		in   []byte
		msg  string
	}{
		{"empty", nil, "truncated value count at offset 0"},
		{"truncated count", []byte{0x80}, "truncated value count at offset 0"},
		{"malformed count", bytes.Repeat([]byte{0xff}, 11), "malformed value count varint at offset 0"},
		{"count beyond data", []byte{5, 0}, "value count 5 exceeds the 1 remaining bytes at offset 0"},
		{"missing value", []byte{3, tagStr, 0, 0}, "truncated data: missing value at offset 4"},
		{"unknown tag", []byte{1, 9}, "unknown tag 9 at offset 1"},
		{"unknown tag 0xff", []byte{2, 0, 0xff}, "unknown tag 255 at offset 2"},
		{"truncated int", []byte{1, tagInt}, "truncated int at offset 1"},
		{"truncated int varint", []byte{1, tagInt, 0x80}, "truncated int at offset 1"},
		{"malformed int varint", overlong, "malformed int varint at offset 1"},
		{"truncated float", []byte{1, tagFloat, 0, 0, 0}, "truncated float at offset 1"},
		{"truncated string length", []byte{1, tagStr}, "truncated string length at offset 1"},
		{"string beyond data", []byte{1, tagStr, 10, 'a'}, "string length 10 exceeds the 1 remaining bytes at offset 1"},
		{"huge string length", frame([]byte{1, tagStr}, binary.AppendUvarint(nil, math.MaxUint64)), "string length 18446744073709551615 exceeds the 0 remaining bytes at offset 1"},
		{"table narr beyond data", []byte{1, tagTable, 50, 0}, "table array length 50 exceeds the 1 remaining bytes at offset 1"},
		{"truncated table", []byte{1, tagTable, 0}, "truncated data: missing value at offset 3"},
		{"missing end tag", []byte{1, tagTable, 2, 0, 0}, "truncated data: missing value at offset 5"},
		{"truncated array element", []byte{1, tagTable, 2, tagStr, 5, 'a', 'b', 'c'}, "string length 5 exceeds the 3 remaining bytes at offset 3"},
		{"nil key", []byte{1, tagTable, 0, tagNil, 0, tagEnd}, "nil table key at offset 3"},
		{"NaN key", frame([]byte{1, tagTable, 0}, nan, []byte{0, tagEnd}), "NaN table key at offset 3"},
		{"table key in Go", []byte{1, tagTable, 0, tagTable, 0, tagEnd, 0, tagEnd}, "table used as a table key cannot be decoded to Go at offset 3"},
		{"missing hash value", []byte{1, tagTable, 0, tagTrue}, "truncated data: missing value at offset 4"},
		{"end tag at top level", []byte{1, tagEnd}, "unexpected end tag at offset 1"},
		{"end tag in array part", []byte{1, tagTable, 2, 0, tagEnd}, "unexpected end tag at offset 4"},
		{"end tag as hash value", []byte{1, tagTable, 0, tagStr, 1, 'a', tagEnd}, "unexpected end tag at offset 6"},
		{"too deep", nested(MaxDepth + 1), "table nesting deeper than 100 at offset 201"},
		{"trailing bytes", []byte{1, 0, 0}, "1 trailing bytes at offset 2"},
		{"trailing bytes after table", []byte{1, tagTable, 0, tagEnd, tagEnd}, "1 trailing bytes at offset 4"},
		{"zero count with data", []byte{0, 1, 2}, "2 trailing bytes at offset 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vals, err := DecodeValues(tt.in)
			if err == nil {
				t.Fatalf("no error, got %#v", vals)
			}
			if !errors.Is(err, ErrCorrupt) {
				t.Errorf("error %v does not wrap ErrCorrupt", err)
			}
			if want := "pack: corrupt data: " + tt.msg; err.Error() != want {
				t.Errorf("error\n got: %s\nwant: %s", err, want)
			}
			if vals != nil {
				t.Errorf("values on error: %#v", vals)
			}
		})
	}

	if _, err := DecodeValues(nested(MaxDepth)); err != nil {
		t.Errorf("MaxDepth nesting: %v", err)
	}
}

func TestReaderDoneOpenTable(t *testing.T) {
	r := NewReader([]byte{1, tagTable, 0})
	if _, err := r.Count(); err != nil {
		t.Fatal(err)
	}
	if k, err := r.Next(); k != KindTable || err != nil {
		t.Fatal(k, err)
	}
	err := r.Done()
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "1 unterminated tables at offset 3") {
		t.Fatalf("Done = %v", err)
	}
}

func TestEndOutsideTable(t *testing.T) {
	r := NewReader([]byte{1, tagEnd})
	r.Count()
	_, err := r.Next()
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "end tag outside a table at offset 1") {
		t.Fatalf("Next = %v", err)
	}
}

func smallValues() []any {
	return []any{1, 2, 3, -1, 200, "hello", "world", true, false, nil, int64(1234567), 0.5}
}

func TestAppendValuesZeroAlloc(t *testing.T) {
	vals := smallValues()
	buf := make([]byte, 0, 256)
	allocs := testing.AllocsPerRun(1000, func() {
		var err error
		buf, err = AppendValues(buf[:0], vals...)
		if err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("AppendValues allocs = %v, want 0", allocs)
	}

	// Tables made of slices and maps of scalars allocate nothing either.
	tbl := []any{[]any{1, "a"}, map[string]any{"k": 1}, []int{1, 2}, map[string]string{"a": "b"}}
	allocs = testing.AllocsPerRun(1000, func() {
		buf, _ = AppendValues(buf[:0], tbl...)
	})
	if allocs != 0 {
		t.Fatalf("AppendValues(tables) allocs = %v, want 0", allocs)
	}
}

func TestReaderZeroAlloc(t *testing.T) {
	b, err := AppendValues(nil, 1, "hello", []any{1, 2.5, "x"}, map[string]any{"k": true})
	if err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(1000, func() {
		if err := walk(b); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("Reader allocs = %v, want 0", allocs)
	}
}

// walk validates a payload using only the Reader, as lua/copy.go does.
func walk(b []byte) error {
	r := NewReader(b)
	n, err := r.Count()
	if err != nil {
		return err
	}
	for range n {
		k, err := r.NextValue()
		if err != nil {
			return err
		}
		if err := walkValue(&r, k); err != nil {
			return err
		}
	}
	return r.Done()
}

func walkValue(r *Reader, k Kind) error {
	if k != KindTable {
		return nil
	}
	for range r.ArrayLen() {
		k, err := r.NextValue()
		if err != nil {
			return err
		}
		if err := walkValue(r, k); err != nil {
			return err
		}
	}
	for {
		k, err := r.NextKey()
		if err != nil {
			return err
		}
		if k == KindEnd {
			return nil
		}
		if err := walkValue(r, k); err != nil {
			return err
		}
		if k, err = r.NextValue(); err != nil {
			return err
		}
		if err := walkValue(r, k); err != nil {
			return err
		}
	}
}

func FuzzDecode(f *testing.F) {
	valid := [][]any{
		{},
		{nil, true, false, 1, -1, math.MaxInt64, 2.5, math.NaN(), "s", "\x00\xff"},
		{[]any{1, []any{2, map[string]any{"a": "b"}}}, map[any]any{1: 2, "x": true, 2.5: nil}},
	}
	for _, v := range valid {
		b, err := AppendValues(nil, v...)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)-1]) // truncated
		f.Add(append(b, 0)) // trailing byte
	}
	f.Add([]byte{})
	f.Add([]byte{1, 9})
	f.Add([]byte{1, tagStr, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Add([]byte{1, tagTable, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Add([]byte{1, tagTable, 0, tagNil, 0, tagEnd})
	f.Add([]byte{1, tagTable, 0, tagTable, 0, tagEnd, 0, tagEnd})
	f.Add([]byte{1, tagTable, 1, tagEnd, tagEnd})
	f.Add(nested(MaxDepth + 1))
	f.Add(nested(MaxDepth))

	f.Fuzz(func(t *testing.T, data []byte) {
		vals, err := DecodeValues(data)
		werr := walk(data)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			if werr == nil && !strings.Contains(err.Error(), "table used as a table key") {
				t.Fatalf("DecodeValues failed (%v) but Reader walk succeeded", err)
			}
			return
		}
		if werr != nil {
			t.Fatalf("DecodeValues succeeded but Reader walk failed: %v", werr)
		}
		// Decoded values re-encode and decode to the same values.
		b, err := AppendValues(nil, vals...)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		again, err := DecodeValues(b)
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if !equal(vals, again) {
			t.Fatalf("round trip mismatch:\n%#v\n%#v", vals, again)
		}
	})
}

func benchValues() []any {
	return []any{
		42, "service.method", 3.5, true,
		[]any{1, 2, 3, "four"},
		map[string]any{"id": 7, "name": "alice", "tags": []string{"a", "b"}},
	}
}

func BenchmarkAppendValues(b *testing.B) {
	vals := benchValues()
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = AppendValues(buf[:0], vals...); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkAppendValuesScalars(b *testing.B) {
	vals := smallValues()
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = AppendValues(buf[:0], vals...)
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkDecodeValues(b *testing.B) {
	data, err := AppendValues(nil, benchValues()...)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeValues(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReaderWalk(b *testing.B) {
	data, err := AppendValues(nil, benchValues()...)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if err := walk(data); err != nil {
			b.Fatal(err)
		}
	}
}
