package lua

import (
	"github.com/tern-dev/tern/actor"
	glua "github.com/yuin/gopher-lua"
)

// Inject is the control message that runs a Lua file inside a service's
// VM, skynet's hot-patch path (the console's `inject X file.lua`): the
// file, found as loadfile finds it (on the script path only), runs in a
// task of the service with its globals; the Call is answered with what it
// returns, or fails with its error. Post it as a Control with a session.
type Inject struct {
	File string
}

// inject runs an Inject request.
func (s *Service) inject(c *actor.Context, m *actor.Message, in *Inject) {
	fail := func(err error) {
		if m.Session != 0 {
			c.Fail(m.From, m.Session, s.errorf("inject", err))
		}
	}
	path, err := s.findFile(in.File)
	if err != nil {
		fail(err)
		return
	}
	proto, err := s.compiled(path)
	if err != nil {
		fail(err)
		return
	}
	co := s.getTask()
	co.from, co.session = m.From, m.Session
	co.cmd, co.request = "inject", true
	s.inflight++
	s.resume(co, append(s.scratch[:0], glua.LValue(s.L.NewFunctionFromProto(proto))))
}
