package gate_test

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"

	"github.com/tern-dev/tern/actor"
	"github.com/tern-dev/tern/internal/listeners"
	"github.com/tern-dev/tern/internal/pack"
	"github.com/tern-dev/tern/internal/roottest"
	"github.com/tern-dev/tern/root"
	"github.com/tern-dev/tern/services/gate"
)

// The echo benchmarks time one round trip of a 64-byte len16 frame over
// loopback: the client writes it, the gate's reader posts it to the
// watchdog, the watchdog sends it back to the gate, the gate's writer
// writes it. Their allocs/op are the allocations per echoed frame, the
// client's included (it makes none).
//
//	go test -run XXX -bench Echo -benchmem ./services/gate/

// BenchmarkEchoLua: the watchdog is examples/echo, in Lua.
func BenchmarkEchoLua(b *testing.B) {
	b.Setenv("ECHO_LISTEN", "127.0.0.1:0")
	b.Setenv("ECHO_PROTOCOL", "len16")
	before := listeners.Open()
	roottest.Start(b, root.Config{Bootstrap: "../../examples/echo/main.lua", LogLevel: "warn"})
	echo(b, newAddr(b, before))
}

// BenchmarkEchoGo: the watchdog is a Go service, so what is measured is
// the gate and the runtime alone.
func BenchmarkEchoGo(b *testing.B) {
	rt, _ := roottest.Start(b, root.Config{LogLevel: "warn"})
	sys := rt.System()
	g, err := sys.Spawn(gate.New(""), actor.SpawnOptions{Name: "gate"})
	if err != nil {
		b.Fatal(err)
	}
	w, err := sys.Spawn(&goEcho{gate: g}, actor.SpawnOptions{Name: "goecho"})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := sys.Call(ctx, g, "open", map[string]any{"listen": "127.0.0.1:0", "protocol": "len16", "watchdog": int64(w)})
	if err != nil {
		b.Fatal(err)
	}
	echo(b, res[0].(string))
}

// goEcho writes every message back, without allocating: the frame goes
// from one pooled message into the next.
type goEcho struct{ gate actor.Addr }

func (e *goEcho) Init(*actor.Context) error { return nil }
func (e *goEcho) Stopped(*actor.Context)    {}
func (e *goEcho) Receive(c *actor.Context, m *actor.Message) {
	if m.Cmd != "message" {
		return
	}
	r := pack.NewReader(m.Data)
	if _, err := r.Count(); err != nil {
		return
	}
	if _, err := r.Next(); err != nil {
		return
	}
	id := r.Int()
	if _, err := r.Next(); err != nil {
		return
	}
	out := actor.NewMessage()
	out.Kind, out.Cmd = actor.Send, "write"
	out.Data = pack.AppendCount(out.Data[:0], 2)
	out.Data = pack.AppendInt(out.Data, id)
	out.Data = pack.AppendBytes(out.Data, r.Str())
	_ = c.Post(e.gate, out)
}

// newAddr is the listener opened since before.
func newAddr(b *testing.B, before []string) string {
	for _, a := range listeners.Open() {
		known := false
		for _, o := range before {
			known = known || o == a
		}
		if !known {
			return a
		}
	}
	b.Fatal("no new listener")
	return ""
}

func echo(b *testing.B, addr string) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	out := make([]byte, 2+64)
	binary.BigEndian.PutUint16(out, 64)
	for i := range 64 {
		out[2+i] = byte('a' + i%26)
	}
	in := make([]byte, len(out))
	roundTrip := func() {
		if _, err := conn.Write(out); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(conn, in); err != nil {
			b.Fatal(err)
		}
	}
	roundTrip() // the connection is set up, the watchdog warm
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		roundTrip()
	}
	b.StopTimer()
	if string(in) != string(out) {
		b.Fatalf("echo %q, want %q", in, out)
	}
}

// BenchmarkEchoPlainGo is the limit: a goroutine per connection that
// reads a frame and writes it back, no runtime between.
func BenchmarkEchoPlainGo(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 2+65535)
				for {
					if _, err := io.ReadFull(c, buf[:2]); err != nil {
						return
					}
					n := int(binary.BigEndian.Uint16(buf))
					if _, err := io.ReadFull(c, buf[2:2+n]); err != nil {
						return
					}
					if _, err := c.Write(buf[:2+n]); err != nil {
						return
					}
				}
			}()
		}
	}()
	echo(b, ln.Addr().String())
}
