package actor_test

import (
	"context"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	pa "github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/remote"

	"github.com/tern-dev/tern/actor"
	"github.com/tern-dev/tern/internal/pack"
	"github.com/tern-dev/tern/internal/testutil"
	pb "github.com/tern-dev/tern/proto"
)

// Remote benchmarks: two nodes on loopback in this process. tern's
// figures (BenchmarkRemote*) sit beside protoactor-go's own remote doing
// the same work with raw actors (BenchmarkProtoactorRemote*), the shape of
// its examples/remotebenchmark: an actor pinging an echo actor on the
// other system, one message in flight; and a one-way flood counted on
// arrival. Both carry the same payload, a command and one packed integer.
//
//	go test -run '^$' -bench 'Remote' -benchtime 200000x ./actor/

func benchNodes(b *testing.B) (n1, n2 *node) {
	b.Helper()
	members := staticMembers(testutil.FreeAddrs(b, 2))
	n1 = startNode(b, "node1", members, 10*time.Second)
	n2 = startNode(b, "node2", members, 10*time.Second)
	waitUp(b, n1, "node2")
	waitUp(b, n2, "node1")
	return n1, n2
}

// pinger answers "run"(to, n) once it has called to's "ping" n times, one
// call after the other.
type pinger struct{}

func (pinger) Init(*actor.Context) error { return nil }
func (pinger) Stopped(*actor.Context)    {}
func (pinger) Receive(c *actor.Context, m *actor.Message) {
	if m.Kind != actor.Call || m.Cmd != "run" {
		return
	}
	from, session := m.From, m.Session
	args, _ := decodeBench(m)
	to, n := actor.Addr(args[0].(int64)), args[1].(int64)
	var next func([]any, error)
	next = func(_ []any, err error) {
		if err != nil {
			c.Fail(from, session, err)
			return
		}
		if n == 0 {
			c.Reply(from, session)
			return
		}
		n--
		c.Call(to, "ping", []any{n}, next)
	}
	next(nil, nil)
}

// BenchmarkRemoteCall: a service calls a service on the other node, one
// round trip after the other.
func BenchmarkRemoteCall(b *testing.B) {
	n1, n2 := benchNodes(b)
	ctx := context.Background()
	pong, _ := n2.Launch(ctx, actor.Handlers{"ping": func(*actor.Context, []any) ([]any, error) { return nil, nil }}, actor.SpawnOptions{Name: "pong"})
	ping, _ := n1.Launch(ctx, pinger{}, actor.SpawnOptions{Name: "ping"})
	if _, err := n1.Call(ctx, ping, "run", pong, 100); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	if _, err := n1.Call(ctx, ping, "run", pong, b.N); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
}

// counter is the bare service twin of the raw actor that counts.
type counter struct{ n *atomic.Int64 }

func (counter) Init(*actor.Context) error { return nil }
func (counter) Stopped(*actor.Context)    {}
func (c counter) Receive(_ *actor.Context, m *actor.Message) {
	if m.Kind == actor.Send {
		c.n.Add(1)
	}
}

// BenchmarkRemoteSend: Go code sends one-way to a service on the other
// node; the clock stops when the last one has arrived.
func BenchmarkRemoteSend(b *testing.B) {
	n1, n2 := benchNodes(b)
	ctx := context.Background()
	var count atomic.Int64
	sink, _ := n2.Launch(ctx, counter{&count}, actor.SpawnOptions{Name: "sink"})
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if err := n1.Send(sink, "push", i); err != nil {
			b.Fatal(err)
		}
	}
	for count.Load() < int64(b.N) {
		time.Sleep(100 * time.Microsecond)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sends/s")
}

// rawRemotes starts two protoactor-go ActorSystems with the remote on
// loopback, no tern.
func rawRemotes(b *testing.B) (a, z *pa.ActorSystem) {
	b.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	start := func() *pa.ActorSystem {
		as := pa.NewActorSystem(pa.WithLoggerFactory(func(*pa.ActorSystem) *slog.Logger { return quiet }))
		r := remote.NewRemote(as, remote.Configure("127.0.0.1", 0))
		r.Start()
		b.Cleanup(func() { r.Shutdown(false) })
		return as
	}
	return start(), start()
}

func rawPayload(i int) *pb.Envelope {
	return &pb.Envelope{Cmd: "push", Data: []byte{0x01, 0x03, byte(i)}, To: 1}
}

// BenchmarkProtoactorRemoteCall: protoactor-go's raw ping-pong between
// two ActorSystems (ctx.Request and ctx.Respond), one message in flight.
func BenchmarkProtoactorRemoteCall(b *testing.B) {
	a, z := rawRemotes(b)
	echo, err := z.Root.SpawnNamed(pa.PropsFromFunc(func(c pa.Context) {
		if m, ok := c.Message().(*pb.Envelope); ok {
			c.Respond(m)
		}
	}), "echo")
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	var left int
	ping := a.Root.Spawn(pa.PropsFromFunc(func(c pa.Context) {
		switch c.Message().(type) {
		case *pb.Envelope:
			if left--; left <= 0 {
				close(done)
				return
			}
			c.Request(echo, rawPayload(left))
		case string:
			c.Request(echo, rawPayload(left))
		}
	}))
	left = 100
	a.Root.Send(ping, "go")
	<-done
	done = make(chan struct{})
	b.ReportAllocs()
	b.ResetTimer()
	left = b.N
	a.Root.Send(ping, "go")
	<-done
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
}

// BenchmarkProtoactorRemoteSend: protoactor-go's raw one-way flood from
// the root context to an actor on the other ActorSystem.
func BenchmarkProtoactorRemoteSend(b *testing.B) {
	a, z := rawRemotes(b)
	var count atomic.Int64
	sink, err := z.Root.SpawnNamed(pa.PropsFromFunc(func(c pa.Context) {
		if _, ok := c.Message().(*pb.Envelope); ok {
			count.Add(1)
		}
	}), "sink")
	if err != nil {
		b.Fatal(err)
	}
	target := pa.NewPID(sink.Address, sink.Id)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		a.Root.Send(target, rawPayload(i))
	}
	for count.Load() < int64(b.N) {
		time.Sleep(100 * time.Microsecond)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sends/s")
}

func decodeBench(m *actor.Message) ([]any, error) { return pack.DecodeValues(m.Data) }
