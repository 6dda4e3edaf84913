package gate_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tern-dev/tern/actor"
	"github.com/tern-dev/tern/internal/roottest"
	"github.com/tern-dev/tern/internal/testutil"
	"github.com/tern-dev/tern/root"
)

// The gate's behaviour tests run a real runtime whose bootstrap is
// testdata/watchdog.lua: it starts a gate, opens it with the test's
// options and echoes every frame. The clients are real sockets on
// 127.0.0.1.

// wait bounds every wait of these tests: a socket read, a call, a
// condition polled.
const wait = 10 * time.Second

// harness is a runtime with one open gate, and its watchdog.
type harness struct {
	t     *testing.T
	rt    *root.Runtime
	log   *testutil.Buffer
	wd    actor.Addr // the watchdog (testdata/watchdog.lua)
	gate  actor.Addr
	addr  string // where the gate listens
	proto string
}

// startGate boots a runtime and opens its gate with opts (protocol is
// required; listen defaults to 127.0.0.1:0).
func startGate(t *testing.T, opts map[string]any) *harness {
	t.Helper()
	h := bootWatchdog(t)
	o := map[string]any{"listen": "127.0.0.1:0"}
	for k, v := range opts {
		o[k] = v
	}
	res := h.call(h.wd, "open", o)
	if len(res) != 2 {
		t.Fatalf("open: %v", res)
	}
	h.addr, _ = res[0].(string)
	h.gate = actor.Addr(asInt(t, res[1]))
	h.proto, _ = o["protocol"].(string)
	if h.addr == "" || h.gate == actor.None {
		t.Fatalf("open: %v", res)
	}
	return h
}

// bootWatchdog boots a runtime whose watchdog has no gate yet.
func bootWatchdog(t *testing.T) *harness {
	t.Helper()
	rt, log := roottest.Start(t, root.Config{Bootstrap: "testdata/watchdog.lua"})
	h := &harness{t: t, rt: rt, log: log}
	for _, s := range rt.Services() {
		if strings.HasSuffix(s.Script, "watchdog.lua") {
			h.wd = s.Addr
		}
	}
	if h.wd == actor.None {
		t.Fatalf("no watchdog among %+v", rt.Services())
	}
	return h
}

func asInt(t testing.TB, v any) int64 {
	t.Helper()
	switch x := v.(type) {
	case int64:
		return x
	case float64:
		return int64(x)
	}
	t.Fatalf("not a number: %#v", v)
	return 0
}

func (h *harness) callErr(to actor.Addr, cmd string, args ...any) ([]any, error) {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	return h.rt.Call(ctx, to, cmd, args...)
}

// call calls to and fails the test on an error.
func (h *harness) call(to actor.Addr, cmd string, args ...any) []any {
	h.t.Helper()
	res, err := h.callErr(to, cmd, args...)
	if err != nil {
		h.t.Fatalf("call %s: %v", cmd, err)
	}
	return res
}

// stat is the gate's stat().
func (h *harness) stat() map[string]any {
	h.t.Helper()
	res := h.call(h.gate, "stat")
	st, ok := res[0].(map[string]any)
	if !ok {
		h.t.Fatalf("stat: %#v", res)
	}
	return st
}

func (h *harness) statInt(key string) int64 {
	h.t.Helper()
	return asInt(h.t, h.stat()[key])
}

// waitStat waits until the counter key is want.
func (h *harness) waitStat(key string, want int64) {
	h.t.Helper()
	var got int64
	testutil.Eventually(h.t, wait, fmt.Sprintf("stat %s = %d", key, want), func() bool {
		got = h.statInt(key)
		return got == want
	})
}

// reasonNow is why the connection id ended, as the watchdog heard it,
// or "".
func (h *harness) reasonNow(target actor.Addr, id int64) string {
	h.t.Helper()
	res := h.call(target, "reasons")
	m, _ := res[0].(map[string]any)
	r, _ := m[strconv.FormatInt(id, 10)].(string)
	return r
}

// reason waits until target (the watchdog, or an agent) got the
// disconnect of connection id, and returns its reason.
func (h *harness) reason(target actor.Addr, id int64) string {
	h.t.Helper()
	var r string
	testutil.Eventually(h.t, wait, fmt.Sprintf("disconnect of connection %d reaches %s", id, target), func() bool {
		r = h.reasonNow(target, id)
		return r != ""
	})
	return r
}

// logHas waits until the log holds s.
func (h *harness) logHas(s string) {
	h.t.Helper()
	testutil.Eventually(h.t, wait, fmt.Sprintf("the log has %q", s), func() bool {
		return strings.Contains(h.log.String(), s)
	})
}

// client is a connection to the gate, speaking its protocol: len16,
// len32, line, or websocket (a minimal client of its own, so that a test
// decides how its bytes are cut into writes).
type client struct {
	t     testing.TB
	h     *harness
	nc    net.Conn
	br    *bufio.Reader
	proto string
}

// dial connects a client (and, for websocket, upgrades it).
func (h *harness) dial() *client {
	h.t.Helper()
	c, err := h.dialErr()
	if err != nil {
		h.t.Fatal(err)
	}
	return c
}

func (h *harness) dialErr() (*client, error) {
	nc, err := net.DialTimeout("tcp", h.addr, wait)
	if err != nil {
		return nil, err
	}
	h.t.Cleanup(func() { nc.Close() })
	c := &client{t: h.t, h: h, nc: nc, br: bufio.NewReader(nc), proto: h.proto}
	if h.proto == "websocket" {
		if err := c.upgrade("/ws"); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// upgrade is the client's side of the WebSocket handshake.
func (c *client) upgrade(path string) error {
	var key [16]byte
	_, _ = rand.Read(key[:])
	req := "GET " + path + " HTTP/1.1\r\nHost: " + c.h.addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + base64.StdEncoding.EncodeToString(key[:]) + "\r\nSec-WebSocket-Version: 13\r\n\r\n"
	_ = c.nc.SetDeadline(time.Now().Add(wait))
	defer c.nc.SetDeadline(time.Time{})
	if _, err := io.WriteString(c.nc, req); err != nil {
		return err
	}
	res, err := http.ReadResponse(c.br, nil)
	if err != nil {
		return fmt.Errorf("websocket handshake: %w", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSwitchingProtocols {
		return fmt.Errorf("websocket handshake: %s", res.Status)
	}
	return nil
}

// frame is data framed as the client sends it.
func frame(proto string, data string) []byte {
	switch proto {
	case "len16":
		return append(binary.BigEndian.AppendUint16(nil, uint16(len(data))), data...)
	case "len32":
		return append(binary.BigEndian.AppendUint32(nil, uint32(len(data))), data...)
	case "line":
		return []byte(data + "\n")
	case "websocket":
		// A binary message in one frame, masked as a client's must be.
		b := []byte{0x82}
		switch n := len(data); {
		case n < 126:
			b = append(b, 0x80|byte(n))
		case n < 1<<16:
			b = append(b, 0x80|126)
			b = binary.BigEndian.AppendUint16(b, uint16(n))
		default:
			b = append(b, 0x80|127)
			b = binary.BigEndian.AppendUint64(b, uint64(n))
		}
		mask := [4]byte{0x37, 0xfa, 0x21, 0x3d}
		b = append(b, mask[:]...)
		for i := 0; i < len(data); i++ {
			b = append(b, data[i]^mask[i%4])
		}
		return b
	}
	panic("no protocol " + proto)
}

// closeFrame is a client's close frame with payload p (status, reason).
func closeFrame(p []byte) []byte {
	if len(p) > 2 {
		p = p[:2]
	}
	b := []byte{0x88, 0x80 | byte(len(p)), 0, 0, 0, 0}
	return append(b, p...) // mask 0: the payload as it is
}

// write writes b in one write.
func (c *client) write(b []byte) {
	c.t.Helper()
	_ = c.nc.SetWriteDeadline(time.Now().Add(wait))
	if _, err := c.nc.Write(b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// send writes the frames, all in one write.
func (c *client) send(frames ...string) {
	c.t.Helper()
	var b []byte
	for _, f := range frames {
		b = append(b, frame(c.proto, f)...)
	}
	c.write(b)
}

// recv reads one frame, waiting at most d.
func (c *client) recvWithin(d time.Duration) (string, error) {
	_ = c.nc.SetReadDeadline(time.Now().Add(d))
	switch c.proto {
	case "len16", "len32":
		n := 2
		if c.proto == "len32" {
			n = 4
		}
		var hdr [4]byte
		if _, err := io.ReadFull(c.br, hdr[:n]); err != nil {
			return "", err
		}
		size := int(binary.BigEndian.Uint16(hdr[:]))
		if n == 4 {
			size = int(binary.BigEndian.Uint32(hdr[:]))
		}
		b := make([]byte, size)
		if _, err := io.ReadFull(c.br, b); err != nil {
			return "", err
		}
		return string(b), nil
	case "line":
		s, err := c.br.ReadString('\n')
		if err != nil {
			return "", err
		}
		return strings.TrimSuffix(s, "\n"), nil
	}
	for {
		var hdr [2]byte
		if _, err := io.ReadFull(c.br, hdr[:]); err != nil {
			return "", err
		}
		if hdr[1]&0x80 != 0 {
			return "", errors.New("websocket: the server masked a frame")
		}
		size := uint64(hdr[1] & 0x7f)
		switch size {
		case 126:
			var x [2]byte
			if _, err := io.ReadFull(c.br, x[:]); err != nil {
				return "", err
			}
			size = uint64(binary.BigEndian.Uint16(x[:]))
		case 127:
			var x [8]byte
			if _, err := io.ReadFull(c.br, x[:]); err != nil {
				return "", err
			}
			size = binary.BigEndian.Uint64(x[:])
		}
		b := make([]byte, size)
		if _, err := io.ReadFull(c.br, b); err != nil {
			return "", err
		}
		switch op := hdr[0] & 0x0f; {
		case hdr[0]&0x80 == 0:
			return "", errors.New("websocket: a fragmented message")
		case op == 0x8:
			// The server's close: answer it, as a client does, so that
			// the server closes the socket now.
			_ = c.nc.SetWriteDeadline(time.Now().Add(wait))
			_, _ = c.nc.Write(closeFrame(b))
			return "", fmt.Errorf("%w: websocket close %q", io.EOF, b)
		case op == 0x1 || op == 0x2:
			return string(b), nil
		}
		// a ping or a pong: not a frame of the gate's
	}
}

// recv reads one frame; it fails the test if none comes.
func (c *client) recv() string {
	c.t.Helper()
	s, err := c.recvWithin(wait)
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return s
}

// expect reads one frame and checks it.
func (c *client) expect(want string) {
	c.t.Helper()
	if got := c.recv(); got != want {
		c.t.Fatalf("got %s, want %s", brief(got), brief(want))
	}
}

// echo sends data and expects it back.
func (c *client) echo(data string) {
	c.t.Helper()
	c.send(data)
	c.expect(data)
}

// echo2 sends data and expects want back.
func (c *client) echo2(data, want string) {
	c.t.Helper()
	c.send(data)
	c.expect(want)
}

func brief(s string) string {
	if len(s) > 40 {
		return fmt.Sprintf("%q... (%d bytes)", s[:40], len(s))
	}
	return fmt.Sprintf("%q", s)
}

// id is the connection's id, as the watchdog got it with connect.
func (c *client) id() int64 {
	c.t.Helper()
	remote := c.nc.LocalAddr().String()
	var id int64
	testutil.Eventually(c.t, wait, "the watchdog knows "+remote, func() bool {
		res := c.h.call(c.h.wd, "id", remote)
		if len(res) == 0 || res[0] == nil {
			return false
		}
		id = asInt(c.t, res[0])
		return true
	})
	return id
}

// expectClosed reads (and drops) whatever is left until the server's
// close: EOF, or a reset for a connection closed with input unread.
func (c *client) expectClosed() {
	c.t.Helper()
	if err := c.closed(); err != nil {
		c.t.Fatalf("the connection is not closed by the server: %v", err)
	}
}

// closed is expectClosed for any goroutine: it returns what went wrong.
func (c *client) closed() error {
	for c.proto == "websocket" {
		_, err := c.recvWithin(wait)
		if err == nil {
			continue
		}
		if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, syscall.ECONNRESET) {
			return err
		}
		break
	}
	_ = c.nc.SetReadDeadline(time.Now().Add(wait))
	_, err := io.Copy(io.Discard, c.br)
	if err != nil && !errors.Is(err, syscall.ECONNRESET) {
		return err
	}
	return nil
}

// bootScripts writes the Lua scripts files (name -> source) into a fresh
// directory and boots a runtime on its main.lua, logging at warn.
func bootScripts(t *testing.T, files map[string]string) *root.Runtime {
	t.Helper()
	dir := t.TempDir()
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rt, _ := roottest.Start(t, root.Config{Bootstrap: filepath.Join(dir, "main.lua"), LogLevel: "warn"})
	return rt
}
