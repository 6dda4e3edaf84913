package actor

import (
	"fmt"
	"sync"
	"time"
)

// remoteCalls bounds every call made from this node to another: each
// waits here, keyed by its caller and session, until its answer comes
// (take), its deadline passes (the ticker fails it), its node leaves
// (failNode) or this node leaves (failAll). An answer that comes after
// its call was failed finds nothing here and is dropped, so a caller gets
// exactly one answer.
type remoteCalls struct {
	c       *clusterState
	timeout time.Duration
	mu      sync.Mutex
	m       map[callKey]pendingRemote
	stop    chan struct{}
	done    chan struct{}
}

type callKey struct {
	caller  Addr
	session uint32
}

type pendingRemote struct {
	to       Addr
	cmd      string
	deadline time.Time
}

func (t *remoteCalls) init(c *clusterState, timeout time.Duration) {
	t.c, t.timeout = c, timeout
	t.m = make(map[callKey]pendingRemote)
	t.stop, t.done = make(chan struct{}), make(chan struct{})
	go t.loop()
}

// add records a call that just left for to.
func (t *remoteCalls) add(caller Addr, session uint32, to Addr, cmd string) {
	e := pendingRemote{to: to, cmd: cmd, deadline: time.Now().Add(t.timeout)}
	t.mu.Lock()
	t.m[callKey{caller, session}] = e
	t.mu.Unlock()
}

// take reports whether the call (caller, session) was waiting, and ends
// its wait.
func (t *remoteCalls) take(caller Addr, session uint32) bool {
	k := callKey{caller, session}
	t.mu.Lock()
	_, ok := t.m[k]
	if ok {
		delete(t.m, k)
	}
	t.mu.Unlock()
	return ok
}

// pending is the number of calls waiting.
func (t *remoteCalls) pending() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.m)
}

// tick is how often deadlines are checked: a call fails at most a tick
// after its deadline.
func (t *remoteCalls) tick() time.Duration {
	return min(max(t.timeout/20, 5*time.Millisecond), 100*time.Millisecond)
}

func (t *remoteCalls) loop() {
	defer close(t.done)
	tk := time.NewTicker(t.tick())
	defer tk.Stop()
	for {
		select {
		case <-t.stop:
			return
		case now := <-tk.C:
			t.failWhere(func(e pendingRemote) bool { return now.After(e.deadline) }, func(e pendingRemote) error {
				return fmt.Errorf("%w: %s: no answer within %v (%w)", ErrNodeDown, t.c.nodeName(e.to.Node()), t.timeout, ErrTimeout)
			})
		}
	}
}

// failNode fails every call waiting on node at once.
func (t *remoteCalls) failNode(node uint16, why string) {
	t.failWhere(func(e pendingRemote) bool { return e.to.Node() == node }, func(e pendingRemote) error {
		return fmt.Errorf("%w: %s: %s", ErrNodeDown, t.c.nodeName(node), why)
	})
}

// close stops the ticker and fails every waiting call.
func (t *remoteCalls) close(why string) {
	close(t.stop)
	<-t.done
	t.failWhere(func(pendingRemote) bool { return true }, func(e pendingRemote) error {
		return fmt.Errorf("%w: %s: %s", ErrNodeDown, t.c.nodeName(e.to.Node()), why)
	})
}

func (t *remoteCalls) failWhere(match func(pendingRemote) bool, why func(pendingRemote) error) {
	type failed struct {
		k callKey
		e pendingRemote
	}
	var out []failed
	t.mu.Lock()
	for k, e := range t.m {
		if match(e) {
			out = append(out, failed{k, e})
			delete(t.m, k)
		}
	}
	t.mu.Unlock()
	for _, f := range out {
		t.fail(f.k.caller, f.k.session, f.e.to, f.e.cmd, why(f.e))
	}
}

// fail answers the call (caller, session) to `to`, taken from the table,
// with err, counted against to's node.
func (t *remoteCalls) fail(caller Addr, session uint32, to Addr, cmd string, err error) {
	if p := t.c.peer(to.Node()); p != nil {
		p.failed.Add(1)
	}
	m := NewMessage()
	m.Kind, m.Session, m.From = Fail, session, to
	m.Err = &Error{Addr: to, What: "call " + quote(cmd), Err: err}
	_ = t.c.sys.post(nil, caller, m)
}
