package names

import (
	"fmt"
	"strings"
	"time"

	"github.com/tern-dev/tern/actor"
	"github.com/tern-dev/tern/internal/pack"
	"github.com/tern-dev/tern/internal/ratelog"
)

// Decl declares a service that starts on the first lookup of its name.
type Decl struct {
	Script string // a Lua script name, or a Go service registered by name
	Args   []any
	// Limits are the service's own monitor and memory limits (config.lua's
	// services.NAME.monitor and .memory); nil keeps the runtime's.
	Limits *actor.Limits
}

// Starter starts the service script with packed args and its own limits
// (nil: the runtime's); the new service reports the end of its init to
// (readyTo, session), as actor.SpawnOptions says.
type Starter func(script string, args []byte, limits *actor.Limits, readyTo actor.Addr, session uint32) (actor.Addr, error)

// Service is the name service actor. It registers names, starts declared
// services on first use (unique.go), forwards messages sent to a name that
// is not registered yet, and lists every service. It answers every Call,
// now or later; a Call waiting for a name (wait.go) ends at its deadline
// or when its caller exits.
type Service struct {
	table    *Table
	start    Starter
	declared map[string]Decl
	launches map[string]*launch // names being started
	bySess   map[uint32]string  // ready session -> name being started
	waits    waits              // Calls waiting for a name
	scripts  map[actor.Addr]string
	stopped  map[string]time.Time // declared names whose service stopped
	warn     ratelog.Limiter      // repeated warnings
	maxMsg   int                  // cap on packed declared args (SetMaxMessage)
	// The cluster (cluster.go).
	cluster     map[string]actor.Addr // this node's cluster names
	flights     map[string]*flight    // "name@node" resolves under way
	callTimeout time.Duration         // a remote query's deadline when it gives none
}

// exited tells the name service that a service stopped.
type exited struct{ addr actor.Addr }

// Forward asks the name service to deliver a message addressed by name:
// post the message to the name service with Ctl set to it.
// With Ack, the name service answers the sender with Acked once the
// message has left it (posted to the service, or refused).
type Forward struct {
	Name string
	Ack  bool
}

// Acked tells a sender that asked (Forward.Ack) that one of its messages
// to Name has left the name service. A sender that sent to a name through
// the name service keeps doing so until each such message is acked:
// posting to the name's address directly any earlier could overtake its
// own messages still queued here.
type Acked struct{ Name string }

var _ actor.Service = (*Service)(nil)

// New returns a name service over table, starting declared services with
// start.
func New(table *Table, start Starter, declared map[string]Decl) *Service {
	d := make(map[string]Decl, len(declared))
	for k, v := range declared {
		d[k] = v
	}
	return &Service{
		table:    table,
		start:    start,
		declared: d,
		launches: map[string]*launch{},
		bySess:   map[uint32]string{},
		waits:    newWaits(),
		scripts:  map[actor.Addr]string{},
		stopped:  map[string]time.Time{},
		cluster:  map[string]actor.Addr{},
		flights:  map[string]*flight{},
	}
}

// Init hooks the name service to every service's exit.
func (s *Service) Init(c *actor.Context) error {
	sys, self := c.System(), c.Self()
	sys.OnExit(func(a actor.Addr) {
		if a == self {
			return
		}
		m := actor.NewMessage()
		m.Kind, m.Ctl = actor.Control, exited{a}
		// A live service never refuses a control message: an error means
		// the name service has stopped, and its names with it.
		_ = sys.Post(self, m)
	})
	sys.OnNode(func(n actor.NodeInfo, up bool) {
		m := actor.NewMessage()
		m.Kind, m.Ctl = actor.Control, nodeEvent{n, up}
		_ = sys.Post(self, m)
	})
	return nil
}

// Stopped: the runtime answers what is still owed.
func (s *Service) Stopped(*actor.Context) {}

// Receive dispatches the name service's commands.
func (s *Service) Receive(c *actor.Context, m *actor.Message) {
	switch m.Kind {
	case actor.Control:
		switch ctl := m.Ctl.(type) {
		case exited:
			s.exited(c, ctl.addr)
		case nodeEvent:
			s.nodeChanged(c, ctl)
		default:
			if m.Session != 0 { // Shutdown and the like: nothing to finish
				c.Reply(m.From, m.Session)
			}
		}
		return
	case actor.Reply, actor.Fail:
		s.started(c, m)
		return
	case actor.Timer:
		s.expired(c, m.Session)
		return
	case actor.Call, actor.Send:
	default:
		return
	}
	if f, ok := m.Ctl.(Forward); ok {
		ack := actor.None
		if f.Ack {
			ack = m.From
		}
		s.forward(c, f.Name, m, ack)
		return
	}
	args, err := pack.DecodeValues(m.Data)
	if err == nil {
		err = s.command(c, m, args)
	}
	switch {
	case err == nil:
	case m.Kind == actor.Call:
		c.Fail(m.From, m.Session, err)
	default:
		s.warn.Warn(c.Logger(), "send to the name service failed", m.Cmd, "cmd", m.Cmd, "from", m.From.String(), "err", err)
	}
}

// reply answers p with vals; a Send gets no answer.
func reply(c *actor.Context, p pending, vals ...any) {
	if p.session != 0 {
		c.Reply(p.from, p.session, vals...)
	}
}

// command runs one request; answers are sent by the command itself, now
// or once a name is known. An error is the answer otherwise.
func (s *Service) command(c *actor.Context, m *actor.Message, args []any) error {
	str := func(i int) (string, error) {
		if i < len(args) {
			if v, ok := args[i].(string); ok {
				return v, nil
			}
		}
		return "", fmt.Errorf("names: %s: argument #%d must be a name (string)", m.Cmd, i+1)
	}
	p := pending{from: m.From}
	if m.Kind == actor.Call {
		p.session = m.Session
	}
	timed := func(i int) (err error) { // reads the optional deadline
		p.deadline, p.timed, err = deadlineArg(m.Cmd, args, i)
		return err
	}
	switch m.Cmd {
	case "register":
		name, err := str(0)
		if err != nil {
			return err
		}
		cluster, err := clusterOpt(args, 1)
		if err != nil {
			return err
		}
		if err := s.register(c, name, m.From); err != nil {
			return err
		}
		if cluster {
			s.clusterRegister(c, name, m.From)
		}
		reply(c, p)
	case "register_as": // register_as(name, addr [, opts]): the Go host (root) names a service it started
		name, err := str(0)
		if err != nil {
			return err
		}
		if m.From != actor.None {
			return fmt.Errorf("names: register_as: only the Go host may name another service")
		}
		var a int64
		ok := len(args) >= 2
		if ok {
			a, ok = args[1].(int64)
		}
		if !ok {
			return fmt.Errorf("names: register_as: argument #2 must be an address")
		}
		cluster, err := clusterOpt(args, 2)
		if err != nil {
			return err
		}
		if err := s.register(c, name, actor.Addr(a)); err != nil {
			return err
		}
		if cluster {
			s.clusterRegister(c, name, actor.Addr(a))
		}
		reply(c, p)
	case "query": // query(name [, ms])
		name, err := str(0)
		if err != nil {
			return err
		}
		if err := timed(1); err != nil {
			return err
		}
		if strings.ContainsRune(name, '@') {
			return s.remoteQuery(c, name, p)
		}
		return s.query(c, name, p)
	case "resolve": // resolve(name [, ms])
		name, err := str(0)
		if err != nil {
			return err
		}
		if err := timed(1); err != nil {
			return err
		}
		if strings.ContainsRune(name, '@') {
			return s.remoteResolve(c, name, p, nil)
		}
		return s.resolve(c, name, p)
	case "unique":
		name, err := str(0)
		if err != nil {
			return err
		}
		if strings.ContainsRune(name, '@') { // started there if declared there
			return s.remoteResolve(c, name, p, nil)
		}
		d, ok := s.declared[name]
		if !ok {
			d = Decl{Script: name, Args: args[1:]}
		}
		return s.unique(c, name, d, p)
	case "declare":
		name, err := str(0)
		if err != nil {
			return err
		}
		script, err := str(1)
		if err != nil {
			return err
		}
		if !LocalName(name) {
			return fmt.Errorf("%w: %q", ErrBadName, name)
		}
		s.declared[name] = Decl{Script: script, Args: args[2:]}
		reply(c, p)
	case "cluster_add": // (full, name, addr, ...) from another node's name service
		if len(args) == 0 {
			return fmt.Errorf("names: cluster_add: no arguments")
		}
		return s.clusterAdd(c, m.From, args)
	case "cluster_drop": // (addr): a named service of another node stopped
		if len(args) == 0 {
			return fmt.Errorf("names: cluster_drop: no arguments")
		}
		return s.clusterDrop(c, m.From, args)
	case "list":
		reply(c, p, s.list(c))
	case "stat":
		reply(c, p, s.stat())
	default:
		return &actor.Error{Name: c.Name(), Addr: c.Self(), What: `call "` + m.Cmd + `"`, Err: actor.ErrNoCommand}
	}
	return nil
}

func (s *Service) register(c *actor.Context, name string, a actor.Addr) error {
	if !LocalName(name) {
		return fmt.Errorf("%w: %q", ErrBadName, name)
	}
	if a == actor.None {
		return fmt.Errorf("names: register %q: only a service can register", name)
	}
	if old, ok := s.table.local(name); ok && old != a {
		return fmt.Errorf("%w: %q belongs to %s", ErrTaken, name, old)
	}
	if l := s.launches[name]; l != nil && l.addr != a {
		return fmt.Errorf("%w: %q is starting as %s", ErrTaken, name, l.addr)
	}
	s.table.set(name, a)
	delete(s.stopped, name)
	if s.launches[name] == nil {
		s.answer(c, name, anyWait, a)
	} else { // the starting service registers itself: its start is not over
		s.answer(c, name, queryWait, a)
	}
	return nil
}

// query answers with the name's address once there is one: at once, when
// its declared service has started, or when someone registers it; or
// fails at its deadline.
func (s *Service) query(c *actor.Context, name string, p pending) error {
	if a, ok := s.table.Lookup(name); ok {
		reply(c, p, a)
		return nil
	}
	if _, ok := s.declared[name]; ok {
		return s.resolve(c, name, p)
	}
	s.wait(c, name, p, false)
	return nil
}

// exited forgets a service that stopped: its names, and its calls waiting
// for a name.
func (s *Service) exited(c *actor.Context, a actor.Addr) {
	s.callerExited(c, a)
	delete(s.scripts, a)
	released := s.table.removeAddr(a)
	for _, name := range released {
		if _, ok := s.declared[name]; ok {
			s.stopped[name] = time.Now()
		}
		c.Logger().Debug("name released", "name", name, "addr", a.String())
	}
	s.localExited(c, a, released)
}

// list describes every service: live ones, and declared names not running.
func (s *Service) list(c *actor.Context) []any {
	var out []any
	for _, in := range c.System().Services() {
		name, _ := s.table.NameOf(in.Addr)
		out = append(out, map[string]any{
			"addr": in.Addr, "name": name, "service": in.Name, "script": in.Script,
			"state": in.State.String(), "started": in.Started.UnixMilli(),
			// statistics (actor.Info)
			"queued": in.Queued, "peak": in.Peak, "handled": in.Handled, "sent": in.Sent,
			"errors": in.Errors, "busy": in.Busy.Seconds(), "wall": in.Wall.Seconds(), "reloads": in.Reloads,
			"tasks": in.Tasks, "memory": in.Memory,
		})
	}
	for name, d := range s.declared {
		if _, ok := s.table.Lookup(name); ok {
			continue
		}
		state := "declared"
		if _, ok := s.stopped[name]; ok {
			state = actor.Stopped.String()
		}
		if _, ok := s.launches[name]; ok {
			continue // listed above as starting
		}
		out = append(out, map[string]any{"addr": 0, "name": name, "script": d.Script, "state": state})
	}
	return out
}

// stat counts what the name service holds, for tests and diagnostics:
// every count but names and declared is 0 when nothing is under way.
func (s *Service) stat() map[string]any {
	queued := 0
	for _, l := range s.launches {
		queued += len(l.queued)
	}
	return map[string]any{
		"waiting":  len(s.waits.all),
		"names":    len(s.waits.byName),
		"callers":  len(s.waits.byCaller),
		"timers":   len(s.waits.byTimer),
		"launches": len(s.launches),
		"starting": len(s.bySess),
		"queued":   queued,
		"scripts":  len(s.scripts),
		"declared": len(s.declared),
		"warnings": s.warn.Len(),
		"flights":  len(s.flights),
		"cluster":  len(s.cluster),
	}
}
