package actor

// sessions is a service's one session table: what waits for the Reply,
// Fail or Timer of each session the service opened. Sessions are handed
// out in order and most are answered soon, so a small ring of slots,
// indexed by the session's low bits, holds nearly all of them; a session
// whose slot is taken by an older one goes to the map. The ring is made
// on first use: a service that never waits has none.
type sessions struct {
	ring *[sessionSlots]sessionSlot
	more map[uint32]pendingCall
}

const sessionSlots = 16

type sessionSlot struct {
	session uint32 // 0: free
	k       pendingCall
}

func (t *sessions) put(session uint32, k pendingCall) {
	if t.ring == nil {
		t.ring = new([sessionSlots]sessionSlot)
	}
	if s := &t.ring[session%sessionSlots]; s.session == 0 {
		s.session, s.k = session, k
		return
	}
	if t.more == nil {
		t.more = make(map[uint32]pendingCall)
	}
	t.more[session] = k
}

// take removes and returns what waits on session.
func (t *sessions) take(session uint32) (pendingCall, bool) {
	if t.ring != nil {
		if s := &t.ring[session%sessionSlots]; s.session == session && session != 0 {
			k := s.k
			*s = sessionSlot{}
			return k, true
		}
	}
	if k, ok := t.more[session]; ok {
		delete(t.more, session)
		return k, true
	}
	return pendingCall{}, false
}

// each calls fn for every session and what waits on it; fn may drop.
func (t *sessions) each(fn func(session uint32, k pendingCall)) {
	if t.ring != nil {
		for i := range t.ring {
			if s := t.ring[i]; s.session != 0 {
				fn(s.session, s.k)
			}
		}
	}
	for session, k := range t.more {
		fn(session, k)
	}
}

// drop forgets what waits on session, if anything.
func (t *sessions) drop(session uint32) { t.take(session) }

// clear forgets everything: the continuations of a dead service never run.
func (t *sessions) clear() {
	t.ring, t.more = nil, nil
}
