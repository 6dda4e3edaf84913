-- spawn: service start rate and memory per idle service, skynet's
-- `run.sh spawn` (bench_main.lua's bench.spawn): n tern.newservice of a
-- minimal service (bench/echo.lua, like skynet's bench_tiny.lua), one
-- after the other, each waiting for the child's init. They stay up until
-- the shutdown.
--   BENCH_ARG="n=10000 hold=1000" tern run bench/spawn.lua
-- prints RESULT spawn n=... sec=... spawn_per_sec=... us_per_spawn=...
-- A script cannot read the process's memory (no io), so it prints
-- "MARK rss_before" just before the first spawn and "MARK rss_after" just
-- after the last, each followed by a pause of `hold` ms (default 0):
-- bench/vs-skynet.sh reads VmRSS from /proc/<pid>/status when it sees a
-- mark, as skynet's bench_main.lua reads its own before and after.
local tern = require "tern"
local bench = require "benchlib"

tern.start(function(arg)
	local o = bench.opts(arg)
	local n, hold = o.n or 10000, o.hold or 0
	collectgarbage("collect")
	print("MARK rss_before")
	if hold > 0 then
		tern.sleep(hold)
	end
	local h = {}
	local t0 = tern.now()
	for i = 1, n do
		h[i] = tern.newservice("echo")
	end
	local sec = bench.since(t0)
	print("MARK rss_after")
	if hold > 0 then
		tern.sleep(hold)
	end
	assert(tern.call(h[n], "echo", 42) == 42) -- they are alive
	bench.result("spawn", { n = n, sec = sec, spawn_per_sec = math.floor(n / sec),
		us_per_spawn = sec * 1e6 / n })
	tern.shutdown()
end)
