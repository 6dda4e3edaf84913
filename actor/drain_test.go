package actor_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tern-dev/tern/actor"
	"github.com/tern-dev/tern/internal/testutil"
)

// drainer holds its shutdown open until it gets "finish", and reports
// every request it gets on got. accept is its AcceptsWhileDraining.
type drainer struct {
	accept bool
	got    chan string
	done   func()
}

var _ actor.Drainer = (*drainer)(nil)

func (d *drainer) Init(*actor.Context) error  { return nil }
func (d *drainer) Stopped(*actor.Context)     {}
func (d *drainer) AcceptsWhileDraining() bool { return d.accept }

func (d *drainer) Shutdown(_ *actor.Context, done func()) { d.done = done }

func (d *drainer) Receive(c *actor.Context, m *actor.Message) {
	d.got <- m.Cmd
	switch {
	case m.Cmd == "finish" && d.done != nil:
		d.done()
	case m.Kind == actor.Call:
		_ = c.Reply(m.From, m.Session, m.Cmd)
	}
}

// TestDrainerTakesRequests: a service shutting down refuses new requests,
// unless it is a Drainer that accepts them: then its Sends and Calls are
// delivered until it confirms its shutdown.
func TestDrainerTakesRequests(t *testing.T) {
	for _, accept := range []bool{true, false} {
		name := "refuses"
		if accept {
			name = "accepts"
		}
		t.Run(name, func(t *testing.T) {
			s := newSystem(t)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			d := &drainer{accept: accept, got: make(chan string, 16)}
			a, err := s.Launch(ctx, d, actor.SpawnOptions{Name: "drainer"})
			if err != nil {
				t.Fatal(err)
			}
			stopped := make(chan error, 1)
			go func() { stopped <- s.Stop(ctx, a) }()
			testutil.Eventually(t, 10*time.Second, "the drainer is shutting down", func() bool {
				in, ok := s.Info(a)
				return ok && in.State == actor.ShuttingDown
			})

			if err := s.Send(a, "write"); err != nil {
				t.Fatal(err) // a refused send is dropped by the receiver, not failed here
			}
			res, err := s.Call(ctx, a, "stat")
			if accept {
				if err != nil || len(res) != 1 || res[0] != "stat" {
					t.Fatalf("a call while draining: %v %v", res, err)
				}
				for _, want := range []string{"write", "stat"} {
					if got := <-d.got; got != want {
						t.Fatalf("got %q, want %q", got, want)
					}
				}
				if err := s.Send(a, "finish"); err != nil {
					t.Fatal(err)
				}
			} else {
				if !errors.Is(err, actor.ErrShuttingDown) {
					t.Fatalf("a call while shutting down: %v %v, want ErrShuttingDown", res, err)
				}
				select {
				case got := <-d.got:
					t.Fatalf("a service that does not take requests while draining got %q", got)
				default:
				}
				cancel() // it never confirms: stopped hard
			}
			err = <-stopped
			if accept && err != nil {
				t.Fatalf("stop: %v", err)
			}
			if !accept && err == nil {
				t.Fatalf("stop of a drainer that never confirms: %v", err)
			}
			if accept {
				if got := <-d.got; got != "finish" {
					t.Fatalf("got %q, want finish", got)
				}
			}
		})
	}
}
