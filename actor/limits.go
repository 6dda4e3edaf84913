package actor

import "time"

// MemoryLimit bounds what one Lua service may hold, by its estimate, in
// bytes; 0 is no limit (lua/memlimit.go enforces it). config.lua's
// memory = { soft = bytes, hard = bytes }.
type MemoryLimit struct {
	Soft, Hard int64
}

// On reports whether either limit is set.
func (m MemoryLimit) On() bool { return m.Soft > 0 || m.Hard > 0 }

// Limits are one service's own limits, overriding the runtime's: a
// declared service's monitor and memory in config.lua. A zero field
// keeps the runtime's value.
type Limits struct {
	Monitor Monitor
	Memory  MemoryLimit
}

// monitor is the pool monitor's limits for the service: its own where
// set, else the runtime's.
func (l *Limits) monitor(warnAfter, killAfter time.Duration) (time.Duration, time.Duration) {
	if l == nil {
		return warnAfter, killAfter
	}
	if l.Monitor.WarnAfter != 0 {
		warnAfter = max(l.Monitor.WarnAfter, 0)
	}
	if l.Monitor.KillAfter != 0 {
		killAfter = max(l.Monitor.KillAfter, 0)
	}
	return warnAfter, killAfter
}
