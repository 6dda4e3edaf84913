-- ticker: the timer benchmark's service (bench/timers.lua and the Go
-- BenchmarkTimers). run(n, ms) chains n timeouts of ms milliseconds, each
-- one arming the next, and answers n when the last has fired: ideally
-- after n * ms milliseconds.
local tern = require "tern"
local S = {}

function S.run(n, ms)
	local respond = tern.response()
	local left = n
	local function tick()
		left = left - 1
		if left == 0 then
			respond(true, n)
		else
			tern.timeout(ms, tick)
		end
	end
	tern.timeout(ms, tick)
end

return S
