package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// The framings, as the tern gate speaks them:
//
//	len16      a 2-byte big-endian length, then that many bytes
//	len32      a 4-byte big-endian length, then the bytes
//	line       the bytes, then '\n' (the frame excludes the newline)
//	websocket  one binary WebSocket message per frame, on ws://ADDR/PATH
const (
	protoLine      = "line"
	protoLen16     = "len16"
	protoLen32     = "len32"
	protoWebSocket = "websocket"
)

var protos = []string{protoLine, protoLen16, protoLen32, protoWebSocket}

// maxFrame bounds the frames both sides accept (len32, websocket, and
// the line echo's buffer growth does not apply: it streams long lines).
const maxFrame = 16 << 20

func validProto(p string) bool {
	for _, q := range protos {
		if p == q {
			return true
		}
	}
	return false
}

func headerLen(proto string) int {
	switch proto {
	case protoLen16:
		return 2
	case protoLen32:
		return 4
	}
	return 0
}

// errMismatch is a round trip whose echo was not the frame sent; the
// connection goes on (the framing held), the error is counted.
var errMismatch = errors.New("echo mismatch")

// errTimeout is a round trip over the -rt-timeout; the connection ends.
var errTimeout = errors.New("round trip timed out")

// client is one load connection. roundTrip sends frame seq and waits for
// its echo; it allocates nothing for the stream framings.
type client interface {
	roundTrip(seq uint64) error
	// alive says, without blocking, whether an idle connection is still
	// open: the server has not closed it.
	alive() bool
	close()
}

// fillPayload fills p with 'x' and writes seq, in decimal, at its end
// (as many of its low digits as fit): never a '\n', and each frame of a
// connection differs from the one before, so a stale echo is caught.
func fillPayload(p []byte, seq uint64) {
	i := len(p)
	for {
		if i == 0 {
			return
		}
		i--
		p[i] = byte('0' + seq%10)
		seq /= 10
		if seq == 0 {
			break
		}
	}
	for i > 0 && p[i-1] != 'x' {
		i--
		p[i] = 'x'
	}
}

// streamClient speaks line, len16 or len32 over TCP.
type streamClient struct {
	conn    net.Conn
	br      *bufio.Reader
	proto   string
	frame   []byte // header + payload, sent as one write
	payload []byte // frame's tail
	rbuf    []byte // the echo's payload
	hdr     [4]byte
	timeout time.Duration
}

func newStreamClient(conn net.Conn, proto string, size int, timeout time.Duration) *streamClient {
	h := headerLen(proto)
	frame := make([]byte, h+size, h+size+1)
	switch proto {
	case protoLen16:
		binary.BigEndian.PutUint16(frame, uint16(size))
	case protoLen32:
		binary.BigEndian.PutUint32(frame, uint32(size))
	case protoLine:
		frame = append(frame, '\n')
	}
	payload := frame[h : h+size]
	for i := range payload {
		payload[i] = 'x'
	}
	return &streamClient{
		conn:    conn,
		br:      bufio.NewReaderSize(conn, max(4096, size+16)),
		proto:   proto,
		frame:   frame,
		payload: payload,
		rbuf:    make([]byte, size),
		timeout: timeout,
	}
}

func (c *streamClient) close() { c.conn.Close() }

func (c *streamClient) alive() bool { return connAlive(c.conn) }

func (c *streamClient) roundTrip(seq uint64) error {
	fillPayload(c.payload, seq)
	if err := c.conn.SetDeadline(time.Now().Add(c.timeout)); err != nil {
		return err
	}
	if _, err := c.conn.Write(c.frame); err != nil {
		return ioErr(err)
	}
	switch c.proto {
	case protoLine:
		line, err := c.br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			// longer than anything sent: skip to its end
			for err == bufio.ErrBufferFull {
				_, err = c.br.ReadSlice('\n')
			}
			if err != nil {
				return ioErr(err)
			}
			return errMismatch
		}
		if err != nil {
			return ioErr(err)
		}
		if !bytes.Equal(line[:len(line)-1], c.payload) {
			return errMismatch
		}
		return nil
	default:
		h := c.hdr[:headerLen(c.proto)]
		if _, err := io.ReadFull(c.br, h); err != nil {
			return ioErr(err)
		}
		var n int
		if len(h) == 2 {
			n = int(binary.BigEndian.Uint16(h))
		} else {
			n = int(binary.BigEndian.Uint32(h))
		}
		if n != len(c.payload) {
			if n > maxFrame {
				return fmt.Errorf("echo of %d bytes: frame length %d over the limit", len(c.payload), n)
			}
			if _, err := c.br.Discard(n); err != nil {
				return ioErr(err)
			}
			return errMismatch
		}
		if _, err := io.ReadFull(c.br, c.rbuf); err != nil {
			return ioErr(err)
		}
		if !bytes.Equal(c.rbuf, c.payload) {
			return errMismatch
		}
		return nil
	}
}

// ioErr maps a deadline to errTimeout.
func ioErr(err error) error {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return errTimeout
	}
	return err
}

// wsClient sends each frame as one binary message. coder/websocket
// takes a context per call and has no deadlines, so the per-round-trip
// timeout is a timer reset for each round trip that closes the
// connection when it fires. Our buffers are reused, but the library
// allocates about 16 small objects per round trip, which we cannot
// avoid: each frame read and write arms a context.AfterFunc for its
// context (even context.Background), plus error-wrapping defers.
type wsClient struct {
	c        *websocket.Conn
	ctx      context.Context
	payload  []byte
	rbuf     []byte // len(payload)+1: a longer echo is caught
	timer    *time.Timer
	timedOut atomic.Bool
	timeout  time.Duration
}

func newWSClient(c *websocket.Conn, size int, timeout time.Duration) *wsClient {
	c.SetReadLimit(int64(size) + 1024)
	w := &wsClient{
		c:       c,
		ctx:     context.Background(),
		payload: bytes.Repeat([]byte{'x'}, size),
		rbuf:    make([]byte, size+1),
		timeout: timeout,
	}
	w.timer = time.AfterFunc(time.Hour, func() {
		w.timedOut.Store(true)
		w.c.CloseNow()
	})
	w.timer.Stop()
	return w
}

// alive is true: coder/websocket has no read that does not block but
// with a context, whose end closes the connection. The handshake at
// least showed that the server took it.
func (w *wsClient) alive() bool { return true }

func (w *wsClient) close() {
	w.timer.Stop()
	w.c.CloseNow()
}

func (w *wsClient) roundTrip(seq uint64) error {
	fillPayload(w.payload, seq)
	w.timer.Reset(w.timeout)
	err := w.exchange()
	if !w.timer.Stop() || w.timedOut.Load() {
		return errTimeout
	}
	return err
}

func (w *wsClient) exchange() error {
	if err := w.c.Write(w.ctx, websocket.MessageBinary, w.payload); err != nil {
		return err
	}
	typ, r, err := w.c.Reader(w.ctx)
	if err != nil {
		return err
	}
	n, err := io.ReadFull(r, w.rbuf)
	switch {
	case err == io.ErrUnexpectedEOF || err == io.EOF:
		// the message ended: shorter than sent, or just right
	case err != nil:
		return err
	default:
		// longer than sent: drain it
		if _, err := io.Copy(io.Discard, r); err != nil {
			return err
		}
		return errMismatch
	}
	if typ != websocket.MessageBinary || !bytes.Equal(w.rbuf[:n], w.payload) {
		return errMismatch
	}
	return nil
}
