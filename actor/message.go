package actor

import "sync"

// Kind says what a Message is.
type Kind uint8

const (
	// Send is a one-way request: Cmd and Data, no answer.
	Send Kind = iota
	// Call is a request that expects one Reply or Error with its Session.
	Call
	// Reply answers a Call: Data holds the results.
	Reply
	// Fail answers a Call with Err.
	Fail
	// Timer fires a timer the service set with Context.After.
	Timer
	// Control carries a runtime control message in Ctl (shutdown, reload,
	// stat...). Ctl is a Go pointer locally; it is encoded only to cross
	// nodes.
	Control
)

var kindNames = [...]string{"send", "call", "reply", "fail", "timer", "control"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind?"
}

// Message is what services exchange. Messages are pooled: a receiver may
// use one only during the Receive that delivers it, and a sender gives up
// a message when it posts it.
type Message struct {
	Kind    Kind
	From    Addr
	Session uint32 // pairs a Call with its Reply or Fail; a Timer's id
	Cmd     string
	Data    []byte // packed values (internal/pack format)
	Err     error  // for Fail
	Ctl     any    // for Control
	// Done, when set, runs once the message is released: after the
	// receiver handled it, or when it was dropped undelivered. A sender
	// that must not run ahead of its receiver (the gate's reader of one
	// connection) counts its messages in flight with it. It runs on
	// whatever goroutine releases the message, so it must be quick and
	// must not block.
	Done func()
	// Trace is the trace tag of the request this message belongs to
	// (tern.trace), or "": a service handling a traced request passes
	// the tag on to the calls and sends it makes, and logs each hop.
	Trace string
}

var msgPool = sync.Pool{New: func() any { return new(Message) }}

// NewMessage takes a cleared message from the pool. Its Data keeps the
// capacity of earlier uses, so appending to Data[:0] rarely allocates.
func NewMessage() *Message { return msgPool.Get().(*Message) }

// Release returns m to the pool. Nothing may touch m afterwards.
func (m *Message) Release() {
	if cap(m.Data) > 64<<10 {
		m.Data = nil // don't let one big message pin memory forever
	}
	done := m.Done
	*m = Message{Data: m.Data[:0]}
	msgPool.Put(m)
	if done != nil {
		done()
	}
}
