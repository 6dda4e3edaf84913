package actor

import (
	"fmt"
	"runtime/debug"

	"github.com/asynkron/protoactor-go/remote"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	grpcpeer "google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// The guard keeps a bad message from another process from killing this
// one. At the pinned protoactor-go, the remote's endpoint reader looks a
// message's type up by name and calls New on the result without a check:
// a type this binary does not register is a nil-pointer panic on a gRPC
// goroutine, which ends the process; so are indices out of range. The
// guard sits under the reader (a stream interceptor): each batch it reads
// loses the envelopes the reader would crash on, each logged with its
// type and the peer, and the rest of the batch goes through. A panic that
// gets past it anyway ends the stream, not the process.

// guard is the remote's gRPC stream interceptor.
func (c *clusterState) guard(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
	defer func() {
		if r := recover(); r != nil {
			c.sys.log.Error("cluster: panic in the remote's reader; stream closed",
				"peer", peerOf(ss), "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			err = status.Errorf(codes.Internal, "tern: reader panic: %v", r)
		}
	}()
	g := &guardedStream{ServerStream: ss, c: c}
	defer g.release()
	return handler(srv, g)
}

// guardedStream is the reader's view of a stream: each batch checked,
// and the block list held (blockMu) while it handles a ConnectRequest,
// until it reads the next message.
type guardedStream struct {
	grpc.ServerStream
	c    *clusterState
	held bool
}

func (g *guardedStream) RecvMsg(m any) error {
	g.release()
	if err := g.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	if rm, ok := m.(*remote.RemoteMessage); ok {
		if b := rm.GetMessageBatch(); b != nil {
			g.c.checkBatch(b, g.ServerStream)
		} else if rm.GetConnectRequest() != nil {
			g.c.blockMu.RLock()
			g.held = true
		}
	}
	return nil
}

func (g *guardedStream) release() {
	if g.held {
		g.held = false
		g.c.blockMu.RUnlock()
	}
}

// Serializer ids the remote registers on its own: protobuf and JSON.
const (
	serializerProto = 0
	serializerJSON  = 1
)

// checkBatch drops, in place, the envelopes of b the reader can't handle.
func (c *clusterState) checkBatch(b *remote.MessageBatch, ss grpc.ServerStream) {
	var known []bool // per type name: registered here
	keep := b.Envelopes[:0]
	for _, e := range b.Envelopes {
		why := ""
		switch {
		case e.TypeId < 0 || int(e.TypeId) >= len(b.TypeNames):
			why = fmt.Sprintf("type index %d out of range", e.TypeId)
		case e.Target < 0 || int(e.Target) >= len(b.Targets) || b.Targets[e.Target] == nil:
			why = fmt.Sprintf("target index %d out of range", e.Target)
		case e.Sender < 0 || int(e.Sender) > len(b.Senders) || e.Sender > 0 && b.Senders[e.Sender-1] == nil:
			why = fmt.Sprintf("sender index %d out of range", e.Sender)
		case e.SerializerId == serializerJSON:
		case e.SerializerId != serializerProto:
			why = fmt.Sprintf("unknown serializer %d", e.SerializerId)
		default:
			if known == nil {
				known = make([]bool, len(b.TypeNames))
				for i, name := range b.TypeNames {
					_, err := protoregistry.GlobalTypes.FindMessageByName(protoreflect.FullName(name))
					known[i] = err == nil
				}
			}
			if !known[e.TypeId] {
				why = "type not registered here"
			}
		}
		if why == "" {
			keep = append(keep, e)
			continue
		}
		typ := ""
		if e.TypeId >= 0 && int(e.TypeId) < len(b.TypeNames) {
			typ = b.TypeNames[e.TypeId]
		}
		p := peerOf(ss)
		c.sys.warnings.Warn(c.sys.log, "cluster: message from another process dropped", p+" "+typ+" "+why,
			"type", typ, "peer", p, "why", why)
	}
	clear(b.Envelopes[len(keep):])
	b.Envelopes = keep
}

func peerOf(ss grpc.ServerStream) string {
	if p, ok := grpcpeer.FromContext(ss.Context()); ok && p.Addr != nil {
		return p.Addr.String()
	}
	return "unknown peer"
}
