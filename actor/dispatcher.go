package actor

import pa "github.com/asynkron/protoactor-go/actor"

// parked runs a Dedicated service (SpawnOptions.Dedicated): one goroutine
// of its own, parked on a channel between runs, so that a Go service that
// blocks holds no worker of the pool (pool.go). Every other service runs
// on the pool, which measured faster (docs/PERFORMANCE.md): a call and its
// reply stay on one worker instead of waking a goroutine each way, and an
// idle service holds no goroutine.
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
