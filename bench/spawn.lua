-- spawn: service start rate. The bootstrap starts n services of a small
-- typical script (bench/idle.lua) one after the other, each tern.newservice
-- waiting for the child's init, and prints the rate. The services stay
-- up until the shutdown. Run: go run ./cmd/tern run bench/spawn.lua
-- (memory per idle service is measured by the Go BenchmarkIdleHeap: a
-- script cannot read the process's memory).
local tern = require "tern"
local n = tonumber((...)) or 10000

tern.newservice("idle") -- compiles the script before the clock starts

local t0 = tern.now()
for i = 1, n do
	tern.newservice("idle", "idle" .. i)
end
local ms = math.max(tern.now() - t0, 1)
print(string.format("spawn: %d services in %d ms: %.0f services/s", n, ms, n * 1000 / ms))
tern.shutdown()
