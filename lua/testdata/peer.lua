-- peer: A calls B, which calls A back.
local tern = require "tern"
local S = {}

function S.ping(n)
	return n + 1
end

-- relay asks `back` (the caller) to ping n: a call back into a service
-- that is itself blocked in a call to us.
function S.relay(back, n)
	return tern.call(back, "ping", n)
end

-- start calls other's relay, which calls us back.
function S.start(other, n)
	local r = tern.call(other, "relay", tern.self(), n)
	return r + 1
end

-- fanout runs n tasks, each making one call, and counts right answers.
function S.fanout(target, n)
	local ok, waiting = 0, n
	local me = coroutine.running()
	for i = 1, n do
		tern.fork(function()
			if tern.call(target, "ping", i) == i + 1 then
				ok = ok + 1
			end
			waiting = waiting - 1
			if waiting == 0 then
				tern.wakeup(me)
			end
		end)
	end
	tern.wait(me)
	return ok
end

return S
