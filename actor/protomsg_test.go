package actor_test

import (
	"context"
	"strings"
	"testing"

	"github.com/tern-dev/tern/actor"
	pb "github.com/tern-dev/tern/proto"
	"google.golang.org/protobuf/proto"
)

// protoService answers "shutdown" with the protobuf message it received,
// its code doubled: a Go service exchanging its own protobuf messages.
func protoService() actor.Handlers {
	return actor.Handlers{
		"shutdown": func(c *actor.Context, args []any) ([]any, error) {
			m, err := actor.ProtoArg(args, 0)
			if err != nil {
				return nil, err
			}
			s, ok := m.(*pb.Shutdown)
			if !ok {
				return nil, errTest("want a tern.v1.Shutdown, got " + string(m.ProtoReflect().Descriptor().FullName()))
			}
			return actor.ProtoArgs(&pb.Shutdown{Reason: s.Reason + "!", Code: 2 * s.Code}), nil
		},
	}
}

type errTest string

func (e errTest) Error() string { return string(e) }

// A protobuf message goes to a Go service and back as two ordinary
// arguments; a type the node does not know, or broken bytes, is an error
// that names it, and the service goes on.
func TestProtoArgs(t *testing.T) {
	s := newSystem(t)
	ctx := context.Background()
	a, err := s.Launch(ctx, protoService(), actor.SpawnOptions{Name: "proto"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Call(ctx, a, "shutdown", actor.ProtoArgs(&pb.Shutdown{Reason: "bye", Code: 21})...)
	if err != nil {
		t.Fatal(err)
	}
	m, err := actor.ProtoArg(res, 0)
	if err != nil {
		t.Fatal(err)
	}
	if want := (&pb.Shutdown{Reason: "bye!", Code: 42}); !proto.Equal(m, want) {
		t.Fatalf("reply %v, want %v", m, want)
	}
	for _, tc := range []struct {
		args []any
		want string
	}{
		{[]any{"game.v1.Move", "\x08\x01"}, `type "game.v1.Move" is unknown to this node`},
		{[]any{"tern.v1.Shutdown", "\xff\xff"}, "protobuf argument 2: bad tern.v1.Shutdown"},
		{[]any{"tern.v1.Shutdown"}, "want a type name and its bytes, got 1 arguments"},
		{[]any{int64(7), "x"}, "the type name is a int64"},
		{[]any{"tern.v1.Shutdown", true}, "the bytes are a bool"},
	} {
		_, err := s.Call(ctx, a, "shutdown", tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "proto("+a.String()+")") {
			t.Errorf("%q: %v, want an error of the service saying %q", tc.args, err, tc.want)
		}
	}
}

// Across nodes the protobuf message travels inside the one Envelope type:
// node1 → node2's relay → node1's service, and the reply back the same way.
func TestProtoArgsAcrossNodes(t *testing.T) {
	n1, _ := startNode2(t)
	ctx := context.Background()
	relay2 := actor.MakeAddr(actor.NodeNumber("node2"), childRelay)
	p1, err := n1.Launch(ctx, protoService(), actor.SpawnOptions{Name: "proto"})
	if err != nil {
		t.Fatal(err)
	}
	defer n1.Kill(p1)
	args := append([]any{p1, "shutdown"}, actor.ProtoArgs(&pb.Shutdown{Reason: "far", Code: 4})...)
	res, err := n1.Call(ctx, relay2, "relay", args...)
	if err != nil {
		t.Fatal(err)
	}
	m, err := actor.ProtoArg(res, 0)
	if err != nil {
		t.Fatal(err)
	}
	if want := (&pb.Shutdown{Reason: "far!", Code: 8}); !proto.Equal(m, want) {
		t.Fatalf("reply %v, want %v", m, want)
	}
	_, err = n1.Call(ctx, relay2, "relay", p1, "shutdown", "game.v1.Move", "\x08\x01")
	if err == nil || !strings.Contains(err.Error(), `type "game.v1.Move" is unknown to this node`) {
		t.Fatalf("unknown type across nodes: %v", err)
	}
}
