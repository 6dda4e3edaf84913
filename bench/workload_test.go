package bench

import (
	"testing"
	"time"
)

// TestWorkloads runs every benchmark's workload once, small, so that
// plain `go test ./bench/` checks they work and (TestMain) leak nothing.
func TestWorkloads(t *testing.T) {
	t.Run("protoactor", func(t *testing.T) {
		for _, parked := range []bool{false, true} {
			paPingPong(t, parked, 1000)
			paSend(t, parked, 1000)
		}
	})
	t.Run("gocall", func(t *testing.T) { goCall(t, 1000) })
	t.Run("luacall", func(t *testing.T) { luaCall(t, 1000) })
	t.Run("luasend", func(t *testing.T) { luaSend(t, 2*sendBatch+7) })
	t.Run("spawn", func(t *testing.T) {
		e := newEnv(t)
		defer e.close()
		for range 10 {
			e.launch("idle", "x")
		}
		spawner := e.launch("spawner")
		if res := e.call(spawner, "run", "idle", 10); res[0] != int64(10) {
			t.Fatalf("spawner: %v", res)
		}
		if n := e.sys.Count(); n != 21 {
			t.Fatalf("%d services, want 21", n)
		}
	})
	t.Run("timers", func(t *testing.T) {
		shape := timerShape{100, 5, 10}
		ideal := time.Duration(shape.ticks*shape.ms) * time.Millisecond
		for _, goService := range []bool{false, true} {
			var m timerMeter
			timers(t, &m, shape, goService)
			if m.wall < ideal {
				t.Errorf("go service %v: %+v took %v, less than %v", goService, shape, m.wall, ideal)
			}
		}
		start := time.Now()
		goTimers(shape)
		if d := time.Since(start); d < ideal {
			t.Errorf("plain go: %+v took %v, less than %v", shape, d, ideal)
		}
	})
}
