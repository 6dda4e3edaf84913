package lua

import (
	"errors"
	"math"
	"strings"
	"testing"

	glua "github.com/yuin/gopher-lua"

	"github.com/tern-dev/tern/internal/pack"
)

// Packing stops at the cap, naming where it was hit, for shared tables and
// for strings, at the top level and nested; 0 means pack.MaxSize.
func TestCopyMessageCap(t *testing.T) {
	L := glua.NewState()
	defer L.Close()
	dag := copyTestEval(t, L, `local t = {1}; for i = 1, 40 do t = {t, t} end; return t`)
	prefix := []byte("head")
	out, err := packLSlice(prefix, []glua.LValue{glua.LTrue, dag[0]}, 1000)
	if !errors.Is(err, pack.ErrTooLarge) || !strings.HasPrefix(err.Error(), "message too large (over 1000 bytes) at args[2][1][1]") {
		t.Fatalf("2^40 copies: %v", err)
	}
	if string(out) != "head" {
		t.Errorf("on error the slice is not b unchanged: %q", out)
	}
	L.Push(dag[0])
	if _, err := packLValues(nil, L, 1, 1, 1000); !errors.Is(err, pack.ErrTooLarge) {
		t.Fatalf("packLValues, 2^40 copies: %v", err)
	}
	L.SetTop(0)

	// The default, with 1 MiB leaves to reach it quickly.
	big := copyTestEval(t, L, `local t = string.rep("x", 2^20); for i = 1, 40 do t = {t, k = t} end; return t`)
	buf := make([]byte, 0, pack.MaxSize+1<<20) // no growing: keep the test quick
	if _, err := packLSlice(buf, big, 0); !errors.Is(err, pack.ErrTooLarge) || !strings.Contains(err.Error(), "(over 67108864 bytes) at args[1]") {
		t.Fatalf("default cap: %v", err)
	}

	for _, tt := range []struct{ code, path string }{
		{`return string.rep("x", 1001)`, "at args[1]"},
		{`return {string.rep("x", 600), string.rep("y", 600)}`, "at args[1][2]"},
		{`return {a = {b = string.rep("x", 1001)}}`, "at args[1].a.b"},
		{`local t = {}; for i = 1, 600 do t[i] = i end; return t`, "at args[1]"}, // caught at the table's end
	} {
		vals := copyTestEval(t, L, tt.code)
		if _, err := packLSlice(nil, vals, 1000); !errors.Is(err, pack.ErrTooLarge) || !strings.HasSuffix(err.Error(), tt.path) {
			t.Errorf("%s: %v", tt.code, err)
		}
	}
	if b, err := packLSlice(nil, copyTestEval(t, L, `return string.rep("x", 990)`), 1000); err != nil || len(b) > 1000 {
		t.Errorf("under the cap: %d bytes, %v", len(b), err)
	}
}

// An integer a float64 cannot hold exactly is an error at the conversion
// into Lua, naming where it is; the ones it can hold come in exactly.
func TestCopyInexactIntegers(t *testing.T) {
	L := glua.NewState()
	defer L.Close()
	for _, tt := range []struct {
		vals []any
		msg  string
	}{
		{[]any{int64(1<<53 + 1)}, "integer 9007199254740993 cannot be held exactly by a Lua number (beyond 2^53) at args[1]"},
		{[]any{1, map[string]any{"id": int64(math.MaxInt64)}}, "integer 9223372036854775807 cannot be held exactly by a Lua number (beyond 2^53) at args[2].id"},
		{[]any{[]any{"a", []int64{1, math.MinInt64 + 1}}}, "integer -9223372036854775807 cannot be held exactly by a Lua number (beyond 2^53) at args[1][2][2]"},
		{[]any{map[any]any{int64(1<<62 + 1): 1}}, "integer 4611686018427387905 cannot be held exactly by a Lua number (beyond 2^53) at args[1][<key>]"},
	} {
		b, err := pack.AppendValues(nil, tt.vals...)
		if err != nil {
			t.Fatal(err)
		}
		dst, err := unpackLAppend(L, []glua.LValue{glua.LTrue}, b)
		if err == nil || err.Error() != tt.msg || !errors.Is(err, pack.ErrRange) {
			t.Errorf("unpack %v:\n got %v\nwant %s", tt.vals, err, tt.msg)
		}
		if len(dst) != 1 {
			t.Errorf("dst on error: %v", dst)
		}
		L.Push(glua.LString("keep"))
		if n, err := copyTestUnpack(L, b); err == nil || err.Error() != tt.msg || n != 0 || L.GetTop() != 1 {
			t.Errorf("copyTestUnpack %v: %d %v, top %d", tt.vals, n, err, L.GetTop())
		}
		L.SetTop(0)
	}
	exact := []int64{1 << 53, -(1 << 53), 1 << 60, math.MinInt64, 1<<53 + 2}
	vals := make([]any, len(exact))
	for i, v := range exact {
		vals[i] = v
	}
	b, _ := pack.AppendValues(nil, vals...)
	out, err := unpackLAppend(L, nil, b)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range exact {
		if out[i] != glua.LNumber(v) || int64(out[i].(glua.LNumber)) != v {
			t.Errorf("%d came in as %v", v, out[i])
		}
	}
}
