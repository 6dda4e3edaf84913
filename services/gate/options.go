package gate

import (
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"time"

	"github.com/tern-dev/tern/actor"
	"github.com/tern-dev/tern/internal/suggest"
)

// Options are what `open` takes.
type Options struct {
	Listen      string        // host:port; port 0 picks a free one
	Protocol    protocol      // len16, len32, line or websocket
	Watchdog    actor.Addr    // gets connect, message and disconnect
	MaxConn     int           // connections at once; past it new ones are closed
	MaxFrame    int           // bytes in one frame, either way
	IdleTimeout time.Duration // no input for this long closes a connection; 0: never
	SendBuffer  int           // bytes queued to one connection before it is cut off
	Path        string        // websocket: the HTTP path of the upgrade
	Text        bool          // websocket: send text messages, not binary
	Static      string        // websocket: a directory served at every other path
	// ForwardFirst holds a connection's input until forward (or start)
	// says who gets its events, as skynet's gate does: connect still goes
	// to the watchdog, and no message can reach it before the agent.
	ForwardFirst bool
}

// Defaults of the options `open` may leave out.
const (
	DefaultMaxConn     = 10000
	DefaultMaxFrame    = 65536
	DefaultIdleTimeout = 60 * time.Second
	DefaultSendBuffer  = 1 << 20
	DefaultPath        = "/ws"
)

var optionKeys = []string{"listen", "protocol", "watchdog", "max_conn", "max_frame", "idle_timeout_ms", "send_buffer", "path", "text", "static", "forward_first"}

// parseOptions reads open's table. dir is where a relative static
// directory is found.
func parseOptions(args []any, dir string) (Options, error) {
	o := Options{MaxConn: DefaultMaxConn, MaxFrame: DefaultMaxFrame, IdleTimeout: DefaultIdleTimeout, SendBuffer: DefaultSendBuffer, Path: DefaultPath}
	if len(args) != 1 {
		return o, fmt.Errorf("open takes one table of options, got %d arguments", len(args))
	}
	t, ok := args[0].(map[string]any)
	if !ok {
		return o, fmt.Errorf("open takes a table of options with string keys, got %s", typeName(args[0]))
	}
	keys := make([]string, 0, len(t))
	for k := range t {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := o.set(k, t[k], dir); err != nil {
			return o, fmt.Errorf("open: option %s: %w", k, err)
		}
	}
	switch {
	case o.Listen == "":
		return o, fmt.Errorf("open: option listen is required (host:port)")
	case o.Protocol == 0:
		return o, fmt.Errorf(`open: option protocol is required ("len16", "len32", "line" or "websocket")`)
	case o.Watchdog == actor.None:
		return o, fmt.Errorf("open: option watchdog is required (the service that gets the events)")
	case o.Protocol != protoWebSocket && (o.Text || o.Static != "" || t["path"] != nil):
		return o, fmt.Errorf("open: options path, text and static are for protocol websocket, not %s", o.Protocol)
	case o.Protocol == protoLen16 && o.MaxFrame > maxLen16:
		o.MaxFrame = maxLen16
	}
	return o, nil
}

func (o *Options) set(k string, v any, dir string) error {
	var err error
	switch k {
	case "listen":
		o.Listen, err = str(v)
	case "protocol":
		var s string
		if s, err = str(v); err == nil {
			if o.Protocol = protoNames[s]; o.Protocol == 0 {
				err = fmt.Errorf(`unknown protocol %q: use "len16", "len32", "line" or "websocket"`, s)
			}
		}
	case "watchdog":
		var n int64
		if n, err = integer(v, 1, 1<<48-1); err == nil {
			o.Watchdog = actor.Addr(n)
		}
	case "max_conn":
		o.MaxConn, err = intIn(v, 1, 1<<20)
	case "max_frame":
		o.MaxFrame, err = intIn(v, 1, 1<<30)
	case "idle_timeout_ms":
		var ms int
		ms, err = intIn(v, 0, math.MaxInt32)
		o.IdleTimeout = time.Duration(ms) * time.Millisecond
	case "send_buffer":
		o.SendBuffer, err = intIn(v, 1, 1<<30)
	case "path":
		if o.Path, err = str(v); err == nil && (o.Path == "" || o.Path[0] != '/') {
			err = fmt.Errorf("%q must start with /", o.Path)
		}
	case "text":
		o.Text, err = boolean(v)
	case "forward_first":
		o.ForwardFirst, err = boolean(v)
	case "static":
		if o.Static, err = str(v); err == nil && !filepath.IsAbs(o.Static) {
			o.Static = filepath.Join(dir, o.Static)
		}
	default:
		return fmt.Errorf("unknown option%s", suggest.Key(k, optionKeys))
	}
	return err
}

func boolean(v any) (bool, error) {
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("boolean expected, got %s", typeName(v))
	}
	return b, nil
}

func str(v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("string expected, got %s", typeName(v))
	}
	return s, nil
}

func intIn(v any, lo, hi int64) (int, error) {
	n, err := integer(v, lo, hi)
	return int(n), err
}

// integer reads a whole number in [lo, hi].
func integer(v any, lo, hi int64) (int64, error) {
	var n int64
	switch x := v.(type) {
	case int64:
		n = x
	case float64:
		if x != math.Trunc(x) || x < float64(lo) || x > float64(hi) {
			return 0, fmt.Errorf("%v is not a whole number from %d to %d", x, lo, hi)
		}
		n = int64(x)
	default:
		return 0, fmt.Errorf("number expected, got %s", typeName(v))
	}
	if n < lo || n > hi {
		return 0, fmt.Errorf("%d is out of range %d to %d", n, lo, hi)
	}
	return n, nil
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "nil"
	case bool:
		return "boolean"
	case int64, float64:
		return "number"
	case string:
		return "string"
	}
	return "table"
}
