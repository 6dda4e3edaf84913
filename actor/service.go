package actor

// Service is what runs inside an actor: a Lua VM host (package lua) or a
// Go type. All three methods run on the service's own goroutine, one at a
// time, so a service needs no locks for its own state.
type Service interface {
	// Init runs before any message. Returning an error fails the start:
	// whoever launched the service gets the error and the service exits.
	// A service whose start must wait (a Lua init that makes calls) calls
	// c.DeferReady() and later c.Ready(err).
	Init(c *Context) error
	// Receive handles one message. m is valid only until Receive returns.
	// A Call must be answered exactly once, now or later, with c.Reply or
	// c.Fail; if Receive panics the runtime answers it with the panic.
	Receive(c *Context, m *Message)
	// Stopped runs last, after the mailbox closed. The service must fail
	// every Call it still owes (those still queued are failed for it).
	Stopped(c *Context)
}

// Shutdowner is a service that finishes its work before it stops. When
// the root shuts the process down, the service gets Shutdown and must call
// done once what it had in flight is finished. From then on the runtime
// refuses new requests to it with ErrShuttingDown, unless it is a Drainer
// that accepts them. A service that is not a Shutdowner is done at once.
type Shutdowner interface {
	Shutdown(c *Context, done func())
}

// Drainer is a Shutdowner that keeps taking requests while it drains,
// because what it has in flight needs them to finish: the gate, whose
// connections wait for the writes the services behind it still send. If
// AcceptsWhileDraining reports true, the runtime delivers its Calls and
// Sends during the shutdown as before it, instead of refusing them with
// ErrShuttingDown; the service itself decides what it still serves. The
// runtime asks once, at spawn (a Replace keeps that answer), so the
// delivery path pays one bool.
type Drainer interface {
	Shutdowner
	AcceptsWhileDraining() bool
}

// SpawnOptions describe a new service.
type SpawnOptions struct {
	// Name is the service's name in logs and errors (e.g. its script).
	Name string
	// Script says what the service runs (a Lua script, a Go type), for
	// listings.
	Script string
	// ReadyTo and ReadySession, when ReadyTo is not None, receive a Reply
	// (with no values) when Init succeeds, or a Fail with its error.
	ReadyTo      Addr
	ReadySession uint32
	// Dedicated runs the service on a goroutine of its own instead of the
	// worker pool. Use it for a Go service that blocks (on I/O, a lock, a
	// channel): on the pool it would hold a worker (the monitor replaces
	// a worker held past a few milliseconds, which costs a goroutine each
	// time). Lua services and Go services that do not block use the pool.
	Dedicated bool
	// Limits are the service's own monitor and memory limits; nil keeps
	// the runtime's.
	Limits *Limits
}
