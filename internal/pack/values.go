package pack

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ErrUnsupported is wrapped by the error AppendValue and AppendValues return
// for a Go value of a type the format cannot carry, e.g.
// "pack: unsupported Go type *main.T at args[1].players[2].owner".
var ErrUnsupported = errors.New("pack: unsupported Go type")

// ErrTooDeep is wrapped by the error AppendValue and AppendValues return
// for tables nested deeper than MaxDepth (this includes self-referencing
// slices and maps).
var ErrTooDeep = fmt.Errorf("pack: table nesting deeper than %d", MaxDepth)

// ErrInvalidKey is wrapped by the error AppendValue and AppendValues return
// for a nil or NaN map key, which Lua tables cannot hold.
var ErrInvalidKey = errors.New("pack: invalid table key")

// ErrRange is wrapped by the error AppendValue and AppendValues return for
// an unsigned integer larger than math.MaxInt64.
var ErrRange = errors.New("pack: integer out of int64 range")

// MaxSize is the default cap on the size of a payload AppendValues packs:
// 64 MiB. Shared slices and maps are packed once per reference, so a small
// value can stand for an exponentially large payload; the cap stops it.
const MaxSize = 64 << 20

// ErrTooLarge is wrapped by the error AppendValues and AppendValuesLimit
// return when the payload would grow past its cap, e.g.
// "pack: message too large (over 67108864 bytes) at args[1][2][1]".
var ErrTooLarge = errors.New("pack: message too large")

// Kinds of path segments recorded while an encode error unwinds.
const (
	segIndex = iota // [n], 1-based slice index
	segKey          // map key: .name, ["str"], [true], [3], [3.5]
	segInKey        // the error is in the map key itself
)

type pathSeg struct {
	kind uint8
	idx  int
	key  any
}

// encError is built at the failing value and collects the path while the
// recursion unwinds, so nothing is allocated on success.
type encError struct {
	base   error
	detail string
	segs   []pathSeg // innermost first
}

func (e *encError) push(s pathSeg) *encError {
	e.segs = append(e.segs, s)
	return e
}

func (e *encError) finish(root string) error {
	var sb strings.Builder
	sb.WriteString(root)
	for i := len(e.segs) - 1; i >= 0; i-- {
		s := e.segs[i]
		switch s.kind {
		case segIndex:
			sb.WriteByte('[')
			sb.WriteString(strconv.Itoa(s.idx))
			sb.WriteByte(']')
		case segInKey:
			sb.WriteString("[<key>]")
		default:
			writeKeySeg(&sb, s.key)
		}
	}
	if e.detail != "" {
		return fmt.Errorf("%w %s at %s", e.base, e.detail, sb.String())
	}
	return fmt.Errorf("%w at %s", e.base, sb.String())
}

func writeKeySeg(sb *strings.Builder, key any) {
	switch k := key.(type) {
	case string:
		if IsIdent(k) {
			sb.WriteByte('.')
			sb.WriteString(k)
			return
		}
		const maxKey = 64
		if len(k) > maxKey {
			sb.WriteString("[" + strconv.Quote(k[:maxKey]) + "...]")
			return
		}
		sb.WriteString("[" + strconv.Quote(k) + "]")
	case float64:
		sb.WriteString("[" + strconv.FormatFloat(k, 'g', -1, 64) + "]")
	case float32:
		sb.WriteString("[" + strconv.FormatFloat(float64(k), 'g', -1, 32) + "]")
	default:
		fmt.Fprintf(sb, "[%v]", k)
	}
}

var luaKeywords = map[string]bool{
	"and": true, "break": true, "do": true, "else": true, "elseif": true,
	"end": true, "false": true, "for": true, "function": true, "goto": true,
	"if": true, "in": true, "local": true, "nil": true, "not": true,
	"or": true, "repeat": true, "return": true, "then": true, "true": true,
	"until": true, "while": true,
}

// IsIdent reports whether s can be written as t.s in Lua (paths in
// error messages use it).
func IsIdent(s string) bool {
	if s == "" || luaKeywords[s] {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && '0' <= c && c <= '9' {
			continue
		}
		return false
	}
	return true
}

func unsupported(v any) *encError {
	return &encError{base: ErrUnsupported, detail: fmt.Sprintf("%T", v)}
}

func outOfRange(v any) *encError {
	return &encError{base: ErrRange, detail: fmt.Sprintf("(%T %v)", v, v)}
}

// AppendValues appends a payload: the count of vals followed by each value
// (see AppendValue for the supported types). Errors name the offending
// value's path, starting with args[i] for the 1-based position i in vals.
// The payload may take at most MaxSize bytes. On error the returned slice
// is b unchanged.
func AppendValues(b []byte, vals ...any) ([]byte, error) {
	return AppendValuesLimit(b, MaxSize, vals...)
}

// AppendValuesLimit is AppendValues with a cap of max bytes on the
// payload appended (MaxSize when max <= 0). Past it the error wraps
// ErrTooLarge and names the value being packed when the cap was hit.
func AppendValuesLimit(b []byte, max int, vals ...any) ([]byte, error) {
	if max <= 0 {
		max = MaxSize
	}
	limit := len(b) + max
	out := AppendCount(b, len(vals))
	for i, v := range vals {
		var err *encError
		if out, err = appendValue(out, v, 0, limit); err != nil {
			return b, err.sized(max).finish("args[" + strconv.Itoa(i+1) + "]")
		}
	}
	return out, nil
}

// errTooLarge is returned by appendValue when the payload reached its
// limit; sized adds the cap to the message.
func errTooLarge() *encError { return &encError{base: ErrTooLarge} }

func (e *encError) sized(max int) *encError {
	if e.base == ErrTooLarge {
		e.detail = "(over " + strconv.Itoa(max) + " bytes)"
	}
	return e
}

// AppendValue appends a single value (no count). Supported Go types are
// nil, bool, all integer types (unsigned values above math.MaxInt64 are an
// error), float32, float64, string, []byte (as a string), []any, []string,
// []int, []int64, []float64 (array part of a table), map[string]any,
// map[string]string, map[string]int, map[string]float64 and map[any]any
// (hash part; map[any]any keys may be strings, booleans, integers or
// non-NaN floats). Anything else wraps ErrUnsupported. The value may take
// at most MaxSize bytes (past it the error wraps ErrTooLarge). Errors name
// the offending path starting at "value". On error the returned slice is b
// unchanged.
func AppendValue(b []byte, v any) ([]byte, error) {
	out, err := appendValue(b, v, 0, len(b)+MaxSize)
	if err != nil {
		return b, err.sized(MaxSize).finish("value")
	}
	return out, nil
}

// Integer is a Go type that packs as an integer, such as actor.Addr.
type Integer interface{ PackInt() int64 }

// appendValue appends v, which sits inside depth open tables. The payload
// may not grow past limit bytes: that is checked before each string and
// at the start and end of each table, which bounds what shared references
// can blow up to without a check per value.
func appendValue(b []byte, v any, depth, limit int) ([]byte, *encError) {
	switch x := v.(type) {
	case nil:
		return AppendNil(b), nil
	case bool:
		return AppendBool(b, x), nil
	case int:
		return AppendInt(b, int64(x)), nil
	case int8:
		return AppendInt(b, int64(x)), nil
	case int16:
		return AppendInt(b, int64(x)), nil
	case int32:
		return AppendInt(b, int64(x)), nil
	case int64:
		return AppendInt(b, x), nil
	case uint:
		if uint64(x) > math.MaxInt64 {
			return b, outOfRange(v)
		}
		return AppendInt(b, int64(x)), nil
	case uint8:
		return AppendInt(b, int64(x)), nil
	case uint16:
		return AppendInt(b, int64(x)), nil
	case uint32:
		return AppendInt(b, int64(x)), nil
	case uint64:
		if x > math.MaxInt64 {
			return b, outOfRange(v)
		}
		return AppendInt(b, int64(x)), nil
	case float32:
		return AppendFloat(b, float64(x)), nil
	case float64:
		return AppendFloat(b, x), nil
	case string:
		if len(b)+len(x) > limit {
			return b, errTooLarge()
		}
		return AppendString(b, x), nil
	case []byte:
		if len(b)+len(x) > limit {
			return b, errTooLarge()
		}
		return AppendBytes(b, x), nil
	}

	// Tables.
	if depth >= MaxDepth {
		switch v.(type) {
		case []any, []string, []int, []int64, []float64,
			map[string]any, map[string]string, map[string]int, map[string]float64, map[any]any:
			return b, &encError{base: ErrTooDeep}
		}
		return b, unsupported(v)
	}
	if len(b) > limit {
		return b, errTooLarge()
	}
	switch x := v.(type) {
	case []any:
		b = AppendTableStart(b, len(x))
		for i, e := range x {
			var err *encError
			if b, err = appendValue(b, e, depth+1, limit); err != nil {
				return b, err.push(pathSeg{kind: segIndex, idx: i + 1})
			}
		}
	case []string:
		b = AppendTableStart(b, len(x))
		for i, e := range x {
			if len(b)+len(e) > limit {
				return b, errTooLarge().push(pathSeg{kind: segIndex, idx: i + 1})
			}
			b = AppendString(b, e)
		}
	case []int:
		b = AppendTableStart(b, len(x))
		for _, e := range x {
			b = AppendInt(b, int64(e))
		}
	case []int64:
		b = AppendTableStart(b, len(x))
		for _, e := range x {
			b = AppendInt(b, e)
		}
	case []float64:
		b = AppendTableStart(b, len(x))
		for _, e := range x {
			b = AppendFloat(b, e)
		}
	case map[string]any:
		b = AppendTableStart(b, 0)
		for k, e := range x {
			if len(b)+len(k) > limit {
				return b, errTooLarge().push(pathSeg{kind: segKey, key: k})
			}
			b = AppendString(b, k)
			var err *encError
			if b, err = appendValue(b, e, depth+1, limit); err != nil {
				return b, err.push(pathSeg{kind: segKey, key: k})
			}
		}
	case map[string]string:
		b = AppendTableStart(b, 0)
		for k, e := range x {
			if len(b)+len(k)+len(e) > limit {
				return b, errTooLarge().push(pathSeg{kind: segKey, key: k})
			}
			b = AppendString(AppendString(b, k), e)
		}
	case map[string]int:
		b = AppendTableStart(b, 0)
		for k, e := range x {
			if len(b)+len(k) > limit {
				return b, errTooLarge().push(pathSeg{kind: segKey, key: k})
			}
			b = AppendInt(AppendString(b, k), int64(e))
		}
	case map[string]float64:
		b = AppendTableStart(b, 0)
		for k, e := range x {
			if len(b)+len(k) > limit {
				return b, errTooLarge().push(pathSeg{kind: segKey, key: k})
			}
			b = AppendFloat(AppendString(b, k), e)
		}
	case map[any]any:
		b = AppendTableStart(b, 0)
		for k, e := range x {
			var err *encError
			if b, err = appendKey(b, k, limit); err != nil {
				return b, err
			}
			if b, err = appendValue(b, e, depth+1, limit); err != nil {
				return b, err.push(pathSeg{kind: segKey, key: k})
			}
		}
	case Integer:
		return AppendInt(b, x.PackInt()), nil
	default:
		return b, unsupported(v)
	}
	if len(b) > limit {
		return b, errTooLarge()
	}
	return AppendTableEnd(b), nil
}

// appendKey appends a map[any]any key.
func appendKey(b []byte, k any, limit int) ([]byte, *encError) {
	switch x := k.(type) {
	case nil:
		return b, &encError{base: ErrInvalidKey, detail: "nil"}
	case float32:
		if x != x {
			return b, &encError{base: ErrInvalidKey, detail: "NaN"}
		}
	case float64:
		if x != x {
			return b, &encError{base: ErrInvalidKey, detail: "NaN"}
		}
	case string, bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
	default:
		// Only scalar keys are supported (Go decoding could not
		// represent table keys anyway).
		return b, unsupported(k).push(pathSeg{kind: segInKey})
	}
	b, err := appendValue(b, k, MaxDepth, limit)
	if err != nil {
		err.push(pathSeg{kind: segInKey})
	}
	return b, err
}

// DecodeValues decodes a payload into Go values: nil, bool, int64, float64,
// string, or a table. A table decodes to []any when it has only an array
// part (narr > 0), to map[string]any when it has no array part and all its
// keys are strings (including the empty table), and otherwise to
// map[any]any with the array entries under int64 keys 1..narr and the hash
// keys as int64, float64, string or bool. Tables used as keys cannot be
// represented in Go and are reported as an error. Every error wraps
// ErrCorrupt.
func DecodeValues(b []byte) ([]any, error) {
	r := NewReader(b)
	n, err := r.Count()
	if err != nil {
		return nil, err
	}
	out := make([]any, n)
	for i := range out {
		k, err := r.NextValue()
		if err != nil {
			return nil, err
		}
		if out[i], err = decodeValue(&r, k); err != nil {
			return nil, err
		}
	}
	if err := r.Done(); err != nil {
		return nil, err
	}
	return out, nil
}

func decodeValue(r *Reader, k Kind) (any, error) {
	switch k {
	case KindNil:
		return nil, nil
	case KindBool:
		return r.Bool(), nil
	case KindInt:
		return r.Int(), nil
	case KindFloat:
		return r.Float(), nil
	case KindString:
		return string(r.Str()), nil
	case KindTable:
		return decodeTable(r)
	}
	// Unreachable: NextValue never returns KindEnd without an error.
	return nil, fmt.Errorf("%w: unexpected %v at offset %d", ErrCorrupt, k, r.ValueOffset())
}

func decodeTable(r *Reader) (any, error) {
	narr := r.ArrayLen() // bounded by the remaining bytes
	var arr []any
	if narr > 0 {
		arr = make([]any, narr)
	}
	for i := range arr {
		k, err := r.NextValue()
		if err != nil {
			return nil, err
		}
		if arr[i], err = decodeValue(r, k); err != nil {
			return nil, err
		}
	}
	var sm map[string]any
	var gm map[any]any
	for {
		k, err := r.NextKey()
		if err != nil {
			return nil, err
		}
		var key any
		var skey string
		switch k {
		case KindEnd:
			switch {
			case gm != nil:
				return gm, nil
			case arr != nil:
				return arr, nil
			case sm != nil:
				return sm, nil
			}
			return map[string]any{}, nil
		case KindString:
			skey = string(r.Str())
		case KindInt:
			key = r.Int()
		case KindFloat:
			key = r.Float()
		case KindBool:
			key = r.Bool()
		default: // KindTable
			return nil, fmt.Errorf("%w: table used as a table key cannot be decoded to Go at offset %d", ErrCorrupt, r.ValueOffset())
		}
		vk, err := r.NextValue()
		if err != nil {
			return nil, err
		}
		val, err := decodeValue(r, vk)
		if err != nil {
			return nil, err
		}
		if k == KindString && arr == nil && gm == nil {
			if sm == nil {
				sm = make(map[string]any)
			}
			sm[skey] = val
			continue
		}
		if k == KindString {
			key = skey
		}
		if gm == nil {
			gm = make(map[any]any, len(arr)+len(sm)+1)
			for i, v := range arr {
				gm[int64(i+1)] = v
			}
			for k, v := range sm {
				gm[k] = v
			}
			sm = nil
		}
		gm[key] = val
	}
}
