package lua

import (
	"errors"
	"fmt"

	"github.com/tern-dev/tern/actor"
	glua "github.com/yuin/gopher-lua"
)

// In-place reload (actor.Reloader): the service gets a new VM running its
// script as it is on disk now, behind the same address, mailbox and
// names. In order:
//
//  1. The old VM's tern.on_save function runs; what it returns is the
//     saved state. From now on requests are held, in order, not handled.
//  2. The new VM runs the script and its tern.start function (a task: it
//     may block; answers to it still arrive).
//  3. The new VM's tern.on_restore function runs with the saved state.
//  4. The new VM takes over (Context.Replace) and gets the held requests.
//     The old VM's suspended tasks end: their waits and timers go, and
//     every request the old VM still owed fails with "reloaded".
//
// Anything failing before step 4 (the file, its compilation, on_save,
// the script, tern.start, on_restore) leaves the old VM serving as it
// was, and the held requests go to it.

// ErrReloaded is what the callers of a request the old VM never answered
// get.
var ErrReloaded = errors.New("reloaded: the service got a new VM before it answered")

// reload is a reload under way.
type reload struct {
	next *Service         // the new instance, booting
	held []*actor.Message // requests that came meanwhile, in order
	done func(error)
}

// Reload starts the swap; done gets its outcome.
func (s *Service) Reload(c *actor.Context, done func(error)) {
	if s.reloading != nil {
		done(errors.New("a reload is already under way"))
		return
	}
	chunk, err := s.rt.protos.fresh(s.script)
	if err != nil {
		done(fmt.Errorf("load %s: %w", s.script, err))
		return
	}
	state, err := s.save()
	if err != nil {
		done(fmt.Errorf("on_save: %w", err))
		return
	}
	next := s.rt.service(s.script, s.args)
	next.c, next.reloaded = c, true
	if err := next.newVM(chunk); err != nil {
		done(err)
		return
	}
	r := &reload{next: next, done: done}
	s.reloading = r
	err = next.startBoot(func(err error) {
		if err != nil {
			s.abortReload(fmt.Errorf("init: %w", err))
			return
		}
		next.restore(state, func(err error) {
			if err != nil {
				s.abortReload(fmt.Errorf("on_restore: %w", err))
				return
			}
			s.swap()
		})
	})
	if err != nil {
		s.abortReload(err)
	}
}

// compiled returns the compiled chunk of a module or loaded file: as it is
// on disk now in a reloaded VM, which compares content, else as cached by
// size and time.
func (s *Service) compiled(path string) (*glua.FunctionProto, error) {
	if s.reloaded {
		return s.rt.protos.fresh(path)
	}
	return s.rt.protos.load(path, nil)
}

// save runs the old VM's on_save function, which may not block, and packs
// what it returns.
func (s *Service) save() ([]byte, error) {
	if s.onSave == nil {
		return nil, nil
	}
	L := s.L
	L.Push(s.onSave)
	if err := L.PCall(0, glua.MultRet, nil); err != nil {
		return nil, err
	}
	n := L.GetTop()
	data, err := packLValues(nil, L, 1, n, s.rt.maxMessage)
	L.Pop(n)
	return data, err
}

// restore runs on_restore, if the new VM set one, with the saved state,
// in a task (it may block); end gets its outcome.
func (s *Service) restore(state []byte, end func(error)) {
	if s.onRestore == nil {
		end(nil)
		return
	}
	args, err := unpackLAppend(s.L, []glua.LValue{s.onRestore}, state)
	if err != nil {
		end(err)
		return
	}
	s.runFirst("on_restore", args, end)
}

// hold keeps a request that came during a reload, for the instance that
// serves once it is over.
func (s *Service) hold(c *actor.Context, m *actor.Message) {
	c.Keep()
	s.reloading.held = append(s.reloading.held, m)
}

// swap makes the new VM serve: step 4.
func (s *Service) swap() {
	r := s.reloading
	s.reloading = nil
	c := s.c
	c.Replace(r.next)
	s.retire(r.held, true)
	for _, m := range r.held {
		r.next.Receive(c, m)
		m.Release()
	}
	r.done(nil)
}

// abortReload drops the new VM and gives the held requests to the old
// one, which never stopped serving.
func (s *Service) abortReload(err error) {
	r := s.reloading
	s.reloading = nil
	r.next.retire(nil, false)
	for _, m := range r.held {
		s.Receive(s.c, m)
		m.Release()
	}
	r.done(err)
}

// retire ends this instance: its suspended tasks' waits and timers go,
// its pending tern.timeout functions never run, and, with failOwed, every
// Call the service still owes (but those in held, which the next instance
// gets) fails with ErrReloaded. Its VM is then dropped.
func (s *Service) retire(held []*actor.Message, failOwed bool) {
	c := s.c
	c.EachWaiter(func(session uint32, w actor.Waiter) {
		switch w := w.(type) {
		case *coro:
			if w.s == s {
				c.Unawait(session)
				if w.wait.kind == waitSleep || w.wait.timer == session {
					c.CancelTimer(session)
				}
			}
		case *timeoutTask:
			if w.s == s {
				c.Unawait(session)
				c.CancelTimer(session)
			}
		}
	})
	if !failOwed {
		s.Stopped(c)
		return
	}
	keep := make(map[[2]uint64]bool, len(held))
	for _, m := range held {
		if m.Kind == actor.Call {
			keep[[2]uint64{uint64(m.From), uint64(m.Session)}] = true
		}
	}
	c.EachOwed(func(from actor.Addr, session uint32) {
		if !keep[[2]uint64{uint64(from), uint64(session)}] {
			c.Fail(from, session, &actor.Error{Name: c.Name(), Addr: c.Self(), Err: ErrReloaded})
		}
	})
	s.Stopped(c)
}
