package gate

import (
	"bytes"
	"testing"
)

// fuzzSplit checks one decoder on arbitrary bytes: it never panics, a
// frame it cuts lies inside the input and is at most max bytes, and
// cutting frames until none is left consumes exactly what they took.
// Every frame it cuts, framed again, decodes to itself.
func fuzzSplit(f *testing.F, p protocol, seeds ...[]byte) {
	for _, s := range seeds {
		f.Add(s, uint16(64))
	}
	f.Fuzz(func(t *testing.T, buf []byte, max uint16) {
		limit := int(max) + 1
		rest := buf
		for len(rest) > 0 {
			frame, n, err := p.split(rest, limit)
			if err != nil {
				if _, ok := err.(*frameError); !ok {
					t.Fatalf("error of type %T: %v", err, err)
				}
				return
			}
			if n == 0 {
				return
			}
			whole := n == len(frame)+p.header(len(frame))
			if p == protoLine {
				whole = n == len(frame)+1 || n == len(frame)+2 // "\n" or "\r\n"
			}
			if n > len(rest) || len(frame) > limit || !whole {
				t.Fatalf("split(%q) = frame of %d bytes, n %d", rest, len(frame), n)
			}
			// A line ending in '\r' reads back without it (the '\r' of a
			// "\r\n" is dropped), so it does not round-trip.
			if p.checkOut(frame) == "" && !(p == protoLine && bytes.HasSuffix(frame, []byte("\r"))) {
				again := p.appendFrame(nil, frame)
				got, m, err := p.split(again, limit)
				if err != nil || m != len(again) || !bytes.Equal(got, frame) {
					t.Fatalf("re-framed %q: got %q, n %d of %d, err %v", frame, got, m, len(again), err)
				}
			}
			rest = rest[n:]
		}
	})
}

func FuzzSplitLen16(f *testing.F) {
	fuzzSplit(f, protoLen16, []byte{0, 3, 'a', 'b', 'c'}, []byte{0, 0}, []byte{0xff, 0xff, 1}, []byte{0, 1, 'x', 0, 2, 'y'})
}

func FuzzSplitLen32(f *testing.F) {
	fuzzSplit(f, protoLen32, []byte{0, 0, 0, 3, 'a', 'b', 'c'}, []byte{0xff, 0xff, 0xff, 0xff}, []byte{0, 0, 0, 0}, []byte{0x80, 0, 0, 0, 1})
}

func FuzzSplitLine(f *testing.F) {
	fuzzSplit(f, protoLine, []byte("hello\nworld\n"), []byte("\r\n"), []byte("no newline"), []byte("a\r\r\nb\n"))
}

// TestSplit pins each decoder's answers on the edges.
func TestSplit(t *testing.T) {
	for _, tc := range []struct {
		p     protocol
		in    string
		max   int
		frame string
		n     int
		err   string
	}{
		{protoLen16, "\x00\x03abcd", 10, "abc", 5, ""},
		{protoLen16, "\x00\x03ab", 10, "", 0, ""},
		{protoLen16, "\x00", 10, "", 0, ""},
		{protoLen16, "\x00\x00", 10, "", 2, ""},
		{protoLen16, "\x00\x0b", 10, "", 0, "frame too large: 11 bytes (max_frame 10)"},
		{protoLen32, "\x00\x00\x00\x02hi", 10, "hi", 6, ""},
		{protoLen32, "\xff\xff\xff\xff", 10, "", 0, "broken length prefix 0xffffffff"},
		{protoLen32, "\x00\x00\x01\x00", 10, "", 0, "frame too large: 256 bytes (max_frame 10)"},
		{protoLine, "hi\nthere", 10, "hi", 3, ""},
		{protoLine, "hi\r\n", 10, "hi", 4, ""},
		{protoLine, "\n", 10, "", 1, ""},
		{protoLine, "0123456789", 10, "", 0, ""},
		{protoLine, "0123456789a", 10, "", 0, "frame too large: no newline in 11 bytes (max_frame 10)"},
		{protoLine, "0123456789a\n", 10, "", 0, "frame too large: 11 bytes (max_frame 10)"},
	} {
		frame, n, err := tc.p.split([]byte(tc.in), tc.max)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if string(frame) != tc.frame || n != tc.n || got != tc.err {
			t.Errorf("%s split %q (max %d) = %q, %d, %q; want %q, %d, %q", tc.p, tc.in, tc.max, frame, n, got, tc.frame, tc.n, tc.err)
		}
	}
}
