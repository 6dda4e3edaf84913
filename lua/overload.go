package lua

import (
	"errors"
	"fmt"

	"github.com/tern-dev/tern/actor"
)

// Overload: every request runs in a task, and a task suspended in a
// blocking call (tern.sleep, tern.call) holds its coroutine until it
// resumes. A flood of requests to a handler that blocks would pile up
// tasks without bound (100k sends to a sleeping handler held 615 MB). So a
// service refuses a new request while it has Config.MaxTasks tasks under
// way: a call fails at once with ErrOverloaded, a send is dropped with a
// warning (at most one a second per service). The tasks under way go on;
// once they are fewer, requests are accepted again.

// ErrOverloaded: the service has as many tasks under way as it may.
var ErrOverloaded = errors.New("service overloaded")

// DefaultMaxTasks is the cap on a service's tasks when Config.MaxTasks is
// 0.
const DefaultMaxTasks = 100_000

// overloaded refuses m if the service is at its task cap, and says so.
func (s *Service) overloaded(m *actor.Message) bool {
	n := len(s.threads) - len(s.free)
	if n < s.rt.maxTasks {
		return false
	}
	if m.Kind == actor.Call {
		s.c.Fail(m.From, m.Session, s.errorf(m.Cmd, fmt.Errorf("%w (%d tasks under way, the most max_tasks allows)", ErrOverloaded, n)))
	} else {
		s.c.Warn("service overloaded: send dropped", "overloaded", "cmd", m.Cmd, "from", m.From.String(), "tasks", n, "max_tasks", s.rt.maxTasks)
	}
	return true
}
