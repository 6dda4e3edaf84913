-- call: Lua->Lua request/response, skynet's `run.sh call` (bench_main.lua's
-- bench.call): n tern.call(echo, "echo", i) to one echo service
-- (bench/echo.lua), either sequential from one coroutine (co=1) or from co
-- coroutines (tern.fork) making n/co calls each.
--   BENCH_ARG="n=500000 co=1" tern run bench/call.lua
-- prints RESULT call calls_per_sec=... co=... n=... sec=... us_per_call=...
local tern = require "tern"
local bench = require "benchlib"

tern.start(function(arg)
	local o = bench.opts(arg)
	local n, co = o.n or 500000, o.co or 1
	local echo = tern.newservice("echo")
	tern.call(echo, "echo", 0) -- warm
	local call = tern.call
	local per = math.floor(n / co)
	n = per * co
	local t0 = tern.now()
	if co == 1 then
		for i = 1, n do
			call(echo, "echo", i)
		end
	else
		local left, me = co, {}
		for _ = 1, co do
			tern.fork(function()
				for i = 1, per do
					call(echo, "echo", i)
				end
				left = left - 1
				if left == 0 then
					tern.wakeup(me)
				end
			end)
		end
		tern.wait(me)
	end
	local sec = bench.since(t0)
	bench.result("call", { co = co, n = n, sec = sec, calls_per_sec = math.floor(n / sec),
		us_per_call = sec * 1e6 / n })
	tern.shutdown()
end)
