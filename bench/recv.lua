-- recv: the receiver of bench/send.lua, skynet's bench_recv.lua. inc(i)
-- counts a message; expect(n) sets the count to wait for; wait() answers
-- (count, first, last: tern.now() of the first and the n-th message) once
-- n messages have arrived, deferred with tern.response() if they have not.
local tern = require "tern"

local S = {}
local count, expect, waiter = 0, math.huge, nil
local first, last = 0, 0

function S.expect(n)
	expect = n
	count = 0
	return true
end

function S.wait()
	if count >= expect then
		return count, first, last
	end
	waiter = tern.response()
end

function S.inc()
	count = count + 1
	if count == 1 then
		first = tern.now()
	end
	if count == expect then
		last = tern.now()
		if waiter then
			waiter(true, count, first, last)
			waiter = nil
		end
	end
end

return S
