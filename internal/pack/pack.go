// Package pack implements tern's compact, binary-safe, self-describing
// encoding of Lua-like values. It is used to deep-copy message arguments
// between services and as the payload format between nodes.
//
// A payload is a uvarint count followed by count values. Each value is one
// tag byte followed by its data:
//
//	0 nil
//	1 false
//	2 true
//	3 int:    zigzag varint int64
//	4 float:  8 bytes little-endian IEEE 754
//	5 string: uvarint length, raw bytes
//	6 table:  uvarint narr, narr values (indexes 1..narr), then zero or
//	          more key/value pairs, then tag 7
//	7 end of table
//
// The appenders never allocate beyond growing the destination slice, and the
// Reader never allocates (except to build an error), so encoding into a
// reused buffer and decoding with a Reader are allocation free.
package pack

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// MaxDepth is the maximum nesting depth of tables. A top-level table has
// depth 1; encoders and decoders reject anything nested deeper.
const MaxDepth = 100

// Tag bytes of the wire format.
const (
	tagNil   = 0
	tagFalse = 1
	tagTrue  = 2
	tagInt   = 3
	tagFloat = 4
	tagStr   = 5
	tagTable = 6
	tagEnd   = 7
)

// ErrCorrupt is wrapped by every error returned while decoding; the
// message says what was wrong and at which byte offset.
var ErrCorrupt = errors.New("pack: corrupt data")

// AppendCount appends the leading value count of a payload.
// A negative n is treated as 0.
func AppendCount(b []byte, n int) []byte {
	if n < 0 {
		n = 0
	}
	return binary.AppendUvarint(b, uint64(n))
}

// AppendNil appends a nil value.
func AppendNil(b []byte) []byte {
	return append(b, tagNil)
}

// AppendBool appends a boolean value.
func AppendBool(b []byte, v bool) []byte {
	if v {
		return append(b, tagTrue)
	}
	return append(b, tagFalse)
}

// AppendNumber appends a Lua number: with the int tag when f is integral and
// exactly representable as an int64 (and is not negative zero), otherwise
// with the float tag.
func AppendNumber(b []byte, f float64) []byte {
	// -2^63 <= f < 2^63 (both bounds exact in float64); NaN fails both tests.
	if f >= -9223372036854775808.0 && f < 9223372036854775808.0 {
		i := int64(f)
		if float64(i) == f && (i != 0 || !math.Signbit(f)) {
			return AppendInt(b, i)
		}
	}
	return AppendFloat(b, f)
}

// AppendInt appends an integer value.
func AppendInt(b []byte, i int64) []byte {
	return binary.AppendVarint(append(b, tagInt), i)
}

// AppendFloat appends a float value, always with the float tag.
func AppendFloat(b []byte, f float64) []byte {
	return binary.LittleEndian.AppendUint64(append(b, tagFloat), math.Float64bits(f))
}

// AppendString appends a string value. s may hold arbitrary bytes.
func AppendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(append(b, tagStr), uint64(len(s)))
	return append(b, s...)
}

// AppendBytes appends s as a string value (same tag as AppendString).
func AppendBytes(b []byte, s []byte) []byte {
	b = binary.AppendUvarint(append(b, tagStr), uint64(len(s)))
	return append(b, s...)
}

// AppendTableStart starts a table whose array part holds narr values. The
// caller must then append exactly narr values, then any number of
// key/value pairs, then AppendTableEnd. A negative narr is treated as 0.
func AppendTableStart(b []byte, narr int) []byte {
	if narr < 0 {
		narr = 0
	}
	return binary.AppendUvarint(append(b, tagTable), uint64(narr))
}

// AppendTableEnd ends the table started by the matching AppendTableStart.
func AppendTableEnd(b []byte) []byte {
	return append(b, tagEnd)
}

// Kind is the kind of a value read by Reader.Next.
type Kind uint8

// Kinds of values returned by Reader.Next.
const (
	KindNil    Kind = iota // nil
	KindBool               // boolean; see Reader.Bool
	KindInt                // integer; see Reader.Int
	KindFloat              // float; see Reader.Float
	KindString             // string; see Reader.Str
	KindTable              // start of a table; see Reader.ArrayLen
	KindEnd                // end of the current table
)

var kindNames = [...]string{"nil", "bool", "int", "float", "string", "table", "end"}

// String returns the name of the kind.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Reader is a zero-allocation, pull-style decoder over a payload. It is a
// small value type meant to live on the stack:
//
//	r := pack.NewReader(b)
//	n, err := r.Count()
//	for range n { k, err := r.NextValue(); ... }
//	err = r.Done()
//
// Reader checks the framing of every value (tags, lengths, truncation,
// nesting depth, misplaced end tags); the caller walks the table structure:
// after a KindTable, ArrayLen values follow (read them with NextValue), then
// key/value pairs until NextKey returns KindEnd. After an error the Reader
// must not be used any more.
type Reader struct {
	buf   []byte
	off   int // next byte to read
	start int // offset of the tag of the last value read
	depth int // number of tables currently open

	// Data of the last value read.
	b bool
	i int64 // int value, or narr of a table
	f float64
	s []byte
}

// NewReader returns a Reader over b. The Reader never modifies b, and
// strings returned by Str alias it.
func NewReader(b []byte) Reader {
	return Reader{buf: b}
}

func (r *Reader) corrupt(off int, format string, args ...any) error {
	return fmt.Errorf("%w: %s at offset %d", ErrCorrupt, fmt.Sprintf(format, args...), off)
}

// remaining returns the number of unread bytes.
func (r *Reader) remaining() int { return len(r.buf) - r.off }

// uvarint reads a uvarint bounded by the number of bytes that remain after it.
func (r *Reader) uvarint(what string, at int) (int, error) {
	v, n := binary.Uvarint(r.buf[r.off:])
	if n == 0 {
		return 0, r.corrupt(at, "truncated %s", what)
	}
	if n < 0 {
		return 0, r.corrupt(at, "malformed %s varint", what)
	}
	r.off += n
	if v > uint64(r.remaining()) {
		return 0, r.corrupt(at, "%s %d exceeds the %d remaining bytes", what, v, r.remaining())
	}
	return int(v), nil
}

// Offset returns the offset of the next unread byte.
func (r *Reader) Offset() int { return r.off }

// ValueOffset returns the offset of the tag byte of the last value read
// by Next, NextValue or NextKey.
func (r *Reader) ValueOffset() int { return r.start }

// Count reads the leading value count of a payload. Every value takes at
// least one byte, so a count larger than the remaining bytes is rejected.
func (r *Reader) Count() (int, error) {
	return r.uvarint("value count", r.off)
}

// Next reads the next tag and the data of its value. For KindTable it also
// reads the size of the array part, available via ArrayLen. KindEnd closes
// the innermost open table; an end tag outside any table is an error, and
// so is a table nested deeper than MaxDepth.
func (r *Reader) Next() (Kind, error) {
	r.start = r.off
	if r.off >= len(r.buf) {
		return 0, r.corrupt(r.off, "truncated data: missing value")
	}
	tag := r.buf[r.off]
	r.off++
	switch tag {
	case tagNil:
		return KindNil, nil
	case tagFalse, tagTrue:
		r.b = tag == tagTrue
		return KindBool, nil
	case tagInt:
		v, n := binary.Varint(r.buf[r.off:])
		if n == 0 {
			return 0, r.corrupt(r.start, "truncated int")
		}
		if n < 0 {
			return 0, r.corrupt(r.start, "malformed int varint")
		}
		r.off += n
		r.i = v
		return KindInt, nil
	case tagFloat:
		if r.remaining() < 8 {
			return 0, r.corrupt(r.start, "truncated float")
		}
		r.f = math.Float64frombits(binary.LittleEndian.Uint64(r.buf[r.off:]))
		r.off += 8
		return KindFloat, nil
	case tagStr:
		n, err := r.uvarint("string length", r.start)
		if err != nil {
			return 0, err
		}
		r.s = r.buf[r.off : r.off+n : r.off+n]
		r.off += n
		return KindString, nil
	case tagTable:
		if r.depth >= MaxDepth {
			return 0, r.corrupt(r.start, "table nesting deeper than %d", MaxDepth)
		}
		n, err := r.uvarint("table array length", r.start)
		if err != nil {
			return 0, err
		}
		r.depth++
		r.i = int64(n)
		return KindTable, nil
	case tagEnd:
		if r.depth == 0 {
			return 0, r.corrupt(r.start, "end tag outside a table")
		}
		r.depth--
		return KindEnd, nil
	default:
		return 0, r.corrupt(r.start, "unknown tag %d", tag)
	}
}

// NextValue is like Next but rejects an end tag: use it where a value must
// follow (top-level values, array elements, hash values).
func (r *Reader) NextValue() (Kind, error) {
	if r.off < len(r.buf) && r.buf[r.off] == tagEnd {
		r.start = r.off
		return 0, r.corrupt(r.off, "unexpected end tag")
	}
	return r.Next()
}

// NextKey is like Next but for the key position of a table's hash part: it
// returns KindEnd at the end of the table and rejects nil and NaN keys.
func (r *Reader) NextKey() (Kind, error) {
	k, err := r.Next()
	if err != nil {
		return k, err
	}
	switch {
	case k == KindNil:
		return 0, r.corrupt(r.start, "nil table key")
	case k == KindFloat && r.f != r.f:
		return 0, r.corrupt(r.start, "NaN table key")
	}
	return k, nil
}

// Bool returns the value of the last KindBool read.
func (r *Reader) Bool() bool { return r.b }

// Int returns the value of the last KindInt read.
func (r *Reader) Int() int64 { return r.i }

// Float returns the value of the last KindFloat read.
func (r *Reader) Float() float64 { return r.f }

// Str returns the bytes of the last KindString read. The slice aliases the
// buffer given to NewReader (no copy); its capacity is clipped so appending
// to it never overwrites the buffer.
func (r *Reader) Str() []byte { return r.s }

// ArrayLen returns the size of the array part of the last KindTable read.
func (r *Reader) ArrayLen() int { return int(r.i) }

// Done returns an error if bytes remain after the values read so far or if
// a table is still open.
func (r *Reader) Done() error {
	if r.depth != 0 {
		return r.corrupt(r.off, "truncated data: %d unterminated tables", r.depth)
	}
	if r.off != len(r.buf) {
		return r.corrupt(r.off, "%d trailing bytes", len(r.buf)-r.off)
	}
	return nil
}
