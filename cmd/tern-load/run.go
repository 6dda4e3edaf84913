package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("tern-load "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

type runConfig struct {
	addr, proto, path string
	conns, maxConns   int
	size              int
	duration, warmup  time.Duration
	dialTimeout       time.Duration // one connection
	connectTimeout    time.Duration // all of them
	rtTimeout         time.Duration
	idle              int
	hold              time.Duration
}

// dialParallel bounds the dials in flight, so that a few thousand
// connections do not overflow the server's accept backlog at once.
const dialParallel = 128

// maxReported bounds the failures written to stderr one by one.
const maxReported = 10

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("run", stderr)
	var cfg runConfig
	fs.StringVar(&cfg.addr, "addr", "127.0.0.1:8888", "the echo server's address")
	fs.StringVar(&cfg.proto, "proto", protoLine, "framing: line, len16, len32 or websocket")
	fs.StringVar(&cfg.path, "path", "/ws", "websocket: the HTTP path")
	fs.IntVar(&cfg.conns, "conns", 100, "connections, each a closed loop")
	fs.IntVar(&cfg.maxConns, "max-conns", 20000, "refuse more connections than this")
	fs.IntVar(&cfg.size, "size", 64, "frame payload bytes")
	fs.DurationVar(&cfg.duration, "duration", 10*time.Second, "measured time")
	fs.DurationVar(&cfg.warmup, "warmup", time.Second, "unmeasured load before it")
	fs.DurationVar(&cfg.dialTimeout, "dial-timeout", 5*time.Second, "bound on one connection's dial (and websocket handshake)")
	fs.DurationVar(&cfg.connectTimeout, "connect-timeout", 60*time.Second, "bound on dialing all the connections")
	fs.DurationVar(&cfg.rtTimeout, "rt-timeout", 5*time.Second, "bound on one round trip; over it is an error and ends the connection")
	fs.IntVar(&cfg.idle, "idle", 0, "idle mode: open this many connections, send nothing, hold them")
	fs.DurationVar(&cfg.hold, "hold", 5*time.Second, "idle mode: how long to hold the connections")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "tern-load run: unexpected arguments %q\n", fs.Args())
		return 2
	}
	if err := cfg.check(); err != nil {
		fmt.Fprintf(stderr, "tern-load run: %v\n", err)
		return 2
	}
	if cfg.idle > 0 {
		return runIdle(ctx, &cfg, stdout, stderr)
	}
	res := runLoad(ctx, &cfg, stderr)
	fmt.Fprintln(stdout, res.line(&cfg))
	if res.errors() > 0 {
		return 1
	}
	return 0
}

func (cfg *runConfig) check() error {
	switch {
	case !validProto(cfg.proto):
		return fmt.Errorf("unknown -proto %q (line, len16, len32, websocket)", cfg.proto)
	case cfg.idle < 0:
		return fmt.Errorf("-idle %d: want >= 0", cfg.idle)
	case cfg.idle == 0 && cfg.conns < 1:
		return fmt.Errorf("-conns %d: want >= 1", cfg.conns)
	case cfg.conns > cfg.maxConns || cfg.idle > cfg.maxConns:
		return fmt.Errorf("refusing %d connections: over -max-conns %d", max(cfg.conns, cfg.idle), cfg.maxConns)
	case cfg.size < 1:
		return fmt.Errorf("-size %d: want >= 1", cfg.size)
	case cfg.proto == protoLen16 && cfg.size > 0xffff:
		return fmt.Errorf("-size %d: over len16's 65535", cfg.size)
	case cfg.size > maxFrame:
		return fmt.Errorf("-size %d: over %d", cfg.size, maxFrame)
	case cfg.duration <= 0:
		return fmt.Errorf("-duration %v: want > 0", cfg.duration)
	case cfg.warmup < 0:
		return fmt.Errorf("-warmup %v: want >= 0", cfg.warmup)
	case cfg.dialTimeout <= 0 || cfg.connectTimeout <= 0 || cfg.rtTimeout <= 0:
		return errors.New("timeouts must be > 0")
	case cfg.hold < 0:
		return fmt.Errorf("-hold %v: want >= 0", cfg.hold)
	case cfg.proto == protoWebSocket && !strings.HasPrefix(cfg.path, "/"):
		return fmt.Errorf("-path %q: want a leading /", cfg.path)
	}
	return nil
}

// failures collects errors for stderr: the first few one by one, then
// a count.
type failures struct {
	mu sync.Mutex
	w  io.Writer
	n  int
}

func (f *failures) report(format string, a ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	if f.n <= maxReported {
		fmt.Fprintf(f.w, "tern-load: "+format+"\n", a...)
	}
}

func (f *failures) flush() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n > maxReported {
		fmt.Fprintf(f.w, "tern-load: ... %d failures in all, %d more not shown\n", f.n, f.n-maxReported)
	}
}

// dialAll opens n connections, dialParallel at a time; the slice has a
// nil where a connection failed, and each failure is reported.
func dialAll(ctx context.Context, cfg *runConfig, n int, fails *failures) ([]client, int) {
	ctx, cancel := context.WithTimeout(ctx, cfg.connectTimeout)
	defer cancel()
	clients := make([]client, n)
	var failed atomic.Int64
	sem := make(chan struct{}, dialParallel)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			c, err := dialOne(ctx, cfg)
			if err != nil {
				failed.Add(1)
				fails.report("conn %d: connect %s: %v", i, target(cfg), err)
				return
			}
			clients[i] = c
		}()
	}
	wg.Wait()
	return clients, int(failed.Load())
}

func target(cfg *runConfig) string {
	if cfg.proto == protoWebSocket {
		return "ws://" + cfg.addr + cfg.path
	}
	return cfg.addr + " (" + cfg.proto + ")"
}

func dialOne(ctx context.Context, cfg *runConfig) (client, error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.dialTimeout)
	defer cancel()
	if cfg.proto == protoWebSocket {
		c, _, err := websocket.Dial(ctx, "ws://"+cfg.addr+cfg.path, &websocket.DialOptions{
			CompressionMode: websocket.CompressionDisabled,
		})
		if err != nil {
			return nil, err
		}
		return newWSClient(c, cfg.size, cfg.rtTimeout), nil
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", cfg.addr)
	if err != nil {
		return nil, err
	}
	return newStreamClient(c, cfg.proto, cfg.size, cfg.rtTimeout), nil
}

func closeAll(clients []client) {
	for _, c := range clients {
		if c != nil {
			c.close()
		}
	}
}

// runIdle holds cfg.idle connections that send nothing: it prints
// idle_conns=N once they are connected, and after -hold idle_alive=M,
// those the server has not closed (stream framings; websocket counts
// the connected ones).
func runIdle(ctx context.Context, cfg *runConfig, stdout, stderr io.Writer) int {
	fails := &failures{w: stderr}
	clients, failed := dialAll(ctx, cfg, cfg.idle, fails)
	defer closeAll(clients)
	fmt.Fprintf(stdout, "idle_conns=%d\n", cfg.idle-failed)
	if failed > 0 {
		fmt.Fprintf(stderr, "tern-load: %d of %d connections failed\n", failed, cfg.idle)
	}
	t := time.NewTimer(cfg.hold)
	select {
	case <-t.C:
	case <-ctx.Done():
		t.Stop()
	}
	// a server past its connection limit may take a connection and
	// close it at once: count those still open at the end
	alive := 0
	for i, c := range clients {
		if c == nil {
			continue
		}
		if c.alive() {
			alive++
		} else {
			fails.report("conn %d: %s: closed by the server while held", i, target(cfg))
		}
	}
	fails.flush()
	fmt.Fprintf(stdout, "idle_alive=%d\n", alive)
	if failed > 0 || alive < cfg.idle-failed {
		return 1
	}
	return 0
}

// worker is one connection's closed loop and its tallies.
type worker struct {
	c          client
	h          hist
	mismatches int
	timeouts   int
	err        error // the error that ended it, if not the stop
}

type result struct {
	conns      int
	rtts       uint64
	m          *merged
	connFailed int
	mismatches int
	timeouts   int
	measured   time.Duration
}

func (r *result) errors() int { return r.connFailed + r.mismatches + r.timeouts }

func (r *result) line(cfg *runConfig) string {
	us := func(ns float64) string { return fmt.Sprintf("%.1f", ns/1e3) }
	rate := 0.0
	if r.measured > 0 {
		rate = float64(r.rtts) / r.measured.Seconds()
	}
	return fmt.Sprintf("proto=%s conns=%d size=%d duration=%v rtt_per_sec=%.0f p50_us=%s p99_us=%s p999_us=%s errors=%d rtts=%d mean_us=%s max_us=%s conn_failed=%d mismatches=%d timeouts=%d",
		cfg.proto, cfg.conns, cfg.size, cfg.duration, rate,
		us(r.m.quantile(0.50)), us(r.m.quantile(0.99)), us(r.m.quantile(0.999)),
		r.errors(), r.rtts, us(r.m.mean()), us(float64(r.m.max)),
		r.connFailed, r.mismatches, r.timeouts)
}

// runLoad dials, runs the closed loops for warmup+duration, and merges
// what they measured. Every phase is bounded: the dials by
// -connect-timeout, the load by its length plus one round trip's
// -rt-timeout, after which the connections are closed under any loop
// still waiting.
func runLoad(ctx context.Context, cfg *runConfig, stderr io.Writer) *result {
	fails := &failures{w: stderr}
	defer fails.flush()
	clients, failed := dialAll(ctx, cfg, cfg.conns, fails)
	defer closeAll(clients)
	res := &result{conns: cfg.conns, m: new(merged), connFailed: failed}

	workers := make([]*worker, 0, len(clients))
	for _, c := range clients {
		if c != nil {
			workers = append(workers, &worker{c: c})
		}
	}
	var stop, forced atomic.Bool
	start := time.Now()
	winStart := cfg.warmup
	winEnd := cfg.warmup + cfg.duration
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.loop(start, winStart, winEnd, &stop, &forced)
		}()
	}

	t := time.NewTimer(winEnd)
	select {
	case <-t.C:
		res.measured = cfg.duration
	case <-ctx.Done():
		t.Stop()
		res.measured = max(0, time.Since(start)-winStart)
	}
	stop.Store(true)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	grace := time.NewTimer(cfg.rtTimeout + time.Second)
	select {
	case <-done:
		grace.Stop()
	case <-grace.C:
		// a loop stuck past its own round-trip timeout: close the
		// connections under it
		forced.Store(true)
		closeAll(clients)
		<-done
	}

	for i, w := range workers {
		res.m.add(&w.h)
		res.mismatches += w.mismatches
		res.timeouts += w.timeouts
		if w.mismatches > 0 {
			fails.report("conn %d: %s: %d echoes did not match the frame sent", i, target(cfg), w.mismatches)
		}
		if w.timeouts > 0 {
			fails.report("conn %d: %s: round trip over -rt-timeout %v", i, target(cfg), cfg.rtTimeout)
		}
		if w.err != nil {
			res.connFailed++
			fails.report("conn %d: %s: %v", i, target(cfg), w.err)
		}
	}
	res.rtts = res.m.n
	return res
}

// loop is the closed loop: a round trip at a time until stop (at least
// one). A round
// trip is measured when it ends inside [winStart, winEnd) from start.
// A mismatch is counted and the loop goes on (the framing held); any
// other error ends it (and is not one when forced: runLoad closed the
// connection under a loop stuck at the end).
func (w *worker) loop(start time.Time, winStart, winEnd time.Duration, stop, forced *atomic.Bool) {
	// at least one round trip, however soon the stop: each connection
	// is tried
	for seq := uint64(1); seq == 1 || !stop.Load(); seq++ {
		t0 := time.Now()
		err := w.c.roundTrip(seq)
		t1 := time.Now()
		switch {
		case err == nil:
			if at := t1.Sub(start); at >= winStart && at < winEnd {
				w.h.record(t1.Sub(t0))
			}
		case err == errMismatch:
			w.mismatches++
		case forced.Load():
			return
		case err == errTimeout:
			w.timeouts++
			return
		default:
			w.err = err
			return
		}
	}
}
