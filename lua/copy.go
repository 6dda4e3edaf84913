package lua

// Deep copy of Lua values through the pack format: message arguments are
// packed out of the sender's LState and unpacked into the receiver's.

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	glua "github.com/yuin/gopher-lua"

	"github.com/tern-dev/tern/internal/pack"
)

// copyIntKeys holds pre-boxed LNumber values used to resume LTable.Next
// after the array part without allocating (boxing a float64 allocates).
var copyIntKeys = func() (a [257]glua.LValue) {
	for i := range a {
		a[i] = glua.LNumber(i)
	}
	return a
}()

func copyIntKey(n int) glua.LValue {
	if n < len(copyIntKeys) {
		return copyIntKeys[n]
	}
	return glua.LNumber(n)
}

// packLValues appends a count and the values L.Get(from) .. L.Get(from+n-1) to b.
// The values may take at most max bytes (pack.MaxSize when max <= 0): a
// table shared by several references is packed once per reference, so a
// small Lua value can stand for an exponentially large message.
// On error it returns b unchanged and an error naming the offending value
// (e.g. "cannot copy a function at args[2].handler"); L is not touched.
func packLValues(b []byte, L *glua.LState, from, n, max int) ([]byte, error) {
	if n < 0 {
		n = 0
	}
	limit := copyLimit(b, max)
	out := pack.AppendCount(b, n)
	for i := range n {
		var err *copyError
		if out, err = copyPackTop(out, L.Get(from+i), limit); err != nil {
			err.arg, err.max = i+1, limit-len(b)
			return b, err
		}
	}
	return out, nil
}

// packLSlice does the same for a slice of values.
func packLSlice(b []byte, vals []glua.LValue, max int) ([]byte, error) {
	limit := copyLimit(b, max)
	out := pack.AppendCount(b, len(vals))
	for i, v := range vals {
		var err *copyError
		if out, err = copyPackTop(out, v, limit); err != nil {
			err.arg, err.max = i+1, limit-len(b)
			return b, err
		}
	}
	return out, nil
}

// copyLimit is the length b may grow to when max bytes are appended.
func copyLimit(b []byte, max int) int {
	if max <= 0 {
		max = pack.MaxSize
	}
	return len(b) + max
}

// copyPackTop packs one top-level value. Scalars take the fast path; the
// encoder (with its table stack) is only set up for tables.
func copyPackTop(b []byte, v glua.LValue, limit int) ([]byte, *copyError) {
	if t, ok := v.(*glua.LTable); ok {
		var e copyEncoder
		e.limit = limit
		return e.packTable(b, t)
	}
	return copyPackScalar(b, v, limit)
}

// copyPackScalar packs a value that is not a table. A string that would
// take the payload past limit is an error.
func copyPackScalar(b []byte, v glua.LValue, limit int) ([]byte, *copyError) {
	switch x := v.(type) {
	case nil, *glua.LNilType:
		return pack.AppendNil(b), nil
	case glua.LBool:
		return pack.AppendBool(b, bool(x)), nil
	case glua.LNumber:
		return pack.AppendNumber(b, float64(x)), nil
	case glua.LString:
		if len(b)+len(x) > limit {
			return b, &copyError{tooBig: true}
		}
		return pack.AppendString(b, string(x)), nil
	}
	return b, &copyError{what: copyTypeName(v)}
}

func copyTypeName(v glua.LValue) string {
	switch v.(type) {
	case *glua.LTable:
		return "table"
	case *glua.LFunction:
		return "function"
	case *glua.LUserData:
		return "userdata"
	case *glua.LState:
		return "thread"
	case glua.LChannel:
		return "channel"
	}
	return v.Type().String()
}

// copyEncoder packs nested tables. stack holds the tables on the current
// path (stack[i] is at depth i+1) for cycle detection; it lives on the Go
// stack, so packing does not allocate. The payload may not grow past
// limit bytes: checked before each string and at the start and end of
// each table, which bounds what shared tables can blow up to at the cost
// of a comparison, not one per value.
type copyEncoder struct {
	stack [pack.MaxDepth]*glua.LTable
	depth int
	limit int
}

func (e *copyEncoder) packValue(b []byte, v glua.LValue) ([]byte, *copyError) {
	if t, ok := v.(*glua.LTable); ok {
		return e.packTable(b, t)
	}
	return copyPackScalar(b, v, e.limit)
}

// packTable packs t with raw access only: the array part 1..t.Len() and then
// every other key. Metatables are neither copied nor consulted.
func (e *copyEncoder) packTable(b []byte, t *glua.LTable) ([]byte, *copyError) {
	for i := 0; i < e.depth; i++ {
		if e.stack[i] == t {
			return b, &copyError{what: "table cycle", cycleTo: i}
		}
	}
	if e.depth >= pack.MaxDepth {
		return b, &copyError{tooDeep: true}
	}
	if len(b) > e.limit {
		return b, &copyError{tooBig: true}
	}
	e.stack[e.depth] = t
	e.depth++

	n := t.Len()
	b = pack.AppendTableStart(b, n)
	var err *copyError
	for i := 1; i <= n; i++ {
		if b, err = e.packValue(b, t.RawGetInt(i)); err != nil {
			return b, err.push(copySeg{idx: i})
		}
	}

	// The hash part: resume iteration after the array part. Next(nil)
	// starts at the array part, which is empty when n == 0 (and Next
	// mishandles a LNumber(0) key).
	var k glua.LValue = glua.LNil
	if n > 0 {
		k = copyIntKey(n)
	}
	for {
		var v glua.LValue
		k, v = t.Next(k)
		if k == glua.LNil {
			break
		}
		if num, ok := k.(glua.LNumber); ok {
			if num != num {
				return b, &copyError{what: "NaN table key"}
			}
			if num >= 1 && num <= glua.LNumber(n) && num == glua.LNumber(int64(num)) {
				continue // shadowed by the array part (only possible via RawSetH)
			}
		}
		if b, err = e.packValue(b, k); err != nil {
			return b, err.push(copySeg{inKey: true})
		}
		if b, err = e.packValue(b, v); err != nil {
			return b, err.push(copySeg{key: k})
		}
	}
	e.depth--
	e.stack[e.depth] = nil
	if len(b) > e.limit {
		return b, &copyError{tooBig: true}
	}
	return pack.AppendTableEnd(b), nil
}

// copySeg is one step of the path to a value: an array index, a hash key,
// or "inside the key" when the key itself could not be copied.
type copySeg struct {
	idx   int         // array index (1-based) when > 0
	key   glua.LValue // hash key
	inKey bool
}

// copyError reports a value that cannot be copied. The path is collected
// while the encoder or decoder unwinds (innermost segment first) and only
// formatted by Error.
type copyError struct {
	what    string // "function", "table cycle", ...
	tooDeep bool
	tooBig  bool  // the message grew past max bytes
	max     int   // the cap, for tooBig
	inexact bool  // unpacking: an integer a Lua number cannot hold
	ival    int64 // that integer
	cycleTo int   // for cycles: depth index of the table referred back to
	arg     int   // 1-based position of the top-level value
	segs    []copySeg
}

func (e *copyError) push(s copySeg) *copyError {
	e.segs = append(e.segs, s)
	return e
}

// path formats args[arg] followed by the first n segments (outermost first).
func (e *copyError) path(n int) string {
	var sb strings.Builder
	sb.WriteString("args[")
	sb.WriteString(strconv.Itoa(e.arg))
	sb.WriteByte(']')
	for i := len(e.segs) - 1; i >= len(e.segs)-n; i-- {
		copyWriteSeg(&sb, e.segs[i])
	}
	return sb.String()
}

func (e *copyError) Error() string {
	at := e.path(len(e.segs))
	switch {
	case e.tooDeep:
		return fmt.Sprintf("table nesting deeper than %d at %s", pack.MaxDepth, at)
	case e.tooBig:
		return fmt.Sprintf("message too large (over %d bytes) at %s", e.max, at)
	case e.inexact:
		return fmt.Sprintf("integer %d cannot be held exactly by a Lua number (beyond 2^53) at %s", e.ival, at)
	case e.what == "table cycle":
		return fmt.Sprintf("cannot copy a table cycle at %s (it refers back to %s)", at, e.path(e.cycleTo))
	}
	return fmt.Sprintf("cannot copy a %s at %s", e.what, at)
}

// Unwrap lets errors.Is(err, pack.ErrTooDeep) match the nesting error,
// pack.ErrTooLarge the size error and pack.ErrRange an inexact integer.
func (e *copyError) Unwrap() error {
	switch {
	case e.tooDeep:
		return pack.ErrTooDeep
	case e.tooBig:
		return pack.ErrTooLarge
	case e.inexact:
		return pack.ErrRange
	}
	return nil
}

// copyPush adds a path segment to err if it is a copyError (a value Lua
// cannot hold), not a corrupt frame.
func copyPush(err error, s copySeg) error {
	if ce, ok := err.(*copyError); ok {
		ce.push(s)
	}
	return err
}

// copyArg records the top-level position of a copyError.
func copyArg(err error, i int) error {
	if ce, ok := err.(*copyError); ok {
		ce.arg = i
	}
	return err
}

func copyWriteSeg(sb *strings.Builder, s copySeg) {
	switch {
	case s.inKey:
		sb.WriteString("[<key>]")
	case s.idx > 0:
		sb.WriteByte('[')
		sb.WriteString(strconv.Itoa(s.idx))
		sb.WriteByte(']')
	default:
		switch k := s.key.(type) {
		case glua.LString:
			if pack.IsIdent(string(k)) {
				sb.WriteByte('.')
				sb.WriteString(string(k))
				return
			}
			str := string(k)
			const maxKey = 64
			if len(str) > maxKey {
				sb.WriteString("[" + strconv.Quote(str[:maxKey]) + "...]")
				return
			}
			sb.WriteString("[" + strconv.Quote(str) + "]")
		case glua.LNumber:
			f := float64(k)
			if f == math.Trunc(f) && math.Abs(f) < 1<<63 {
				sb.WriteString("[" + strconv.FormatInt(int64(f), 10) + "]")
			} else {
				sb.WriteString("[" + strconv.FormatFloat(f, 'g', -1, 64) + "]")
			}
		case glua.LBool:
			sb.WriteString("[" + strconv.FormatBool(bool(k)) + "]")
		default:
			sb.WriteString("[<" + copyTypeName(s.key) + ">]")
		}
	}
}

// copyMaxPadding bounds how many nil array slots the integer keys of a
// payload's hash parts may make gopher-lua allocate: LTable stores every
// positive integer key below MaxArrayIndex in its array part, padding the
// gap with nils, so a tiny frame with key 60000000 would otherwise allocate
// ~1 GB.
const copyMaxPadding = 1 << 20

// copyDecoder unpacks values into Lua.
type copyDecoder struct {
	L   *glua.LState
	r   pack.Reader
	pad int // nil array slots still allowed (see copyMaxPadding)
}

// unpackLAppend decodes a payload appending the values to dst (for passing to L.Resume without pushing).
// On error it returns dst with its original length.
func unpackLAppend(L *glua.LState, dst []glua.LValue, data []byte) ([]glua.LValue, error) {
	if len(data) == 0 {
		return dst, nil // no payload at all: no values (a Go sender's nil)
	}
	d := copyDecoder{L: L, r: pack.NewReader(data), pad: copyMaxPadding}
	n, err := d.r.Count()
	if err != nil {
		return dst, err
	}
	orig := len(dst)
	dst = slices.Grow(dst, n) // n is bounded by len(data)
	for i := range n {
		v, err := d.unpackNext()
		if err != nil {
			clear(dst[orig:])
			return dst[:orig], copyArg(err, i+1)
		}
		dst = append(dst, v)
	}
	if err := d.r.Done(); err != nil {
		clear(dst[orig:])
		return dst[:orig], err
	}
	return dst, nil
}

func (d *copyDecoder) unpackNext() (glua.LValue, error) {
	k, err := d.r.NextValue()
	if err != nil {
		return nil, err
	}
	return d.unpackValue(k)
}

func (d *copyDecoder) unpackValue(k pack.Kind) (glua.LValue, error) {
	switch k {
	case pack.KindNil:
		return glua.LNil, nil
	case pack.KindBool:
		if d.r.Bool() {
			return glua.LTrue, nil
		}
		return glua.LFalse, nil
	case pack.KindInt:
		// A Go integer beyond 2^53 may not survive as a float64: raise
		// rather than round it to another number.
		i := d.r.Int()
		if f := float64(i); f >= 1<<63 || int64(f) != i {
			return nil, &copyError{inexact: true, ival: i}
		}
		return glua.LNumber(i), nil
	case pack.KindFloat:
		return glua.LNumber(d.r.Float()), nil
	case pack.KindString:
		return glua.LString(string(d.r.Str())), nil
	case pack.KindTable:
		return d.unpackTable()
	}
	// Unreachable: the Reader never returns KindEnd from NextValue.
	return nil, fmt.Errorf("%w: unexpected %v at offset %d", pack.ErrCorrupt, k, d.r.ValueOffset())
}

func (d *copyDecoder) unpackTable() (glua.LValue, error) {
	narr := d.r.ArrayLen() // bounded by the remaining bytes
	t := d.L.CreateTable(narr, 0)
	alen := 0 // length of t's array slice
	for i := 1; i <= narr; i++ {
		v, err := d.unpackNext()
		if err != nil {
			return nil, copyPush(err, copySeg{idx: i})
		}
		if v != glua.LNil {
			t.RawSetInt(i, v)
			alen = i
		}
	}
	for {
		k, err := d.r.NextKey()
		if err != nil {
			return nil, err
		}
		if k == pack.KindEnd {
			return t, nil
		}
		keyOff := d.r.ValueOffset()
		key, err := d.unpackValue(k)
		if err != nil {
			return nil, copyPush(err, copySeg{inKey: true})
		}
		val, err := d.unpackNext()
		if err != nil {
			return nil, copyPush(err, copySeg{key: key})
		}
		if val == glua.LNil {
			continue
		}
		if num, ok := key.(glua.LNumber); ok && num >= 1 && num < glua.LNumber(glua.MaxArrayIndex) && num == glua.LNumber(int64(num)) {
			if i := int(num); i > alen {
				d.pad -= i - alen - 1
				if d.pad < 0 {
					return nil, fmt.Errorf("%w: integer table key %d would allocate too many nil array slots at offset %d", pack.ErrCorrupt, i, keyOff)
				}
				alen = i
			}
		}
		t.RawSet(key, val)
	}
}
