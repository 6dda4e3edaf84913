-- budget: handlers that never end, for the run budget (monitor.kill_ms):
-- each is stopped by an error raised inside it.
local tern = require "tern"
local S = {}

function S.ping(x)
	return x
end

function S.spin()
	while true do
	end
end

function S.spin_repeat()
	repeat
	until false
end

function S.spin_for()
	local x = 0
	for i = 1, math.huge do
		x = x + i
	end
	return x
end

function S.spin_tail()
	local function f(n)
		return f(n + 1)
	end
	return f(0)
end

-- A loop of protected calls: each pcall returns, the loop goes on.
function S.pcall_loop()
	while true do
		pcall(function() end)
	end
end

-- The endless loop inside a pcall, retried forever.
function S.pcall_inner()
	while true do
		pcall(function()
			while true do
			end
		end)
	end
end

function S.xpcall_inner()
	while true do
		xpcall(function()
			while true do
			end
		end, function(e)
			return e
		end)
	end
end

-- The budget error is not the script's to catch: the pcall does not
-- return, so "escaped" never gets out.
function S.caught()
	local ok, err = pcall(function()
		while true do
		end
	end)
	return "escaped", ok, err
end

-- A generator spinning inside a script coroutine.
function S.spin_coroutine()
	local gen = coroutine.wrap(function()
		while true do
		end
	end)
	while true do
		pcall(gen)
	end
end

-- Suspended for ms: a task that waits is not running, whatever the budget.
function S.sleep(ms)
	tern.sleep(ms)
	return "slept"
end

-- n slices of ms of busy work each, with a yield in between: each slice
-- is one run, within the budget, though the whole takes longer.
function S.slices(n, ms)
	for _ = 1, n do
		local stop = tern.now() + ms
		while tern.now() < stop do
		end
		tern.sleep(0)
	end
	return "done"
end

-- A fork that spins: a task of its own, stopped as a request is.
function S.fork_spin()
	tern.fork(function()
		while true do
		end
	end)
	return "forked"
end

return S
