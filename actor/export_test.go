package actor

import "context"

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
