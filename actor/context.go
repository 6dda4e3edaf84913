package actor

import (
	"fmt"
	"log/slog"
	"time"
)

// Context is a service's handle on the runtime. There is one per service,
// reused for every message; use it only on the service's own goroutine.
type Context struct {
	p       *proc
	session uint32
	// The service's one session table: what waits for the Reply, Fail or
	// Timer of each session it opened (a Go continuation or a Waiter).
	calls sessions
	// The one ledger of Calls received and not yet answered: the one
	// being handled (cur, while curOwed), then owed. A Call answered
	// before its Receive returns, the common case, never reaches the map.
	cur     owedCall
	curOwed bool
	owed    map[owedCall]struct{}
	kept    bool // the service kept the current message
	// deadline is when the root stops this service hard, once it is
	// shutting down; zero when there is none.
	deadline time.Time
}

// ShutdownDeadline is when the root will stop this service hard, during
// its shutdown: a Shutdowner that flushes (the gate) bounds its work by
// it. It is zero before the shutdown, or when the shutdown has no
// deadline.
func (c *Context) ShutdownDeadline() time.Time { return c.deadline }

// Keep tells the runtime the service keeps the message it is handling
// past the end of Receive (to Forward it later): the runtime will not
// recycle it.
func (c *Context) Keep() { c.kept = true }

// Forward passes m, received (and kept) by this service, on to another
// service unchanged: its sender and session stay, so the answer to a Call
// goes straight back to the caller, and this service no longer owes it.
// If to is gone, a Call is answered with the error.
func (c *Context) Forward(to Addr, m *Message) {
	if m.Kind == Call {
		c.settle(owedCall{m.From, m.Session})
	}
	from, session, kind, cmd := m.From, m.Session, m.Kind, m.Cmd
	c.p.sent++
	if err := c.p.sys.post(c.p.mb.w, to, m); err != nil {
		c.p.errors.Add(1)
		if kind == Call {
			c.Fail(from, session, fmt.Errorf("call %q: %w", cmd, err))
		} else {
			c.Warn("forwarded send dropped", cmd, "cmd", cmd, "from", from.String(), "err", err)
		}
	}
}

// Forget drops the Call (from, session) from what this service owes,
// without answering it: the caller is known to wait no more (it timed
// out or exited).
func (c *Context) Forget(from Addr, session uint32) {
	c.settle(owedCall{from, session})
}

// Owes reports whether the service still owes an answer to the Call
// (from, session).
func (c *Context) Owes(from Addr, session uint32) bool {
	o := owedCall{from, session}
	if c.curOwed && c.cur == o {
		return true
	}
	_, ok := c.owed[o]
	return ok
}

// Owed is the number of Calls the service has received and not answered.
func (c *Context) Owed() int {
	if c.curOwed {
		return len(c.owed) + 1
	}
	return len(c.owed)
}

// settle takes o out of the ledger: it is answered, or forgotten.
func (c *Context) settle(o owedCall) {
	if c.curOwed && c.cur == o {
		c.curOwed = false
	} else if len(c.owed) > 0 {
		delete(c.owed, o)
	}
}

// owe records the Call being handled as owed once its Receive is over,
// unless it was answered meanwhile.
func (c *Context) owe() {
	if !c.curOwed {
		return
	}
	c.curOwed = false
	if c.owed == nil {
		c.owed = make(map[owedCall]struct{})
	}
	c.owed[c.cur] = struct{}{}
}

// CallControl sends a control message (Ctl, e.g. *proto.Shutdown) that
// expects an answer, and runs then with it, as Call does.
func (c *Context) CallControl(to Addr, ctl any, then func(results []any, err error)) {
	session := c.NewSession()
	m := NewMessage()
	m.Kind, m.Session, m.Ctl = Control, session, ctl
	if err := c.post(to, m); err != nil {
		then(nil, err)
		return
	}
	c.await(session, pendingCall{then: then})
}

// owedCall is a Call this service received: the runtime answers it with
// ErrExited if the service stops without answering.
type owedCall struct {
	from    Addr
	session uint32
}

// post is every message's way out of a service.
func (c *Context) post(to Addr, m *Message) error {
	m.From = c.p.addr
	fail := m.Kind == Fail
	if m.Kind == Reply || fail {
		c.settle(owedCall{to, m.Session})
	}
	c.p.sent++
	err := c.p.sys.post(c.p.mb.w, to, m)
	if err != nil || fail {
		c.p.errors.Add(1) // a failed request, or a post refused
	}
	return err
}

func (c *Context) send(to Addr, kind Kind, session uint32, cmd string, args []any) error {
	m, err := c.p.sys.newMessage(kind, session, cmd, args)
	if err != nil {
		return err
	}
	return c.post(to, m)
}

// Warn logs a warning that may repeat, once per message (a send to an
// unknown command, say): the first goes out, then at most one a second
// for this service and key, carrying the count of those left out.
func (c *Context) Warn(msg, key string, args ...any) {
	c.p.sys.warnings.Warn(c.p.logger(), msg, c.p.addr.String()+" "+key, args...)
}

// SetTasks publishes how many tasks (a Lua service's live coroutines) the
// service has, for listings (Info.Tasks).
func (c *Context) SetTasks(n int) { c.p.tasks.Store(int32(n)) }

// SetMemory publishes the service's memory estimate, in bytes, for
// listings (Info.Memory).
func (c *Context) SetMemory(n int64) { c.p.memory.Store(n) }

// Limits are the service's own limits (SpawnOptions.Limits), or nil.
func (c *Context) Limits() *Limits { return c.p.limits }

// Self is the service's address.
func (c *Context) Self() Addr { return c.p.addr }

// Name is the service's name.
func (c *Context) Name() string { return c.p.name }

// Logger logs with the service's name and address attached.
func (c *Context) Logger() *slog.Logger { return c.p.logger() }

// System is the system the service runs in.
func (c *Context) System() *System { return c.p.sys }

// NewSession returns a session id not in use by this service; it never
// returns 0, which means "no session".
func (c *Context) NewSession() uint32 {
	c.session++
	if c.session == 0 {
		c.session = 1
	}
	return c.session
}

// Post sends m, stamping it as from this service.
func (c *Context) Post(to Addr, m *Message) error {
	return c.post(to, m)
}

// Send posts a one-way request with Go values as arguments.
func (c *Context) Send(to Addr, cmd string, args ...any) error {
	return c.send(to, Send, 0, cmd, args)
}

// Reply answers the Call (to, session) with Go values.
func (c *Context) Reply(to Addr, session uint32, results ...any) error {
	return c.reply(to, session, results)
}

// reply fails only when the results cannot be packed.
func (c *Context) reply(to Addr, session uint32, results []any) error {
	m, err := c.p.sys.newMessage(Reply, session, "", results)
	if err != nil {
		return err
	}
	c.Answer(to, m)
	return nil
}

// ReplyData answers the Call (to, session) with already packed results.
func (c *Context) ReplyData(to Addr, session uint32, data []byte) {
	m := NewMessage()
	m.Kind, m.Session = Reply, session
	m.Data = append(m.Data[:0], data...)
	c.Answer(to, m)
}

// Fail answers the Call (to, session) with err.
func (c *Context) Fail(to Addr, session uint32, err error) {
	m := NewMessage()
	m.Kind, m.Session, m.Err = Fail, session, err
	c.Answer(to, m)
}

// Answer posts m, a Reply or Fail the service built, to the caller at to.
// An answer is never refused for a full mailbox; one to a caller that is
// gone is dropped with a debug line, since nobody waits for it any more.
func (c *Context) Answer(to Addr, m *Message) {
	session := m.Session
	if err := c.post(to, m); err != nil {
		c.p.logger().Debug("answer dropped: the caller is gone", "to", to.String(), "session", session)
	}
}

// After posts a Timer message with session to this service after d.
func (c *Context) After(d time.Duration, session uint32) {
	c.p.sys.timers.add(d, c.p.addr, session)
}

// CancelTimer cancels the timer session set with After, if it has not
// fired yet; its Timer message never comes. Cancelled entries leave the
// timer queue, so its memory follows the live timers.
func (c *Context) CancelTimer(session uint32) {
	c.p.sys.timers.cancel(c.p.addr, session)
}

// Exit stops the service once the current message is handled. Queued and
// in-flight Calls are answered with ErrExited.
func (c *Context) Exit() { c.p.stop() }

// Spawn starts a new service; see System.Spawn.
func (c *Context) Spawn(svc Service, o SpawnOptions) (Addr, error) {
	return c.p.sys.Spawn(svc, o)
}

// DeferReady, called during Init, says that the service will report the
// end of its start later with Ready.
func (c *Context) DeferReady() { c.p.readyPending = true }

// Ready reports the end of a deferred start. A non-nil err stops the
// service and reaches whoever launched it.
func (c *Context) Ready(err error) {
	if c.p.readyPending {
		c.p.ready(err)
	}
}

// Call sends a request and runs then with the results, later, on this
// service's goroutine: the service keeps serving other messages
// meanwhile, so A calling B calling A never deadlocks. then runs with an
// error if the target is unknown, fails, or exits first.
func (c *Context) Call(to Addr, cmd string, args []any, then func(results []any, err error)) {
	session := c.NewSession()
	if err := c.send(to, Call, session, cmd, args); err != nil {
		then(nil, err)
		return
	}
	c.await(session, pendingCall{then: then})
}

// CallData is Call without the Go value conversions: data is already
// packed (internal/pack), and then gets the raw answer, valid only while
// then runs (nil with an error).
func (c *Context) CallData(to Addr, cmd string, data []byte, then func(reply *Message, err error)) {
	session := c.NewSession()
	m := NewMessage()
	m.Kind, m.Session, m.Cmd = Call, session, cmd
	m.Data = append(m.Data[:0], data...)
	if err := c.post(to, m); err != nil {
		then(nil, err)
		return
	}
	c.await(session, pendingCall{raw: then})
}

func (c *Context) await(session uint32, k pendingCall) {
	c.calls.put(session, k)
}

// A Waiter waits on a session the service opened: the runtime hands it
// the Reply, Fail or Timer with that session, on the service's goroutine,
// instead of passing the message to Receive. m is valid only during Wake.
type Waiter interface {
	Wake(m *Message)
}

// Await makes w the waiter of session (a Call's or a timer's), until the
// message with that session arrives or Unawait.
func (c *Context) Await(session uint32, w Waiter) {
	c.await(session, pendingCall{w: w})
}

// EachWaiter calls fn for every Waiter and its session (Go continuations
// are left out); fn may Unawait. A reload uses it to end the old
// instance's waits.
func (c *Context) EachWaiter(fn func(session uint32, w Waiter)) {
	c.calls.each(func(session uint32, k pendingCall) {
		if k.w != nil {
			fn(session, k.w)
		}
	})
}

// EachOwed calls fn for every Call the service owes an answer; fn may
// answer it.
func (c *Context) EachOwed(fn func(from Addr, session uint32)) {
	owed := make([]owedCall, 0, c.Owed())
	if c.curOwed {
		owed = append(owed, c.cur)
	}
	for o := range c.owed {
		owed = append(owed, o)
	}
	for _, o := range owed {
		fn(o.from, o.session)
	}
}

// Unawait drops the waiter of session, if any: a message with that
// session that still comes goes to Receive.
func (c *Context) Unawait(session uint32) {
	c.calls.drop(session)
}

// pendingCall is what waits on a session: then for Go values, raw for
// messages, or a Waiter.
type pendingCall struct {
	then func([]any, error)
	raw  func(*Message, error)
	w    Waiter
}

func (k pendingCall) done(m *Message) {
	switch {
	case k.w != nil:
		k.w.Wake(m)
	case k.raw != nil && m.Kind == Fail:
		k.raw(nil, m.Err)
	case k.raw != nil:
		k.raw(m, nil)
	case m.Kind == Fail:
		k.then(nil, m.Err)
	default:
		vals, err := decodeArgs(m.Data)
		k.then(vals, err)
	}
}
