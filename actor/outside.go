package actor

import (
	"context"
	"fmt"

	"github.com/tern-dev/tern/internal/pack"
)

// Call sends a request from Go code outside any service and waits for the
// answer, the context's end, or the target's exit, whichever comes first.
func (s *System) Call(ctx context.Context, to Addr, cmd string, args ...any) ([]any, error) {
	session, ch := s.await()
	defer s.outside.Delete(session)
	req, err := s.newMessage(Call, session, cmd, args)
	if err != nil {
		return nil, err
	}
	req.Trace = TraceOf(ctx)
	if err := s.Post(to, req); err != nil {
		return nil, err
	}
	m, err := s.wait(ctx, to, "call "+quote(cmd), ch)
	if err != nil {
		return nil, err
	}
	defer m.Release()
	return decodeArgs(m.Data)
}

type traceKey struct{}

// WithTrace makes the calls System.Call makes with ctx traced requests,
// tagged tag: the Lua services that handle them, and what they call in
// turn, log each hop (tern.trace).
func WithTrace(ctx context.Context, tag string) context.Context {
	return context.WithValue(ctx, traceKey{}, tag)
}

// TraceOf is the trace tag WithTrace put in ctx, or "".
func TraceOf(ctx context.Context) string {
	tag, _ := ctx.Value(traceKey{}).(string)
	return tag
}

// await registers a session for an answer addressed to None.
func (s *System) await() (uint32, chan *Message) {
	ch := make(chan *Message, 1)
	for {
		session := s.sessions.Add(1)
		if session == 0 {
			continue
		}
		if _, taken := s.outside.LoadOrStore(session, ch); !taken {
			return session, ch
		}
	}
}

// wait returns the Reply on ch, or the error of a Fail or of ctx.
func (s *System) wait(ctx context.Context, to Addr, what string, ch chan *Message) (*Message, error) {
	select {
	case m := <-ch:
		if m.Kind == Fail {
			err := m.Err
			m.Release()
			return nil, err
		}
		return m, nil
	case <-ctx.Done():
		name, _ := s.Lookup(to)
		return nil, &Error{Name: name, Addr: to, What: what, Err: fmt.Errorf("%w: %v", ErrTimeout, ctx.Err())}
	}
}

// postOutside hands an answer to the Go caller waiting on its session.
func (s *System) postOutside(m *Message) error {
	if m.Kind == Reply || m.Kind == Fail {
		if ch, ok := s.outside.Load(m.Session); ok {
			select {
			case ch.(chan *Message) <- m:
				return nil
			default:
			}
		}
	}
	m.Release()
	return nil
}

// decodeArgs unpacks values into Go values.
func decodeArgs(data []byte) ([]any, error) {
	if len(data) == 0 {
		return nil, nil
	}
	return pack.DecodeValues(data)
}
