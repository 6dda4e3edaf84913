package lua

import (
	"fmt"
	"math"
	"strings"

	"github.com/tern-dev/tern/actor"
	"github.com/tern-dev/tern/names"
	glua "github.com/yuin/gopher-lua"
)

// Messaging: the Go halves of tern.call, calltimeout, send, newservice and
// response. call, calltimeout and newservice return (true, results...) or
// (false, err) when resumed; the prelude's wrappers raise the error where
// the script called.

// dest is where a call or send goes: an address, or a name the name
// service has not registered yet (addr None), which it will resolve.
type dest struct {
	addr actor.Addr
	name string
}

func (d dest) String() string {
	if d.name != "" {
		return `"` + d.name + `"`
	}
	return d.addr.String()
}

// resolve reads a call target: an address (a number, or ":0000000a"), or
// a service name, looked up in the name table without a round trip.
func (s *Service) resolve(L *glua.LState, n int) dest {
	if name, ok := L.Get(n).(glua.LString); ok && names.ValidName(string(name)) {
		if s.rt.lookup != nil {
			if a, ok := s.rt.lookup(string(name)); ok && (len(s.viaNames) == 0 || s.viaNames[string(name)] == 0) {
				return dest{a, string(name)}
			}
		}
		return dest{name: string(name)}
	}
	return dest{addr: target(L, n)}
}

// target reads a service address: a number (what tern.self and
// tern.newservice return) or its printed form ":0000000a". Anything else
// raises, saying what was passed: a number is never truncated into
// another service's address.
func target(L *glua.LState, n int) actor.Addr {
	switch v := L.Get(n).(type) {
	case glua.LNumber:
		a, bad := numAddr(float64(v))
		if bad != "" {
			L.ArgError(n, "bad address "+numString(float64(v))+bad)
		}
		return a
	case glua.LString:
		a, err := actor.ParseAddr(string(v))
		if err != nil {
			L.ArgError(n, err.Error())
		}
		if a == actor.None {
			L.ArgError(n, fmt.Sprintf("bad address %q: no service has address 0", string(v)))
		}
		return a
	}
	L.ArgError(n, "service address or name expected, got "+L.Get(n).Type().String())
	return actor.None
}

// maxAddr is the largest address: 16 bits of node, 32 of handle.
const maxAddr = 1<<48 - 1

// numAddr converts a Lua number to an address, or says why it is none.
func numAddr(f float64) (actor.Addr, string) {
	switch {
	case f != math.Trunc(f): // NaN too
		return actor.None, ": not an integer"
	case f < 0:
		return actor.None, ": negative"
	case f == 0:
		return actor.None, ": no service has address 0"
	case f > maxAddr:
		return actor.None, ": beyond 48 bits"
	}
	return actor.Addr(f), ""
}

// mustYield raises unless the running task can be suspended from here.
func (s *Service) mustYield(L *glua.LState, what string) {
	if s.cur == nil || !canYield(L, s.cur.th) {
		L.RaiseError("%s: cannot block here: gopher-lua cannot suspend a metamethod, an iterator run by Go code, or a callback of table.sort, string.gsub and the like", what)
	}
}

// suspend yields the running task to the scheduler, with no values.
func suspend(L *glua.LState) int {
	L.SetTop(0)
	return -1
}

func fail(L *glua.LState, msg string) int {
	L.Push(glua.LFalse)
	L.Push(glua.LString(msg))
	return 2
}

// call(addr, cmd, ...) -> yields; resumed with (true, results...) or (false, err)
func lCall(s *Service, L *glua.LState) int {
	to, cmd := s.resolve(L, 1), L.CheckString(2)
	s.mustYield(L, "tern.call")
	session, err := s.post(L, to, actor.Call, cmd, 3)
	if err != nil {
		return fail(L, err.Error())
	}
	s.await(session, waitState{kind: waitCall, addr: to.addr, name: to.name, cmd: cmd, sent: s.traceClock()})
	return suspend(L)
}

// calltimeout(ms, addr, cmd, ...): call, but fail with a timeout error
// after ms milliseconds; a late answer is dropped.
func lCallTimeout(s *Service, L *glua.LState) int {
	ms := checkMillis(L, 1, "tern.calltimeout")
	to, cmd := s.resolve(L, 2), L.CheckString(3)
	s.mustYield(L, "tern.calltimeout")
	session, err := s.post(L, to, actor.Call, cmd, 4)
	if err != nil {
		return fail(L, err.Error())
	}
	timer := s.c.NewSession()
	s.await(session, waitState{kind: waitCall, timer: timer, addr: to.addr, name: to.name, cmd: cmd, sent: s.traceClock()})
	s.c.Await(timer, s.cur)
	s.c.After(ms, timer)
	return suspend(L)
}

// send(addr, cmd, ...): one-way; raises if the target is unknown.
func lSend(s *Service, L *glua.LState) int {
	to, cmd := s.resolve(L, 1), L.CheckString(2)
	if _, err := s.post(L, to, actor.Send, cmd, 3); err != nil {
		L.RaiseError("%s", err.Error())
	}
	return 0
}

// post packs the values from stack index from on and sends them. A name
// not registered yet goes through the name service, which starts its
// declared service if need be.
func (s *Service) post(L *glua.LState, to dest, kind actor.Kind, cmd string, from int) (uint32, error) {
	addr := to.addr
	if addr == actor.None {
		if s.rt.names == actor.None {
			return 0, fmt.Errorf("%s %s %q: %w", kind, to, cmd, names.ErrNoName)
		}
		if err := s.rt.checkNode(to.name); err != nil {
			return 0, fmt.Errorf("%s %s %q: %w", kind, to, cmd, err)
		}
		addr = s.rt.names
	}
	m := actor.NewMessage()
	data, err := packLValues(m.Data[:0], L, from, L.GetTop()-from+1, s.rt.maxMessage)
	if err != nil {
		m.Release()
		return 0, fmt.Errorf("%s %s %q: %w", kind, to, cmd, err)
	}
	var session uint32
	if kind == actor.Call {
		session = s.c.NewSession()
	}
	m.Kind, m.Session, m.Cmd, m.Data = kind, session, cmd, data
	// A name goes through the name service (not yet registered, or this
	// service's earlier messages to it are still there): it acks each, and
	// until then the name's later messages follow the same way. A
	// "name@node" always goes that way: no ack needed.
	ack := to.addr == actor.None && !strings.ContainsRune(to.name, '@')
	if to.addr == actor.None {
		m.Ctl = names.Forward{Name: to.name, Ack: ack}
	}
	if co := s.cur; co != nil && co.tag != "" {
		m.Trace = co.tag
		s.traceOut(co, kind, to, cmd)
	}
	if err := s.c.Post(addr, m); err != nil {
		return 0, fmt.Errorf("%s %s %q: %w", kind, to, cmd, err)
	}
	if ack {
		if s.viaNames == nil {
			s.viaNames = make(map[string]int)
		}
		s.viaNames[to.name]++
	}
	return session, nil
}

// newservice(script, ...) -> yields until the child's init has run;
// resumed with (true, addr) or (false, err).
func lNewService(s *Service, L *glua.LState) int {
	script := L.CheckString(1)
	s.mustYield(L, "tern.newservice")
	data, err := packLValues(nil, L, 2, L.GetTop()-1, s.rt.maxMessage)
	if err != nil {
		return fail(L, "newservice "+script+": "+err.Error())
	}
	session := s.c.NewSession()
	addr, err := s.rt.Start(script, data, s.dir, actor.SpawnOptions{ReadyTo: s.c.Self(), ReadySession: session})
	if err != nil {
		return fail(L, "newservice "+script+": "+err.Error())
	}
	s.await(session, waitState{kind: waitSpawn, addr: addr})
	return suspend(L)
}

// response() -> from, session: the running task's request will be
// answered later through respond(from, session, ok, ...). The Call stays
// in the runtime's ledger of owed Calls until then.
func lResponse(s *Service, L *glua.LState) int {
	co := s.cur
	if co == nil || co.session == 0 || co.deferred {
		L.RaiseError("tern.response: the running task has no request to answer")
	}
	co.deferred = true
	L.Push(glua.LNumber(co.from))
	L.Push(glua.LNumber(co.session))
	return 2
}

// respond(from, session, ok, ...) -> bool: answers with the values when
// ok, or with the error ... otherwise. False if already answered (or the
// caller is gone).
func lRespond(s *Service, L *glua.LState) int {
	to, session := actor.Addr(L.CheckNumber(1)), uint32(L.CheckNumber(2))
	if !s.c.Owes(to, session) {
		L.Push(glua.LFalse)
		return 1
	}
	if !L.ToBool(3) {
		msg := "error"
		if L.GetTop() >= 4 {
			msg = L.ToStringMeta(L.Get(4)).String()
		}
		s.c.Fail(to, session, &actor.Error{Name: s.c.Name(), Addr: s.c.Self(), Err: actor.Raised(msg)})
		L.Push(glua.LTrue)
		return 1
	}
	m := actor.NewMessage()
	data, err := packLValues(m.Data[:0], L, 4, L.GetTop()-3, s.rt.maxMessage)
	if err != nil {
		m.Release()
		s.c.Fail(to, session, &actor.Error{Name: s.c.Name(), Addr: s.c.Self(), Err: err})
		L.RaiseError("tern.response: %s", err.Error())
	}
	m.Kind, m.Session, m.Data = actor.Reply, session, data
	s.c.Answer(to, m)
	L.Push(glua.LTrue)
	return 1
}

// reload(addr) -> suspends until the service at addr (an address or a
// name) serves a new VM; resumed with (true) or (false, err).
func lReload(s *Service, L *glua.LState) int {
	to := s.resolve(L, 1)
	s.mustYield(L, "tern.reload")
	if to.addr == actor.None {
		return fail(L, fmt.Sprintf("reload %s: %v", to, names.ErrNoName))
	}
	session := s.c.NewSession()
	m := actor.NewMessage()
	m.Kind, m.Session, m.Ctl = actor.Control, session, &actor.Reload{}
	if err := s.c.Post(to.addr, m); err != nil {
		return fail(L, fmt.Sprintf("reload %s: %v", to, err))
	}
	s.await(session, waitState{kind: waitCall, addr: to.addr, name: to.name, cmd: "reload"})
	return suspend(L)
}

// names() -> the name service's address, to call its commands
// (register, query, unique, declare, list) from the prelude.
func lNames(s *Service, L *glua.LState) int {
	if s.rt.names == actor.None {
		L.RaiseError("this runtime has no name service")
	}
	L.Push(glua.LNumber(s.rt.names))
	return 1
}
