package actor

import "testing"

// Sessions whose ring slot is taken go to the map; every one is found
// once, and only once.
func TestSessionsRingAndMap(t *testing.T) {
	var s sessions
	const n = 100 // more than the ring holds: slots collide
	for i := uint32(1); i <= n; i++ {
		s.put(i, pendingCall{raw: func(*Message, error) {}})
	}
	for i := uint32(n); i >= 1; i-- {
		if _, ok := s.take(i); !ok {
			t.Fatalf("session %d lost", i)
		}
		if _, ok := s.take(i); ok {
			t.Fatalf("session %d found twice", i)
		}
	}
	if _, ok := s.take(0); ok {
		t.Fatal("session 0 found")
	}
	if len(s.more) != 0 {
		t.Fatalf("%d sessions left in the map", len(s.more))
	}
}
