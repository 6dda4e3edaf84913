package root

import (
	"log/slog"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// The process-wide memory limit (memory_limit in config.lua): Go's soft
// limit (debug.SetMemoryLimit), which makes the collector work harder as
// the heap nears it, and a watch that logs when the process runs close to
// it, so an operator sees it coming before the GC thrashes or the kernel
// kills the process.

// memWarnAt is the share of memory_limit past which the watch warns.
const memWarnAt = 0.9

// memPoll is how often the watch reads the process's memory.
const memPoll = 250 * time.Millisecond

// setMemoryLimit applies limit (bytes; 0 leaves Go's default) and watches
// the process's memory against it until stop is closed.
func setMemoryLimit(limit int64, log *slog.Logger, stop <-chan struct{}) {
	if limit <= 0 {
		return
	}
	debug.SetMemoryLimit(limit)
	go watchMemory(limit, log, stop)
}

// watchMemory warns when the memory Go holds passes memWarnAt of limit,
// again each time it grows by another tenth of the limit, and once when
// it falls back under.
func watchMemory(limit int64, log *slog.Logger, stop <-chan struct{}) {
	sample := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	t := time.NewTicker(memPoll)
	defer t.Stop()
	warnAt := int64(float64(limit) * memWarnAt)
	next := warnAt
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		metrics.Read(sample)
		used := int64(sample[0].Value.Uint64() - sample[1].Value.Uint64())
		switch {
		case used >= next:
			log.Warn("process memory near memory_limit", "used", used, "memory_limit", limit, "percent", used*100/limit)
			next = used + limit/10
		case used < warnAt && next > warnAt:
			log.Info("process memory back under 90% of memory_limit", "used", used, "memory_limit", limit)
			next = warnAt
		}
	}
}
