package lua

import (
	"errors"
	"math"
	"strings"
	"testing"

	glua "github.com/yuin/gopher-lua"

	"github.com/tern-dev/tern/internal/pack"
)

// copyTestEqual compares Lua values deeply (NaN equals NaN; tables by raw
// content, with scalar keys only).
func copyTestEqual(a, b glua.LValue) bool {
	switch x := a.(type) {
	case glua.LNumber:
		y, ok := b.(glua.LNumber)
		if !ok {
			return false
		}
		if x != x {
			return y != y
		}
		return x == y
	case *glua.LTable:
		y, ok := b.(*glua.LTable)
		if !ok {
			return false
		}
		n, same := 0, true
		x.ForEach(func(k, v glua.LValue) {
			n++
			if !copyTestEqual(v, y.RawGet(k)) {
				same = false
			}
		})
		y.ForEach(func(glua.LValue, glua.LValue) { n-- })
		return same && n == 0
	}
	return a == b
}

// copyTestUnpack decodes a payload and pushes its values onto L's stack,
// returning how many; on error nothing is pushed.
func copyTestUnpack(L *glua.LState, data []byte) (int, error) {
	vals, err := unpackLAppend(L, nil, data)
	if err != nil {
		return 0, err
	}
	for _, v := range vals {
		L.Push(v)
	}
	return len(vals), nil
}

// copyTestEval runs a Lua chunk and returns its results, leaving the stack empty.
func copyTestEval(t testing.TB, L *glua.LState, code string) []glua.LValue {
	t.Helper()
	top := L.GetTop()
	if err := L.DoString(code); err != nil {
		t.Fatalf("DoString(%q): %v", code, err)
	}
	var vals []glua.LValue
	for i := top + 1; i <= L.GetTop(); i++ {
		vals = append(vals, L.Get(i))
	}
	L.SetTop(top)
	return vals
}

func TestCopyRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		code string // returns the values to copy
	}{
		{"nil", "return nil"},
		{"booleans", "return true, false"},
		{"integers", "return 0, 1, -1, 2^53, -2^53, 2^63, -2^63"},
		{"floats", "return 3.5, -0.25, 1e300, 1/0, -1/0, 0/0"},
		{"strings", `return "", "hello", "\0\255\1binary\0", string.rep("x", 1000)`},
		{"empty table", "return {}"},
		{"array", "return {1, 2, 3, 'four', true}"},
		{"array with holes", "return {1, nil, 3, nil, 5}"},
		{"hash", "return {a = 1, b = 'x', c = false}"},
		{"mixed parts", "return {10, 20, 30, x = 'y', [0] = 'zero', [-1] = 'neg', [3.5] = 'f', [true] = 't', [false] = 'f', [2^40] = 'big', [1e300] = 'huge'}"},
		{"binary keys", `return {["\0"] = 1, ["\255\254"] = {["a b"] = 2}}`},
		{"nested", "return {a = {b = {c = {1, 2, {3, {4, x = {}}}}}}, {{{}}}}"},
		{"several values", "return 1, 'two', {3}, nil, {four = 4}"},
		{"sparse array key", "local t = {}; t[1000] = true; return t"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := glua.NewState()
			defer src.Close()
			dst := glua.NewState()
			defer dst.Close()

			vals := copyTestEval(t, src, tt.code)
			for _, v := range vals {
				src.Push(v)
			}
			b, err := packLValues(nil, src, 1, len(vals), 0)
			if err != nil {
				t.Fatalf("packLValues: %v", err)
			}
			src.SetTop(0)

			// packLSlice encodes the same bytes.
			b2, err := packLSlice(nil, vals, 0)
			if err != nil {
				t.Fatalf("packLSlice: %v", err)
			}
			if len(b2) != len(b) {
				t.Fatalf("packLSlice produced %d bytes, packLValues %d", len(b2), len(b))
			}

			dst.Push(glua.LString("below"))
			n, err := copyTestUnpack(dst, b)
			if err != nil {
				t.Fatalf("unpack: %v", err)
			}
			if n != len(vals) || dst.GetTop() != n+1 {
				t.Fatalf("pushed %d values (top %d), want %d", n, dst.GetTop(), len(vals))
			}
			for i, v := range vals {
				got := dst.Get(i + 2)
				if !copyTestEqual(v, got) {
					t.Errorf("value %d: got %v, want %v", i+1, got, v)
				}
				if tv, ok := v.(*glua.LTable); ok && tv == got {
					t.Errorf("value %d: table was not copied", i+1)
				}
			}

			// unpackLAppend gives the same values after the existing ones.
			pre := []glua.LValue{glua.LString("pre")}
			app, err := unpackLAppend(dst, pre, b)
			if err != nil {
				t.Fatalf("unpackLAppend: %v", err)
			}
			if len(app) != len(vals)+1 || app[0] != glua.LString("pre") {
				t.Fatalf("unpackLAppend = %v", app)
			}
			for i, v := range vals {
				if !copyTestEqual(v, app[i+1]) {
					t.Errorf("appended value %d: got %v, want %v", i+1, app[i+1], v)
				}
			}
		})
	}
}

func TestCopyNegativeZeroAndLargeInts(t *testing.T) {
	L := glua.NewState()
	defer L.Close()
	vals := []glua.LValue{glua.LNumber(math.Copysign(0, -1)), glua.LNumber(1 << 62), glua.LNumber(-(1 << 62))}
	b, err := packLSlice(nil, vals, 0)
	if err != nil {
		t.Fatal(err)
	}
	out, err := unpackLAppend(L, nil, b)
	if err != nil {
		t.Fatal(err)
	}
	if f := float64(out[0].(glua.LNumber)); f != 0 || !math.Signbit(f) {
		t.Errorf("-0 became %v", f)
	}
	if out[1] != vals[1] || out[2] != vals[2] {
		t.Errorf("got %v, want %v", out[1:], vals[1:])
	}
}

func TestCopyTableKeysAndMetatables(t *testing.T) {
	src := glua.NewState()
	defer src.Close()
	dst := glua.NewState()
	defer dst.Close()

	vals := copyTestEval(t, src, `
		local key = {"k"}
		local mt = {
			__index = function() error("__index called") end,
			__newindex = function() error("__newindex called") end,
			__len = function() error("__len called") end,
			__pairs = function() error("__pairs called") end,
			__metatable = "locked",
		}
		local t = setmetatable({1, 2, x = 3}, mt)
		return {[key] = "table key"}, t`)
	b, err := packLSlice(nil, vals, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := copyTestUnpack(dst, b); err != nil {
		t.Fatal(err)
	}
	dst.SetGlobal("tk", dst.Get(1))
	dst.SetGlobal("mt", dst.Get(2))
	dst.SetTop(0)
	if err := dst.DoString(`
		local k, v = next(tk)
		assert(type(k) == "table" and k[1] == "k" and v == "table key", "table key")
		assert(next(tk, k) == nil, "one key")
		assert(getmetatable(mt) == nil, "metatable must not be copied")
		assert(#mt == 2 and mt[1] == 1 and mt[2] == 2 and mt.x == 3, "raw content")
	`); err != nil {
		t.Fatal(err)
	}
}

func TestCopyDAG(t *testing.T) {
	src := glua.NewState()
	defer src.Close()
	dst := glua.NewState()
	defer dst.Close()

	vals := copyTestEval(t, src, `local s = {1, x = {2}}; return {s, s, k = s}, s`)
	b, err := packLSlice(nil, vals, 0)
	if err != nil {
		t.Fatalf("a shared (acyclic) table must copy: %v", err)
	}
	out, err := unpackLAppend(dst, nil, b)
	if err != nil {
		t.Fatal(err)
	}
	top := out[0].(*glua.LTable)
	a, c, k := top.RawGetInt(1), top.RawGetInt(2), top.RawGetString("k")
	if a == c || a == k || a == out[1] {
		t.Error("shared table must be copied once per reference")
	}
	for _, v := range []glua.LValue{a, c, k, out[1]} {
		if !copyTestEqual(v, vals[1]) {
			t.Errorf("copy %v differs from %v", v, vals[1])
		}
	}
}

func TestCopyErrors(t *testing.T) {
	deepPath := "args[1]" + strings.Repeat("[1]", pack.MaxDepth)
	tests := []struct {
		name string
		code string
		msg  string
	}{
		{"function", "return 1, {handler = function() end}", "cannot copy a function at args[2].handler"},
		{"builtin function", "return print", "cannot copy a function at args[1]"},
		{"coroutine", "return 1, 2, {co = {coroutine.create(function() end)}}", "cannot copy a thread at args[3].co[1]"},
		{"cycle", "local t = {a = {}}; t.a.b = t; return t", "cannot copy a table cycle at args[1].a.b (it refers back to args[1])"},
		{"self cycle", "local t = {}; t[1] = t; return 0, t", "cannot copy a table cycle at args[2][1] (it refers back to args[2])"},
		{"inner cycle", "local t = {x = {y = {}}}; t.x.y.z = t.x; return t", "cannot copy a table cycle at args[1].x.y.z (it refers back to args[1].x)"},
		{"cycle through key", "local t = {}; t[t] = 1; return t", "cannot copy a table cycle at args[1][<key>] (it refers back to args[1])"},
		{"function key", "return {[print] = 1}", "cannot copy a function at args[1][<key>]"},
		{"under table key", "return {[{}] = print}", "cannot copy a function at args[1][<table>]"},
		{"quoted key", `return {["my key"] = {f = print}}`, `cannot copy a function at args[1]["my key"].f`},
		{"keyword key", `return {["end"] = print}`, `cannot copy a function at args[1]["end"]`},
		{"binary key", `return {["a\0"] = print}`, `cannot copy a function at args[1]["a\x00"]`},
		{"number keys", "return {[-1] = {[3.5] = {[true] = {[2^40] = print}}}}", "cannot copy a function at args[1][-1][3.5][true][1099511627776]"},
		{"too deep", "local t = {}; local c = t; for i = 1, 100 do c[1] = {}; c = c[1] end; return t", "table nesting deeper than 100 at " + deepPath},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			L := glua.NewState()
			defer L.Close()
			vals := copyTestEval(t, L, tt.code)
			L.Push(glua.LString("keep"))
			for _, v := range vals {
				L.Push(v)
			}
			buf := []byte("prefix")
			out, err := packLValues(buf, L, 2, len(vals), 0)
			if err == nil {
				t.Fatal("no error")
			}
			if err.Error() != tt.msg {
				t.Errorf("error\n got: %s\nwant: %s", err, tt.msg)
			}
			if string(out) != "prefix" {
				t.Errorf("buffer on error = %q", out)
			}
			if _, err2 := packLSlice(nil, vals, 0); err2 == nil || err2.Error() != tt.msg {
				t.Errorf("packLSlice error = %v", err2)
			}
			// The state is untouched and still works.
			if L.GetTop() != len(vals)+1 || L.Get(1) != glua.LString("keep") {
				t.Errorf("stack changed: top %d", L.GetTop())
			}
			L.SetTop(0)
			if err := L.DoString("x = 1 + 1"); err != nil || L.GetGlobal("x") != glua.LNumber(2) {
				t.Errorf("state unusable after error: %v", err)
			}
		})
	}
}

func TestCopyErrorsGoValues(t *testing.T) {
	L := glua.NewState()
	defer L.Close()
	tests := []struct {
		v   glua.LValue
		msg string
	}{
		{L.NewUserData(), "cannot copy a userdata at args[2]"},
		{glua.LChannel(make(chan glua.LValue)), "cannot copy a channel at args[2]"},
		{L.NewFunction(func(*glua.LState) int { return 0 }), "cannot copy a function at args[2]"},
	}
	for _, tt := range tests {
		if _, err := packLSlice(nil, []glua.LValue{glua.LTrue, tt.v}, 0); err == nil || err.Error() != tt.msg {
			t.Errorf("got %v, want %s", err, tt.msg)
		}
		tbl := L.NewTable()
		tbl.RawSetString("ud", tt.v)
		want := strings.Replace(tt.msg, "args[2]", "args[1].ud", 1)
		if _, err := packLSlice(nil, []glua.LValue{tbl}, 0); err == nil || err.Error() != want {
			t.Errorf("got %v, want %s", err, want)
		}
	}

	// A Go nil in the slice is Lua nil.
	b, err := packLSlice(nil, []glua.LValue{nil}, 0)
	if err != nil || string(b) != "\x01\x00" {
		t.Errorf("packLSlice(nil) = %q, %v", b, err)
	}

	// Exactly MaxDepth nested tables are fine; the depth error wraps pack.ErrTooDeep.
	vals := copyTestEval(t, L, "local t = {}; local c = t; for i = 1, 99 do c[1] = {}; c = c[1] end; return t")
	if _, err := packLSlice(nil, vals, 0); err != nil {
		t.Errorf("100 nested tables: %v", err)
	}
	vals[0] = L.CreateTable(1, 0)
	vals[0].(*glua.LTable).RawSetInt(1, copyTestEval(t, L, "local t = {}; local c = t; for i = 1, 99 do c[1] = {}; c = c[1] end; return t")[0])
	if _, err := packLSlice(nil, vals, 0); !errors.Is(err, pack.ErrTooDeep) {
		t.Errorf("101 nested tables: %v", err)
	}
}

func TestCopyUnpackFromGo(t *testing.T) {
	L := glua.NewState()
	defer L.Close()
	b, err := pack.AppendValues(nil,
		map[string]any{"name": "alice", "tags": []string{"a", "b"}},
		map[any]any{1: "one", 3: "three", 2.5: "f", true: "t"},
		int64(1)<<53, "\x00\xff",
	)
	if err != nil {
		t.Fatal(err)
	}
	n, err := copyTestUnpack(L, b)
	if err != nil || n != 4 {
		t.Fatalf("unpack = %d, %v", n, err)
	}
	for i := n; i >= 1; i-- {
		L.SetGlobal("v"+string(rune('0'+i)), L.Get(i))
	}
	L.SetTop(0)
	if err := L.DoString(`
		assert(v1.name == "alice" and #v1.tags == 2 and v1.tags[2] == "b")
		assert(v2[1] == "one" and v2[2] == nil and v2[3] == "three" and v2[2.5] == "f" and v2[true] == "t")
		assert(v3 == 2^53)
		assert(v4 == "\0\255")
	`); err != nil {
		t.Fatal(err)
	}
}

func TestCopyUnpackErrors(t *testing.T) {
	L := glua.NewState()
	defer L.Close()

	valid, _ := pack.AppendValues(nil, 1, "two", []any{3})
	huge := append(pack.AppendTableStart(pack.AppendCount(nil, 1), 0), pack.AppendInt(nil, 60000000)...)
	huge = pack.AppendTableEnd(pack.AppendBool(huge, true))
	tests := []struct {
		name    string
		data    []byte
		corrupt bool
		msg     string
	}{
		{"truncated after valid values", valid[:len(valid)-1], true, "pack: corrupt data: truncated data: missing value at offset 12"},
		{"trailing bytes", append(valid[:len(valid):len(valid)], 0), true, "pack: corrupt data: 1 trailing bytes at offset 13"},
		{"nil key", []byte{1, 6, 0, 0, 0, 7}, true, "pack: corrupt data: nil table key at offset 3"},
		{"unknown tag", []byte{2, 3, 2, 42}, true, "pack: corrupt data: unknown tag 42 at offset 3"},
		{"huge integer key", huge, true, "pack: corrupt data: integer table key 60000000 would allocate too many nil array slots at offset 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			L.Push(glua.LString("keep"))
			n, err := copyTestUnpack(L, tt.data)
			if err == nil {
				t.Fatal("no error")
			}
			if errors.Is(err, pack.ErrCorrupt) != tt.corrupt {
				t.Errorf("errors.Is(%v, ErrCorrupt) = %v", err, !tt.corrupt)
			}
			if err.Error() != tt.msg {
				t.Errorf("error\n got: %s\nwant: %s", err, tt.msg)
			}
			if n != 0 || L.GetTop() != 1 || L.Get(1) != glua.LString("keep") {
				t.Errorf("stack not reset: n=%d top=%d", n, L.GetTop())
			}
			dst := []glua.LValue{glua.LTrue}
			dst, err = unpackLAppend(L, dst, tt.data)
			if tt.corrupt && (err == nil || err.Error() != tt.msg) {
				t.Errorf("unpackLAppend error = %v", err)
			}
			if tt.corrupt && (len(dst) != 1 || dst[0] != glua.LTrue) {
				t.Errorf("unpackLAppend dst on error = %v", dst)
			}
			L.SetTop(0)
			if err := L.DoString("x = 1 + 1"); err != nil {
				t.Fatalf("state unusable: %v", err)
			}
		})
	}

	// A moderately sparse integer key from a Go map is fine.
	b, _ := pack.AppendValues(nil, map[any]any{5000: "x"})
	out, err := unpackLAppend(L, nil, b)
	if err != nil || out[0].(*glua.LTable).RawGetInt(5000) != glua.LString("x") {
		t.Fatalf("sparse key: %v %v", out, err)
	}
}

func TestCopyPackZeroAlloc(t *testing.T) {
	L := glua.NewState()
	defer L.Close()
	L.Push(glua.LNumber(42))
	L.Push(glua.LNumber(3.5))
	L.Push(glua.LString("hello"))
	L.Push(glua.LTrue)
	L.Push(glua.LNil)
	buf := make([]byte, 0, 256)
	allocs := testing.AllocsPerRun(1000, func() {
		var err error
		if buf, err = packLValues(buf[:0], L, 1, 5, 0); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("packing scalars: %v allocs, want 0", allocs)
	}

	vals := copyTestEval(t, L, "return {1, 2, 3, x = 'y', nested = {a = true}}")
	allocs = testing.AllocsPerRun(1000, func() {
		buf, _ = packLSlice(buf[:0], vals, 0)
	})
	if allocs != 0 {
		t.Errorf("packing a small table: %v allocs, want 0", allocs)
	}
}

func BenchmarkCopyPackLValues(b *testing.B) {
	L := glua.NewState()
	defer L.Close()
	vals := copyTestEval(b, L, "return 42, 'service.method', {1, 2, 3, name = 'alice', tags = {'a', 'b'}}")
	for _, v := range vals {
		L.Push(v)
	}
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = packLValues(buf[:0], L, 1, len(vals), 0); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkCopyUnpackLValues(b *testing.B) {
	L := glua.NewState()
	defer L.Close()
	vals := copyTestEval(b, L, "return 42, 'service.method', {1, 2, 3, name = 'alice', tags = {'a', 'b'}}")
	data, err := packLSlice(nil, vals, 0)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := copyTestUnpack(L, data); err != nil {
			b.Fatal(err)
		}
		L.SetTop(0)
	}
}

func FuzzCopyUnpack(f *testing.F) {
	L := glua.NewState()
	defer L.Close()
	for _, code := range []string{
		"return 1, 'two', {3, x = {4}}",
		"return {[{}] = true, [2.5] = 'f', [-1] = false}",
		"local t = {}; t[300] = 1; return t",
	} {
		b, err := packLSlice(nil, copyTestEval(f, L, code), 0)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)-1])
	}
	f.Add([]byte{1, 6, 0, 3, 0x80, 0x80, 0x80, 0x3c, 2, 7}) // huge integer key
	f.Add([]byte{1, 6, 0, 0, 0, 7})

	f.Fuzz(func(t *testing.T, data []byte) {
		L.SetTop(0)
		L.Push(glua.LString("keep"))
		n, err := copyTestUnpack(L, data)
		if err != nil {
			if n != 0 || L.GetTop() != 1 {
				t.Fatalf("stack not reset after %v", err)
			}
			return
		}
		if L.GetTop() != n+1 {
			t.Fatalf("pushed %d, top %d", n, L.GetTop())
		}
		// What decodes re-encodes (no cycles or functions can appear).
		vals := make([]glua.LValue, n)
		for i := range vals {
			vals[i] = L.Get(i + 2)
		}
		if _, err := packLSlice(nil, vals, 0); err != nil {
			t.Fatalf("re-pack: %v", err)
		}
	})
}
