package names

import (
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/tern-dev/tern/actor"
)

// MaxDeadline is the longest deadline a query accepts: 30 days, as
// tern.calltimeout's.
const MaxDeadline = 30 * 24 * time.Hour

// pending is a request the name service answers with an address: a Call
// (session 0 for a Send, which nobody waits for), and how long its caller
// waits, if it said.
type pending struct {
	from     actor.Addr
	session  uint32
	deadline time.Duration
	timed    bool // deadline is set
}

// callKey names a Call: its caller and session.
type callKey struct {
	from    actor.Addr
	session uint32
}

// wait is a Call owed an address later: a query waiting for a name to be
// registered, or a lookup waiting for the start of a declared service.
// It ends when answered, at its deadline, or when its caller exits, so
// that nothing stays behind a caller that waits no more.
type wait struct {
	callKey
	name   string
	launch bool   // waits for name's launch: fails if the start fails
	timer  uint32 // the deadline's timer session; 0 without a deadline
	seq    uint64 // arrival order, the order of the answers
}

// waits indexes the waits by call, by name, by caller and by timer.
type waits struct {
	all      map[callKey]*wait
	byName   map[string]map[callKey]*wait
	byCaller map[actor.Addr]map[callKey]*wait
	byTimer  map[uint32]*wait
	seq      uint64
}

func newWaits() waits {
	return waits{
		all:      map[callKey]*wait{},
		byName:   map[string]map[callKey]*wait{},
		byCaller: map[actor.Addr]map[callKey]*wait{},
		byTimer:  map[uint32]*wait{},
	}
}

// wait makes p wait for an answer about name. A Send waits for nothing.
func (s *Service) wait(c *actor.Context, name string, p pending, launch bool) {
	if p.session == 0 {
		return
	}
	ws := &s.waits
	k := callKey{p.from, p.session}
	if old := ws.all[k]; old != nil { // a session reused: the old call is over
		s.unwait(c, old)
	}
	ws.seq++
	w := &wait{callKey: k, name: name, launch: launch, seq: ws.seq}
	ws.all[k] = w
	add(ws.byName, name, w)
	add(ws.byCaller, p.from, w)
	if p.timed {
		w.timer = c.NewSession()
		ws.byTimer[w.timer] = w
		c.After(p.deadline, w.timer)
	}
}

func add[K comparable](m map[K]map[callKey]*wait, k K, w *wait) {
	set := m[k]
	if set == nil {
		set = map[callKey]*wait{}
		m[k] = set
	}
	set[w.callKey] = w
}

func remove[K comparable](m map[K]map[callKey]*wait, k K, w *wait) {
	if set := m[k]; set != nil {
		delete(set, w.callKey)
		if len(set) == 0 {
			delete(m, k)
		}
	}
}

// unwait forgets w, and cancels its deadline.
func (s *Service) unwait(c *actor.Context, w *wait) {
	ws := &s.waits
	delete(ws.all, w.callKey)
	remove(ws.byName, w.name, w)
	remove(ws.byCaller, w.from, w)
	if w.timer != 0 {
		delete(ws.byTimer, w.timer)
		c.CancelTimer(w.timer)
	}
}

// waitersOf lists the waits for name that keep, in arrival order.
func (s *Service) waitersOf(name string, keep func(*wait) bool) []*wait {
	var out []*wait
	for _, w := range s.waits.byName[name] {
		if keep(w) {
			out = append(out, w)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].seq < out[j].seq })
	return out
}

func anyWait(*wait) bool      { return true }
func launchWait(w *wait) bool { return w.launch }
func queryWait(w *wait) bool  { return !w.launch }

// answer answers the waits for name that keep with its address.
func (s *Service) answer(c *actor.Context, name string, keep func(*wait) bool, a actor.Addr) {
	for _, w := range s.waitersOf(name, keep) {
		s.unwait(c, w)
		c.Reply(w.from, w.session, a)
	}
}

// failLaunch fails the waits for name's launch with err.
func (s *Service) failLaunch(c *actor.Context, name string, err error) {
	for _, w := range s.waitersOf(name, launchWait) {
		s.unwait(c, w)
		c.Fail(w.from, w.session, err)
	}
}

// expired fails the wait whose deadline timer fired. Its caller has given
// up (tern.query(name, ms) times out at the same deadline); failing it
// also ends the Call the runtime holds for it.
func (s *Service) expired(c *actor.Context, timer uint32) {
	w := s.waits.byTimer[timer]
	if w == nil {
		return
	}
	w.timer = 0 // fired: nothing to cancel
	delete(s.waits.byTimer, timer)
	s.unwait(c, w)
	c.Fail(w.from, w.session, &actor.Error{Name: c.Name(), Addr: c.Self(), What: "query " + quote(w.name), Err: actor.ErrTimeout})
}

// callerExited forgets the waits of a caller that exited: nobody is left
// to answer.
func (s *Service) callerExited(c *actor.Context, a actor.Addr) {
	set := s.waits.byCaller[a]
	if len(set) == 0 {
		return
	}
	ws := make([]*wait, 0, len(set))
	for _, w := range set {
		ws = append(ws, w)
	}
	for _, w := range ws {
		s.unwait(c, w)
		c.Forget(w.from, w.session)
	}
}

// deadlineArg reads argument i of a request, an optional deadline in
// milliseconds: absent or nil means none; a negative one counts as 0, as
// tern.calltimeout's.
func deadlineArg(cmd string, args []any, i int) (time.Duration, bool, error) {
	if i >= len(args) || args[i] == nil {
		return 0, false, nil
	}
	var ms float64
	switch v := args[i].(type) {
	case int64:
		ms = float64(v)
	case float64:
		ms = v
	default:
		return 0, false, fmt.Errorf("names: %s: argument #%d (ms) must be a number, not %T", cmd, i+1, v)
	}
	switch {
	case math.IsNaN(ms) || math.IsInf(ms, 0):
		return 0, false, fmt.Errorf("names: %s: argument #%d (ms): %v is not a finite duration", cmd, i+1, ms)
	case ms > float64(MaxDeadline/time.Millisecond):
		return 0, false, fmt.Errorf("names: %s: argument #%d (ms): %v is longer than the maximum of %d ms (30 days)", cmd, i+1, ms, MaxDeadline/time.Millisecond)
	case ms < 0:
		ms = 0
	}
	return time.Duration(ms * float64(time.Millisecond)), true, nil
}

func quote(s string) string { return `"` + s + `"` }
