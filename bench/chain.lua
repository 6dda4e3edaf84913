-- chain: the service of bench/timers.lua, skynet's bench_timer.lua.
-- go(main, rounds, ms) chains `rounds` tern.timeout(ms), each one arming
-- the next, then sends main "done" with the milliseconds it took.
local tern = require "tern"

local S = {}

function S.go(main, rounds, ms)
	local t0 = tern.now()
	local k = 0
	local function tick()
		k = k + 1
		if k < rounds then
			tern.timeout(ms, tick)
		else
			tern.send(main, "done", tern.now() - t0)
		end
	end
	tern.timeout(ms, tick)
end

return S
