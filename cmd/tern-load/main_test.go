package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// startEcho serves the baseline echo on a free port of 127.0.0.1 until
// the test ends, and returns its address.
func startEcho(t *testing.T, proto string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serveEcho(ctx, ln, proto, "/ws") }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serveEcho: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("serveEcho did not return")
		}
	})
	return ln.Addr().String()
}

// startServer serves ln with handle, a goroutine per connection, until
// the test ends.
func startServer(t *testing.T, handle func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
		wg    sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() { defer wg.Done(); handle(c) }()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

// tern runs the command line and returns its exit status, the fields
// of its result line (key=value) and its stderr.
func tern(t *testing.T, args ...string) (int, map[string]string, string) {
	t.Helper()
	return ternCtx(t, context.Background(), args...)
}

func ternCtx(t *testing.T, ctx context.Context, args ...string) (int, map[string]string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := realMain(ctx, args, &out, &errb)
	fields := map[string]string{}
	for _, f := range strings.Fields(out.String()) {
		if k, v, ok := strings.Cut(f, "="); ok {
			fields[k] = v
		}
	}
	t.Logf("exit %d\nstdout: %sstderr: %s", code, out.String(), errb.String())
	return code, fields, errb.String()
}

func atoi(t *testing.T, fields map[string]string, k string) int {
	t.Helper()
	v, ok := fields[k]
	if !ok {
		t.Fatalf("no %s= in the output", k)
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		t.Fatalf("%s=%s: %v", k, v, err)
	}
	return n
}

func TestRunAgainstEcho(t *testing.T) {
	for _, tc := range []struct {
		proto string
		size  int
	}{
		{protoLine, 64}, {protoLen16, 64}, {protoLen32, 64}, {protoWebSocket, 64},
		{protoLine, 1}, {protoLen16, 65535}, {protoLen32, 100000}, {protoWebSocket, 100000},
	} {
		t.Run(tc.proto+"/"+strconv.Itoa(tc.size), func(t *testing.T) {
			t.Parallel()
			addr := startEcho(t, tc.proto)
			// A 100 kB round trip takes long under the race detector on a
			// loaded machine (websocket masks every byte): big frames get
			// a longer run, so that some complete inside it.
			duration := "300ms"
			if tc.size > 1000 {
				duration = "3s"
			}
			code, f, _ := tern(t, "run", "-addr", addr, "-proto", tc.proto, "-conns", "4",
				"-size", strconv.Itoa(tc.size), "-duration", duration, "-warmup", "50ms")
			if code != 0 {
				t.Errorf("exit status %d, want 0", code)
			}
			if n := atoi(t, f, "rtts"); n <= 0 {
				t.Errorf("rtts=%d, want > 0", n)
			}
			if n := atoi(t, f, "rtt_per_sec"); n <= 0 {
				t.Errorf("rtt_per_sec=%d, want > 0", n)
			}
			if n := atoi(t, f, "errors"); n != 0 {
				t.Errorf("errors=%d, want 0", n)
			}
			if f["proto"] != tc.proto || f["conns"] != "4" || f["p99_us"] == "" {
				t.Errorf("fields %v", f)
			}
		})
	}
}

// A server that echoes each line with its first byte changed: every
// round trip is a mismatch, counted and reported, exit status 1.
func TestMismatchIsAnError(t *testing.T) {
	addr := startServer(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		for {
			line, err := br.ReadSlice('\n')
			if err != nil {
				return
			}
			line[0] = 'y'
			if _, err := c.Write(line); err != nil {
				return
			}
		}
	})
	code, f, stderr := tern(t, "run", "-addr", addr, "-proto", "line", "-conns", "2",
		"-duration", "100ms", "-warmup", "0s")
	if code != 1 {
		t.Errorf("exit status %d, want 1", code)
	}
	if n := atoi(t, f, "mismatches"); n <= 0 {
		t.Errorf("mismatches=%d, want > 0", n)
	}
	if n := atoi(t, f, "errors"); n <= 0 {
		t.Errorf("errors=%d, want > 0", n)
	}
	if n := atoi(t, f, "rtts"); n != 0 {
		t.Errorf("rtts=%d: a mismatched round trip counted", n)
	}
	if !strings.Contains(stderr, "did not match") || !strings.Contains(stderr, addr) {
		t.Errorf("stderr does not report the mismatch with the address:\n%s", stderr)
	}
}

// A len16 server that echoes a frame one byte short.
func TestShortFrameIsAMismatch(t *testing.T) {
	addr := startServer(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		buf := make([]byte, 2+64)
		for {
			if _, err := io.ReadFull(br, buf); err != nil {
				return
			}
			buf[1]--
			if _, err := c.Write(buf[:len(buf)-1]); err != nil {
				return
			}
		}
	})
	code, f, _ := tern(t, "run", "-addr", addr, "-proto", "len16", "-conns", "1",
		"-duration", "100ms", "-warmup", "0s")
	if code != 1 || atoi(t, f, "mismatches") <= 0 || atoi(t, f, "conn_failed") != 0 {
		t.Errorf("exit %d, fields %v: want 1, mismatches, the connection going on", code, f)
	}
}

// A server that closes each connection at once: the connections fail,
// reported with the address.
func TestConnectionFailure(t *testing.T) {
	addr := startServer(t, func(c net.Conn) { c.Close() })
	t.Run("io", func(t *testing.T) {
		code, f, stderr := tern(t, "run", "-addr", addr, "-proto", "len32", "-conns", "3",
			"-duration", "100ms", "-warmup", "0s")
		if code != 1 || atoi(t, f, "conn_failed") != 3 || atoi(t, f, "rtts") != 0 {
			t.Errorf("exit %d, fields %v: want 1, conn_failed=3, rtts=0", code, f)
		}
		if !strings.Contains(stderr, addr) {
			t.Errorf("stderr does not name %s:\n%s", addr, stderr)
		}
	})
	t.Run("websocket handshake", func(t *testing.T) {
		code, f, stderr := tern(t, "run", "-addr", addr, "-proto", "websocket", "-conns", "3",
			"-duration", "100ms", "-warmup", "0s")
		if code != 1 || atoi(t, f, "conn_failed") != 3 {
			t.Errorf("exit %d, fields %v: want 1, conn_failed=3", code, f)
		}
		if !strings.Contains(stderr, "ws://"+addr+"/ws") {
			t.Errorf("stderr does not name the URL:\n%s", stderr)
		}
	})
}

// startWSSink serves WebSocket connections on /ws that read each
// message and never answer, until the test ends.
func startWSSink(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			_, rd, err := c.Reader(context.Background())
			if err != nil {
				return
			}
			if _, err := io.Copy(io.Discard, rd); err != nil {
				return
			}
		}
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// A server that reads and never answers: the round trip times out.
func TestRoundTripTimeout(t *testing.T) {
	for _, proto := range []string{protoLine, protoWebSocket} {
		t.Run(proto, func(t *testing.T) {
			var addr string
			if proto == protoWebSocket {
				addr = startWSSink(t)
			} else {
				addr = startServer(t, func(c net.Conn) {
					var b [4096]byte
					for {
						if _, err := c.Read(b[:]); err != nil {
							return
						}
					}
				})
			}
			start := time.Now()
			code, f, _ := tern(t, "run", "-addr", addr, "-proto", proto, "-conns", "2",
				"-duration", "50ms", "-warmup", "0s", "-rt-timeout", "200ms")
			if code != 1 || atoi(t, f, "timeouts") != 2 {
				t.Errorf("exit %d, fields %v: want 1, timeouts=2", code, f)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

func TestIdle(t *testing.T) {
	for _, proto := range []string{protoLine, protoWebSocket} {
		t.Run(proto, func(t *testing.T) {
			t.Parallel()
			addr := startEcho(t, proto)
			code, f, _ := tern(t, "run", "-addr", addr, "-proto", proto, "-idle", "50", "-hold", "10ms")
			if code != 0 || atoi(t, f, "idle_conns") != 50 || atoi(t, f, "idle_alive") != 50 {
				t.Errorf("exit %d, fields %v: want 0, idle_conns=50, idle_alive=50", code, f)
			}
		})
	}
}

// A server that closes what it accepts: connected, but not alive. The
// hold ends (the context's end) once the server has closed all three.
func TestIdleClosedByServer(t *testing.T) {
	closed := make(chan struct{}, 3)
	addr := startServer(t, func(c net.Conn) { c.Close(); closed <- struct{}{} })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The hold ends once every connection is up (idle_conns printed) and
	// the server has closed all three.
	out := &watchWriter{want: "idle_conns=", seen: make(chan struct{})}
	go func() {
		for range 3 {
			<-closed
		}
		<-out.seen
		cancel()
	}()
	var errb bytes.Buffer
	code := realMain(ctx, []string{"run", "-addr", addr, "-proto", "len16", "-idle", "3", "-hold", "10s"}, out, &errb)
	f := map[string]string{}
	for _, w := range strings.Fields(out.String()) {
		if k, v, ok := strings.Cut(w, "="); ok {
			f[k] = v
		}
	}
	if code != 1 || atoi(t, f, "idle_conns") != 3 || atoi(t, f, "idle_alive") != 0 {
		t.Errorf("exit %d, fields %v: want 1, idle_conns=3, idle_alive=0\nstderr: %s", code, f, errb.String())
	}
	if !strings.Contains(errb.String(), "closed by the server") {
		t.Errorf("stderr %q", errb.String())
	}
}

// watchWriter collects output and closes seen once want was written.
type watchWriter struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	want string
	seen chan struct{}
	once sync.Once
}

func (w *watchWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.buf.Write(p)
	if strings.Contains(w.buf.String(), w.want) {
		w.once.Do(func() { close(w.seen) })
	}
	return n, err
}

func (w *watchWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

func TestBadCommandLine(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"nope"},
		{"run", "-conns", "10", "-max-conns", "5"},
		{"run", "-idle", "10", "-max-conns", "5"},
		{"run", "-proto", "udp"},
		{"run", "-proto", "len16", "-size", "70000"},
		{"run", "-size", "0"},
		{"echo", "-proto", "udp"},
	} {
		code, _, stderr := tern(t, args...)
		if code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
		if stderr == "" {
			t.Errorf("%q: nothing on stderr", args)
		}
	}
	if _, _, stderr := tern(t, "run", "-conns", "10", "-max-conns", "5"); !strings.Contains(stderr, "refusing 10 connections") {
		t.Errorf("stderr %q", stderr)
	}
}

func TestHistogram(t *testing.T) {
	// every bucket index maps back to bounds holding the value
	for _, v := range []uint64{0, 1, 127, 128, 129, 200, 255, 256, 1000, 12345, 999999, 1 << 20, 5e9, 1<<34 - 1} {
		i := histIndex(v)
		lo, hi := histBounds(i)
		if v < lo || v >= hi {
			t.Errorf("value %d: bucket %d is [%d, %d)", v, i, lo, hi)
		}
		if hi-lo > 1 && float64(hi-lo)/float64(lo) > 1.0/histSub+1e-9 {
			t.Errorf("value %d: bucket [%d, %d) over 1/%d wide", v, lo, hi, histSub)
		}
	}
	for i := 1; i < histBuckets; i++ {
		_, hi := histBounds(i - 1)
		lo, _ := histBounds(i)
		if hi != lo {
			t.Fatalf("buckets %d and %d not contiguous: %d, %d", i-1, i, hi, lo)
		}
	}
	// 1..100000 µs, uniform: the quantiles within 1%
	var h1, h2 hist
	for v := 1; v <= 100000; v++ {
		d := time.Duration(v) * time.Microsecond
		if v%2 == 0 {
			h1.record(d)
		} else {
			h2.record(d)
		}
	}
	var m merged
	m.add(&h1)
	m.add(&h2)
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999, 1} {
		want := q * 100000 * 1e3
		got := m.quantile(q)
		if e := (got - want) / want; e > 0.01 || e < -0.01 {
			t.Errorf("q%v: %v ns, want %v (%.2f%% off)", q, got, want, e*100)
		}
	}
	if m.n != 100000 || m.max != 100000*1e3 {
		t.Errorf("n %d max %d", m.n, m.max)
	}
}

func TestFillPayload(t *testing.T) {
	p := bytes.Repeat([]byte{'x'}, 8)
	for _, tc := range []struct {
		seq  uint64
		want string
	}{{0, "xxxxxxx0"}, {7, "xxxxxxx7"}, {42, "xxxxxx42"}, {123456789, "23456789"}} {
		fillPayload(p, tc.seq)
		if string(p) != tc.want {
			t.Errorf("seq %d: %q, want %q", tc.seq, p, tc.want)
		}
	}
	one := []byte{'x'}
	fillPayload(one, 13)
	if string(one) != "3" {
		t.Errorf("%q", one)
	}
}

// A round trip allocates nothing for the stream framings, on the
// client and on the echo server (AllocsPerRun counts every goroutine's
// allocations, so both); for websocket coder/websocket's allocations
// (about 16 a side) are only logged.
func TestRoundTripAllocs(t *testing.T) {
	for _, proto := range protos {
		t.Run(proto, func(t *testing.T) {
			addr := startEcho(t, proto)
			cfg := &runConfig{addr: addr, proto: proto, path: "/ws", size: 64,
				dialTimeout: 5 * time.Second, rtTimeout: 5 * time.Second}
			c, err := dialOne(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer c.close()
			var seq uint64
			allocs := testing.AllocsPerRun(200, func() {
				seq++
				if err := c.roundTrip(seq); err != nil {
					t.Fatal(err)
				}
			})
			t.Logf("%s: %.1f allocations per round trip, client and server", proto, allocs)
			if proto != protoWebSocket && allocs != 0 {
				t.Errorf("%s: %.1f allocations per round trip, want 0", proto, allocs)
			}
		})
	}
}
