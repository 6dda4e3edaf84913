package actor

import "errors"

// Errors a caller can test with errors.Is. Every error that reaches a
// caller wraps one of these and names the service and address involved.
var (
	// ErrNoService: the address names no live service.
	ErrNoService = errors.New("no such service")
	// ErrExited: the service exited before it answered.
	ErrExited = errors.New("service exited")
	// ErrNoCommand: the service has no handler for the command.
	ErrNoCommand = errors.New("no such command")
	// ErrTimeout: no answer came in time.
	ErrTimeout = errors.New("timeout")
	// ErrOverload: the service's mailbox is full.
	ErrOverload = errors.New("mailbox full")
	// ErrRemote: the service answered with an error (its handler raised).
	ErrRemote = errors.New("service raised an error")
	// ErrShuttingDown: the service accepts no new requests.
	ErrShuttingDown = errors.New("service is shutting down")
)

// Error is an error produced by or about a service. It reads
// `name(:0000000a): what: cause`.
type Error struct {
	Name string // service name, "" if unknown
	Addr Addr
	What string // the operation, e.g. `call "add"`; may be empty
	Err  error  // a sentinel above, or the service's own error
}

func (e *Error) Error() string {
	s := e.Name + "(" + e.Addr.String() + ")"
	if e.Name == "" {
		s = e.Addr.String()
	}
	if e.What != "" {
		s += ": " + e.What
	}
	return s + ": " + e.Err.Error()
}

// Unwrap lets errors.Is see the cause.
func (e *Error) Unwrap() error { return e.Err }

// raised is the text a service's handler raised, marked ErrRemote.
type raised string

func (e raised) Error() string        { return string(e) }
func (e raised) Is(target error) bool { return target == ErrRemote }

// Raised makes the error a handler answers with when it fails with msg.
// It matches ErrRemote.
func Raised(msg string) error { return raised(msg) }
