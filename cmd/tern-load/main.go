// Command tern-load is a bounded load generator for echo servers, and
// the plain Go echo server it is compared against.
//
//	tern-load run  -addr 127.0.0.1:8888 -proto line -conns 100 -size 64 -duration 10s -warmup 1s
//	tern-load run  -addr 127.0.0.1:8888 -proto line -idle 10000 -hold 5s
//	tern-load echo -addr 127.0.0.1:9999 -proto line
//
// Framings (-proto): len16 (2-byte big-endian length, then the bytes),
// len32 (4-byte length), line (the bytes then '\n'), websocket (one
// binary message per frame on ws://ADDR/PATH, -path default /ws).
//
// run opens -conns connections (at most -max-conns), each a closed
// loop: send one frame of -size bytes ('x' and a sequence number), wait
// for its echo, check it byte for byte, repeat. Round trips are timed
// for -duration after -warmup, into a log-bucketed histogram per
// connection (within 1%), merged at the end, and one line is printed:
//
//	proto=line conns=100 size=64 duration=10s rtt_per_sec=65432 p50_us=1400.0 p99_us=6500.0 p999_us=9000.0 errors=0 rtts=654320 mean_us=1500.2 max_us=12000.0 conn_failed=0 mismatches=0 timeouts=0
//
// errors = conn_failed (dial or i/o errors) + mismatches (an echo that
// was not the frame sent) + timeouts (a round trip over -rt-timeout);
// failures are also written to stderr with the address, and the exit
// status is 1 when errors > 0. With -idle N, run opens N connections,
// sends nothing, prints idle_conns=N once all are connected, holds them
// for -hold and closes them.
//
// For the stream framings a round trip allocates nothing on the client;
// for websocket our buffers are reused but coder/websocket allocates
// about 16 small objects per round trip (a context.AfterFunc per frame
// read and write), which its API leaves no way around.
//
// echo serves -addr until SIGINT or SIGTERM: a goroutine per
// connection, a buffered read, each frame written back at once (for
// websocket: net/http and coder/websocket's Accept on -path).
//
// Exit status: 0 ok, 1 errors, 2 bad command line.
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := realMain(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `usage:
  tern-load run  [flags]   load an echo server (tern-load run -h for flags)
  tern-load echo [flags]   the plain Go echo server (tern-load echo -h)
`

func realMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "run":
		return cmdRun(ctx, args[1:], stdout, stderr)
	case "echo":
		return cmdEcho(ctx, args[1:], stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "tern-load: unknown command %q\n%s", args[0], usage)
	return 2
}

func cmdEcho(ctx context.Context, args []string, stderr io.Writer) int {
	fs := newFlagSet("echo", stderr)
	addr := fs.String("addr", "127.0.0.1:9999", "address to listen on")
	proto := fs.String("proto", protoLine, "framing: line, len16, len32 or websocket")
	path := fs.String("path", "/ws", "websocket: the HTTP path")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if !validProto(*proto) {
		fmt.Fprintf(stderr, "tern-load echo: unknown -proto %q (line, len16, len32, websocket)\n", *proto)
		return 2
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(stderr, "tern-load echo: %v\n", err)
		return 1
	}
	fmt.Fprintf(stderr, "tern-load echo: listening on %s proto=%s\n", ln.Addr(), *proto)
	if err := serveEcho(ctx, ln, *proto, *path); err != nil {
		fmt.Fprintf(stderr, "tern-load echo: %v\n", err)
		return 1
	}
	return 0
}
