package actor

import pa "github.com/asynkron/protoactor-go/actor"

// parked is the dispatcher every tern service runs on: one goroutine per
// service, parked on a channel between runs.
//
// protoactor-go's default dispatcher starts a goroutine per mailbox run
// (`go fn()`); on this 2-core machine that costs about 7 µs per round trip
// between two actors. Waking a parked goroutine lets the Go scheduler hand
// the processor straight to the receiver (it lands in the sender's runnext
// slot), which measured about 8x faster. The price is one idle goroutine
// per service, a few KiB of stack; docs/PERFORMANCE.md has the figures.
type parked struct {
	wake chan func()
}

var _ pa.Dispatcher = (*parked)(nil)

func newParked() *parked {
	d := &parked{wake: make(chan func(), 1)}
	go d.loop()
	return d
}

// Schedule never blocks: the mailbox schedules at most one run at a time,
// so the one-slot channel always has room.
func (d *parked) Schedule(fn func()) { d.wake <- fn }

// Throughput is protoactor's hint; our mailbox uses its own constant.
func (d *parked) Throughput() int { return throughput }

func (d *parked) loop() {
	for fn := range d.wake {
		fn()
	}
}

// stop ends the goroutine once the current run returns. The mailbox must
// be dead first, so that nothing schedules after the close.
func (d *parked) stop() { close(d.wake) }
