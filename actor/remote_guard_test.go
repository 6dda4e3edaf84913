package actor_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	pa "github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/remote"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"

	"github.com/tern-dev/tern/actor"
	"github.com/tern-dev/tern/internal/pack"
	"github.com/tern-dev/tern/internal/testutil"
	pb "github.com/tern-dev/tern/proto"
)

// TestRemoteSurvivesUnknownTypes sends a node, over a raw gRPC stream of
// protoactor-go's remote protocol, envelopes it can't read: a protobuf
// type it does not register (protoactor-go's reader would call New on a
// nil type and kill the process), indices out of range, an unknown
// serializer. The node drops those, delivers the good envelopes of the
// same batches, and keeps serving.
func TestRemoteSurvivesUnknownTypes(t *testing.T) {
	n, members := sharedNode(t)
	addr := members[0].Address
	var count, disorder atomic.Int64
	coll, err := n.Launch(context.Background(), collector(&count, &disorder), actor.SpawnOptions{Name: "collector"})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Kill(coll)

	conn, err := grpc.Dial(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stream, err := remote.NewRemotingClient(conn).Receive(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&remote.RemoteMessage{MessageType: &remote.RemoteMessage_ConnectRequest{ConnectRequest: &remote.ConnectRequest{
		ConnectionType: &remote.ConnectRequest_ServerConnection{ServerConnection: &remote.ServerConnection{SystemId: "rogue", Address: "127.0.0.1:1"}},
	}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Recv(); err != nil {
		t.Fatalf("connect response: %v", err)
	}

	push := func(i int64) []byte {
		b, err := proto.Marshal(&pb.Envelope{Kind: pb.Kind_KIND_SEND, To: uint64(coll), Cmd: "push", Data: packValues(t, i)})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	// The unknown type: a real protobuf message on the wire (a PID, say),
	// under a name nobody registers.
	unknown, _ := proto.Marshal(&pa.PID{Address: "x", Id: "y"})
	batch := func(envs ...*remote.MessageEnvelope) *remote.RemoteMessage {
		return &remote.RemoteMessage{MessageType: &remote.RemoteMessage_MessageBatch{MessageBatch: &remote.MessageBatch{
			TypeNames: []string{"game.v9.NotRegisteredAnywhere", "tern.v1.Envelope"},
			Targets:   []*pa.PID{{Address: addr, Id: "tern"}},
			Envelopes: envs,
		}}}
	}
	for i, b := range []*remote.RemoteMessage{
		batch(
			&remote.MessageEnvelope{TypeId: 0, MessageData: unknown},
			&remote.MessageEnvelope{TypeId: 1, MessageData: push(0)},
			&remote.MessageEnvelope{TypeId: 7, MessageData: push(99)},
			&remote.MessageEnvelope{TypeId: 1, Target: 3, MessageData: push(99)},
			&remote.MessageEnvelope{TypeId: 1, Sender: 2, MessageData: push(99)},
			&remote.MessageEnvelope{TypeId: 1, SerializerId: 9, MessageData: push(99)},
			&remote.MessageEnvelope{TypeId: 1, MessageData: push(1)},
		),
		batch(&remote.MessageEnvelope{TypeId: 0, MessageData: unknown}),
		batch(&remote.MessageEnvelope{TypeId: 1, MessageData: push(2)}),
	} {
		if err := stream.Send(b); err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
	}
	testutil.Eventually(t, 10*time.Second, "the good envelopes arrive", func() bool { return count.Load() == 3 })
	if disorder.Load() != 0 {
		t.Fatal("the good envelopes came out of order")
	}
	res, err := n.Call(context.Background(), coll, "push", 3)
	if err != nil || count.Load() != 4 {
		t.Fatalf("the node after the bad batches: %v %v", res, err)
	}
}

func packValues(t *testing.T, vals ...any) []byte {
	t.Helper()
	b, err := pack.AppendValuesLimit(nil, pack.MaxSize, vals...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
