package actor

import (
	"errors"
	"fmt"

	pa "github.com/asynkron/protoactor-go/actor"
	pb "github.com/tern-dev/tern/proto"
)

// The transport: a message for another node leaves as one *pb.Envelope
// through protoactor-go's remote, whose endpoint writer batches it on the
// one gRPC stream to that node (order per sender node → receiver node is
// the stream's order). On the receiving node the envelope reaches the
// "tern" process (ternProcess), which posts it into the target service's
// tern mailbox with the same rules as a local post.
//
// The tern process is a protoactor Process in the registry, not a spawned
// actor: the remote's reader hands it each envelope on the stream's own
// goroutine, in the stream's order, and it posts straight into the tern
// mailbox. An actor would add a mailbox and a goroutine hop per message
// and keep the same order.

// ternPID is the protoactor id of every node's tern process.
const ternPID = "tern"

// postRemote sends m to a service on another node. It fails at once when
// the node is not up (ErrNodeDown, naming the node) or the System is in no
// cluster (ErrNoCluster). Like post, it owns m.
func (s *System) postRemote(to Addr, m *Message) error {
	c := s.cluster.Load()
	if c == nil {
		m.Release()
		return &Error{Addr: to, What: m.Kind.String() + " " + quote(m.Cmd), Err: ErrNoCluster}
	}
	return c.post(to, m)
}

func (c *clusterState) post(to Addr, m *Message) error {
	p := c.peer(to.Node())
	if p == nil || !p.up.Load() || c.left.Load() {
		what := m.Kind.String() + " " + quote(m.Cmd)
		var err error
		if p == nil {
			err = fmt.Errorf("%w: no node has number %d", ErrNodeDown, to.Node())
		} else {
			p.dropped.Add(1)
			if m.Kind == Call {
				p.failed.Add(1)
			}
			err = fmt.Errorf("%w: %s", ErrNodeDown, p.name)
			if c.left.Load() {
				err = fmt.Errorf("%w: %s: this node left the cluster", ErrNodeDown, p.name)
			}
		}
		m.Release()
		return &Error{Addr: to, What: what, Err: err}
	}
	env := &pb.Envelope{To: uint64(to), From: uint64(m.From), Session: m.Session, Cmd: m.Cmd, Trace: m.Trace}
	if m.From == None {
		env.From = uint64(MakeAddr(c.sys.node, 0)) // Go code outside any service here
	}
	if len(m.Data) > 0 {
		env.Data = append([]byte(nil), m.Data...)
	}
	switch m.Kind {
	case Send:
		env.Kind = pb.Kind_KIND_SEND
	case Call:
		env.Kind = pb.Kind_KIND_CALL
	case Reply:
		env.Kind = pb.Kind_KIND_REPLY
	case Fail:
		env.Kind = pb.Kind_KIND_ERROR
		env.Error, env.Code = wireError(m.Err)
	case Control:
		sd, ok := m.Ctl.(*pb.Shutdown)
		if !ok {
			err := &Error{Addr: to, What: fmt.Sprintf("control %T", m.Ctl), Err: errors.New("only a Shutdown control crosses nodes")}
			m.Release()
			return err
		}
		env.Kind, env.Shutdown = pb.Kind_KIND_CONTROL, sd
	default:
		err := &Error{Addr: to, What: m.Kind.String(), Err: errors.New("does not cross nodes")}
		m.Release()
		return err
	}
	caller := Addr(env.From)
	if (m.Kind == Call || m.Kind == Control && m.Session != 0) && caller.Node() == c.sys.node {
		// Only calls made here are bounded here: a call forwarded from
		// another node is answered straight to its caller's node.
		c.calls.add(caller, m.Session, to, m.Cmd)
	}
	m.Release()
	p.sent.Add(1)
	c.c.Remote.SendMessage(p.pid.Load(), nil, env, nil, -1)
	return nil
}

// ternProcess receives every envelope that other nodes send this one. It
// runs on the goroutine of the gRPC stream from the sending node, one
// envelope after the other, so posting here keeps the stream's order.
type ternProcess struct{ c *clusterState }

var _ pa.Process = ternProcess{}

func (t ternProcess) SendUserMessage(_ *pa.PID, message any) {
	var sender *pa.PID
	if e, ok := message.(*pa.MessageEnvelope); ok {
		message, sender = e.Message, e.Sender
	}
	env, ok := message.(*pb.Envelope)
	if !ok {
		t.c.sys.warnings.Warn(t.c.sys.log, "cluster: unexpected message dropped", fmt.Sprintf("%T", message), "type", fmt.Sprintf("%T", message))
		return
	}
	t.c.receive(env, sender)
}

func (ternProcess) SendSystemMessage(*pa.PID, any) {}
func (ternProcess) Stop(*pa.PID)                   {}

// receive handles one envelope from another node.
func (c *clusterState) receive(env *pb.Envelope, sender *pa.PID) {
	from, to := Addr(env.From), Addr(env.To)
	if p := c.peer(from.Node()); p != nil {
		p.received.Add(1)
	}
	switch env.Kind {
	case pb.Kind_KIND_PROBE, pb.Kind_KIND_LEAVE:
		c.membership(env, sender)
		return
	}
	if n := to.Node(); n != c.sys.node {
		c.sys.warnings.Warn(c.sys.log, "cluster: envelope for another node dropped", "misrouted", "to", to.String(), "from", from.String())
		return
	}
	m := NewMessage()
	m.From, m.Session, m.Cmd, m.Trace = from, env.Session, env.Cmd, env.Trace
	m.Data = append(m.Data[:0], env.Data...)
	switch env.Kind {
	case pb.Kind_KIND_SEND:
		m.Kind = Send
	case pb.Kind_KIND_CALL:
		m.Kind = Call
	case pb.Kind_KIND_CONTROL:
		m.Kind, m.Ctl = Control, env.Shutdown
		if env.Shutdown == nil {
			m.Ctl = &pb.Shutdown{}
		}
	case pb.Kind_KIND_REPLY, pb.Kind_KIND_ERROR:
		m.Kind = Reply
		if env.Kind == pb.Kind_KIND_ERROR {
			m.Kind, m.Err = Fail, remoteError(env.Error, env.Code)
		}
		if !c.calls.take(to, env.Session) {
			m.Release() // its caller stopped waiting (timed out, node left)
			return
		}
		_ = c.sys.post(nil, to, m)
		return
	default:
		m.Release()
		return
	}
	kind, session, cmd := m.Kind, m.Session, m.Cmd
	if session != 0 && from.Node() == c.sys.node {
		// A call of this node's, forwarded back home by another node: it
		// is a local call now, answered here, so it waits on no node.
		c.calls.take(from, session)
	}
	if err := c.sys.post(nil, to, m); err != nil {
		if kind == Call || kind == Control && session != 0 {
			f := NewMessage()
			f.Kind, f.Session, f.From = Fail, session, to
			f.Err = fmt.Errorf("%s %q: %w", kind, cmd, err)
			if kind == Control {
				f.Err = err
			}
			_ = c.sys.post(nil, from, f)
			return
		}
		c.sys.warnings.Warn(c.sys.log, "cluster: send from another node dropped", to.String()+" "+cmd,
			"to", to.String(), "from", from.String(), "cmd", cmd, "err", err)
	}
}

// wireErrors name the runtime's sentinels on the wire (Envelope.code), so
// that an error from another node still matches them with errors.Is.
var wireErrors = []struct {
	code string
	err  error
}{
	{"nodedown", ErrNodeDown},
	{"nocluster", ErrNoCluster},
	{"overload", ErrOverload},
	{"shuttingdown", ErrShuttingDown},
	{"noservice", ErrNoService},
	{"exited", ErrExited},
	{"nocommand", ErrNoCommand},
	{"timeout", ErrTimeout},
	{"remote", ErrRemote},
}

// RegisterWireError makes err, a package's sentinel, cross nodes: an error
// a remote service answers with that matches it (errors.Is) matches it
// again on the caller's node. code names it on the wire; every node must
// register the same codes. Call it from an init function.
func RegisterWireError(code string, err error) {
	for _, w := range wireErrors {
		if w.code == code {
			panic("actor: RegisterWireError: code " + code + " taken")
		}
	}
	wireErrors = append(wireErrors, struct {
		code string
		err  error
	}{code, err})
}

// wireError is err's text and code.
func wireError(err error) (text, code string) {
	if err == nil {
		return "unknown error", ""
	}
	for _, w := range wireErrors {
		if errors.Is(err, w.err) {
			return err.Error(), w.code
		}
	}
	return err.Error(), ""
}

// remoteError rebuilds an error from another node: its text as it was
// there (it names the service and its address), matching the sentinel of
// its code.
func remoteError(text, code string) error {
	for _, w := range wireErrors {
		if w.code == code {
			return &fromNode{text: text, is: w.err}
		}
	}
	return &fromNode{text: text}
}

type fromNode struct {
	text string
	is   error
}

func (e *fromNode) Error() string { return e.text }
func (e *fromNode) Is(target error) bool {
	return e.is != nil && target == e.is
}
