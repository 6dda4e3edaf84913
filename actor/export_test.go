package actor

import (
	"context"

	pa "github.com/asynkron/protoactor-go/actor"
	pb "github.com/tern-dev/tern/proto"
)

// CrashClusterForTest drops this node out of the cluster the way a crash
// does: no leave is said, the remote stops at once.
func (s *System) CrashClusterForTest() {
	if c := s.cluster.Load(); c != nil && !c.left.Load() {
		_ = c.stop(context.Background(), "crashed", false)
	}
}

// PendingRemoteCallsForTest is the number of remote calls waiting.
func (s *System) PendingRemoteCallsForTest() int {
	if c := s.cluster.Load(); c != nil {
		return c.calls.pending()
	}
	return 0
}

// DeadLetterPendingForTest has the transport report every waiting remote
// call as a dead letter, as protoactor-go's endpoint writer does for an
// envelope it could not send.
func (s *System) DeadLetterPendingForTest() int {
	c := s.cluster.Load()
	if c == nil {
		return 0
	}
	c.calls.mu.Lock()
	var envs []*pb.Envelope
	for k, e := range c.calls.m {
		envs = append(envs, &pb.Envelope{Kind: pb.Kind_KIND_CALL, From: uint64(k.caller), To: uint64(e.to), Session: k.session, Cmd: e.cmd})
	}
	c.calls.mu.Unlock()
	for _, env := range envs {
		s.as.EventStream.Publish(&pa.DeadLetterEvent{Message: env})
	}
	return len(envs)
}
