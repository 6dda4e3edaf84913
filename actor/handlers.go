package actor

import "fmt"

// Func handles one command of a Handlers service: it gets the request's
// arguments as Go values and returns the results, or an error the caller
// receives.
type Func func(c *Context, args []any) ([]any, error)

// Handlers is a Go service made of one Func per command, the Go twin of a
// Lua handler table. Callers cannot tell it from a Lua service.
type Handlers map[string]Func

var _ Service = Handlers(nil)

// Init does nothing: a Handlers service is ready at once.
func (h Handlers) Init(*Context) error { return nil }

// Receive runs the command's Func and answers a Call with its results.
func (h Handlers) Receive(c *Context, m *Message) {
	if m.Kind != Call && m.Kind != Send {
		return
	}
	f := h[m.Cmd]
	if f == nil {
		err := &Error{Name: c.Name(), Addr: c.Self(), What: "call " + quote(m.Cmd), Err: ErrNoCommand}
		if m.Kind == Call {
			c.Fail(m.From, m.Session, err)
		} else {
			c.Warn("send to unknown command", m.Cmd, "cmd", m.Cmd, "from", m.From.String())
		}
		return
	}
	args, err := decodeArgs(m.Data)
	var res []any
	if err == nil {
		res, err = f(c, args)
	}
	if m.Kind == Send {
		if err != nil {
			c.Logger().Error("send handler failed", "cmd", m.Cmd, "err", err)
		}
		return
	}
	if err != nil {
		c.Fail(m.From, m.Session, &Error{Name: c.Name(), Addr: c.Self(), What: "call " + quote(m.Cmd), Err: Raised(err.Error())})
		return
	}
	if err := c.reply(m.From, m.Session, res); err != nil {
		c.Fail(m.From, m.Session, fmt.Errorf("%s: packing results: %w", m.Cmd, err))
	}
}

// Stopped does nothing: a Handlers service answers every Call at once,
// so it never owes one.
func (h Handlers) Stopped(*Context) {}
