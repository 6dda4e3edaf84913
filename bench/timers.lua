-- timers: timer accuracy under load, skynet's `run.sh timer`
-- (bench_main.lua's bench.timer): `services` services (bench/chain.lua)
-- each chain `rounds` timeouts of `ms` milliseconds (default 10, skynet's
-- timeout(1) of one 10 ms tick), all started at once by a send; each
-- reports "done" to this bootstrap, and the clock stops at the last.
-- Ideal: rounds * ms, 1 s by default.
--   BENCH_ARG="services=10000 rounds=100" tern run bench/timers.lua
-- prints RESULT timer ideal_sec=... overhead_pct=... per_service_avg_sec=...
-- per_service_max_sec=... rounds=... sec=... services=... timers=...
local tern = require "tern"
local bench = require "benchlib"

local S = {}
local me = {}
local left, sum, max = 0, 0, 0

function S.done(elapsed)
	left = left - 1
	sum = sum + elapsed
	if elapsed > max then
		max = elapsed
	end
	if left == 0 then
		tern.wakeup(me)
	end
end

tern.start(function(arg)
	local o = bench.opts(arg)
	local s, rounds, ms = o.services or 10000, o.rounds or 100, o.ms or 10
	local h = {}
	for i = 1, s do
		h[i] = tern.newservice("chain")
	end
	left = s
	local self = tern.self()
	local t0 = tern.now()
	for i = 1, s do
		tern.send(h[i], "go", self, rounds, ms)
	end
	tern.wait(me)
	local sec = bench.since(t0)
	local ideal = rounds * ms / 1000
	bench.result("timer", { services = s, rounds = rounds, timers = s * rounds, sec = sec,
		ideal_sec = ideal, overhead_pct = (sec / ideal - 1) * 100,
		per_service_avg_sec = sum / s / 1000, per_service_max_sec = max / 1000 })
	tern.shutdown()
end)

return S
