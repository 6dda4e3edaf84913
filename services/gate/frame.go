package gate

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// protocol is how frames are cut out of a connection's byte stream, and
// how a frame is framed on the way out.
type protocol uint8

const (
	protoLen16     protocol = iota + 1 // 2-byte big-endian length, then the bytes
	protoLen32                         // 4-byte big-endian length, then the bytes
	protoLine                          // the bytes, then '\n' (a '\r' before it is dropped)
	protoWebSocket                     // one WebSocket message per frame
)

var protoNames = map[string]protocol{
	"len16": protoLen16, "len32": protoLen32, "line": protoLine, "websocket": protoWebSocket,
}

func (p protocol) String() string {
	for n, q := range protoNames {
		if q == p {
			return n
		}
	}
	return "protocol?"
}

// maxLen16 is the largest frame len16 can carry.
const maxLen16 = 1<<16 - 1

// frameError is bad input on a connection: it closes that connection,
// with the error as the reason.
type frameError struct{ msg string }

func (e *frameError) Error() string { return e.msg }

// split cuts the first whole frame off the front of buf. It returns the
// frame (pointing into buf) and the bytes it took, header included; n is
// 0 when buf holds no whole frame yet. A frame longer than max, or a
// length prefix no frame can have, is an error.
func (p protocol) split(buf []byte, max int) (frame []byte, n int, err error) {
	switch p {
	case protoLen16:
		if len(buf) < 2 {
			return nil, 0, nil
		}
		size := int(binary.BigEndian.Uint16(buf))
		if size > max {
			return nil, 0, tooLarge(size, max)
		}
		if len(buf) < 2+size {
			return nil, 0, nil
		}
		return buf[2 : 2+size], 2 + size, nil
	case protoLen32:
		if len(buf) < 4 {
			return nil, 0, nil
		}
		size := binary.BigEndian.Uint32(buf)
		if size >= 1<<31 {
			return nil, 0, &frameError{fmt.Sprintf("broken length prefix %#08x", size)}
		}
		if int(size) > max {
			return nil, 0, tooLarge(int(size), max)
		}
		if len(buf) < 4+int(size) {
			return nil, 0, nil
		}
		return buf[4 : 4+size], 4 + int(size), nil
	case protoLine:
		i := bytes.IndexByte(buf, '\n')
		if i < 0 {
			if len(buf) > max {
				return nil, 0, &frameError{fmt.Sprintf("frame too large: no newline in %d bytes (max_frame %d)", len(buf), max)}
			}
			return nil, 0, nil
		}
		frame = buf[:i]
		if i > 0 && frame[i-1] == '\r' {
			frame = frame[:i-1]
		}
		if len(frame) > max {
			return nil, 0, tooLarge(len(frame), max)
		}
		return frame, i + 1, nil
	}
	return nil, 0, &frameError{"no framing for " + p.String()}
}

func tooLarge(size, max int) error {
	return &frameError{fmt.Sprintf("frame too large: %d bytes (max_frame %d)", size, max)}
}

// header is how many bytes framing adds to a frame of n bytes.
func (p protocol) header(n int) int {
	switch p {
	case protoLen16:
		return 2
	case protoLine:
		return 1
	}
	return 4 // len32, and websocket's length in the send queue
}

// appendFrame appends data framed for the wire; the caller has checked
// that it fits (len16: at most maxLen16 bytes; line: no newline). A
// WebSocket frame is queued with a 4-byte length: the writer sends each
// as one message.
func (p protocol) appendFrame(dst, data []byte) []byte {
	switch p {
	case protoLen16:
		dst = binary.BigEndian.AppendUint16(dst, uint16(len(data)))
		return append(dst, data...)
	case protoLine:
		dst = append(dst, data...)
		return append(dst, '\n')
	}
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(data)))
	return append(dst, data...)
}

// checkOut says why data cannot go out as one frame, or "".
func (p protocol) checkOut(data []byte) string {
	switch {
	case p == protoLen16 && len(data) > maxLen16:
		return fmt.Sprintf("frame of %d bytes does not fit len16 (max %d)", len(data), maxLen16)
	case p == protoLine && bytes.IndexByte(data, '\n') >= 0:
		return "a line frame may not hold a newline"
	}
	return ""
}
