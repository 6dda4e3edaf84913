-- timers: timer accuracy under load. The bootstrap starts n services
-- (bench/ticker.lua) and has each chain ticks tern.timeout of ms
-- milliseconds, every timeout arming the next, all at once; it prints how
-- long until all have finished (ideal: ticks * ms = 1 s).
-- Run: go run ./cmd/tern run bench/timers.lua
local tern = require "tern"
local n, ticks, ms = ...
n, ticks, ms = tonumber(n) or 10000, tonumber(ticks) or 100, tonumber(ms) or 10

local tickers = {}
for i = 1, n do
	tickers[i] = tern.newservice("ticker")
end

local token, left = {}, n
local t0 = tern.now()
for i = 1, n do
	tern.fork(function()
		tern.call(tickers[i], "run", ticks, ms)
		left = left - 1
		if left == 0 then
			tern.wakeup(token)
		end
	end)
end
tern.wait(token)
local took = tern.now() - t0
print(string.format("timers: %d services x %d timeouts of %d ms in %.3f s (ideal %.3f s)",
	n, ticks, ms, took / 1000, ticks * ms / 1000))
tern.shutdown()
